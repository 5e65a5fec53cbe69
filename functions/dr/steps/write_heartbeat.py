"""WriteHeartbeat: every minute, a heartbeat in every protected table and bucket, in both regions (see
dr.heartbeat for what it measures and what it costs). A region that does not answer gets one brief attempt
per service: once a service's endpoint in a region has not answered (no connection, no response), the
rest of that service's heartbeats there are skipped for this run instead of each waiting out its own
timeout (it may be the region that is down: that is exactly when the other region's heartbeats matter).
The result and the ``HeartbeatsWritten``/``HeartbeatsFailed`` metrics say what was written where."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from botocore.exceptions import ConnectionError as NoConnection
from botocore.exceptions import ReadTimeoutError

from dr import heartbeat
from dr.aws import source_client
from dr.inventory import load_inventory
from dr.observability import logger, one_metric
from dr.settings import get_settings
from dr.steps._handler import lambda_step


def write_all(now: datetime) -> dict[str, Any]:
    settings = get_settings()
    inv = load_inventory(settings)
    written: dict[str, int] = {}
    failed: dict[str, list[str]] = {}
    for region in (inv.primary_region, inv.recovery_region):
        ddb, s3 = source_client("dynamodb", region), source_client("s3", region)
        targets = [("table", name) for name in inv.tables] + [("bucket", inv.bucket_in(p, region)) for p in inv.buckets]
        silent: set[str] = set()  # the kinds whose endpoint did not answer in this region, this run
        for kind, name in targets:
            if kind in silent:
                failed.setdefault(region, []).append(f"{kind} {name}: skipped, the endpoint did not answer")
                continue
            try:
                if kind == "table":
                    heartbeat.write_item(ddb, name, region, now)
                else:
                    heartbeat.write_object(s3, name, region, now)
                written[region] = written.get(region, 0) + 1
            except heartbeat.WRITE_ERRORS as err:
                failed.setdefault(region, []).append(f"{kind} {name}: {heartbeat.failure(err)}")
                if isinstance(err, NoConnection | ReadTimeoutError):
                    silent.add(kind)
    for region in (inv.primary_region, inv.recovery_region):
        for name, value in (
            ("HeartbeatsWritten", written.get(region, 0)),
            ("HeartbeatsFailed", len(failed.get(region, []))),
        ):
            one_metric(name, value, MetricUnit.Count, ("Region", region), settings.metrics_namespace)
    if failed:
        logger.warning("heartbeats not written", extra={"failed": failed})
    return {"written_at": now.isoformat(), "written": written, "failed": failed}


@lambda_step
def handler(_event: dict[str, Any]) -> dict[str, Any]:
    return write_all(datetime.now(UTC))
