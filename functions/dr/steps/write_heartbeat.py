"""WriteHeartbeat: every minute, a heartbeat in every protected table and bucket, in both regions (see
dr.heartbeat for what it measures and what it costs): in each region one BatchWriteItem for the tables and one
PutObject per bucket. A region that does not answer gets one brief attempt per service: once S3's endpoint in
a region has not answered (no connection, no response), the rest of the buckets there are skipped for this
run instead of each waiting out its own timeout (it may be the region that is down: that is exactly when the
other region's heartbeats matter); the tables' one request fails for all of them at once.
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
        try:
            not_written = heartbeat.write_items(ddb, inv.tables, region, now)
        except heartbeat.WRITE_ERRORS as err:  # no answer (each table's own refusal is in not_written)
            not_written = {name: heartbeat.failure(err) for name in inv.tables}
        written[region] = len(inv.tables) - len(not_written)
        if not_written:
            failed[region] = [f"table {name}: {why}" for name, why in not_written.items()]
        silent = False  # S3's endpoint in this region did not answer, this run
        for name in (inv.bucket_in(p, region) for p in inv.buckets):
            if silent:
                failed.setdefault(region, []).append(f"bucket {name}: skipped, the endpoint did not answer")
                continue
            try:
                heartbeat.write_object(s3, name, region, now)
                written[region] += 1
            except heartbeat.WRITE_ERRORS as err:
                failed.setdefault(region, []).append(f"bucket {name}: {heartbeat.failure(err)}")
                silent = isinstance(err, NoConnection | ReadTimeoutError)
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
