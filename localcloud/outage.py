"""Outage profiles: what the application's AWS clients see, call by call, while a Region is impaired.

A profile decides, for each AWS call the *application* makes, whether the call fails and how: the way
a real client sees a Region in trouble — botocore's own connection errors and timeouts raised inside the
SDK (``EndpointConnectionError``, ``ConnectTimeoutError``, ``ReadTimeoutError``, so botocore's retry
logic and the caller handle exactly what they would handle against AWS), or a 5xx answered in the
operation's own protocol. A connect timeout costs the client's ``connect_timeout`` and a read timeout
its ``read_timeout`` on the virtual clock (botocore's defaults, 60 s, when the request carries no
client configuration).

Who is affected (``Outage.is_application``): the Lambda handlers (the interceptor knows the calling
function), Step Functions' service integrations (signed with a session of the state machine's role, which
``application_key`` recognizes; moto's ASL engine alone signs with its own access key,
``ENGINE_ACCESS_KEY``), drctl and anything inside ``with cloud.outage.as_application():``.
Everything else — the scenario's seeding and views, tests' assertions through ``cloud.client(...)``,
EventBridge's own deliveries — observes the platform and is never failed.

The profiles (docs/outages.md has the table with what AWS documents about each):

- ``app``: nothing more than the application outage the scenario stages (endpoint, Route 53, replication);
- ``region``: every call to the impaired Region, and the global control planes
  (``GLOBAL_CONTROL_PLANES``): connection errors, connect timeouts, read timeouts;
- ``control-plane``: the impaired Region's control-plane operations (``is_control_plane``) and the
  global control planes: 5xx and read timeouts; data planes answer;
- ``gray``: a deterministic share (``share``, 40 %) of calls to the impaired Region: 5xx and read
  timeouts (some read timeouts come after the request was processed: the answer is lost); the other
  calls answer ``slow_seconds`` late;
- ``recovery-partial``: every call to one service (``service``, default ``rds``) in the recovery
  Region: 5xx and read timeouts.

Determinism: the fate of a call is drawn from a RNG seeded with (``seed``, service, operation, Region,
n), where n counts the application's calls of that operation in that Region; so a given seed gives
the same sequence of outcomes per operation whatever the threads interleave.

What a profile does to the platform beyond the API (the endpoint, Route 53, replication, metrics,
alarms, EventBridge) is applied by ``localcloud.scenario.Platform.primary_outage``; the profile answers
the questions the embedded services ask: ``eventbridge_up(region)``, ``alarms_evaluate(region)``.
"""

from __future__ import annotations

import random
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar

from botocore.exceptions import ConnectTimeoutError, EndpointConnectionError, ReadTimeoutError

from localcloud.clock import VirtualClock
from localcloud.interceptor import Call, Response, serialize_error

# moto's ASL engine creates its clients with this access key (moto.stepfunctions.parser.asl.utils.
# boto_client.boto_client_for); tests/localcloud/test_outage.py fails if moto changes it.
ENGINE_ACCESS_KEY = "ak"
DEFAULT_TIMEOUT_SECONDS = 60.0  # botocore's connect_timeout and read_timeout
_CREDENTIAL = re.compile(r"Credential=([^/]+)/")

# Global control planes: one endpoint for every Region, served from one Region. A us-east-1 outage fails
# all of them (ARCHITECTURE: "treat them as part of the failed region"); AWS hosts the ARC control plane
# in us-west-2, so failing it with us-east-1 is the pessimistic choice, never a kinder one.
GLOBAL_CONTROL_PLANES: Mapping[str, str] = {
    "route53": "us-east-1",
    "iam": "us-east-1",
    "organizations": "us-east-1",
    "cloudfront": "us-east-1",
    "route53domains": "us-east-1",
    "route53-recovery-control-config": "us-west-2",
}
GLOBAL_HOME = "us-east-1"

# Data-plane operations per service; every other operation of a listed service is control plane.
# ``ALL`` marks a service that is data plane as a whole; a service not listed is control plane as a
# whole (RDS, Backup, Route 53's API, IAM, CloudFormation, Organizations, the ARC control plane...).
ALL = frozenset({"*"})
DATA_PLANE: Mapping[str, frozenset[str]] = {
    "dynamodb": frozenset(
        {
            "GetItem",
            "PutItem",
            "UpdateItem",
            "DeleteItem",
            "Query",
            "Scan",
            "BatchGetItem",
            "BatchWriteItem",
            "TransactGetItems",
            "TransactWriteItems",
            "ExecuteStatement",
            "BatchExecuteStatement",
            "ExecuteTransaction",
        }
    ),
    "dynamodbstreams": ALL,
    "s3": frozenset(
        {
            "GetObject",
            "PutObject",
            "HeadObject",
            "DeleteObject",
            "DeleteObjects",
            "CopyObject",
            "ListObjects",
            "ListObjectsV2",
            "ListObjectVersions",
            "HeadBucket",
            "CreateMultipartUpload",
            "UploadPart",
            "UploadPartCopy",
            "CompleteMultipartUpload",
            "AbortMultipartUpload",
            "ListParts",
            "ListMultipartUploads",
            "GetObjectTagging",
            "PutObjectTagging",
            "DeleteObjectTagging",
            "GetObjectAttributes",
            "RestoreObject",
        }
    ),
    "cloudwatch": frozenset({"PutMetricData", "GetMetricData", "GetMetricStatistics", "ListMetrics"}),
    "logs": frozenset(
        {
            "PutLogEvents",
            "CreateLogStream",
            "DescribeLogStreams",
            "GetLogEvents",
            "FilterLogEvents",
            "StartQuery",
            "GetQueryResults",
        }
    ),
    "sns": frozenset({"Publish", "PublishBatch"}),
    "sqs": frozenset(
        {
            "SendMessage",
            "SendMessageBatch",
            "ReceiveMessage",
            "DeleteMessage",
            "DeleteMessageBatch",
            "ChangeMessageVisibility",
            "ChangeMessageVisibilityBatch",
            "GetQueueUrl",
            "GetQueueAttributes",
        }
    ),
    "lambda": frozenset({"Invoke", "InvokeAsync", "InvokeWithResponseStream"}),
    "stepfunctions": frozenset(
        {
            "StartExecution",
            "StartSyncExecution",
            "StopExecution",
            "DescribeExecution",
            "GetExecutionHistory",
            "ListExecutions",
            "SendTaskSuccess",
            "SendTaskFailure",
            "SendTaskHeartbeat",
        }
    ),
    "events": frozenset({"PutEvents"}),
    "kms": frozenset(
        {"Encrypt", "Decrypt", "ReEncrypt", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext", "GenerateRandom"}
    ),
    "secretsmanager": frozenset({"GetSecretValue"}),
    "ssm": frozenset({"GetParameter", "GetParameters", "GetParametersByPath"}),
    "sts": ALL,
    "route53-recovery-cluster": ALL,
}


def is_control_plane(service: str, operation: str) -> bool:
    """Whether ``service.operation`` belongs to the service's control plane (the ``DATA_PLANE`` table)."""
    data = DATA_PLANE.get(service)
    if data is None:
        return True
    return data is not ALL and operation not in data


# Failure kinds: network failures raised in the SDK, or an error answered by the service.
CONNECTION_ERROR = "connection-error"
CONNECT_TIMEOUT = "connect-timeout"
READ_TIMEOUT = "read-timeout"
INTERNAL_ERROR = "5xx"
UNAVAILABLE = "unavailable"
KINDS = (CONNECTION_ERROR, CONNECT_TIMEOUT, READ_TIMEOUT, INTERNAL_ERROR, UNAVAILABLE)

# The 5xx each service's SDK model names: (code, HTTP status).
_INTERNAL: Mapping[str, tuple[str, int]] = {
    "dynamodb": ("InternalServerError", 500),
    "s3": ("InternalError", 500),
    "lambda": ("ServiceException", 500),
    "sns": ("InternalError", 500),
    "cloudwatch": ("InternalServiceError", 500),
    "kms": ("KMSInternalException", 500),
    "backup": ("ServiceUnavailableException", 500),
}
_UNAVAILABLE: Mapping[str, tuple[str, int]] = {
    "dynamodb": ("ServiceUnavailable", 503),
    "s3": ("ServiceUnavailable", 503),
    "lambda": ("ServiceException", 503),
    "backup": ("ServiceUnavailableException", 503),
}


def error_response(call: Call, kind: str) -> Response:
    """The 5xx (``5xx``: 500, ``unavailable``: 503) that ``call``'s service answers, in its protocol."""
    if kind == INTERNAL_ERROR:
        code, status = _INTERNAL.get(call.service, ("InternalFailure", 500))
        message = "We encountered an internal error. Please try again."
    else:
        code, status = _UNAVAILABLE.get(call.service, ("ServiceUnavailable", 503))
        message = "Service is unavailable. Please try again later."
    return serialize_error(call, code, message, status)


@dataclass(frozen=True)
class OutageProfile:
    """One outage: the impaired Region, which of the application's calls fail, and how."""

    name: ClassVar[str] = "app"
    region: str
    seed: int = 0
    # Weights of the failure kinds for a failing call (normalised); ``{"connect-timeout": 1}`` pins one.
    failures: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = sorted(set(self.failures) - set(KINDS))
        if unknown:
            raise ValueError(f"outage {self.name}: unknown failure kinds {unknown}; expected some of {list(KINDS)}")

    # -- the API -------------------------------------------------------------------------------------
    def in_scope(self, call: Call) -> bool:
        """Whether ``call`` is one this outage can fail (before the draw of ``share``)."""
        return False

    @property
    def share(self) -> float:
        """The share of in-scope calls that fail."""
        return 1.0

    def default_failures(self) -> Mapping[str, float]:
        return {INTERNAL_ERROR: 0.4, UNAVAILABLE: 0.4, READ_TIMEOUT: 0.2}

    def lost_response(self, call: Call, n: int) -> bool:
        """Whether a read timeout of this call comes after the service processed it (its answer is lost)."""
        return False

    def latency_seconds(self, call: Call) -> float:
        """Virtual seconds a call of this outage's scope takes beyond its normal time when it succeeds."""
        return 0.0

    def fate(self, call: Call, n: int) -> str | None:
        """How the ``n``-th application call of ``call``'s operation in its Region fails (None: it doesn't)."""
        if not self.in_scope(call):
            return None
        key = f"{self.seed}:{call.service}:{call.operation}:{call.region}:{n}"
        if self.share < 1.0 and random.Random(f"{key}:fails").random() >= self.share:  # noqa: S311 - simulation
            return None
        weights = dict(self.failures or self.default_failures())
        kinds = [k for k in KINDS if weights.get(k, 0) > 0]
        return random.Random(f"{key}:kind").choices(kinds, [weights[k] for k in kinds])[0]  # noqa: S311

    # -- the platform --------------------------------------------------------------------------------
    def eventbridge_up(self, region: str) -> bool:
        return True

    def alarms_evaluate(self, region: str) -> bool:
        return True

    def _region_or_global(self, call: Call) -> bool:
        return call.region == self.region or (call.service in GLOBAL_CONTROL_PLANES and self.region == GLOBAL_HOME)


@dataclass(frozen=True)
class AppOutage(OutageProfile):
    """The application is down in the Region; AWS itself answers (the scenario's ``primary_outage()``)."""

    name: ClassVar[str] = "app"


@dataclass(frozen=True)
class RegionOutage(OutageProfile):
    """The whole Region is unreachable: its endpoints and the global control planes served from it."""

    name: ClassVar[str] = "region"

    def in_scope(self, call: Call) -> bool:
        return self._region_or_global(call)

    def default_failures(self) -> Mapping[str, float]:
        return {CONNECT_TIMEOUT: 0.5, CONNECTION_ERROR: 0.3, READ_TIMEOUT: 0.2}

    def eventbridge_up(self, region: str) -> bool:
        return region != self.region

    def alarms_evaluate(self, region: str) -> bool:
        return region != self.region


@dataclass(frozen=True)
class ControlPlaneOutage(OutageProfile):
    """The Region's data planes answer; its control planes (and the global ones) fail."""

    name: ClassVar[str] = "control-plane"

    def in_scope(self, call: Call) -> bool:
        return self._region_or_global(call) and is_control_plane(call.service, call.operation)


@dataclass(frozen=True)
class GrayOutage(OutageProfile):
    """The Region answers slowly and intermittently: a share of calls fail, the others are late."""

    name: ClassVar[str] = "gray"
    failure_share: float = 0.4
    slow_seconds: float = 1.5

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0.0 <= self.failure_share <= 1.0:
            raise ValueError(f"gray outage: share must be within [0, 1], got {self.failure_share}")

    def in_scope(self, call: Call) -> bool:
        return self._region_or_global(call)

    @property
    def share(self) -> float:
        return self.failure_share

    def default_failures(self) -> Mapping[str, float]:
        return {INTERNAL_ERROR: 0.35, UNAVAILABLE: 0.35, READ_TIMEOUT: 0.3}

    def lost_response(self, call: Call, n: int) -> bool:
        key = f"{self.seed}:{call.service}:{call.operation}:{call.region}:{n}:lost"
        return random.Random(key).random() < 0.5  # noqa: S311 - simulation

    def latency_seconds(self, call: Call) -> float:
        return self.slow_seconds if self.in_scope(call) else 0.0


@dataclass(frozen=True)
class RecoveryPartialOutage(OutageProfile):
    """One service of the recovery Region fails every call (``region`` is the recovery Region here)."""

    name: ClassVar[str] = "recovery-partial"
    service: str = "rds"

    def in_scope(self, call: Call) -> bool:
        return call.region == self.region and call.service == self.service


PROFILES: Mapping[str, type[OutageProfile]] = {
    profile.name: profile
    for profile in (AppOutage, RegionOutage, ControlPlaneOutage, GrayOutage, RecoveryPartialOutage)
}


def make_profile(name: str, primary_region: str, recovery_region: str, **options: Any) -> OutageProfile:
    """The profile ``name`` for a platform whose primary is ``primary_region``.

    Options: ``seed``, ``failures`` (every profile); ``share``, ``slow_seconds`` (``gray``); ``service``
    (``recovery-partial``). Options a profile does not take are refused."""
    if name not in PROFILES:
        raise ValueError(f"unknown outage profile {name!r}; expected one of {sorted(PROFILES)}")
    kwargs: dict[str, Any] = {k: v for k, v in options.items() if k in ("seed", "failures")}
    extra = {k: v for k, v in options.items() if k not in kwargs}
    allowed = {"gray": {"share", "slow_seconds"}, "recovery-partial": {"service"}}.get(name, set())
    refused = sorted(set(extra) - allowed)
    if refused:
        raise ValueError(f"outage profile {name!r} takes no option(s) {refused}")
    if "share" in extra:
        kwargs["failure_share"] = float(extra.pop("share"))
    kwargs.update(extra)
    region = recovery_region if name == "recovery-partial" else primary_region
    return PROFILES[name](region=region, **kwargs)


class Outage:
    """The active outage profile of a LocalCloud, applied to the application's calls by the interceptor."""

    def __init__(self, clock: VirtualClock, caller: Callable[[], str | None] = lambda: None) -> None:
        self.clock = clock
        self.caller = caller  # the Lambda function whose handler runs in this thread
        # Whether an access key is a session of one of the application's roles (a state machine's).
        self.application_key: Callable[[str], bool] = lambda _key: False
        self.profile: OutageProfile | None = None
        self.failed: Counter[tuple[str, str, str]] = Counter()  # (service, operation, region) -> calls failed
        self._seen: Counter[tuple[str, str, str]] = Counter()
        self._local = threading.local()
        self._lock = threading.Lock()

    # -- control ---------------------------------------------------------------------------------------
    @property
    def name(self) -> str:
        """The active profile's name, or ``none``."""
        return self.profile.name if self.profile is not None else "none"

    def start(self, profile: OutageProfile) -> None:
        with self._lock:
            self.profile = profile
            self._seen.clear()

    def end(self) -> None:
        with self._lock:
            self.profile = None

    @contextmanager
    def as_application(self) -> Iterator[None]:
        """The calls this thread makes inside the block are the application's (the outage applies)."""
        self._local.depth = getattr(self._local, "depth", 0) + 1
        try:
            yield
        finally:
            self._local.depth -= 1

    @contextmanager
    def as_service(self) -> Iterator[None]:
        """The calls this thread makes inside the block are an AWS service's own work for the caller (the
        Lambda service fetching a function's execution-role credentials), not the application's, even
        inside ``as_application`` or a handler: the outage of another region does not apply to them (Lambda
        in us-west-2 does not get its credentials from us-east-1)."""
        self._local.service = getattr(self._local, "service", 0) + 1
        try:
            yield
        finally:
            self._local.service -= 1

    def is_application(self, request: Any) -> bool:
        if getattr(self._local, "service", 0) > 0:
            return False
        if getattr(self._local, "depth", 0) > 0 or self.caller() is not None:
            return True
        authorization = str(request.headers.get("Authorization", "") or "")
        match = _CREDENTIAL.search(authorization)
        return match is not None and (match.group(1) == ENGINE_ACCESS_KEY or self.application_key(match.group(1)))

    # -- questions from the embedded services ----------------------------------------------------------
    def eventbridge_up(self, region: str) -> bool:
        profile = self.profile
        return profile is None or profile.eventbridge_up(region)

    def alarms_evaluate(self, region: str) -> bool:
        profile = self.profile
        return profile is None or profile.alarms_evaluate(region)

    # -- the interceptor's door --------------------------------------------------------------------------
    def intercept(self, call: Call, request: Any, proceed: Callable[[], Response | None]) -> Response | None:
        """Answer ``call`` as the outage makes it: fail it, delay it, or let it through (``proceed``)."""
        profile = self.profile
        if profile is None or not profile.in_scope(call) or not self.is_application(request):
            return proceed()
        key = (call.service, call.operation, call.region)
        with self._lock:
            n = self._seen[key]
            self._seen[key] += 1
        kind = profile.fate(call, n)
        if kind is None:
            self.clock.skip(profile.latency_seconds(call))
            return proceed()
        with self._lock:
            self.failed[key] += 1
        if kind in (INTERNAL_ERROR, UNAVAILABLE):
            return error_response(call, kind)
        config = (getattr(request, "context", None) or {}).get("client_config")
        url = str(getattr(request, "url", "") or f"https://{call.service}.{call.region}.amazonaws.com/")
        if kind == CONNECTION_ERROR:
            raise EndpointConnectionError(endpoint_url=url)
        if kind == CONNECT_TIMEOUT:
            self.clock.skip(_timeout(config, "connect_timeout"))
            raise ConnectTimeoutError(endpoint_url=url)
        if profile.lost_response(call, n):
            proceed()  # the service did the work; the answer never reaches the client
        self.clock.skip(_timeout(config, "read_timeout"))
        raise ReadTimeoutError(endpoint_url=url)

    def failed_calls(self, service: str | None = None, region: str | None = None) -> int:
        """How many application calls the outage failed (of ``service`` / in ``region`` when given)."""
        with self._lock:
            return sum(
                count
                for (svc, _op, reg), count in self.failed.items()
                if service in (None, svc) and region in (None, reg)
            )


def _timeout(config: Any, name: str) -> float:
    value = getattr(config, name, None) if config is not None else None
    return float(value) if value is not None else DEFAULT_TIMEOUT_SECONDS
