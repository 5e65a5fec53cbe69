"""moto keeps most timestamps as ISO 8601 strings and, to write each one into a response, parses it back
with dateutil's general-purpose parser (botocore's ``parse_to_aware_datetime``): 94 µs a value against
0.9 µs here, and 6 % of a failback game day's samples (every ``DescribeDBClusters``,
``ListRecoveryPointsByBackupVault`` or execution history carries dozens).

This adapter reads an ISO 8601 string with ``datetime.fromisoformat`` first, which gives the same instant,
and hands anything else (an epoch number, an RFC 822 date, a form ``fromisoformat`` does not read) to
botocore's own function, as before. The result is normalised to UTC exactly as botocore does.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import moto.core.serialize
from botocore.utils import parse_to_aware_datetime

from localcloud.adapters.patching import PatchSet

_UTC = parse_to_aware_datetime(0).tzinfo  # the UTC botocore gives its results (dateutil's tzutc)


def aware_datetime(value: Any) -> datetime:
    """``botocore.utils.parse_to_aware_datetime``, with ISO 8601 strings read by ``fromisoformat``."""
    if isinstance(value, str) and len(value) >= 10 and value[4] == "-":  # a date first: 2026-12-01...
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return parse_to_aware_datetime(value)
        return parsed.replace(tzinfo=_UTC) if parsed.tzinfo is None else parsed.astimezone(_UTC)
    return parse_to_aware_datetime(value)


class TimestampsAdapter:
    name = "moto-iso-timestamps"

    def __init__(self) -> None:
        self._patches = PatchSet()

    def install(self) -> None:
        self._patches.add(moto.core.serialize, "parse_to_aware_datetime", aware_datetime)

    def uninstall(self) -> None:
        self._patches.undo_all()
