"""Region-aware AWS clients, and the translation of AWS errors into the workflow's error names.

boto3 is imported when the first client is made, not when a step module is imported: it is most of a
step's cold import, and steps with no AWS call (validate, decide) never pay it."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from botocore.exceptions import ClientError, ConnectionError, ReadTimeoutError

from dr.errors import DrError, TransientAwsError

_CONFIG = {"retries": {"mode": "standard", "max_attempts": 3}, "connect_timeout": 5, "read_timeout": 20}
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


_CLIENTS_LOCK = threading.Lock()


def client(service: str, region: str, endpoint_url: str | None = None) -> Any:
    """One client per service, region (and endpoint), reused across warm invocations. Created under a lock:
    where invocations share a process (localcloud's Map iterations), each client is built once, not once
    per concurrent caller. Keyed by the execution role's access key too: in Lambda it never changes within
    an execution environment; where several functions share a process (localcloud), each keeps its own
    role's clients."""
    with _CLIENTS_LOCK:
        return _client(service, region, endpoint_url, os.environ.get("AWS_ACCESS_KEY_ID"))


@lru_cache(maxsize=256)
def _client(service: str, region: str, endpoint_url: str | None, _access_key: str | None) -> Any:
    import boto3  # noqa: PLC0415 - deferred to the first client (see the module's docstring)
    from botocore.config import Config  # noqa: PLC0415

    return boto3.session.Session().client(
        service, region_name=region, config=Config(**_CONFIG), endpoint_url=endpoint_url
    )


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


def paginate(
    call: Callable[..., dict[str, Any]],
    key: str,
    token_in: str = "NextToken",
    token_out: str = "NextToken",
    **kwargs: Any,
) -> Iterator[Any]:
    """Every item of a paginated list call, whatever its token names."""
    while True:
        page = call(**kwargs)
        yield from page.get(key, [])
        token = page.get(token_out)
        if not token:
            return
        kwargs[token_in] = token
