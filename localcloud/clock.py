"""The virtual clock: simulated time that Wait states, retries and modeled jobs advance instead of sleeping.

Everything in the process (moto's history timestamps, the handlers' ``datetime.now()``, the simulated
services) reads the same clock, because it is installed with time-machine, which moves ``time.time`` and
``datetime.now`` for the whole process. The clock also ticks with real time, so nothing can deadlock on it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import time_machine

_POLL_REAL_SECONDS = 0.01


class VirtualClock:
    """Process-wide simulated time. ``advance`` and ``advance_to`` move it forward, never back."""

    def __init__(self, start: datetime | None = None) -> None:
        self._start = start or datetime.now(UTC).replace(microsecond=0)
        self._traveller: Any = None
        self._coordinates: Any = None
        self._lock = threading.RLock()
        self.listeners: list[Callable[[datetime], object]] = []  # told after every advance (schedules)

    def install(self) -> None:
        if self._traveller is not None:
            return
        self._traveller = time_machine.travel(self._start, tick=True)
        self._coordinates = self._traveller.start()

    def uninstall(self) -> None:
        if self._traveller is not None:
            self._traveller.stop()
            self._traveller = None
            self._coordinates = None

    @property
    def installed(self) -> bool:
        return self._traveller is not None

    def now(self) -> datetime:
        return datetime.now(UTC)

    def advance(self, seconds: float) -> datetime:
        """Move the clock forward by ``seconds`` (a Wait state, a retry back-off, a test's fast-forward)."""
        if seconds < 0:
            raise ValueError(f"the clock only moves forward; asked to move by {seconds} s")
        with self._lock:
            if seconds and self._coordinates is not None:
                self._coordinates.shift(timedelta(seconds=seconds))
            now = self.now()
        for listener in list(self.listeners):
            listener(now)
        return now

    def advance_to(self, moment: datetime) -> datetime:
        """Move the clock to ``moment`` unless it is already past it (two branches waiting together)."""
        with self._lock:
            delta = (moment - self.now()).total_seconds()
            if delta > 0:
                self.advance(delta)
            return self.now()

    def sleep(self, seconds: float) -> None:
        """What ``time.sleep`` becomes in the adapted engine: time passes, nobody waits."""
        self.advance(max(0.0, float(seconds)))

    def wait_for(self, event: threading.Event, timeout: float | None) -> bool:
        """Wait for ``event`` until ``timeout`` seconds of *virtual* time have passed.

        The event is set by a real actor (a callback, a finishing task); the deadline moves only when the
        clock does (another execution's Wait, a test's ``advance``, or real time ticking).
        """
        if timeout is None:
            return event.wait()
        deadline = self.now() + timedelta(seconds=timeout)
        while True:
            if event.wait(_POLL_REAL_SECONDS):
                return True
            if self.now() >= deadline:
                return event.is_set()


class VirtualTimeoutEvent(threading.Event):
    """A ``threading.Event`` whose ``wait(timeout)`` counts the timeout on the virtual clock."""

    clock: VirtualClock | None = None

    def wait(self, timeout: float | None = None) -> bool:
        clock = type(self).clock
        if clock is None or timeout is None:
            return super().wait(timeout)
        deadline = clock.now() + timedelta(seconds=timeout)
        while True:
            if super().wait(_POLL_REAL_SECONDS):
                return True
            if clock.now() >= deadline:
                return self.is_set()
