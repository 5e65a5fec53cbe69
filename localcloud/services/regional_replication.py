"""What the two replication simulators (DynamoDB global tables, S3 replication) share: holding, resuming and
slowing what a source Region replicates, on the virtual clock.

A Regional outage of replication holds every change made in the source Region; resuming delivers what was
held, its latency from the moment of resuming; slowing makes the latency of the Region's changes grow by a
rate (seconds per second) from now.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from localcloud.clock import VirtualClock

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class RegionalReplication:
    """The per-Region controls. A simulator calls ``__init__`` with its clock and gives ``_pump_locked``
    (deliver what is due; called under the lock before any control changes)."""

    def __init__(self, clock: VirtualClock) -> None:
        self.clock = clock
        self._paused: set[str] = set()
        self._resumed_at: dict[str, datetime] = {}
        self._slowed: dict[str, tuple[datetime, float]] = {}  # source Region -> (since, latency growth per second)
        self._lock = threading.RLock()

    def _pump_locked(self) -> int:
        raise NotImplementedError

    def pause_replication(self, source_region: str) -> None:
        """Hold everything written in ``source_region`` (a Regional outage of replication)."""
        with self._lock:
            self._pump_locked()
            self._paused.add(source_region)

    def resume_replication(self, source_region: str) -> None:
        """Deliver what ``source_region`` held, ``latency`` from now, and end its slowing."""
        with self._lock:
            self._pump_locked()
            self._slowed.pop(source_region, None)
            if source_region in self._paused:
                self._paused.discard(source_region)
                self._resumed_at[source_region] = self.clock.now()

    def slow_replication(self, source_region: str, rate: float) -> None:
        """From now, the latency of what is written in ``source_region`` grows by ``rate`` seconds per second."""
        if rate < 0:
            raise ValueError(f"latency growth must be >= 0 seconds per second, got {rate}")
        with self._lock:
            self._pump_locked()
            self._slowed[source_region] = (self.clock.now(), float(rate))

    def paused_regions(self) -> list[str]:
        with self._lock:
            return sorted(self._paused)

    def _growth(self, region: str | None) -> float:
        """How much ``region``'s slowing adds to a latency now."""
        if region is None or region not in self._slowed:
            return 0.0
        since, rate = self._slowed[region]
        return rate * max(0.0, (self.clock.now() - since).total_seconds())

    def _arrival(self, source_region: str, written_at: datetime, latency: float) -> datetime | None:
        """When a change written at ``written_at`` in ``source_region`` arrives (None while it is held)."""
        if source_region in self._paused:
            return None
        start = max(written_at, self._resumed_at.get(source_region, _EPOCH))
        return start + timedelta(seconds=latency)
