"""Execution status change events: what Step Functions puts on EventBridge when an execution changes status.

Step Functions sends a "Step Functions Execution Status Change" event (source ``aws.states``) to the default
event bus of the execution's region each time an execution of a Standard state machine becomes RUNNING,
SUCCEEDED, FAILED, TIMED_OUT or ABORTED (Express workflows send none); moto sends nothing. This adapter
builds the event in the documented shape (Step Functions developer guide, "EventBridge events for Step
Functions execution status changes") and routes it through localcloud's EventRouter, so a rule of the
template matching it fires its target: a state machine, or a Lambda function invoked in process with the
event as its payload. Delivery is asynchronous, as EventBridge's is, but the clock does not move until the
rule's targets have been started (the delivery counts as work in progress).

    detail: executionArn, stateMachineArn, name, status, startDate and stopDate (epoch milliseconds;
    stopDate null while RUNNING), input, inputDetails, output and outputDetails (SUCCEEDED only, else
    null), error and cause (null unless the execution failed or was stopped with them), and the redrive
    fields of an execution that was never redriven.
"""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from moto.stepfunctions.parser.api import ExecutionStatus, StateMachineType
from moto.stepfunctions.parser.asl.utils.encoding import to_json_str
from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication, Execution

from localcloud.adapters.patching import PatchSet
from localcloud.events import EventRouter
from localcloud.template import ACCOUNT_ID

DETAIL_TYPE = "Step Functions Execution Status Change"
_NOT_REDRIVABLE = {ExecutionStatus.RUNNING, ExecutionStatus.SUCCEEDED}


def _millis(moment: datetime | None) -> int | None:
    return None if moment is None else int(moment.timestamp() * 1000)


def status_change_event(execution: Any) -> dict[str, Any]:
    """The EventBridge event Step Functions sends for the execution's current status."""
    status = ExecutionStatus(execution.exec_status)
    succeeded = status == ExecutionStatus.SUCCEEDED
    ended = status != ExecutionStatus.RUNNING
    changed_at: datetime = execution.stop_date if ended and execution.stop_date else execution.start_date
    redrivable = status not in _NOT_REDRIVABLE
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": DETAIL_TYPE,
        "source": "aws.states",
        "account": ACCOUNT_ID,
        "time": changed_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": execution.region_name,
        "resources": [execution.exec_arn],
        "detail": {
            "executionArn": execution.exec_arn,
            "stateMachineArn": execution.state_machine_arn,
            "name": execution.name,
            "status": status.value,
            "startDate": _millis(execution.start_date),
            "stopDate": _millis(execution.stop_date) if ended else None,
            "input": execution.execution_input,
            "output": to_json_str(execution.output, separators=(",", ":")) if succeeded else None,
            "inputDetails": {"included": True},
            "outputDetails": {"included": True} if succeeded else None,
            "error": execution.error,
            "cause": execution.cause,
            "redriveCount": 0,
            "redriveDate": None,
            "redriveStatus": "REDRIVABLE" if redrivable else "NOT_REDRIVABLE",
            "redriveStatusReason": None if redrivable else f"Execution is {status.value} and cannot be redriven",
        },
    }


class StatusEventsAdapter:
    name = "execution-status-events"

    def __init__(self, router: EventRouter, busy: Callable[[], Any] | None = None) -> None:
        self.router = router
        self._busy = busy
        self._patches = PatchSet()
        self.sent: list[dict[str, Any]] = []  # every event sent (tests read it)
        self._lock = threading.Lock()
        self._deliveries: list[threading.Thread] = []
        self._open = False

    def install(self) -> None:
        adapter = self
        start = Execution.start
        reflect = BaseExecutionWorkerCommunication._reflect_execution_status

        def started(execution: Execution) -> None:
            start(execution)
            adapter.send(execution)

        def reflected(comm: BaseExecutionWorkerCommunication) -> None:
            reflect(comm)
            adapter.send(comm.execution)

        self._patches.add(Execution, "start", started)
        self._patches.add(BaseExecutionWorkerCommunication, "_reflect_execution_status", reflected)
        self._open = True

    def delivered(self, timeout: float = 10.0) -> None:
        """Return once every event sent so far has been delivered to its rules' targets (a Lambda target
        has run by then: EventBridge's invocation ends at its firing time here)."""
        with self._lock:
            deliveries = list(self._deliveries)
        for delivery in deliveries:
            delivery.join(timeout=timeout)

    def uninstall(self) -> None:
        """No more events; those on their way are delivered first (while moto and the runtime are still in
        place: a delivery after them would leave the process for the real AWS)."""
        with self._lock:
            self._open = False
            deliveries, self._deliveries = self._deliveries, []
        for delivery in deliveries:
            delivery.join(timeout=10)
        self._patches.undo_all()

    def send(self, execution: Any) -> None:
        if StateMachineType(execution.sm_type) != StateMachineType.STANDARD:
            return
        event = status_change_event(execution)
        work = self._busy() if self._busy is not None else contextlib.nullcontext()

        def deliver() -> None:
            try:
                self.router.dispatch(event, str(event["region"]), "default")
            finally:
                work.__exit__(None, None, None)

        delivery = threading.Thread(target=deliver, name="status-change-event", daemon=True)
        with self._lock:
            if not self._open:
                return
            self.sent.append(event)
            self._deliveries = [d for d in self._deliveries if d.is_alive()] + [delivery]
            work.__enter__()  # held until delivered: the clock must not move past a rule's target starting
            delivery.start()
