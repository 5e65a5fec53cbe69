"""KeepTrafficPin: every minute, the traffic-pin alarm's data stream follows the last move's intent.

Route 53 judges a CLOUDWATCH_METRIC health check from the alarm's *data stream*, not from the alarm's state,
and a silent stream is "insufficient data" (healthy, for the pin check). So a pin set once would fade
after the evaluation period and send users back to a primary that only looks healthy. The durable record
of the pin is the intent MoveTraffic writes to the state table (``dr.traffic_pin``: why not the alarm's
state, which CloudWatch rewrites from the data); this keeper republishes ``TrafficPinnedToRecovery`` = 1
while it says pinned, and 0 otherwise, in the recovery region only (a data-plane action; nothing of the
primary region). Without an intent (no move recorded one yet) it follows the alarm's state.
"""

from __future__ import annotations

from typing import Any

from dr import traffic_pin
from dr.aws import client
from dr.inventory import load_inventory
from dr.settings import get_settings
from dr.steps._handler import lambda_step
from dr.steps.move_traffic import PIN_METRIC


@lambda_step
def handler(_event: dict[str, Any]) -> dict[str, Any]:
    settings = get_settings()
    routing = load_inventory(settings).routing
    if routing.uses_arc:
        return {"pinned": None, "detail": "ARC routing controls move the traffic: no pin to keep"}
    cloudwatch = client("cloudwatch", settings.recovery_region)
    found = cloudwatch.describe_alarms(AlarmNames=[routing.traffic_pin_alarm_name])["MetricAlarms"]
    if not found:
        return {"pinned": None, "detail": f"the traffic-pin alarm {routing.traffic_pin_alarm_name} does not exist"}
    recorded = traffic_pin.intent(settings)
    pinned = found[0]["StateValue"] == "ALARM" if recorded is None else recorded
    cloudwatch.put_metric_data(
        Namespace=settings.metrics_namespace,
        MetricData=[
            {
                "MetricName": PIN_METRIC,
                "Dimensions": [{"Name": "Record", "Value": routing.traffic_dns_name}],
                "Value": float(pinned),
            }
        ],
    )
    source = "the alarm's state: no move recorded an intent" if recorded is None else "the last move's intent"
    return {"pinned": pinned, "detail": f"{PIN_METRIC} = {int(pinned)} ({routing.traffic_dns_name}), from {source}"}
