"""AcquireLease: take the one DR lease for this execution, or fail with LeaseHeld."""

from __future__ import annotations

from typing import Any

from dr import lease
from dr.models import OperationRequest, parse
from dr.settings import get_settings
from dr.steps._handler import lambda_step


@lambda_step
def handler(event: dict[str, Any]) -> dict[str, Any]:
    request = parse(OperationRequest, event.get("request"), "request")
    settings = get_settings()
    held = lease.acquire(
        settings.state_table,
        settings.recovery_region,
        holder=request.execution,
        operation=request.workflow,
        mode=request.mode,
        seconds=settings.lease_seconds,
    )
    return held.model_dump(mode="json")
