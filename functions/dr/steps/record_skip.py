"""RecordSkip: a run that did nothing still leaves its trace. It writes the audit record (status SKIPPED,
with why) and notifies the topic — except a pure duplicate: an alarm that arrives while a failover holds
the lease (that failover is already on it and will notify). An alarm that arrives while the *failback*
holds the lease, or while the lease is BLOCKED, is exactly what an operator must see: "not acted on".
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from dr import bookkeeping, lease
from dr.models import OperationRequest, parse
from dr.settings import Settings, get_settings
from dr.steps._handler import lambda_step


def _reason(event: dict[str, Any]) -> str:
    raw = str(event.get("reason") or "")
    try:
        return str(json.loads(raw).get("errorMessage", raw))  # a LeaseHeld error's Cause is the Lambda payload
    except (ValueError, AttributeError):
        return raw


def pure_duplicate(request: OperationRequest, holder: dict[str, Any] | None) -> bool:
    return (
        request.trigger == "alarm"
        and holder is not None
        and holder.get("operation") == request.workflow
        and holder.get("state") == "HELD"
    )


def record(event: dict[str, Any], settings: Settings) -> dict[str, Any]:
    request = parse(OperationRequest, event.get("request"), "request")
    kind = str(event.get("kind") or "lease-held")
    reason = _reason(event)
    holder = lease.describe(settings.state_table, settings.recovery_region) if kind == "lease-held" else None
    duplicate = kind == "lease-held" and pure_duplicate(request, holder)
    out: dict[str, Any] = {
        "workflow": request.workflow,
        "mode": request.mode,
        "status": "SKIPPED",
        "execution": request.execution,
        "trigger": request.trigger,
        "requested_by": request.requested_by,
        "detected_at": request.detected_at.isoformat(),
        "finished_at": datetime.now(UTC).isoformat(),
        "reason": reason,
        "duplicate": duplicate,
        "changed": [],
    }
    if kind == "lease-held":
        what = f"{holder.get('operation', '?')} ({holder.get('state', '?')})" if holder else "another operation"
        subject = f"[DR] {request.workflow} not acted on: {what} holds the lease"
        text = f"{request.requested_by} asked for a {request.workflow} ({request.mode}); not acted on: {reason}"
    else:
        subject = f"[DR] {request.workflow} skipped: nothing to do"
        text = f"{request.requested_by} asked for a {request.workflow} ({request.mode}); skipped: {reason}"
    note = (
        None
        if duplicate
        else bookkeeping.Notification(
            subject=subject, message=f"{text}\nExecution: {request.execution}", event=f"{request.workflow}-skipped"
        )
    )
    done = bookkeeping.finish(out, note, settings)
    out["warnings"] = done.warnings
    return out


@lambda_step
def handler(event: dict[str, Any]) -> dict[str, Any]:
    return record(event, get_settings())
