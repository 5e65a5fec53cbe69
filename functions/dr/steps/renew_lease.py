"""RenewLease: before every change and after every wait, prove this run still holds the DR lease (same
holder and fence, HELD) and extend it: by ``seconds`` when given (the approval gate: its timeout plus the
run's own lease time), else by the configured lease time. A lease taken over ends the run with LeaseLost,
before anything more is changed."""

from __future__ import annotations

from typing import Any

from dr import lease
from dr.errors import InvalidInput
from dr.models import Lease, OperationRequest, parse
from dr.settings import get_settings
from dr.steps._handler import lambda_step


@lambda_step
def handler(event: dict[str, Any]) -> dict[str, Any]:
    request = parse(OperationRequest, event.get("request"), "request")
    held = parse(Lease, event.get("lease"), "lease")
    settings = get_settings()
    extra = event.get("seconds")
    if extra is not None and (not isinstance(extra, int) or isinstance(extra, bool) or extra <= 0):
        raise InvalidInput(f"seconds must be a positive integer, got {extra!r}")
    seconds = settings.lease_seconds + (extra or 0)
    renewed = lease.renew(settings.state_table, settings.recovery_region, request.execution, held.fence, seconds)
    return renewed.model_dump(mode="json")
