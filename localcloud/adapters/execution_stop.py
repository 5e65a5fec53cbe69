"""StopExecution as Step Functions does it: the execution is ABORTED at once, and nothing runs after.

moto's StopExecution drops the ``error`` and ``cause`` it is given, leaves a waiting task (waitForTaskToken,
a task's TimeoutSeconds) waiting until its timeout, lets the state in progress complete and, when that state
then finds the program stopped, turns the stop into ``FAILED`` / ``States.Runtime``. This adapter answers
StopExecution itself:

- the program is stopped (moto's ``Environment.set_stop``, which every frame — Parallel branches, Map
  iterations — inherits), so no later state is entered and no new task (no Lambda) is started; a branch
  or iteration opened in the same instant returns at once instead of failing on the stopped program
  (which left its Parallel state waiting forever);
- an ``ExecutionAborted`` history event with the ``error`` and ``cause`` given closes the history: events
  the unwinding threads would still record (a task failing because it was interrupted, moto's own
  ExecutionAborted) are dropped, as in AWS, where the history of an aborted execution ends there;
- the execution is ``ABORTED`` with its ``stopDate``, ``error`` and ``cause`` (DescribeExecution) when the
  call returns, and its end is reflected exactly once (a thread still unwinding cannot overwrite it);
- what waits is woken: task tokens of the execution are closed (a late SendTaskSuccess gets
  ``TaskTimedOut``), and the timer of a Wait state is dropped by the clock (its waiter no longer runs), so
  the clock never jumps to a wait that no longer exists. A task already running (a Lambda invocation)
  completes, and its result is ignored, as in AWS. A Retry back-off in progress is not interruptible:
  the clock may still reach its end.
An execution that has already ended is left as it is; the answer carries its stop date.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Any

from moto.stepfunctions.parser.api import ExecutionAbortedEventDetails, ExecutionStatus, HistoryEventType
from moto.stepfunctions.parser.asl.component.program.program import Program
from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
from moto.stepfunctions.parser.asl.eval.event.event_manager import EventHistoryContext, EventManager
from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication

from localcloud.adapters.patching import PatchSet
from localcloud.adapters.sfn_executions import backend, environment, moto_error
from localcloud.interceptor import Call, Interceptor, Response, serialize_result

_CLOSED = "_localcloud_history_closed"
_ENDED = "_localcloud_end_reflected"
_START_SECONDS = 5.0  # real time an execution just started may take to build its program


def _add_event_unless_closed(original: Any) -> Any:
    def add_event(manager: EventManager, *args: Any, **kwargs: Any) -> int:
        if getattr(manager, _CLOSED, False):
            return 0
        return int(original(manager, *args, **kwargs))

    return add_event


def _not_after_stop(original: Any) -> Any:
    def eval_program(program: Program, env: Any) -> None:
        if env._program_state is not None and not env.is_running():
            return  # a branch or iteration opened as the execution stopped: it has nothing left to run
        original(program, env)

    return eval_program


def _terminated_once(original: Any) -> Any:
    def terminated(comm: BaseExecutionWorkerCommunication) -> None:
        execution = comm.execution
        if getattr(execution, _ENDED, False):
            return
        setattr(execution, _ENDED, True)
        original(comm)

    return terminated


class ExecutionStopAdapter:
    name = "stop-execution"

    def __init__(self, interceptor: Interceptor) -> None:
        self.interceptor = interceptor
        self._patches = PatchSet()
        self._lock = threading.Lock()

    def install(self) -> None:
        self._add_event = EventManager.add_event
        self._patches.add(EventManager, "add_event", _add_event_unless_closed(self._add_event))
        self._patches.add(Program, "eval", _not_after_stop(Program.eval))
        self._patches.add(
            BaseExecutionWorkerCommunication,
            "terminated",
            _terminated_once(BaseExecutionWorkerCommunication.terminated),
        )
        self.interceptor.route("stepfunctions", "StopExecution", self._stop_execution)

    def uninstall(self) -> None:
        self.interceptor.unroute("stepfunctions", "StopExecution")
        self._patches.undo_all()

    def _stop_execution(self, call: Call) -> Response:
        params = call.params
        try:
            execution = backend(call.region).describe_execution(params["executionArn"])
        except Exception as err:  # ExecutionDoesNotExist, InvalidArn: moto's own codes
            return moto_error(call, err)
        self.stop(execution, params.get("error"), params.get("cause"))
        return serialize_result(call, {"stopDate": execution.stop_date or datetime.now(UTC)})

    def stop(self, execution: Any, error: str | None, cause: str | None) -> bool:
        """Abort ``execution`` if it is running; True when it was."""
        env = _started_environment(execution)
        if env is None:
            return False
        with self._lock, env._state_mutex:
            if execution.exec_status != ExecutionStatus.RUNNING or not env.is_running():
                return False
            stopped_at = datetime.now(UTC)
            env.set_stop(stop_date=stopped_at, cause=cause, error=error)
            manager = env.event_manager
            last_id = len(manager.get_event_history())
            setattr(manager, _CLOSED, True)
            details = ExecutionAbortedEventDetails()
            if error is not None:
                details["error"] = error
            if cause is not None:
                details["cause"] = cause
            self._add_event(
                manager,
                context=EventHistoryContext(previous_event_id=last_id),
                event_type=HistoryEventType.ExecutionAborted,
                event_details=EventDetails(executionAbortedEventDetails=details),
                timestamp=stopped_at,
            )
            for endpoint in list(env.callback_pool_manager._pool.values()):
                endpoint.interrupt_all()
            execution.error, execution.cause = error, cause
            execution.exec_worker._execution_communication.terminated()  # ABORTED, stopDate: moto's own
        return True


def _started_environment(execution: Any) -> Any:
    """The environment of an execution, once its program has started (StopExecution may follow
    StartExecution before the execution's thread has built it)."""
    deadline = time.monotonic() + _START_SECONDS
    while True:
        env = environment(execution)
        if env is not None and env._program_state is not None:
            return env
        if execution.exec_status != ExecutionStatus.RUNNING or time.monotonic() > deadline:
            return None
        time.sleep(0.005)
