"""MoveTraffic: send users to the target region through data-plane mechanisms only.

With ARC routing controls: target On, source Off in one UpdateRoutingControlStates call, trying each
cluster endpoint in turn (ARC's guidance: any of the cluster's regional endpoints can answer).

Without ARC ("standby takes over primary"): the primary failover record's health check includes a Route 53
CLOUDWATCH_METRIC check on the traffic-pin alarm, which lives in the recovery region. Moving to the
recovery region publishes ``TrafficPinnedToRecovery`` = 1 there (PutMetricData in the recovery region:
nothing of the primary region, and not the Route 53 API, which is a control plane served from us-east-1).
Route 53 reads the alarm's data stream (not its state: SetAlarmState cannot move a health check), fails
the primary record, and DNS answers the recovery region's record, and keeps doing so when the primary
comes back, until the failback publishes 0. The alarm's state is set too, at once (what operators see
until the next evaluation confirms it from the data). Before all that, the move's intent is written to
the state table (``dr.traffic_pin``): KeepTrafficPin republishes it every minute (a silent stream would
fade the pin). It comes first because the metric acts as soon as it is published: a move that failed
after the metric with no intent recorded would be undone by the keeper a minute later (users sent one
way, then back) or kept unrecorded. With the intent first, a move that fails part-way still ends where it
was asked to go (the keeper publishes the intent), and HandleFailure reports the traffic as moving there.
DNS records and health checks are never edited.
Idempotent: the mechanism's state is read first and only changed when it differs.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from dr import probes, traffic_pin
from dr.aws import aws_errors, client, is_transient
from dr.errors import TrafficMoveFailed, TransientAwsError
from dr.inventory import Inventory, load_inventory
from dr.models import OperationRequest, TrafficMove, parse
from dr.settings import Settings, get_settings
from dr.steps._handler import lambda_step

PIN_METRIC = "TrafficPinnedToRecovery"


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
        except Exception as err:
            errors.append(f"{region}: {err}")
            if not is_transient(err) and "AccessDenied" in str(err):
                break
    raise TrafficMoveFailed("no ARC cluster endpoint accepted the routing control update: " + "; ".join(errors))


def _pin(inv: Inventory, request: OperationRequest, settings: Settings) -> list[str]:
    """Pin users to the recovery region (toward it) or release the pin (toward the primary)."""
    pin = request.target_region == inv.recovery_region
    alarm, record = inv.routing.traffic_pin_alarm_name, inv.routing.traffic_dns_name
    cloudwatch = client("cloudwatch", settings.recovery_region)
    found = cloudwatch.describe_alarms(AlarmNames=[alarm])["MetricAlarms"]
    if not found:
        raise TrafficMoveFailed(f"the traffic-pin alarm {alarm} does not exist in {settings.recovery_region}")
    state = "ALARM" if pin else "OK"
    # First: the intent KeepTrafficPin republishes (see the module's docstring); should it fail, nothing moved.
    traffic_pin.record(settings, pin, request.target_region, request.workflow, request.execution)
    cloudwatch.put_metric_data(
        Namespace=settings.metrics_namespace,
        MetricData=[
            {"MetricName": PIN_METRIC, "Dimensions": [{"Name": "Record", "Value": record}], "Value": float(pin)}
        ],
    )
    already = found[0]["StateValue"] == state
    if not already:
        cloudwatch.set_alarm_state(
            AlarmName=alarm,
            StateValue=state,
            StateReason=f"{request.workflow} {request.execution.rsplit(':', 1)[-1]}: users to {request.target_region}",
        )
    if already:
        return [f"traffic-pin alarm {alarm} already {state}: {record} answers with {request.target_region}"]
    what = "pinned users to" if pin else "released the pin: users follow the health checks from"
    return [f"{what} {request.target_region} (traffic-pin alarm {alarm} {state}; {record})"]


def move(request: OperationRequest) -> TrafficMove:
    settings = get_settings()
    inv = load_inventory(settings)
    with aws_errors("move traffic", TrafficMoveFailed):
        if inv.routing.uses_arc:
            changes, mechanism = _arc(inv, request), "arc"
        else:
            changes, mechanism = _pin(inv, request, settings), "health-check"
    try:
        where = probes.traffic_region(inv)
    except probes.TrafficUnknown as err:
        where = f"unknown ({err})"  # VerifyRecovery reads it again, with retries
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
