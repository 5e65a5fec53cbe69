"""What the API handlers share: request values, lifecycle validation, and filtered, paginated listings."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from localcloud.interceptor import Call
from localcloud.services.backup.errors import invalid_parameter
from localcloud.services.backup.records import Lifecycle, to_ms
from localcloud.services.backup.store import newest_first, paginate

Handler = Callable[[Any, Call], dict[str, Any]]  # (the engine, the call) -> the operation's output shape

# A listing filter: request member -> (field of the listed entry, how it compares).
Filters = dict[str, tuple[str, str]]
_MIN_COLD_TO_DELETE_DAYS = 90


def when(value: Any) -> datetime | None:
    """A timestamp request value (botocore sends ISO 8601 or epoch seconds; moto may parse it) in UTC."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return to_ms(value)
    if isinstance(value, int | float):
        return to_ms(datetime.fromtimestamp(value, UTC))
    return to_ms(datetime.fromisoformat(str(value).replace("Z", "+00:00")))


def lifecycle(value: dict[str, Any] | None) -> Lifecycle:
    """A request's Lifecycle, validated as AWS does (cold storage needs 90 more days before deletion)."""
    parsed = Lifecycle.from_api(value)
    for name, days in (
        ("DeleteAfterDays", parsed.delete_after_days),
        ("MoveToColdStorageAfterDays", parsed.cold_after_days),
    ):
        if days is not None and days < 1:
            raise invalid_parameter(f"Lifecycle {name} must be at least 1 day; found {days}")
    cold, delete = parsed.cold_after_days, parsed.delete_after_days
    if cold is not None and delete is not None and delete < cold + _MIN_COLD_TO_DELETE_DAYS:
        raise invalid_parameter(
            "Lifecycle DeleteAfterDays must be at least 90 days more than MoveToColdStorageAfterDays; "
            f"found DeleteAfterDays={delete}, MoveToColdStorageAfterDays={cold}"
        )
    return parsed


def _matches(entry: dict[str, Any], field: str, how: str, wanted: Any) -> bool:
    value = entry.get(field)
    if how == "eq":
        return bool(value == wanted)
    if value is None:
        return False
    moment = when(wanted)
    return bool(value > moment) if how == "after" else bool(value < moment)


def listing(
    entries: list[dict[str, Any]], params: dict[str, Any], filters: Filters, id_field: str, out_key: str
) -> dict[str, Any]:
    """A List* answer: ``entries`` filtered by the request's By* members, newest first, one page of them."""
    for member, (field, how) in filters.items():
        if params.get(member) is not None:
            entries = [e for e in entries if _matches(e, field, how, params[member])]

    def key(entry: dict[str, Any]) -> tuple[float, str]:
        return newest_first(entry["CreationDate"].timestamp(), entry[id_field])

    entries.sort(key=key)
    page, token = paginate(entries, key, params.get("MaxResults"), params.get("NextToken"))
    return page_answer(out_key, page, token)


def page_answer(out_key: str, page: list[dict[str, Any]], token: str | None) -> dict[str, Any]:
    """``{out_key: page}``, with ``NextToken`` only when there is a next page (as AWS omits it)."""
    return {out_key: page, "NextToken": token} if token else {out_key: page}
