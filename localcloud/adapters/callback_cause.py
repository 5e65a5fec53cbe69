"""SendTaskFailure adapter: keep the ``cause`` a caller gives.

moto's Step Functions response handler reads only ``error`` from SendTaskFailure and drops ``cause``, so
a rejection's reason never reaches the workflow (``$states.errorOutput.Cause`` is null). This adapter
answers SendTaskFailure through the interceptor, passing both to moto's own backend.
"""

from __future__ import annotations

from moto.core import DEFAULT_ACCOUNT_ID
from moto.stepfunctions.responses import get_backend

from localcloud.interceptor import (
    AwsError,
    Call,
    Interceptor,
    Response,
    serialize_result,
    serialize_service_error,
)


def _send_task_failure(call: Call) -> Response:
    params = call.params
    backend = get_backend(DEFAULT_ACCOUNT_ID, call.region)
    try:
        backend.send_task_failure(params["taskToken"], error=params.get("error"), cause=params.get("cause"))
    except Exception as err:  # moto raises its own TaskDoesNotExist etc.; keep their codes
        code = getattr(err, "code", None) or type(err).__name__
        return serialize_service_error(call, AwsError(str(code), str(getattr(err, "message", err))))
    return serialize_result(call, {})


class CallbackCauseAdapter:
    name = "send-task-failure-cause"

    def __init__(self, interceptor: Interceptor) -> None:
        self.interceptor = interceptor

    def install(self) -> None:
        self.interceptor.route("stepfunctions", "SendTaskFailure", _send_task_failure)

    def uninstall(self) -> None:
        self.interceptor.unroute("stepfunctions", "SendTaskFailure")
