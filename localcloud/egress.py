"""Nothing the SDK sends leaves this machine once an embedded AWS has run in the process.

moto answers boto3 through a ``before-send`` handler that it disables when the mock stops. A thread still
running then (a schedule target a clock listener started, a Lambda an execution invoked) would send its
request to the real endpoint: a DNS lookup of ``backup.us-east-1.amazonaws.com``, then the internet.
botocore calls every ``before-send`` handler and sends the request itself when none answered, so the guard
wraps moto's handler in ``BUILTIN_HANDLERS`` (every botocore session made after localcloud is imported):
once a ``LocalCloud`` has started in the process (``arm``), a request moto did not answer whose host is not
loopback is refused with ``EgressRefused`` before any socket is opened. A process that never starts a
LocalCloud (drctl against a real account) is not touched, nor is the Step Functions Local a team names in
``SFN_LOCAL_ENDPOINT`` (docs/testing.md), wherever it runs.
"""

from __future__ import annotations

import ipaddress
import os
from typing import Any
from urllib.parse import urlsplit

from botocore.handlers import BUILTIN_HANDLERS
from moto.core.models import botocore_stubber

from localcloud.errors import LocalCloudError

_armed = False


class EgressRefused(LocalCloudError):
    """A request of the SDK would have left loopback after the embedded AWS stopped answering."""


def arm() -> None:
    global _armed  # noqa: PLW0603 (one flag per process, by design)
    _armed = True


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def refuse(request: Any, **_: Any) -> None:
    if not _armed:
        return
    host = urlsplit(str(request.url)).hostname or ""
    named = urlsplit(os.environ.get("SFN_LOCAL_ENDPOINT", "")).hostname
    if not is_loopback(host) and host != named:
        raise EgressRefused(
            f"{request.method} {request.url}: the embedded AWS is not running to answer it, and nothing is sent "
            "off this machine (a thread outlived its LocalCloud?)"
        )


def guarded(event_name: str, request: Any, **kwargs: Any) -> Any:
    """moto's answer, else (once armed) nothing leaves loopback."""
    response = botocore_stubber(event_name, request, **kwargs)
    if response is None:
        refuse(request)
    return response


def install() -> None:
    """In place of moto's stubber, in every session made from now on; idempotent."""
    for index, entry in enumerate(BUILTIN_HANDLERS):
        if entry[:2] == ("before-send", botocore_stubber):
            BUILTIN_HANDLERS[index] = ("before-send", guarded, *entry[2:])
