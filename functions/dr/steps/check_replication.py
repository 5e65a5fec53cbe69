"""CheckReplication: one poll of replication toward the old primary, against the budgets.

Caught up when the Aurora replication lag of the old primary's cluster, the DynamoDB replication latency
of every protected table toward it, and the S3 replication latency of every bucket toward it are under
their budgets (5 s, 5 s and the 15 minutes of Replication Time Control by default). The state machine
polls it with a wait between polls; once ``REPLICATION_WAIT_SECONDS`` have passed since the first poll
without catching up, it raises ReplicationLagTooHigh (nothing has been switched over; traffic stays).

Missing datapoints: Aurora publishes its lag every minute for a secondary, so none means replication is
not flowing (not caught up). DynamoDB and S3 publish latency only while they replicate something, so
none means nothing is waiting to be replicated (caught up), and the result says so.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from dr import probes
from dr.aws import aws_errors
from dr.errors import ReplicationLagTooHigh, TransientAwsError
from dr.inventory import Inventory, load_inventory
from dr.models import OperationRequest, parse
from dr.replication import ReplicationSettings
from dr.settings import get_settings
from dr.steps._handler import lambda_step


def _worst(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return max(known) if known else None


def measure(request: OperationRequest, inv: Inventory, settings: ReplicationSettings) -> dict[str, Any]:
    source, target = request.source_region, request.target_region
    cluster = inv.aurora_cluster_in(target)
    problems: list[str] = []
    with aws_errors("read the replication metrics", TransientAwsError):
        aurora_ms = probes.latest_metric(
            target, "AWS/RDS", "AuroraGlobalDBReplicationLag", {"DBClusterIdentifier": cluster}, minutes=5
        )
        tables = {
            name: probes.latest_metric(
                source,
                "AWS/DynamoDB",
                "ReplicationLatency",
                {"TableName": name, "ReceivingRegion": target},
                minutes=5,
                stat="Average",
            )
            for name in inv.tables
        }
        buckets: dict[str, tuple[float | None, float | None]] = {}
        for pair in inv.buckets:
            dims = {
                "SourceBucket": inv.bucket_in(pair, source),
                "DestinationBucket": inv.bucket_in(pair, target),
                "RuleId": settings.rule_id,
            }
            buckets[dims["SourceBucket"]] = (
                probes.latest_metric(source, "AWS/S3", "ReplicationLatency", dims, minutes=5),
                probes.latest_metric(source, "AWS/S3", "OperationsPendingReplication", dims, minutes=5),
            )
    aurora = None if aurora_ms is None else aurora_ms / 1000.0
    dynamodb = _worst([None if v is None else v / 1000.0 for v in tables.values()])
    s3 = _worst([latency for latency, _ in buckets.values()])
    pending = sum(p or 0.0 for _, p in buckets.values())
    if aurora is None:
        problems.append(f"Aurora: no replication lag datapoint for {cluster} in {target}: replication not flowing")
    elif aurora > settings.lag_budget_seconds:
        problems.append(f"Aurora: lag {aurora:.1f} s > {settings.lag_budget_seconds:g} s")
    if dynamodb is not None and dynamodb > settings.lag_budget_seconds:
        slow = sorted(n for n, v in tables.items() if v is not None and v / 1000.0 > settings.lag_budget_seconds)
        problems.append(
            f"DynamoDB: replication latency {dynamodb:.1f} s > {settings.lag_budget_seconds:g} s ({', '.join(slow)})"
        )
    if s3 is not None and s3 > settings.s3_budget_seconds:
        problems.append(f"S3: replication latency {s3:.0f} s > {settings.s3_budget_seconds:g} s")
    return {
        "caught_up": not problems,
        "aurora_lag_seconds": aurora,
        "dynamodb_latency_seconds": dynamodb,
        "s3_latency_seconds": s3,
        "s3_pending_operations": pending,
        "budgets": {
            "aurora_seconds": settings.lag_budget_seconds,
            "dynamodb_seconds": settings.lag_budget_seconds,
            "s3_seconds": settings.s3_budget_seconds,
        },
        "notes": [f"DynamoDB {n}: no latency datapoint (nothing waiting)" for n, v in tables.items() if v is None]
        + [
            f"S3 {b}: no latency datapoint (nothing waiting, or no rule yet)"
            for b, (v, _) in buckets.items()
            if v is None
        ],
        "problems": problems,
        "checked_at": datetime.now(UTC).isoformat(),
    }


@lambda_step
def handler(event: dict[str, Any]) -> dict[str, Any]:
    request = parse(OperationRequest, event.get("request"), "request")
    settings = ReplicationSettings()
    out = measure(request, load_inventory(get_settings()), settings)
    started = datetime.fromisoformat(str(event.get("waitStartedAt") or out["checked_at"]).replace("Z", "+00:00"))
    waited = (datetime.fromisoformat(out["checked_at"]) - started).total_seconds()
    out["waited_seconds"] = round(waited, 3)
    if not out["caught_up"] and request.mode != "dry-run" and waited >= settings.wait_seconds:
        raise ReplicationLagTooHigh(
            f"replication toward {request.target_region} did not catch up within {settings.wait_seconds} s: "
            + "; ".join(out["problems"])
            + f". Nothing was switched over; the writer and the traffic stay in {request.source_region}."
        )
    return out
