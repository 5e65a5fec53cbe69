"""Fault injection per service and operation: throttling N times, a 5xx, AccessDenied, a failing job.

A fault is matched on the call's service and operation (and region, when given) and answered with the
error AWS would send, in the operation's own protocol, so the caller's SDK and Step Functions see it
exactly as they would see the real thing. ``times`` bounds how often it fires (None: every time).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from localcloud.interceptor import Call, Response, serialize_error

# The errors a test can ask for by a short name: (error code, HTTP status, message).
KINDS: dict[str, tuple[str, int, str]] = {
    "throttle": ("ThrottlingException", 400, "Rate exceeded"),
    "5xx": ("InternalFailure", 500, "An internal error occurred (injected by localcloud)"),
    "unavailable": ("ServiceUnavailable", 503, "Service is unavailable (injected by localcloud)"),
    "access-denied": ("AccessDeniedException", 403, "User is not authorized to perform this action"),
}
# Services whose SDK model names the errors differently from the generic ones above.
_SERVICE_CODES = {
    ("rds", "throttle"): "Throttling",
    ("rds", "access-denied"): "AccessDenied",
    ("sns", "throttle"): "Throttling",
    ("sns", "access-denied"): "AuthorizationError",
    ("s3", "access-denied"): "AccessDenied",
    ("s3", "throttle"): "SlowDown",
    ("route53", "throttle"): "Throttling",
    ("cloudwatch", "throttle"): "Throttling",
    ("cloudwatch", "access-denied"): "AccessDenied",
    ("dynamodb", "throttle"): "ThrottlingException",
    ("lambda", "throttle"): "TooManyRequestsException",
    ("stepfunctions", "throttle"): "ThrottlingException",
}
_SERVICE_STATUS = {("lambda", "throttle"): 429}


@dataclass
class Fault:
    service: str
    operation: str
    kind: str
    times: int | None = 1
    region: str | None = None
    fired: int = 0
    code: str = field(default="")
    status: int = 0

    def matches(self, call: Call) -> bool:
        if (self.service, self.operation) != (call.service, call.operation):
            return False
        if self.region is not None and self.region != call.region:
            return False
        return self.times is None or self.fired < self.times


class Faults:
    """The faults a test injected; the interceptor asks ``answer`` before every call."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def inject(
        self, service: str, operation: str, kind: str, times: int | None = 1, region: str | None = None
    ) -> Fault:
        if kind not in KINDS:
            raise ValueError(f"fault kind must be one of {sorted(KINDS)}, got {kind!r}")
        code = _SERVICE_CODES.get((service, kind), KINDS[kind][0])
        status = _SERVICE_STATUS.get((service, kind), KINDS[kind][1])
        fault = Fault(
            service=service,
            operation=operation,
            kind=kind,
            times=times,
            region=region,
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
        with self._lock:
            fault = next((f for f in self._faults if f.matches(call)), None)
            if fault is None:
                return None
            fault.fired += 1
        return serialize_error(call, fault.code, KINDS[fault.kind][2], fault.status)
