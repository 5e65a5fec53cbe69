"""Task tokens as Step Functions enforces them: a token is answered once, and only while its task waits.

moto accepts SendTaskSuccess / SendTaskFailure on a token any number of times (the last answer wins, so
an approve followed by a reject ends rejected), answers 200 for a token whose task has ended, drops the
``cause`` of SendTaskFailure, and refuses a heartbeat for a task without HeartbeatSeconds. This adapter
answers the three calls itself, with the errors of the Step Functions API reference:

- a token Step Functions never issued in this region (malformed, made up): ``InvalidToken``
  ("Invalid Token: 'Invalid token'");
- a token whose task is closed: answered once already (SendTaskSuccess or SendTaskFailure), timed out
  (TimeoutSeconds or HeartbeatSeconds), or ended with its execution (stopped, failed):
  ``TaskTimedOut`` ("Task Timed Out: 'Provided task does not exist anymore'"), what AWS answers to a
  second answer and to a late one;
- SendTaskSuccess whose ``output`` is not JSON: ``InvalidOutput``.
``TaskDoesNotExist`` ("The activity does not exist") belongs to activity tasks, which this app has none of.
The first answer stands: a check and the answer happen under one lock, so two concurrent answers cannot
both be accepted. A heartbeat of a waiting task is accepted (200) whether or not it declared a heartbeat.
All three are answered in the service's JSON protocol, so botocore raises ``client.exceptions.TaskTimedOut``.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from moto.stepfunctions.parser.api import ExecutionStatus
from moto.stepfunctions.parser.asl.eval.callback.callback import (
    CallbackOutcomeFailure,
    CallbackOutcomeSuccess,
)

from localcloud.adapters.sfn_executions import environment, executions
from localcloud.interceptor import Call, Interceptor, Response, serialize_error, serialize_result

INVALID_TOKEN = ("InvalidToken", "Invalid Token: 'Invalid token'")
TASK_CLOSED = ("TaskTimedOut", "Task Timed Out: 'Provided task does not exist anymore'")


class TaskTokenAdapter:
    name = "task-tokens"

    def __init__(self, interceptor: Interceptor) -> None:
        self.interceptor = interceptor
        self._lock = threading.Lock()

    def install(self) -> None:
        self.interceptor.route("stepfunctions", "SendTaskSuccess", self._send_task_success)
        self.interceptor.route("stepfunctions", "SendTaskFailure", self._send_task_failure)
        self.interceptor.route("stepfunctions", "SendTaskHeartbeat", self._send_task_heartbeat)

    def uninstall(self) -> None:
        for operation in ("SendTaskSuccess", "SendTaskFailure", "SendTaskHeartbeat"):
            self.interceptor.unroute("stepfunctions", operation)

    # -- the three calls -----------------------------------------------------------------------------
    def _send_task_success(self, call: Call) -> Response:
        params = call.params
        output = params.get("output")
        try:
            json.loads(output or "")
        except ValueError as err:
            return serialize_error(call, "InvalidOutput", f"Invalid Output: {err}", 400)
        return self._answer(call, CallbackOutcomeSuccess(callback_id=params["taskToken"], output=str(output)))

    def _send_task_failure(self, call: Call) -> Response:
        params = call.params
        outcome = CallbackOutcomeFailure(
            callback_id=params["taskToken"], error=params.get("error"), cause=params.get("cause")
        )
        return self._answer(call, outcome)

    def _send_task_heartbeat(self, call: Call) -> Response:
        with self._lock:
            refused, endpoint = self._waiting_task(call, call.params["taskToken"])
            if refused is not None:
                return refused
            endpoint.notify_heartbeat()
        return serialize_result(call, {})

    # -- rules ---------------------------------------------------------------------------------------
    def _answer(self, call: Call, outcome: Any) -> Response:
        with self._lock:
            refused, endpoint = self._waiting_task(call, outcome.callback_id)
            if refused is not None:
                return refused
            endpoint.notify(outcome)  # closes the task: any later answer is refused
        return serialize_result(call, {})

    def _waiting_task(self, call: Call, token: str) -> tuple[Response | None, Any]:
        """The callback endpoint of the task waiting on ``token``, or the error AWS answers instead."""
        for execution in executions(call.region):
            env = environment(execution)
            endpoint = env.callback_pool_manager.get(token) if env is not None else None
            if endpoint is None:
                continue
            closed = endpoint._notify_event.is_set()  # set once answered, timed out or interrupted
            if closed or execution.exec_status != ExecutionStatus.RUNNING:
                return serialize_error(call, *TASK_CLOSED, 400), None
            return None, endpoint
        return serialize_error(call, *INVALID_TOKEN, 400), None
