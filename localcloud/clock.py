"""The virtual clock: simulated time that Wait states, retries and modeled jobs advance instead of sleeping.

Everything in the process (moto's history timestamps, the handlers' ``datetime.now()``, the simulated
services) reads the same clock, because it is installed with time-machine, which moves ``time.time`` and
``datetime.now`` for the whole process. The clock also ticks with real time, so nothing can deadlock on it.

How time jumps (a small discrete-event scheduler): a Wait state or a retry back-off registers a *timer* and
blocks. When no real work is in progress — no AWS call being answered, no Lambda handler running
(``busy()``) — for a short settle period, the clock jumps to the earliest timer and wakes it. So a branch
that waits 20 s never makes a task running in a parallel branch look 20 s slower than it was, and a drill
of an hour runs in seconds. Timeouts (TimeoutSeconds, waitForTaskToken) are counted on the clock but are
never jumped to: they wait for a real actor (a task, a person) or for time moved by something else.
A timer whose waiter stopped waiting (the Wait state of an execution that was stopped) is dropped before
the next jump, so the clock never jumps to a wait that no longer exists.

A wait *inside* busy work (``skip``: a client's connect or read timeout, an outage's latency, botocore's
retry back-off) is a real wait on the same scheduler: the waiting thread stops counting as busy for its
duration (all of its nested holds: the Lambda handler and the AWS call it is in), registers a timer at its
deadline and blocks; the clock jumps there only when nothing else is busy. So the other work finishes first
(a Task whose Lambda took 100 ms is not timed out by another Lambda waiting 60 s for a dead endpoint), and
concurrent waits overlap instead of adding up (two 5 s waits end at +5 s). Then the thread counts as busy
again. Outside a running clock (not installed), and in work a clock listener runs synchronously while the
clock moves (a scheduled Lambda started by a tick, in the thread that moved the clock or in the scheduler
itself, which cannot wait for itself), ``skip`` moves the clock at once, as before.
"""

from __future__ import annotations

import heapq
import itertools
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import time_machine

_POLL_REAL_SECONDS = 0.01
SETTLE_REAL_SECONDS = 0.02  # how long nothing must be busy before the clock may jump


START_VARIABLE = "LOCALCLOUD_START"


def start_from_environment() -> datetime | None:
    """The start ``LOCALCLOUD_START`` names (ISO 8601, with its offset), to replay a run at a given time of
    day or of the month (``LOCALCLOUD_START=2026-12-01T02:31:00Z make test``); None when it is not set."""
    text = os.environ.get(START_VARIABLE, "").strip()
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{START_VARIABLE}={text!r}: expected an ISO 8601 time, like 2026-12-01T02:31:00Z") from None
    if moment.tzinfo is None:
        raise ValueError(f"{START_VARIABLE}={text!r}: give its offset (Z for UTC), like 2026-12-01T02:31:00Z")
    return moment.astimezone(UTC)


class VirtualClock:
    """Process-wide simulated time. ``advance`` and ``advance_to`` move it forward, never back. It starts at
    ``start``, else at ``LOCALCLOUD_START`` when set, else now."""

    def __init__(self, start: datetime | None = None) -> None:
        self._start = start or start_from_environment() or datetime.now(UTC).replace(microsecond=0)
        self._traveller: Any = None
        self._coordinates: Any = None
        self._lock = threading.RLock()
        self.listeners: list[Callable[[datetime], object]] = []  # told after every jump or advance
        # the next moment something is due without a timer (a schedule's slot): a jump stops there first
        self.wakeups: list[Callable[[], datetime | None]] = []
        self._cond = threading.Condition()
        # (deadline, sequence, wake-up, still waiting?): a timer whose waiter gave up is never jumped to
        self._timers: list[tuple[datetime, int, threading.Event, Callable[[], bool]]] = []
        self._sequence = itertools.count()
        self._busy = 0
        self._held = threading.local()  # ``notifying``: this thread runs the clock's listeners
        # Busy holds by the thread that took them (a hold may be released by another thread: a delivery
        # handed over to a thread of its own; it stays its taker's hold).
        self._holds: dict[int, int] = {}
        self._quiet_since = time.monotonic()
        self._running = False
        self._scheduler: threading.Thread | None = None
        self.jumps = 0

    # -- lifecycle -----------------------------------------------------------------------------------
    def install(self) -> None:
        if self._traveller is not None:
            return
        self._traveller = time_machine.travel(self._start, tick=True)
        self._coordinates = self._traveller.start()
        self._start_scheduler()

    def _start_scheduler(self) -> None:
        self._running = True
        self._quiet_since = time.monotonic()
        self._scheduler = threading.Thread(target=self._schedule, name="virtual-clock", daemon=True)
        self._scheduler.start()

    def suspend(self) -> datetime:
        """Stop the scheduler thread, where nothing waits on the clock (no timer, nothing busy), and return
        the moment: a fork of the process ``resume``s from it (the test suite's fork server)."""
        with self._cond:
            if self._timers or self._busy:
                raise RuntimeError(
                    f"the clock cannot be suspended while work waits on it ({len(self._timers)} timers, "
                    f"{self._busy} busy)"
                )
            self._running = False
            self._cond.notify_all()
        if self._scheduler is not None:
            self._scheduler.join(timeout=5)
            self._scheduler = None
        return self.now()

    def resume(self, at: datetime) -> None:
        """Run again from ``at``, as if no time had passed since ``suspend`` returned it."""
        if self._coordinates is None:
            raise RuntimeError("the clock is not installed")
        self._coordinates.move_to(at)
        self._start_scheduler()

    def halt(self) -> None:
        """Stop the scheduler thread and wait for it, listeners it is running included (bounded: 5 s); the
        clock stays installed (``uninstall`` ends with it)."""
        self._running = False
        with self._cond:
            self._cond.notify_all()
        scheduler, self._scheduler = self._scheduler, None
        if scheduler is not None and scheduler is not threading.current_thread():
            scheduler.join(timeout=5)

    def uninstall(self) -> None:
        self._running = False
        with self._cond:
            for _, _, event, _ in self._timers:
                event.set()
            self._timers.clear()
        self.halt()
        if self._traveller is not None:
            self._traveller.stop()
            self._traveller = None
            self._coordinates = None

    @property
    def installed(self) -> bool:
        return self._traveller is not None

    def now(self) -> datetime:
        return datetime.now(UTC)

    @property
    def busy_count(self) -> int:
        return self._busy

    @property
    def pending_timers(self) -> list[str]:
        with self._cond:
            return [t[0].isoformat() for t in sorted(self._timers, key=lambda t: (t[0], t[1]))]

    # -- moving time ---------------------------------------------------------------------------------
    def _shift(self, seconds: float) -> datetime:
        with self._lock:
            if seconds > 0 and self._coordinates is not None:
                self._coordinates.shift(timedelta(seconds=seconds))
            return self.now()

    def _notify(self, now: datetime) -> None:
        # A listener runs work synchronously (a scheduled Lambda the tick starts) in the thread that moved
        # the clock, possibly the scheduler itself: a wait in that work cannot wait for the scheduler.
        self._held.notifying = getattr(self._held, "notifying", 0) + 1
        try:
            for listener in list(self.listeners):
                listener(now)
        finally:
            self._held.notifying -= 1

    def advance(self, seconds: float) -> datetime:
        """Move the clock forward by ``seconds`` (a test's fast-forward); due timers fire."""
        if seconds < 0:
            raise ValueError(f"the clock only moves forward; asked to move by {seconds} s")
        now = self._shift(seconds)
        with self._cond:
            self._cond.notify_all()
        self._notify(now)
        return now

    def advance_to(self, moment: datetime) -> datetime:
        """Move the clock to ``moment`` unless it is already past it."""
        delta = (moment - self.now()).total_seconds()
        return self.advance(delta) if delta > 0 else self.now()

    def skip(self, seconds: float) -> None:
        """A pause inside busy work (a client's timeout, the SDK's retry back-off): this thread waits
        ``seconds`` on the clock without counting as busy meanwhile (see the module docstring)."""
        seconds = max(0.0, float(seconds))
        if seconds == 0:
            return
        if not self._running or getattr(self._held, "notifying", 0) > 0:
            self._shift(seconds)
            return
        with self._cond:
            depth = self._holds.get(threading.get_ident(), 0)
            self._busy -= depth
            self._quiet_since = time.monotonic()
            self._cond.notify_all()
        try:
            self.sleep_until(self.now() + timedelta(seconds=seconds))
        finally:
            with self._cond:
                self._busy += depth

    # -- waiting -------------------------------------------------------------------------------------
    @contextmanager
    def busy(self) -> Iterator[None]:
        """Real work in progress (an AWS call, a Lambda handler): the clock must not jump meanwhile."""
        taker = threading.get_ident()
        with self._cond:
            self._busy += 1
            self._holds[taker] = self._holds.get(taker, 0) + 1
        try:
            yield
        finally:
            with self._cond:
                self._busy -= 1
                self._holds[taker] -= 1
                if not self._holds[taker]:
                    del self._holds[taker]
                self._quiet_since = time.monotonic()
                self._cond.notify_all()

    def sleep_until(self, deadline: datetime, still: Callable[[], bool] = lambda: True) -> None:
        """Block until the clock reaches ``deadline`` (jumped there when nothing else is busy)."""
        if not self._running:
            return
        event = threading.Event()
        with self._cond:
            heapq.heappush(self._timers, (deadline, next(self._sequence), event, still))
            self._cond.notify_all()
        while not event.wait(0.05):
            if not self._running or not still():
                with self._cond:
                    self._timers = [t for t in self._timers if t[2] is not event]
                    heapq.heapify(self._timers)
                return

    def sleep(self, seconds: float) -> None:
        """What ``time.sleep`` becomes in the engine (Retry back-off): a timer on the virtual clock."""
        self.sleep_until(self.now() + timedelta(seconds=max(0.0, float(seconds))))

    def _schedule(self) -> None:
        while self._running:
            jumped_to: datetime | None = None
            with self._cond:
                self._cond.wait(0.005)
                now = self.now()
                if any(not t[3]() for t in self._timers):
                    self._timers = [t for t in self._timers if t[3]()]
                    heapq.heapify(self._timers)
                while self._timers and self._timers[0][0] <= now:
                    heapq.heappop(self._timers)[2].set()
                quiet = time.monotonic() - self._quiet_since >= SETTLE_REAL_SECONDS
                if self._timers and self._busy == 0 and quiet:
                    target = self._timers[0][0]
                    for wakeup in self.wakeups:
                        due = wakeup()
                        if due is not None and now < due < target:
                            target = due
                    jumped_to = self._shift((target - now).total_seconds())
                    self.jumps += 1
                    while self._timers and self._timers[0][0] <= jumped_to:
                        heapq.heappop(self._timers)[2].set()
                    self._quiet_since = time.monotonic()
            if jumped_to is not None:
                self._notify(jumped_to)

    def wait_for(self, event: threading.Event, timeout: float | None) -> bool:
        """Wait for ``event`` until ``timeout`` seconds of *virtual* time have passed (never jumped to)."""
        if timeout is None:
            return event.wait()
        deadline = self.now() + timedelta(seconds=timeout)
        while True:
            if event.wait(_POLL_REAL_SECONDS):
                return True
            if self.now() >= deadline:
                return event.is_set()


class VirtualTimeoutEvent(threading.Event):
    """A ``threading.Event`` whose ``wait(timeout)`` counts the timeout on the virtual clock.

    The timeout counts from when the event was created (or last cleared): the moment the work it waits for
    began (a Task's work, a callback, the next heartbeat), not the moment a thread got round to waiting.
    What happened first is decided on the clock, not by which thread ran first: an event set only after its
    deadline had passed on the clock (work that made the clock skip past it, then ended) counts as a timeout.
    """

    clock: VirtualClock | None = None

    def __init__(self) -> None:
        super().__init__()
        clock = type(self).clock
        self._since: datetime | None = clock.now() if clock is not None else None
        self._set_at: datetime | None = None

    def set(self) -> None:
        clock = type(self).clock
        if clock is not None and not self.is_set():
            self._set_at = clock.now()
        super().set()

    def clear(self) -> None:
        clock = type(self).clock
        self._since = clock.now() if clock is not None else None
        self._set_at = None
        super().clear()

    def wait(self, timeout: float | None = None) -> bool:
        clock = type(self).clock
        if clock is None or timeout is None:
            return super().wait(timeout)
        deadline = (self._since or clock.now()) + timedelta(seconds=timeout)
        while True:
            if super().wait(_POLL_REAL_SECONDS) or clock.now() >= deadline:
                return self.is_set() and (self._set_at is None or self._set_at <= deadline)
