"""CheckRestoreLease: a restore test creates resources, so it does not start while a failover or failback
holds the DR lease, or while the lease is BLOCKED for a person. It never takes the lease itself: a real
failover must always be able to start, even in the middle of a monthly restore test."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from dr import lease
from dr.aws import aws_errors
from dr.backup_models import BackupRequest
from dr.errors import LeaseHeld, TransientAwsError
from dr.models import parse
from dr.settings import get_settings
from dr.steps._handler import lambda_step


def refuse_reason(current: dict[str, Any] | None, now: datetime) -> str | None:
    """Why a restore test must not start now, or None when it may."""
    if not current:
        return None
    state = current.get("state")
    if state == "BLOCKED":
        return f"the DR lease is BLOCKED ({current.get('note', '')}): a person must check the platform first"
    if state != "HELD":
        return None
    expires = current.get("expires_at")
    if expires and datetime.fromisoformat(str(expires)) < now:
        return None  # its holder died; the next DR operation takes it over
    return (
        f"a {current.get('operation', '?')} ({current.get('mode', '?')}) holds the DR lease since "
        f"{current.get('acquired_at', '?')}; a restore test waits until it is over"
    )


@lambda_step
def handler(event: dict[str, Any]) -> dict[str, Any]:
    parse(BackupRequest, event.get("request"), "request")
    settings = get_settings()
    with aws_errors("dynamodb:GetItem (read the lease)", TransientAwsError):
        current = lease.describe(settings.state_table, settings.recovery_region)
    reason = refuse_reason(current, datetime.now(UTC))
    if reason:
        raise LeaseHeld(f"{reason}. Expected no failover or failback in progress before a restore test.")
    return {"lease": (current or {}).get("state", "absent")}
