"""CheckReplication: one poll of replication toward the old primary, against the budgets.

Caught up only when every store's lag is *known* and under its budget (5 s, 5 s and the 15 minutes of
Replication Time Control by default); a missing datapoint or heartbeat is never "caught up":
- Aurora: ``AuroraGlobalDBReplicationLag`` of the old primary's cluster (now the secondary), published in
  its region; the newest datapoint must be at most 3 minutes old;
- DynamoDB and S3: the heartbeats (dr.heartbeat). Both regions answer during a failback, so the source
  region's newest heartbeat is read at home and in the source itself. 0 when home holds the newest one;
  else the newest is on its way since it was written, and so is every heartbeat after the copy home holds
  (the writer runs every minute): the lag is the longer of those two times in flight. (Not how much older
  home's copy is: a poll a second after a write found the minute before it at home and read 60 s of lag,
  and polls every 120 s stay in step with the writer, so a failback could wait its whole bound on
  replication that was a second behind.) The source's own heartbeat must be fresh (at most 3 minutes old),
  or the measure says nothing.
The state machine polls it with a wait between polls; once ``REPLICATION_WAIT_SECONDS`` have passed since
the first poll without catching up, it raises ReplicationLagTooHigh (nothing has been switched over;
traffic stays).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from dr import heartbeat, probes
from dr.aws import aws_errors, client
from dr.errors import ReplicationLagTooHigh, TransientAwsError
from dr.inventory import Inventory, load_inventory
from dr.models import OperationRequest, parse
from dr.replication import ReplicationSettings
from dr.settings import get_settings
from dr.steps._handler import lambda_step

FRESH_SECONDS = 180


def heartbeat_lag(
    store: str, name: str, newest: datetime | None, copied: datetime | None, source: str
) -> tuple[float | None, str]:
    """How far home's copy of the source's newest heartbeat trails it; None (and why) when unknowable."""
    now = datetime.now(UTC)
    if newest is None:
        return None, f"{store} {name}: the source holds no heartbeat of its own (is WriteHeartbeat running?)"
    if (now - newest).total_seconds() > FRESH_SECONDS:
        return None, f"{store} {name}: the source's newest heartbeat is {(now - newest).total_seconds():.0f} s old"
    if copied is None:
        return None, f"{store} {name}: no heartbeat of {source} has arrived at home yet"
    if copied >= newest:
        return 0.0, ""
    in_flight = max((now - newest).total_seconds(), (now - copied).total_seconds() - heartbeat.INTERVAL_SECONDS)
    return max(0.0, in_flight), ""


def measure(request: OperationRequest, inv: Inventory, settings: ReplicationSettings) -> dict[str, Any]:
    source, target = request.source_region, request.target_region
    cluster = inv.aurora_cluster_in(target)
    problems: list[str] = []
    with aws_errors("read the replication lag", TransientAwsError):
        point = probes.latest_metric(
            target, "AWS/RDS", "AuroraGlobalDBReplicationLag", {"DBClusterIdentifier": cluster}, minutes=5
        )
        src_ddb, home_ddb = client("dynamodb", source), client("dynamodb", target)
        tables = {
            name: heartbeat_lag(
                "DynamoDB",
                name,
                heartbeat.item_seen(src_ddb, name, source),
                heartbeat.item_seen(home_ddb, name, source),
                source,
            )
            for name in inv.tables
        }
        src_s3, home_s3 = client("s3", source), client("s3", target)
        buckets = {
            inv.bucket_in(pair, source): heartbeat_lag(
                "S3",
                inv.bucket_in(pair, source),
                heartbeat.object_seen(src_s3, inv.bucket_in(pair, source), source),
                heartbeat.object_seen(home_s3, inv.bucket_in(pair, target), source),
                source,
            )
            for pair in inv.buckets
        }
    aurora = None
    if point is None or point.age() > FRESH_SECONDS:
        age = "none in the last 5 minutes" if point is None else f"the newest is {point.age():.0f} s old"
        problems.append(f"Aurora: no fresh replication lag datapoint for {cluster} in {target} ({age})")
    else:
        aurora = point.value / 1000.0
        if aurora > settings.lag_budget_seconds:
            problems.append(f"Aurora: lag {aurora:.1f} s > {settings.lag_budget_seconds:g} s")
    for store, found, budget in (
        ("DynamoDB", tables, settings.lag_budget_seconds),
        ("S3", buckets, settings.s3_budget_seconds),
    ):
        problems += [why for _, why in found.values() if why]
        slow = sorted(n for n, (lag, _) in found.items() if lag is not None and lag > budget)
        if slow:
            problems.append(
                f"{store}: heartbeats at home trail the source by more than {budget:g} s ({', '.join(slow)})"
            )

    def worst(found: dict[str, tuple[float | None, str]]) -> float | None:
        lags = [lag for lag, _ in found.values()]
        return None if not lags or None in lags else max(lag for lag in lags if lag is not None)

    return {
        "caught_up": not problems,
        "aurora_lag_seconds": aurora,
        "dynamodb_latency_seconds": worst(tables),
        "s3_latency_seconds": worst(buckets),
        "budgets": {
            "aurora_seconds": settings.lag_budget_seconds,
            "dynamodb_seconds": settings.lag_budget_seconds,
            "s3_seconds": settings.s3_budget_seconds,
        },
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
