"""Fault injection per service and operation: throttling, a 5xx, an outage, access denied, a read timeout.

A fault is matched on the call's service and operation (and region, when given) and answered the way the
real service answers, so the caller's SDK and Step Functions see exactly what they would see from AWS:

- an error response with the error code and HTTP status that service returns for that kind of failure
  (``ERRORS`` below), serialized in the operation's own protocol. The codes come from botocore's service
  models (the modeled error shapes: SNS ``InternalError`` 500, Lambda ``ServiceException`` 500, DynamoDB
  ``ProvisionedThroughputExceededException`` for item operations) and, where a service does not model a
  failure, from the errors common to all AWS APIs (``ThrottlingException`` 400 for JSON services,
  ``Throttling`` 400 for Query/XML ones, ``InternalFailure`` 500, ``ServiceUnavailable`` 503; ``AccessDenied``
  403 for Query/XML services, ``AccessDeniedException`` 400 for JSON 1.0/1.1 services, 403 for REST-JSON);
- ``timeout``: no answer at all. The caller's SDK gives up after its ``read_timeout`` and raises
  ``botocore.exceptions.ReadTimeoutError``; here the virtual clock moves by that read timeout and the
  interceptor raises the same exception inside botocore's send path, so botocore's retry handler treats it
  exactly as it treats a real one (retried, then raised). Step Functions' own integration clients have a
  socket timeout AWS does not document; localcloud uses ``STEP_FUNCTIONS_READ_TIMEOUT`` for them. Through
  the loopback server the connection is dropped instead (the client sees a connection error).

``times`` bounds how often a fault fires (None: every time).

Who is hit: a fault has the scope of an outage (``localcloud.outage.Outage.is_application``): by default it
fires only for the application's calls — the Lambda handlers, Step Functions' service integrations, drctl
and ``as_application`` blocks — so a test that throttles GetItem does not break its own reads of the state
table. ``everyone=True`` targets every caller (a test of the fault itself through a plain client). A
``Faults`` built without a scope (no LocalCloud around it) treats every caller as the application.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from botocore.exceptions import ReadTimeoutError
from moto.stepfunctions.parser.asl.component.common.timeouts.timeout import TimeoutSeconds

from localcloud.interceptor import Call, Response, serialize_error
from localcloud.outage import DATA_PLANE

KIND_NAMES = ("throttle", "5xx", "unavailable", "access-denied", "timeout")
MESSAGES = {
    "throttle": "Rate exceeded",
    "5xx": "An internal error occurred (injected by localcloud)",
    "unavailable": "Service is unavailable (injected by localcloud)",
    "access-denied": "User is not authorized to perform this action",
}

# The errors common to all AWS APIs, by protocol family.
_JSON = {
    "throttle": ("ThrottlingException", 400),
    "5xx": ("InternalFailure", 500),
    "unavailable": ("ServiceUnavailable", 503),
    "access-denied": ("AccessDeniedException", 400),
}
_QUERY = {**_JSON, "throttle": ("Throttling", 400), "access-denied": ("AccessDenied", 403)}

# Per service: (error code, HTTP status) for each kind, as the service itself sends it.
ERRORS: dict[str, dict[str, tuple[str, int]]] = {
    # Lambda (REST-JSON): ServiceException 500 and TooManyRequestsException 429 are modeled; AccessDenied is not.
    "lambda": {
        **_JSON,
        "throttle": ("TooManyRequestsException", 429),
        "5xx": ("ServiceException", 500),
        "access-denied": ("AccessDeniedException", 403),
    },
    # SNS (Query): InternalError 500 and AuthorizationError 403 are modeled; Publish throttling is the common one.
    "sns": {**_QUERY, "5xx": ("InternalError", 500), "access-denied": ("AuthorizationError", 403)},
    # DynamoDB (JSON 1.0): InternalServerError 500; throttling of item operations: see _DYNAMODB_ITEM_OPERATIONS.
    "dynamodb": {**_JSON, "5xx": ("InternalServerError", 500)},
    # S3 (REST-XML).
    "s3": {
        "throttle": ("SlowDown", 503),
        "5xx": ("InternalError", 500),
        "unavailable": ("ServiceUnavailable", 503),
        "access-denied": ("AccessDenied", 403),
    },
    "rds": dict(_QUERY),
    # CloudWatch: InternalServiceError 500 is modeled (InternalServiceFault).
    "cloudwatch": {**_QUERY, "5xx": ("InternalServiceError", 500)},
    "route53": dict(_QUERY),
    # AWS Backup (REST-JSON): ServiceUnavailableException 500 is its modeled server error.
    "backup": {**_JSON, "5xx": ("ServiceUnavailableException", 500), "access-denied": ("AccessDeniedException", 403)},
    "stepfunctions": dict(_JSON),
    # ARC routing-control data plane (JSON 1.0, Smithy httpError codes).
    "route53-recovery-cluster": {
        "throttle": ("ThrottlingException", 429),
        "5xx": ("InternalServerException", 500),
        "unavailable": ("EndpointTemporarilyUnavailableException", 503),
        "access-denied": ("AccessDeniedException", 403),
    },
}
# DynamoDB throttles item reads and writes with ProvisionedThroughputExceededException (the SDKs retry it);
# ThrottlingException is what its control plane (CreateTable, DescribeTable, ...) sends.
_DYNAMODB_ITEM_OPERATIONS = DATA_PLANE["dynamodb"]  # the item operations: the outage's data plane
STEP_FUNCTIONS_READ_TIMEOUT = 60.0  # seconds; the integration clients of moto's ASL engine never time out


def error_for(service: str, operation: str, kind: str) -> tuple[str, int]:
    """The (error code, HTTP status) ``service`` answers ``operation`` with for a fault of ``kind``."""
    if service == "dynamodb" and kind == "throttle" and operation in _DYNAMODB_ITEM_OPERATIONS:
        return "ProvisionedThroughputExceededException", 400
    return ERRORS.get(service, _JSON)[kind]


class Clock(Protocol):
    def skip(self, seconds: float) -> None: ...


@dataclass
class Fault:
    service: str
    operation: str
    kind: str
    times: int | None = 1
    region: str | None = None
    everyone: bool = False  # False: only the application's calls (see the module docstring)
    fired: int = 0
    code: str = ""
    status: int = 0

    def matches(self, call: Call, application: bool = True) -> bool:
        if (self.service, self.operation) != (call.service, call.operation):
            return False
        if not (self.everyone or application):
            return False
        if self.region is not None and self.region != call.region:
            return False
        return self.times is None or self.fired < self.times


class Faults:
    """The faults a test injected; the interceptor asks ``answer`` before every call."""

    def __init__(self, clock: Clock | None = None, is_application: Callable[[Any], bool] | None = None) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._clock = clock
        # Whether a request is the application's (the outage's rule); None: every caller is.
        self._is_application = is_application

    def inject(
        self,
        service: str,
        operation: str,
        kind: str,
        times: int | None = 1,
        region: str | None = None,
        everyone: bool = False,
    ) -> Fault:
        """Fail ``times`` calls (None: every call) of ``service.operation`` (in ``region`` when given) the way
        a fault of ``kind`` does; only the application's calls unless ``everyone``."""
        if kind not in KIND_NAMES:
            raise ValueError(f"fault kind must be one of {sorted(KIND_NAMES)}, got {kind!r}")
        code, status = ("", 0) if kind == "timeout" else error_for(service, operation, kind)
        fault = Fault(
            service=service,
            operation=operation,
            kind=kind,
            times=times,
            region=region,
            everyone=everyone,
            code=code,
            status=status,
        )
        with self._lock:
            self._faults.append(fault)
        return fault

    def active(self) -> list[Fault]:
        """The faults that would still fire (every time, or not yet ``times`` times)."""
        with self._lock:
            return [f for f in self._faults if f.times is None or f.fired < f.times]

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def answer(self, call: Call) -> Response | None:
        application = self._is_application is None or self._is_application(call.request)
        with self._lock:
            fault = next((f for f in self._faults if f.matches(call, application)), None)
            if fault is None:
                return None
            fault.fired += 1
        if fault.kind == "timeout":
            self._time_out(call)
        return serialize_error(call, fault.code, MESSAGES[fault.kind], fault.status)

    def _time_out(self, call: Call) -> None:
        """The caller waited its whole read timeout for an answer that never came."""
        config: Any = (call.context or {}).get("client_config")
        read_timeout = float(getattr(config, "read_timeout", None) or 60)
        engine = read_timeout >= TimeoutSeconds.DEFAULT_TIMEOUT_SECONDS
        if engine:
            read_timeout = STEP_FUNCTIONS_READ_TIMEOUT
        if self._clock is not None:
            self._clock.skip(read_timeout)  # a state whose TimeoutSeconds passed meanwhile times out first
        raise ReadTimeoutError(endpoint_url=str(getattr(call.request, "url", "")), error="Read timed out")
