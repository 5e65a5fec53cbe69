"""Task timeouts as Step Functions keeps them: TimeoutSeconds counts from the state's start, and what the
work reports after it is ignored.

moto runs a state's work (a Task's call, a Parallel's branches) in a frame thread and waits for it
(``ExecutionState._evaluate_with_timeout``): the deadline counts from when the waiting thread gets round
to waiting, and when the work ends with an error moto reports that error before asking whether the wait
timed out. On AWS a Task that has not finished TimeoutSeconds after it started fails with
``States.Timeout``, whatever its work says later. With the virtual clock the difference is visible: a call
that makes the clock skip (an SDK read timeout of 60 s inside a Task with TimeoutSeconds 30) would report
the SDK's error, or not, depending on which thread the scheduler ran first. This adapter replaces that one
method with moto's own steps in AWS's order: the wait's ``VirtualTimeoutEvent`` is created before the work
starts (its deadline counts from there), the work's end is dated on the clock, and a timeout is decided
before the work's result or error is looked at.
"""

from __future__ import annotations

import copy
from threading import Thread
from typing import Any

from moto.stepfunctions.parser.asl.component.common.timeouts.timeout import EvalTimeoutError
from moto.stepfunctions.parser.asl.component.state.exec import execute_state
from moto.stepfunctions.parser.utils import TMP_THREADS

from localcloud.adapters.patching import PatchSet
from localcloud.clock import VirtualTimeoutEvent


def _evaluate_with_timeout(self: Any, env: Any) -> None:
    self.timeout.eval(env=env)
    timeout_seconds: int = env.stack.pop()

    frame = env.open_frame()
    frame.states.reset(input_value=env.states.get_input())
    frame.stack = copy.deepcopy(env.stack)
    outputs: list[Any] = []
    errors: list[Exception] = []
    ended = VirtualTimeoutEvent()  # the state's time starts now

    def work() -> None:
        try:
            self._eval_execution(frame)
            outputs.extend(frame.stack)
        except Exception as err:  # reported to the state below, unless its time ran out first
            errors.append(err)
        ended.set()

    thread = Thread(target=work, daemon=True)
    TMP_THREADS.append(thread)
    thread.start()

    finished_on_time = ended.wait(timeout_seconds)
    frame.set_ended()
    env.close_frame(frame)
    if not finished_on_time:
        raise EvalTimeoutError()
    if errors:
        raise errors[-1]

    output = outputs.pop()
    env.stack.append(output)
    if not self._is_language_query_jsonpath():
        env.states.set_result(output)
    if self.assign_decl:
        self.assign_decl.eval(env=env)
    if self.result_selector:
        self.result_selector.eval(env=env)
    if self.result_path:
        self.result_path.eval(env)
    else:
        env.states.reset(input_value=env.stack.pop())


class TaskTimeoutsAdapter:
    name = "task-timeouts"

    def __init__(self) -> None:
        self._patches = PatchSet()

    def install(self) -> None:
        self._patches.add(execute_state.ExecutionState, "_evaluate_with_timeout", _evaluate_with_timeout)

    def uninstall(self) -> None:
        self._patches.undo_all()
