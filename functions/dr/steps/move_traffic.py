"""MoveTraffic: send users to the target region through data-plane mechanisms only.

With ARC routing controls: target On, source Off in one UpdateRoutingControlStates call, trying each
cluster endpoint in turn (ARC's guidance). Without ARC: the health-check based failover records decide;
moving toward the recovery region inverts the primary's health check when it still reports healthy
(a planned move), moving home clears the inversion. DNS records are never edited.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from dr import probes
from dr.aws import aws_errors, client, is_transient
from dr.errors import TrafficMoveFailed, TransientAwsError
from dr.inventory import Inventory, load_inventory
from dr.models import OperationRequest, TrafficMove, parse
from dr.settings import get_settings
from dr.steps._handler import lambda_step


def _arc(inv: Inventory, request: OperationRequest) -> list[str]:
    updates = [
        {"RoutingControlArn": inv.routing_control_arn(request.target_region), "RoutingControlState": "On"},
        {"RoutingControlArn": inv.routing_control_arn(request.source_region), "RoutingControlState": "Off"},
    ]
    errors = []
    endpoints = sorted(inv.routing.arc_cluster_endpoints.items(), key=lambda kv: kv[0] != request.target_region)
    for region, endpoint in endpoints:
        try:
            client("route53-recovery-cluster", region, endpoint).update_routing_control_states(
                UpdateRoutingControlStateEntries=updates
            )
            return [f"ARC via {region}: {request.target_region} On, {request.source_region} Off"]
        except Exception as err:  # the next cluster endpoint may answer
            errors.append(f"{region}: {err}")
            if not is_transient(err) and "AccessDenied" in str(err):
                break
    raise TrafficMoveFailed("no ARC cluster endpoint accepted the routing control update: " + "; ".join(errors))


def _health_checks(inv: Inventory, request: OperationRequest) -> list[str]:
    primary_check = inv.routing.primary_health_check_id
    route53 = client("route53", "us-east-1")
    current = route53.get_health_check(HealthCheckId=primary_check)["HealthCheck"]["HealthCheckConfig"]
    pinned = bool(current.get("Disabled")) and bool(current.get("Inverted"))
    if request.target_region == inv.recovery_region:
        # Pin: a disabled check counts as healthy, inverted it counts as failing, whatever the primary
        # does. Traffic stays in the recovery region when the primary comes back, until the failback.
        if pinned:
            return [
                f"primary health check {primary_check} already pinned failing: Route 53 answers with "
                f"{request.target_region}"
            ]
        route53.update_health_check(HealthCheckId=primary_check, Disabled=True, Inverted=True)
        return [
            f"pinned primary health check {primary_check} failing (disabled + inverted): Route 53 answers "
            f"with {request.target_region}"
        ]
    if current.get("Disabled") or current.get("Inverted"):
        route53.update_health_check(HealthCheckId=primary_check, Disabled=False, Inverted=False)
        return [f"unpinned primary health check {primary_check}: Route 53 follows the primary's health again"]
    return [f"primary health check {primary_check} not pinned: Route 53 follows the primary's health"]


def move(request: OperationRequest) -> TrafficMove:
    inv = load_inventory(get_settings())
    with aws_errors("move traffic", TrafficMoveFailed):
        if inv.routing.uses_arc:
            changes, mechanism = _arc(inv, request), "arc"
        else:
            changes, mechanism = _health_checks(inv, request), "health-check"
        where = probes.traffic_region(inv)
    return TrafficMove(mechanism=mechanism, traffic_region=where, changes=changes, moved_at=datetime.now(UTC))


@lambda_step
def handler(event: dict[str, Any]) -> dict[str, Any]:
    request = parse(OperationRequest, event.get("request"), "request")
    try:
        return move(request).model_dump(mode="json")
    except TrafficMoveFailed as err:
        cause = err.__cause__ if isinstance(err.__cause__, Exception) else err
        if is_transient(cause):
            raise TransientAwsError(str(err)) from err
        raise
