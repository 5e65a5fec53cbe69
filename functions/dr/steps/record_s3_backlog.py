"""RecordS3Backlog: the S3 replication exposure at the moment of promotion, per bucket, read in the target
region from the source region's heartbeats (dr.heartbeat); the S3 RPO is the worst bucket's, or None when
any bucket's cannot be measured. Read-only."""

from __future__ import annotations

from datetime import UTC, datetime
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
        "exposure": now.exposure.model_dump(mode="json"),
        "rpo_seconds": now.exposure.at(datetime.now(UTC)),
    }
