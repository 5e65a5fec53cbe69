"""RecordS3Backlog: the S3 replication backlog at the moment of promotion (objects pending, replication
latency per bucket); the S3 RPO is the worst latency. Read-only."""

from __future__ import annotations

from typing import Any

from dr import readiness
from dr.inventory import load_inventory
from dr.models import OperationRequest, parse
from dr.settings import get_settings
from dr.steps._handler import lambda_step


@lambda_step
def handler(event: dict[str, Any]) -> dict[str, Any]:
    request = parse(OperationRequest, event.get("request"), "request")
    now = readiness.s3(request, load_inventory(get_settings()))
    return {
        "buckets": [b.model_dump(mode="json") for b in now.buckets],
        "pending_operations": now.pending_operations,
        "rpo_seconds": now.max_latency_seconds,
    }
