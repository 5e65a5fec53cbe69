"""The AWS/States metrics Step Functions publishes for every state machine, which moto does not.

Modeled (Step Functions Developer Guide, "Monitoring Step Functions metrics using Amazon CloudWatch"):
``ExecutionsStarted`` at an execution's start, and ``ExecutionsSucceeded``, ``ExecutionsFailed``,
``ExecutionsAborted`` or ``ExecutionsTimedOut`` at its end (value 1, unit Count), and ``ExecutionTime``
(milliseconds) at its end, each with the dimension ``StateMachineArn``; a state machine with no
execution in a period has no datapoint (AWS publishes on events, never zeros). Datapoints are written into
moto's CloudWatch, timestamped on the virtual clock's times of the executions, before CloudWatch answers a
read in the Region (as ``MetricsSimulator`` does), so alarms, dashboards and ``drctl dashboard`` see them.
Not modeled: ``ExecutionThrottled``, ``ExecutionsRedriven``, the per-activity and per-service-integration
metrics.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

from moto.cloudwatch.models import cloudwatch_backends
from moto.stepfunctions.parser.models import stepfunctions_parser_backends

from localcloud.interceptor import Call, Interceptor
from localcloud.services.metrics import PUBLISH_BEFORE
from localcloud.template import ACCOUNT_ID

NAMESPACE = "AWS/States"
ENDED = {
    "SUCCEEDED": "ExecutionsSucceeded",
    "FAILED": "ExecutionsFailed",
    "ABORTED": "ExecutionsAborted",
    "TIMED_OUT": "ExecutionsTimedOut",
}


def _naive_utc(value: Any) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return (moment.astimezone(UTC) if moment.tzinfo else moment).replace(tzinfo=None)


class StatesMetricsSimulator:
    def __init__(self, account: str = ACCOUNT_ID) -> None:
        self.account = account
        self._started: set[str] = set()
        self._ended: set[str] = set()
        self._lock = threading.Lock()

    def publish(self, region: str) -> int:
        """Write the datapoints of every execution of ``region`` that started or ended since the last call."""
        backend = stepfunctions_parser_backends[self.account][region]  # the executing backend
        points: list[dict[str, Any]] = []
        with self._lock:
            for execution in [e for machine in list(backend.state_machines) for e in list(machine.executions)]:
                arn = str(execution.execution_arn)
                dims = [{"Name": "StateMachineArn", "Value": str(execution.state_machine_arn)}]
                if arn not in self._started:
                    self._started.add(arn)
                    points.append(_point("ExecutionsStarted", dims, 1.0, "Count", execution.start_date))
                status = str(getattr(execution.status, "value", execution.status))
                if status in ENDED and execution.stop_date and arn not in self._ended:
                    self._ended.add(arn)
                    stopped, started = _naive_utc(execution.stop_date), _naive_utc(execution.start_date)
                    points.append(_point(ENDED[status], dims, 1.0, "Count", execution.stop_date))
                    elapsed = (stopped - started).total_seconds() * 1000
                    points.append(_point("ExecutionTime", dims, elapsed, "Milliseconds", execution.stop_date))
        if points:
            cloudwatch_backends[self.account][region].put_metric_data(NAMESPACE, points)
        return len(points)

    def _before_call(self, call: Call) -> None:
        if call.service == "cloudwatch" and call.operation in PUBLISH_BEFORE:
            self.publish(call.region)

    def register(self, interceptor: Interceptor) -> None:
        interceptor.hook(self._before_call)


def _point(name: str, dims: list[dict[str, str]], value: float, unit: str, when: Any) -> dict[str, Any]:
    return {"MetricName": name, "Dimensions": dims, "Value": value, "Unit": unit, "Timestamp": _naive_utc(when)}
