"""VerifyRecovery: the target endpoint answers healthy and users are sent to the target region, as they
would find out: through DNS (the failover record's answer) or the ARC routing controls, never through the
Route 53 API. Not yet: RecoveryNotVerified, which the state machine retries with back-off a bounded number
of times (DNS answers follow Route 53's checkers within a minute or two)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from dr import probes
from dr.errors import RecoveryNotVerified
from dr.inventory import load_inventory
from dr.models import OperationRequest, Verification, parse
from dr.settings import get_settings
from dr.steps._handler import lambda_step


def verify(request: OperationRequest) -> Verification:
    settings = get_settings()
    inv = load_inventory(settings)
    url = inv.endpoint_url(request.target_region)
    check = probes.http_check(url, settings.endpoint_timeout_seconds)
    try:
        where = probes.traffic_region(inv)
    except probes.TrafficUnknown as err:
        raise RecoveryNotVerified(f"where users go could not be read: {err}") from err
    if not check.healthy or where != request.target_region:
        raise RecoveryNotVerified(
            f"expected {url} healthy and users sent to {request.target_region}; "
            f"found endpoint {check.detail} and users sent to {where}"
        )
    return Verification(
        verified=True,
        verified_at=datetime.now(UTC),
        traffic_region=where,
        endpoint_status=check.status,
        detail=check.detail,
    )


@lambda_step
def handler(event: dict[str, Any]) -> dict[str, Any]:
    request = parse(OperationRequest, event.get("request"), "request")
    return verify(request).model_dump(mode="json")
