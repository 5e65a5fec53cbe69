"""HandleFailure: every failure path of every workflow comes here before its named Fail state.

It finds out what was and was not changed (by looking at the platform now against the baseline the
workflow saw before it acted), settles the lease (RELEASED when nothing changed, BLOCKED for a person
when something did), writes the audit record, notifies the topic, counts the failure, and returns the
name of the Fail state the workflow ends in.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from dr import failure, lease, probes
from dr.aws import client
from dr.inventory import load_inventory
from dr.models import OperationRequest
from dr.observability import logger
from dr.settings import Settings, get_settings
from dr.steps._handler import lambda_step

FAIL_STATES = {
    "InvalidInput": "FailInvalidInput",
    "LeaseHeld": "FailLeaseHeld",
    "NotReady": "FailNotReady",
    "PlatformNotHealthy": "FailNotReady",
    "ApprovalRejected": "FailRejected",
    "States.Timeout": "FailApprovalTimedOut",
    "PromotionFailed": "FailPromotion",
    "PromotionTimedOut": "FailPromotion",
    "DataLossRefused": "FailPromotion",
    "TrafficMoveFailed": "FailTrafficMove",
    "RecoveryNotVerified": "FailVerification",
    "ReplicationNotConfigured": "FailReprotect",
    "ReplicationLagTooHigh": "FailReplicationLag",
}


def _cause(raw: str) -> str:
    """A Lambda error's Cause is the JSON payload; show its message, not the stack trace."""
    try:
        return str(json.loads(raw).get("errorMessage", raw))
    except (ValueError, AttributeError):
        return raw


def what_changed(
    request: OperationRequest, baseline: dict[str, Any], settings: Settings
) -> tuple[list[str], list[str]]:
    inv = load_inventory(settings)
    changed: list[str] = []
    unchanged: list[str] = []
    try:
        writer_now = probes.writer_region(probes.global_cluster(inv, request.target_region))
        in_progress = (
            "a promotion is still in progress"
            if probes.global_cluster(inv, request.target_region).get("FailoverState")
            else ""
        )
    except Exception as err:  # the report must still be written
        writer_now, in_progress = f"unknown ({err})", ""
    try:
        traffic_now = probes.traffic_region(inv)
    except Exception as err:
        traffic_now = f"unknown ({err})"
    for what, before, now in (
        ("Aurora writer", baseline.get("writer_region"), writer_now),
        ("traffic", baseline.get("traffic_region"), traffic_now),
    ):
        if before is None or before == now:
            (unchanged if before is not None else changed).append(
                f"{what}: {now}" + ("" if before is not None else " (no baseline: check it)")
            )
        else:
            changed.append(f"{what}: moved from {before} to {now}")
    if in_progress:
        changed.append(f"Aurora: {in_progress}")
    return changed, unchanged


def handle(event: dict[str, Any], settings: Settings) -> dict[str, Any]:
    error = event.get("error") or {}
    name = str(error.get("Error", "Unknown"))
    cause = _cause(str(error.get("Cause", "")))
    phase = str(event.get("phase", "?"))
    execution = str(event.get("execution", ""))
    raw_request = event.get("request")
    request = OperationRequest.model_validate(raw_request) if isinstance(raw_request, dict) else None
    workflow = request.workflow if request else str(event.get("workflow", "failover"))
    changed: list[str] = []
    unchanged: list[str] = ["nothing was attempted"] if request is None else []
    lease_state = "not held"
    if request is not None and name not in ("LeaseHeld",):
        changed, unchanged = what_changed(request, event.get("baseline") or {}, settings)
        changed += [str(c) for c in event.get("changes") or []]  # what the workflow itself reports it changed
        moved = [c for c in changed if "moved" in c or "progress" in c or "check it" in c]
        lease_state = "BLOCKED" if moved else "RELEASED"
        note = f"{workflow} failed in {phase}: {name}: {cause}"[:900]
        if not lease.settle(
            settings.state_table, settings.recovery_region, request.execution, lease_state, note, changed
        ):
            lease_state = "not held"
    out = {
        "workflow": workflow,
        "status": "FAILED",
        "execution": execution,
        "phase": phase,
        "error": name,
        "cause": cause,
        "fail_state": FAIL_STATES.get(name, "FailUnexpected"),
        "changed": changed,
        "unchanged": unchanged,
        "lease": lease_state,
        "finished_at": datetime.now(UTC).isoformat(),
    }
    ddb = client("dynamodb", settings.recovery_region)
    ddb.put_item(
        TableName=settings.state_table,
        Item={
            "pk": {"S": f"audit#{execution}"},
            "workflow": {"S": workflow},
            "status": {"S": "FAILED"},
            "finished_at": {"S": out["finished_at"]},
            "report": {"S": json.dumps(out)},
        },
    )
    blocked = " — a person must check the platform, then run `drctl lease clear`" if lease_state == "BLOCKED" else ""
    failure.notify(settings, out, [f"Lease: {lease_state}{blocked}"])
    logger.error("workflow failed", extra={"error": name, "cause": cause, "changed": changed, "phase": phase})
    return out


@lambda_step
def handler(event: dict[str, Any]) -> dict[str, Any]:
    return handle(event, get_settings())
