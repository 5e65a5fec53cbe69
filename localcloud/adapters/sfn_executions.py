"""Where the Step Functions adapters find moto's executions, and how they answer with moto's own errors.

moto keeps the executions of its ASL engine (``moto.stepfunctions.parser.backend.execution.Execution``) on
the state machines of the region's parser backend; each running one has an ``exec_worker.env`` (the
engine's ``Environment``: program state, history, task tokens). These helpers are shared by the adapters
that answer Step Functions API calls themselves (task tokens, StopExecution, GetExecutionHistory).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from moto.core import DEFAULT_ACCOUNT_ID
from moto.stepfunctions.responses import get_backend

from localcloud.interceptor import AwsError, Call, Response, serialize_service_error


def backend(region: str) -> Any:
    return get_backend(DEFAULT_ACCOUNT_ID, region)


def executions(region: str) -> Iterator[Any]:
    """Every execution of the region (running or ended), of every state machine."""
    for state_machine in list(backend(region).state_machines):
        yield from list(state_machine.executions)


def environment(execution: Any) -> Any:
    """The engine environment of an execution (None before its worker thread has built it)."""
    worker = getattr(execution, "exec_worker", None)
    return getattr(worker, "env", None)


def moto_error(call: Call, err: Exception) -> Response:
    """A moto exception (``ExecutionDoesNotExist``, ``InvalidArn``, ...) answered with its own error code."""
    code = getattr(err, "error_type", None) or type(err).__name__
    message = getattr(err, "message", None) or str(err)
    return serialize_service_error(call, AwsError(str(code), str(message)))
