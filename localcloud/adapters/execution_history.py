"""GetExecutionHistory as Step Functions pages it: ``reverseOrder``, ``maxResults``, ``nextToken``.

moto returns the whole history in one page, oldest first, whatever the request asks. This adapter answers
GetExecutionHistory itself: events in ascending or descending ``id`` order (``reverseOrder``), at most
``maxResults`` per page (default 100, as in AWS; 0 means the default), and a ``nextToken`` that names the
next event to return by its id. Event ids never change and a running execution only appends events, so
pages stay consistent while the execution runs: paging forward reaches the newest event, paging backward
from the newest event at the first call reaches event 1, and no event is returned twice or skipped.
A token is only valid for the execution and order it was issued for; anything else is ``InvalidToken``.
``includeExecutionData: false`` leaves the ``input`` and ``output`` of each event out.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
from typing import Any

from localcloud.adapters.sfn_executions import backend, moto_error
from localcloud.interceptor import Call, Interceptor, Response, serialize_error, serialize_result

DEFAULT_PAGE = 100
_DATA_KEYS = ("input", "output")


def _token(arn: str, reverse: bool, next_id: int) -> str:
    raw = json.dumps({"arn": arn, "reverse": reverse, "next": next_id}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode()


def _next_id(token: str, arn: str, reverse: bool) -> int | None:
    """The id a token continues from; None when the token was not issued for this execution and order."""
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    if not isinstance(data, dict) or data.get("arn") != arn or data.get("reverse") != reverse:
        return None
    next_id = data.get("next")
    return next_id if isinstance(next_id, int) else None


def _without_data(event: dict[str, Any]) -> dict[str, Any]:
    out = copy.copy(event)
    for key, value in event.items():
        if key.endswith("EventDetails") and isinstance(value, dict):
            out[key] = {k: v for k, v in value.items() if k not in _DATA_KEYS}
    return out


def history_page(
    events: list[dict[str, Any]], arn: str, reverse: bool, max_results: int, next_id: int | None
) -> dict[str, Any]:
    """One page of ``events`` (the execution's whole history, in any order)."""
    ordered = sorted(events, key=lambda e: int(e["id"]), reverse=reverse)
    if next_id is not None:
        ordered = [e for e in ordered if (int(e["id"]) <= next_id if reverse else int(e["id"]) >= next_id)]
    page, rest = ordered[:max_results], ordered[max_results:]
    out: dict[str, Any] = {"events": page}
    if rest:
        out["nextToken"] = _token(arn, reverse, int(rest[0]["id"]))
    return out


class ExecutionHistoryAdapter:
    name = "execution-history-pages"

    def __init__(self, interceptor: Interceptor) -> None:
        self.interceptor = interceptor

    def install(self) -> None:
        self.interceptor.route("stepfunctions", "GetExecutionHistory", self._get_execution_history)

    def uninstall(self) -> None:
        self.interceptor.unroute("stepfunctions", "GetExecutionHistory")

    def _get_execution_history(self, call: Call) -> Response:
        params = call.params
        arn = str(params["executionArn"])
        reverse = bool(params.get("reverseOrder", False))
        try:
            execution = backend(call.region).describe_execution(arn)
        except Exception as err:  # ExecutionDoesNotExist, InvalidArn
            return moto_error(call, err)
        next_id = None
        if params.get("nextToken"):
            next_id = _next_id(str(params["nextToken"]), arn, reverse)
            if next_id is None:
                return serialize_error(call, "InvalidToken", "Invalid Token: 'Invalid nextToken'", 400)
        events = list(execution.to_history_output()["events"]) if execution.exec_worker else []
        if params.get("includeExecutionData") is False:
            events = [_without_data(e) for e in events]
        page = history_page(events, arn, reverse, int(params.get("maxResults") or DEFAULT_PAGE), next_id)
        return serialize_result(call, page)
