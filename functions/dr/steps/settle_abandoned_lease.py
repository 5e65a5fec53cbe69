"""SettleAbandonedLease: an execution that ended without settling its lease (stopped by a person, timed
out, or killed in a way its failure path could not handle) must not keep the lease HELD for hours while
alarms are turned away. Started by EventBridge on "Step Functions Execution Status Change" (ABORTED,
TIMED_OUT, FAILED) of the failover and failback state machines.

Idempotent: it acts only when the lease still names that execution and is HELD (a settled lease, or one
another run took over, is left alone). Truthful: when the execution's history shows it entered a state that
changes the platform (the promotion or the traffic move), the lease becomes BLOCKED with where the writer
and the traffic are now; otherwise RELEASED (nothing it ran could have changed anything). Either way an
audit record and a notification say what happened.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from dr import bookkeeping, lease, probes, timeline, traffic_pin
from dr.inventory import load_inventory
from dr.observability import logger
from dr.settings import Settings, get_settings
from dr.steps._handler import lambda_step

CHANGING_STATES = frozenset({"Promote", "PromoteAurora", "MoveTraffic", "GuardLeaseBeforeTraffic"})
UNSETTLED = frozenset({"ABORTED", "TIMED_OUT", "FAILED"})


def entered_states(execution: str) -> list[str]:
    events = timeline.read_history(execution)
    return [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]


def pinned_by(settings: Settings, execution: str) -> str | None:
    """Where this execution's MoveTraffic recorded the pin toward (health-check routing), else None: users
    go there even though the run stopped."""
    try:
        return traffic_pin.heading(settings, execution)
    except (ClientError, BotoCoreError) as err:
        logger.warning("traffic-pin intent unreadable", extra={"error": str(err)})
        return None


def where_now(settings: Settings, execution: str) -> str:
    inv = load_inventory(settings)
    try:
        cluster = probes.global_cluster(inv, settings.recovery_region)
        writer = probes.writer_region(cluster)
        if cluster.get("FailoverState"):  # the switchover or failover the run started goes on without it
            writer += " (a promotion is in progress: it may still move)"
    except Exception as err:
        writer = f"unknown ({type(err).__name__})"
    try:
        traffic = probes.traffic_region(inv)
    except probes.TrafficUnknown as err:
        traffic = f"unknown ({err})"
    heading = None if inv.routing.uses_arc else pinned_by(settings, execution)
    if heading and heading != traffic:
        return (
            f"writer in {writer}, users sent to {traffic} now but moving to {heading}: this run recorded the pin "
            f"toward {heading}, which KeepTrafficPin publishes every minute (DNS follows in about 3 minutes)"
        )
    return f"writer in {writer}, users sent to {traffic}"


def settle(event: dict[str, Any], settings: Settings) -> dict[str, Any]:
    detail = event.get("detail") or {}
    execution, status = str(detail.get("executionArn", "")), str(detail.get("status", ""))
    held = lease.describe(settings.state_table, settings.recovery_region) or {}
    if status not in UNSETTLED or held.get("holder") != execution or held.get("state") != "HELD":
        return {"execution": execution, "status": status, "settled": False, "lease": held.get("state", "none")}
    entered = entered_states(execution)
    risky = sorted(set(entered) & CHANGING_STATES)
    now = where_now(settings, execution) if risky else ""
    state = "BLOCKED" if risky else "RELEASED"
    note = (
        f"execution {status} after entering {', '.join(risky)}: {now}; check the platform, then `drctl lease clear`"
        if risky
        else f"execution {status} before changing anything (last state: {entered[-1] if entered else '-'})"
    )
    changed = [f"unknown: the run entered {', '.join(risky)}; now {now}"] if risky else []
    settled = lease.settle(settings.state_table, settings.recovery_region, execution, state, note, changed)
    workflow = str(held.get("operation", "failover"))
    out = {
        "workflow": workflow,
        "status": status,
        "execution": execution,
        "lease": state if settled else "not held",
        "note": note,
        "changed": changed,
        "settled": settled,
        "finished_at": datetime.now(UTC).isoformat(),
    }
    done = bookkeeping.finish(
        out,
        bookkeeping.Notification(
            subject=f"[DR] {workflow} {status}: lease {out['lease']}",
            message=f"{note}\nExecution: {execution}\nReport: drctl report {execution}",
            event=f"{workflow}-{status.lower()}",
        ),
        settings,
        audit=status != "FAILED",  # a failed run's failure path wrote its record; a stopped one wrote none
    )
    out["warnings"] = done.warnings
    return out


@lambda_step
def handler(event: dict[str, Any]) -> dict[str, Any]:
    return settle(event, get_settings())
