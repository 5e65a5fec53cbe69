"""CheckAuroraWriter: one poll of where the Aurora writer is. The state machine loops on it with a Wait
and a bounded number of attempts; a move that ended without moving the writer is PromotionFailed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from dr import probes
from dr.aws import aws_errors
from dr.errors import PromotionFailed
from dr.inventory import load_inventory
from dr.models import OperationRequest, WriterStatus, parse
from dr.settings import get_settings
from dr.steps._handler import lambda_step


@lambda_step
def handler(event: dict[str, Any]) -> dict[str, Any]:
    request = parse(OperationRequest, event.get("request"), "request")
    inv = load_inventory(get_settings())
    with aws_errors(f"rds:DescribeGlobalClusters {inv.aurora.global_cluster_id}", PromotionFailed):
        cluster = probes.global_cluster(inv, request.target_region)
    writer = probes.writer_region(cluster)
    in_progress = bool(cluster.get("FailoverState")) or cluster.get("Status") != "available"
    if not in_progress and writer != request.target_region:
        raise PromotionFailed(
            f"the promotion of {inv.aurora.global_cluster_id} ended but the writer is still in {writer}; "
            f"expected it in {request.target_region}"
        )
    status = WriterStatus(
        writer_region=writer,
        promoted=writer == request.target_region and not in_progress,
        checked_at=datetime.now(UTC),
        operation_in_progress=in_progress,
    )
    return status.model_dump(mode="json")
