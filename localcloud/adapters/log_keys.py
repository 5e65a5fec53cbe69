"""Powertools' Logger keeps the keys it adds to every line (``inject_lambda_context``'s function name and
request id, the correlation id) in its formatter's ``log_format``, one per process. In Lambda a process runs
one invocation at a time. localcloud runs invocations of many functions at once, in threads of one process,
so one invocation's keys replaced another's mid-run: a ProbePrimary line carried ``function_name``
CheckRestoreFunction and another execution's correlation id.

While an invocation runs (``own_keys``), its thread reads and writes a ``log_format`` of its own, started from
the process's (what was set outside any invocation); the thread's copy is dropped when the invocation ends,
and an invocation nested in another (a synchronous Invoke in the same thread) gets its own and gives the
outer one back. Outside invocations the formatter is untouched.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

_LOCAL = threading.local()
_ATTRIBUTE = "log_format"


def _formats() -> dict[int, dict[str, Any]] | None:
    return getattr(_LOCAL, "formats", None)


def _get(formatter: Any) -> dict[str, Any]:
    base: dict[str, Any] = formatter.__dict__[_ATTRIBUTE]
    own = _formats()
    if own is None:
        return base
    if id(formatter) not in own:
        own[id(formatter)] = dict(base)  # this invocation's first use: the process's keys, as a copy
    return own[id(formatter)]


def _set(formatter: Any, value: dict[str, Any]) -> None:
    own = _formats()
    if own is None or _ATTRIBUTE not in formatter.__dict__:  # outside invocations, or the formatter's __init__
        formatter.__dict__[_ATTRIBUTE] = value
    if own is not None:
        own[id(formatter)] = dict(value)


@contextlib.contextmanager
def own_keys() -> Iterator[None]:
    """This thread's log keys are its own until the block ends (one Lambda invocation)."""
    outer = _formats()
    _LOCAL.formats = {}
    try:
        yield
    finally:
        _LOCAL.formats = outer


class LogKeysAdapter:
    name = "powertools-log-keys"

    def install(self) -> None:
        if _ATTRIBUTE in vars(LambdaPowertoolsFormatter):
            raise AttributeError(
                f"localcloud adapter: LambdaPowertoolsFormatter has a class attribute {_ATTRIBUTE!r}; "
                "Powertools changed under the adapter (check the pinned aws-lambda-powertools version)"
            )
        setattr(LambdaPowertoolsFormatter, _ATTRIBUTE, property(_get, _set))

    def uninstall(self) -> None:
        if isinstance(vars(LambdaPowertoolsFormatter).get(_ATTRIBUTE), property):
            delattr(LambdaPowertoolsFormatter, _ATTRIBUTE)
