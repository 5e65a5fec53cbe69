"""Recovery points indexed by ARN, by vault and by resource, and the pagination every List call uses.

Adding or removing a recovery point is O(1) (a scenario seeds thousands). Each index keeps a sorted view
(newest first, ties broken by ARN) that is rebuilt only after that index changed, so paging through a
vault costs one sort, not one per page.

Pagination is keyset based: ``NextToken`` is an opaque encoding of the sort key of the last item returned,
so a listing returns every item exactly once even while new items are added between pages.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import json
from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

from localcloud.services.backup.errors import invalid_parameter
from localcloud.services.backup.records import RecoveryPoint

T = TypeVar("T")
SortKey = tuple[float, str]
MAX_RESULTS = 1000  # the model's maximum for MaxResults, and the page size when none is asked for


def newest_first(created_ts: float, ident: str) -> SortKey:
    return (-created_ts, ident)


def point_key(point: RecoveryPoint) -> SortKey:
    return newest_first(point.created_at.timestamp(), point.arn)


class RecoveryPointStore:
    def __init__(self) -> None:
        self._by_arn: dict[str, RecoveryPoint] = {}
        self._by_vault: dict[tuple[str, str], dict[str, RecoveryPoint]] = {}
        self._by_resource: dict[tuple[str, str], dict[str, RecoveryPoint]] = {}
        self._sorted: dict[tuple[str, str, str], list[RecoveryPoint]] = {}

    def add(self, point: RecoveryPoint) -> None:
        self._by_arn[point.arn] = point
        vault_key, resource_key = (point.region, point.vault_name), (point.region, point.resource_arn)
        self._by_vault.setdefault(vault_key, {})[point.arn] = point
        self._by_resource.setdefault(resource_key, {})[point.arn] = point
        self._sorted.pop(("vault", *vault_key), None)
        self._sorted.pop(("resource", *resource_key), None)

    def remove(self, arn: str) -> RecoveryPoint | None:
        point = self._by_arn.pop(arn, None)
        if point is None:
            return None
        vault_key, resource_key = (point.region, point.vault_name), (point.region, point.resource_arn)
        for index, key in ((self._by_vault, vault_key), (self._by_resource, resource_key)):
            members = index.get(key, {})
            members.pop(arn, None)
            if not members:
                index.pop(key, None)
        self._sorted.pop(("vault", *vault_key), None)
        self._sorted.pop(("resource", *resource_key), None)
        return point

    def get(self, arn: str) -> RecoveryPoint | None:
        return self._by_arn.get(arn)

    def count_in_vault(self, region: str, vault_name: str) -> int:
        return len(self._by_vault.get((region, vault_name), {}))

    def in_vault(self, region: str, vault_name: str) -> list[RecoveryPoint]:
        """The vault's recovery points, newest first."""
        return self._sorted_view("vault", region, vault_name, self._by_vault)

    def of_resource(self, region: str, resource_arn: str) -> list[RecoveryPoint]:
        """The resource's recovery points in the vaults of ``region``, newest first."""
        return self._sorted_view("resource", region, resource_arn, self._by_resource)

    def resources(self, region: str) -> Iterable[str]:
        """The ARNs of the resources with at least one recovery point in ``region``."""
        return [arn for (r, arn) in self._by_resource if r == region]

    def _sorted_view(
        self, kind: str, region: str, name: str, index: dict[tuple[str, str], dict[str, RecoveryPoint]]
    ) -> list[RecoveryPoint]:
        cache_key = (kind, region, name)
        view = self._sorted.get(cache_key)
        if view is None:
            view = sorted(index.get((region, name), {}).values(), key=point_key)
            self._sorted[cache_key] = view
        return view


def paginate(
    items: Sequence[T], key: Callable[[T], SortKey], max_results: int | None, token: str | None
) -> tuple[list[T], str | None]:
    """One page of ``items`` (already sorted ascending by ``key``) and the token of the next, if any."""
    limit = MAX_RESULTS if max_results is None else max_results
    if not 1 <= limit <= MAX_RESULTS:
        raise invalid_parameter(f"MaxResults must be between 1 and {MAX_RESULTS}; found {limit}")
    start = 0
    if token:
        start = bisect.bisect_right(items, _decode(token), key=key)
    page = list(items[start : start + limit])
    more = start + limit < len(items)
    return page, (_encode(key(page[-1])) if more and page else None)


def _encode(sort_key: SortKey) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(sort_key)).encode()).decode()


def _decode(token: str) -> SortKey:
    try:
        value = json.loads(base64.urlsafe_b64decode(token.encode()))
        first, second = value
        return (float(first), str(second))
    except (ValueError, TypeError, binascii.Error):
        raise invalid_parameter(f"NextToken '{token}' is not a token returned by this API") from None
