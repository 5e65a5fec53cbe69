"""ValidateBackupInput: turn the schedule's or a person's input into the BackupRequest every step of the
backup verification and the restore test receives. Bad input ends the workflow here with InvalidInput,
before anything is read or changed.

Event: ``{"input": <execution input>, "execution": <ARN>, "startedAt": <ISO time>, "workflow": ...}``.
Accepted inputs: the console/drctl object (unknown fields refused), or an EventBridge "Scheduled Event"
envelope (a rule without an Input), which runs the workflow with its defaults.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dr.backup_models import BackupRequest, RestoreTestInput, VerificationInput
from dr.errors import InvalidInput
from dr.inventory import load_inventory
from dr.models import parse
from dr.settings import get_settings
from dr.steps._handler import lambda_step

_SCHEDULE_SOURCES = ("aws.events", "aws.scheduler")


def build_request(event: dict[str, Any]) -> BackupRequest:
    settings = get_settings()
    workflow = event.get("workflow")
    if workflow not in ("backup-verification", "restore-test"):
        raise InvalidInput(f"workflow must be 'backup-verification' or 'restore-test', got {workflow!r}")
    raw = event.get("input")
    if not isinstance(raw, dict):
        raise InvalidInput(f"the execution input must be a JSON object, got {type(raw).__name__}: {raw!r}")
    inv = load_inventory(settings)
    started = datetime.fromisoformat(str(event["startedAt"]).replace("Z", "+00:00"))
    scheduled = raw.get("source") in _SCHEDULE_SOURCES and raw.get("detail-type") == "Scheduled Event"
    common: dict[str, Any] = {
        "workflow": workflow,
        "execution": str(event.get("execution", "")),
        "started_at": started,
        "primary_region": settings.primary_region,
        "recovery_region": settings.recovery_region,
        "vault": _required(inv.backup_vault, "BACKUP_VAULT_NAME"),
        "recovery_vault": _required(inv.recovery_backup_vault, "RECOVERY_BACKUP_VAULT_NAME"),
        "max_polls": settings.restore_max_polls,
    }
    if workflow == "backup-verification":
        given = (
            VerificationInput(requested_by="schedule")
            if scheduled
            else parse(VerificationInput, raw, "the backup verification input (expected {reason, requested_by})")
        )
        return BackupRequest(
            **common,
            mode="verify",
            trigger="schedule" if scheduled or given.requested_by.startswith("schedule") else "console",
            reason=given.reason,
            requested_by=given.requested_by,
        )
    test = (
        RestoreTestInput(requested_by="schedule")
        if scheduled
        else parse(
            RestoreTestInput,
            raw,
            "the restore test input (expected {mode: full|dry-run, from_copies, resource_types, reason, requested_by})",
        )
    )
    return BackupRequest(
        **common,
        mode=test.mode,
        trigger="schedule" if scheduled or test.requested_by.startswith("schedule") else "console",
        reason=test.reason,
        requested_by=test.requested_by,
        from_copies=test.from_copies,
        resource_types=test.resource_types,
    )


def _required(name: str, variable: str) -> str:
    if not name:
        raise InvalidInput(f"{variable} is not set in the function's environment: the backup workflows need it")
    return name


@lambda_step
def handler(event: dict[str, Any]) -> dict[str, Any]:
    return build_request(event).model_dump(mode="json")
