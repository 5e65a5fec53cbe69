"""The one door every AWS call in localcloud goes through, in-process or from the loopback server.

moto answers a request in ``BotocoreStubber.process_request``. localcloud wraps that single method to:

1. name the call (service, operation, region) from the request itself, with moto's own router;
2. let the active outage profile (``localcloud.outage``) fail an application call the way a client sees a
   Region in trouble: a connection error or a timeout raised in the SDK, or a 5xx;
3. ask the authorizer (``localcloud.iam``) whether the caller's role may make it; answer AccessDenied if not;
4. answer it with an injected fault when one matches (serialized by moto for the operation's protocol,
   so the caller's SDK sees exactly what it would see from AWS);
5. run the hooks that bring simulated state up to the clock before the call is answered (metric series,
   jobs that finish after a modeled duration);
6. route the operations moto lacks to localcloud's simulated backends;
7. otherwise let moto answer, and record the call (tests count AWS calls per resource with it).
"""

from __future__ import annotations

import re
import threading
import uuid
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from moto.core import botocore_stubber
from moto.core.botocore_stubber import BotocoreStubber
from moto.core.exceptions import ServiceException
from moto.core.parse import PROTOCOL_PARSERS
from moto.core.request import normalize_request
from moto.core.routing import get_service_router
from moto.core.serialize import get_serializer_class
from moto.core.utils import get_service_model

from localcloud.adapters.patching import PatchSet

_CREDENTIAL = re.compile(r"Credential=([^/]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")
# Signing names that differ from the SDK's service names.
_SIGNING_TO_SERVICE = {"monitoring": "cloudwatch", "states": "stepfunctions", "execute-api": "apigateway"}

Response = tuple[int, dict[str, Any], str | bytes]


class AwsError(ServiceException):
    """An AWS error answered by localcloud (a fault or a simulated backend): ``AwsError(code, message)``.

    Defined outside ``moto.*`` so moto's serializer looks its shape up in the called service's model."""


@dataclass(frozen=True)
class Call:
    service: str
    operation: str
    region: str
    request: Any = field(compare=False, repr=False)
    # botocore's request context (``client_config`` among it) when the call comes from an in-process client.
    context: dict[str, Any] | None = field(default=None, compare=False, repr=False)
    access_key: str = field(default="", compare=False, repr=False)  # who signed it (the principal's key)

    @property
    def params(self) -> dict[str, Any]:
        """The request's parameters, parsed by moto with the operation's model."""
        model = get_service_model(self.service)
        operation = model.operation_model(self.operation)
        protocol = _protocol(model, self.request)
        parser = PROTOCOL_PARSERS[protocol](operation)
        _, uri_params = get_service_router(self.service).match(self.request)
        return dict(
            parser.parse(
                {
                    "method": self.request.method,
                    "values": self.request.values,
                    "headers": self.request.headers,
                    "body": self.request.data,
                    "url_path": self.request.path,
                    "url_params": uri_params,
                }
            )
        )


def _protocol(model: Any, request: Any) -> str:
    content_type = (request.headers.get("Content-Type") or "").split(";")[0]
    protocols = model.metadata.get("protocols", [model.protocol])
    if content_type in ("application/x-amz-json-1.0", "application/x-amz-json-1.1"):
        return "json" if "json" in protocols else str(model.protocol)
    if content_type == "application/x-www-form-urlencoded":
        return "query" if "query" in protocols else str(model.protocol)
    if content_type == "application/json" and "rest-json" in protocols:
        return "rest-json"
    return str(model.protocol) if model.protocol in ("query", "json", "rest-json", "rest-xml", "ec2") else "json"


def _request_id(headers: Any) -> dict[str, Any]:
    """Every AWS response carries a request id; SDKs and Step Functions read it."""
    out = dict(headers)
    out.setdefault("x-amzn-RequestId", str(uuid.uuid4()))
    return out


def serialize_error(call: Call, code: str, message: str, status: int) -> Response:
    """An AWS error response for ``call``, in its protocol, as moto would write it."""
    model = get_service_model(call.service)
    operation = model.operation_model(call.operation)
    error = AwsError(code, message)
    serializer = get_serializer_class(call.service, _protocol(model, call.request))(operation_model=operation)
    with warnings.catch_warnings():  # moto warns when a code is not in the model; AWS sends such codes too
        warnings.simplefilter("ignore", UserWarning)
        out = serializer.serialize(error)
    return status, _request_id(out["headers"]), out["body"]


# DynamoDB applies a conditional write atomically; moto checks and writes in two steps, so two threads can
# both pass a condition (two holders of one lease). localcloud answers these one at a time.
ATOMIC = frozenset(
    {
        ("dynamodb", "PutItem"),
        ("dynamodb", "UpdateItem"),
        ("dynamodb", "DeleteItem"),
        ("dynamodb", "TransactWriteItems"),
        ("dynamodb", "BatchWriteItem"),
        ("dynamodb", "ExecuteStatement"),
    }
)

# Calls that only watch executions (a test or drctl polling) are not work the clock must wait for.
WATCHING = frozenset(
    {
        ("stepfunctions", "DescribeExecution"),
        ("stepfunctions", "GetExecutionHistory"),
        ("stepfunctions", "ListExecutions"),
        ("stepfunctions", "DescribeStateMachine"),
    }
)

SimulatedHandler = Callable[[Call], Response]
Hook = Callable[[Call], None]
# (call, the raw request, how to answer it normally) -> the answer; may raise botocore's network errors.
OutageSource = Callable[[Call, Any, Callable[[], "Response | None"]], "Response | None"]

# The request this thread is answering and the werkzeug request made of it to name the call. moto makes its
# own of the same botocore request to answer it (``normalize_request`` in the stubber); it is given this one
# instead: building a werkzeug request was a tenth of an answered call's time, and it was built twice.
_ANSWERING = threading.local()


def _normalized_once(request: Any) -> Any:
    held = getattr(_ANSWERING, "pair", None)
    if held is not None and held[0] is request:
        return held[1]
    return normalize_request(request)


class Interceptor:
    name = "interceptor"

    def __init__(self, busy: Callable[[], Any] | None = None) -> None:
        self._patches = PatchSet()
        self._busy = busy  # the clock's ``busy()``: no time jump while a call is being answered
        self._routes: dict[tuple[str, str], SimulatedHandler] = {}
        self._hooks: list[Hook] = []
        self._fault_source: Callable[[Call], Response | None] | None = None
        # IAM: the AccessDenied response for a call its principal may not make (None: allowed)
        self.authorizer: Callable[[Call], Response | None] | None = None
        self._outage: OutageSource | None = None
        self.calls: Counter[tuple[str, str]] = Counter()
        # Which Lambda function made which call (to check the template's Policies against what ran).
        self.caller: Callable[[], str | None] = lambda: None
        self.calls_by_function: dict[str, set[tuple[str, str]]] = {}
        self._lock = threading.Lock()
        self._atomic = threading.RLock()

    def route(self, service: str, operation: str, handler: SimulatedHandler) -> None:
        self._routes[(service, operation)] = handler

    def unroute(self, service: str, operation: str) -> None:
        self._routes.pop((service, operation), None)

    def hook(self, hook: Hook) -> None:
        self._hooks.append(hook)

    def set_fault_source(self, source: Callable[[Call], Response | None]) -> None:
        self._fault_source = source

    def set_outage(self, outage: OutageSource | None) -> None:
        self._outage = outage

    def identify(self, request: Any) -> Call | None:
        match = _CREDENTIAL.search(request.headers.get("Authorization", "") or "")
        if not match:
            return None
        access_key, region, signing = match.group(1), match.group(2), match.group(3)
        service = _SIGNING_TO_SERVICE.get(signing, signing)
        try:
            operation, _ = get_service_router(service).match(request)
        except Exception:  # an unknown service or path: let moto answer as it always would
            return None
        return Call(
            service=service, operation=str(operation.name), region=region, request=request, access_key=access_key
        )

    def handle(self, original: Callable[[Any], Response | None], request: Any) -> Response | None:
        normalized = normalize_request(request)
        body: Any = getattr(request, "body", None)
        if body is not None and hasattr(body, "seek"):
            body.seek(0)  # naming the call read a streamed body (S3 PutObject); moto must read it again
        outer = getattr(_ANSWERING, "pair", None)  # a call made while answering another (a Lambda's)
        _ANSWERING.pair = (request, normalized)
        try:
            call = self.identify(normalized)
            if call is None:
                return original(request)
            call = replace(call, context=getattr(request, "context", None))
            if self._busy is None or (call.service, call.operation) in WATCHING:
                return self._handle(original, request, call)
            with self._busy():
                return self._handle(original, request, call)
        finally:
            _ANSWERING.pair = outer

    def _handle(self, original: Callable[[Any], Response | None], request: Any, call: Call) -> Response | None:
        function = self.caller()
        with self._lock:
            self.calls[(call.service, call.operation)] += 1
            if function is not None:
                self.calls_by_function.setdefault(function, set()).add((call.service, call.operation))
        if self._outage is not None:
            return self._outage(call, request, lambda: self._answer(original, request, call))
        return self._answer(original, request, call)

    def _answer(self, original: Callable[[Any], Response | None], request: Any, call: Call) -> Response | None:
        if self.authorizer is not None:
            denied = self.authorizer(call)
            if denied is not None:
                return denied
        if self._fault_source is not None:
            fault = self._fault_source(call)
            if fault is not None:
                return fault
        for hook in list(self._hooks):
            hook(call)
        simulated = self._routes.get((call.service, call.operation))
        if (call.service, call.operation) in ATOMIC:
            with self._atomic:
                return simulated(call) if simulated is not None else original(request)
        if simulated is not None:
            return simulated(call)
        return original(request)

    def install(self) -> None:
        interceptor = self
        original = BotocoreStubber.process_request

        def process_request(stubber: BotocoreStubber, request: Any) -> Response | None:
            return interceptor.handle(lambda r: original(stubber, r), request)

        self._patches.add(BotocoreStubber, "process_request", process_request)
        self._patches.add(botocore_stubber, "normalize_request", _normalized_once)

    def uninstall(self) -> None:
        self._patches.undo_all()


def serialize_result(call: Call, result: dict[str, Any]) -> Response:
    """A successful response for ``call`` carrying ``result`` (the operation's output shape, as a dict),
    written in the operation's protocol by moto's serializer, so botocore parses it as it would AWS's."""
    model = get_service_model(call.service)
    operation = model.operation_model(call.operation)
    serializer = get_serializer_class(call.service, _protocol(model, call.request))(operation_model=operation)
    out = serializer.serialize(result)
    return out["status_code"], _request_id(out["headers"]), out["body"]


def serialize_service_error(call: Call, error: ServiceException) -> Response:
    """An error response for ``call`` from a moto ``ServiceException`` (code and message set)."""
    model = get_service_model(call.service)
    operation = model.operation_model(call.operation)
    serializer = get_serializer_class(call.service, _protocol(model, call.request))(operation_model=operation)
    out = serializer.serialize(error)
    return out["status_code"], _request_id(out["headers"]), out["body"]
