"""VerifyRecovery: the target endpoint answers healthy and traffic is routed to the target region.
Not yet: RecoveryNotVerified, which the state machine retries with back-off a bounded number of times."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from dr import probes
from dr.aws import aws_errors
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
    with aws_errors("read the traffic routing state", RecoveryNotVerified):
        where = probes.traffic_region(inv)
    if not check.healthy or where != request.target_region:
        raise RecoveryNotVerified(
            f"expected {url} healthy and traffic in {request.target_region}; "
            f"found endpoint {check.detail} and traffic in {where}"
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
