"""Region-aware AWS clients, the translation of AWS errors into the workflow's error names, and the ledger of
the calls an invocation made per region (so a report can say what a run depended on).

Two kinds of client: ``client`` for the region a step works in (the SDK's standard retries), and
``source_client`` for reads of a region that may be down: one attempt, short timeouts, so "that region does
not answer" is known in seconds and becomes evidence ("unknown"), never a stall.

boto3 is imported when the first client is made, not when a step module is imported: it is most of a
step's cold import, and steps with no AWS call (validate, decide) never pay it. Clients are cached per
execution-role access key too: constant within a Lambda execution environment; where several functions
share a process (localcloud), each keeps its own role's clients.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from botocore.exceptions import ClientError, ConnectionError, ReadTimeoutError

from dr.errors import DrError, TransientAwsError

# A call's whole budget — 3 attempts x (2 s to connect + 6 s to read) + the standard mode's backoff (< 3 s) —
# fits inside the shortest TimeoutSeconds (30 s) of a Task that calls AWS: a call that keeps timing out ends
# the step with botocore's own named error (ReadTimeoutError, ConnectTimeoutError) and the step's Retry and
# Catch see that name, rather than a bare States.Timeout from a step cut off mid-call.
_CONFIG: dict[str, Any] = {"retries": {"mode": "standard", "max_attempts": 3}, "connect_timeout": 2, "read_timeout": 6}
THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "SlowDown",
        "RequestThrottled",
        "PriorRequestNotComplete",
    }
)


# A region that may be down is asked once, briefly: its silence is an answer.
_SOURCE_CONFIG: dict[str, Any] = {
    "retries": {"mode": "standard", "max_attempts": 1},
    "connect_timeout": 2,
    "read_timeout": 5,
}
_CLIENTS_LOCK = threading.RLock()  # re-entered: client() holds it and new_client() takes it
_LEDGER = threading.local()


def client(service: str, region: str, endpoint_url: str | None = None) -> Any:
    """One client per service, region (and endpoint), reused across warm invocations. Created under a lock:
    where invocations share a process (localcloud's Map iterations), each client is built once, not once
    per concurrent caller."""
    with _CLIENTS_LOCK:
        return _client(service, region, endpoint_url, False, os.environ.get("AWS_ACCESS_KEY_ID"))


def source_client(service: str, region: str) -> Any:
    """A client for a region that may be impaired: one attempt, 2 s to connect, 5 s to answer."""
    with _CLIENTS_LOCK:
        return _client(service, region, None, True, os.environ.get("AWS_ACCESS_KEY_ID"))


@lru_cache(maxsize=64)
def _client(service: str, region: str, endpoint_url: str | None, brief: bool, _access_key: str | None) -> Any:
    from botocore.config import Config  # noqa: PLC0415 - deferred to the first client (see the module's docstring)

    return new_client(service, region, Config(**(_SOURCE_CONFIG if brief else _CONFIG)), endpoint_url)


_SESSION: list[Any] = []  # the process's one boto3 session, made at the first client


def new_client(service: str, region: str, config: Any, endpoint_url: str | None = None) -> Any:
    """A new instrumented client with the credentials the environment holds now, made under the lock (a
    boto3 session is not thread-safe).

    Every client comes from one session, so the SDK's service models are read and parsed once per process,
    not once per client: a fresh session per client re-reads them (about 0.1 s a client, most of a cold
    step's client set-up). The credentials are passed from the environment at each creation, as botocore's
    environment provider would read them, because the session would otherwise keep the first ones it
    resolved; where no keys are in the environment, the session's default chain (profile, SSO, instance
    role) applies."""
    with _CLIENTS_LOCK:
        if not _SESSION:
            import boto3  # noqa: PLC0415 - deferred to the first client (see the module's docstring)

            _SESSION.append(boto3.session.Session())
        made = _SESSION[0].client(
            service,
            region_name=region,
            config=config,
            endpoint_url=endpoint_url,
            aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID"),
            aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY"),
            aws_session_token=os.environ.get("AWS_SESSION_TOKEN"),
        )
    return instrument(made)


# -- the ledger of calls per region ---------------------------------------------------------------------
def instrument(made: Any) -> Any:
    """Count every call ``made`` sends, per region, in the invoking thread's ledger (see ``calls``)."""
    region = str(made.meta.region_name)

    def answered(http_response: Any = None, **_: Any) -> None:
        status = int(getattr(http_response, "status_code", 0) or 0)
        _record(region, failed=status >= 400)

    def raised(**_: Any) -> None:
        _record(region, failed=True)

    made.meta.events.register("after-call", answered)
    made.meta.events.register("after-call-error", raised)
    return made


def _record(region: str, failed: bool) -> None:
    ledger: dict[str, dict[str, int]] | None = getattr(_LEDGER, "calls", None)
    if ledger is None:
        return
    counts = ledger.setdefault(region, {"made": 0, "failed": 0})
    counts["made"] += 1
    counts["failed"] += int(failed)


def start_ledger() -> None:
    """Begin counting this thread's calls (a Lambda invocation)."""
    _LEDGER.calls = {}


def calls() -> dict[str, dict[str, int]]:
    """The calls counted since ``start_ledger``: ``{region: {"made": N, "failed": M}}``."""
    return {region: dict(counts) for region, counts in (getattr(_LEDGER, "calls", None) or {}).items()}


def error_code(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", "Unknown"))


def is_transient(err: Exception) -> bool:
    if isinstance(err, ConnectionError | ReadTimeoutError):
        return True
    if isinstance(err, ClientError):
        status = int(err.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        return error_code(err) in THROTTLING_CODES or status >= 500
    return False


@contextmanager
def aws_errors(action: str, permanent: type[DrError]) -> Iterator[None]:
    """Turn an AWS failure into the workflow's language: transient → TransientAwsError (retried by the
    state machine), anything else → ``permanent`` with the action, the code and AWS's message."""
    try:
        yield
    except DrError:
        raise
    except (ClientError, ConnectionError, ReadTimeoutError) as err:
        if is_transient(err):
            raise TransientAwsError(f"{action}: transient AWS error, will retry: {err}") from err
        code = error_code(err) if isinstance(err, ClientError) else type(err).__name__
        raise permanent(f"{action} failed: {code}: {err}") from err


def paginate(aws: Any, operation: str, key: str, **kwargs: Any) -> Iterator[Any]:
    """Every item under ``key`` of every page of ``operation`` (a boto3 operation name, ``list_tables``),
    through boto3's paginator for it."""
    for page in aws.get_paginator(operation).paginate(**kwargs):
        yield from page.get(key, [])
