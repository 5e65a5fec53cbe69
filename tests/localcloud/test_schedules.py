"""EventBridge schedules on the virtual clock: a rate schedule keeps its phase however often the clock moves,
and a jump of the clock over a slot stops there, so the target runs at its slot's time, as in AWS."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest

from localcloud.clock import VirtualClock
from localcloud.events import EventRouter

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
TARGET = "arn:aws:lambda:us-west-2:123456789012:function:roadcall-dr-WriteHeartbeatFunction"


def router_with(
    *expressions: str, now: Callable[[], datetime] = lambda: T0
) -> tuple[EventRouter, list[tuple[str, datetime]]]:
    """A router with these schedules whose targets record (label, ``now()``) when started."""
    router = EventRouter()
    started: list[tuple[str, datetime]] = []
    router._start = lambda target, payload, label, source: started.append((label, now()))  # type: ignore[method-assign]
    for n, expression in enumerate(expressions):
        router.add_schedule("us-west-2", f"s{n}", expression, TARGET)
    return router, started


def test_a_rate_schedule_fires_every_step_however_often_the_clock_moves() -> None:
    # Given a rate(1 minute) schedule, and the clock moving 30 s at a time for four minutes
    router, _ = router_with("rate(1 minute)")
    router.tick(T0)
    for half_minutes in range(1, 9):
        router.tick(T0 + timedelta(seconds=30 * half_minutes))

    # Then it fired once a minute, on the minute of its phase (before: never, each tick moved its anchor)
    assert router.schedules[0].fired == [T0 + timedelta(minutes=m) for m in range(1, 5)]


def test_next_due_is_the_first_slot_of_an_enabled_schedule_after_the_last_tick() -> None:
    router, _ = router_with("rate(5 minutes)", "cron(0 13 * * ? *)", "rate(1 minute)")
    assert router.next_due() is None  # not started yet
    router.tick(T0)
    assert router.next_due() == T0 + timedelta(minutes=1)
    router.schedules[2].enabled = False
    assert router.next_due() == T0 + timedelta(minutes=5)
    router.tick(T0 + timedelta(minutes=5))
    assert router.next_due() == T0 + timedelta(minutes=10)
    router.schedules[0].enabled = False
    assert router.next_due() == datetime(2026, 12, 1, 13, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> Iterator[VirtualClock]:
    running = VirtualClock(T0)
    running.install()
    try:
        yield running
    finally:
        running.uninstall()


def test_a_wait_over_two_slots_runs_the_target_at_each_slot_not_twice_at_the_wait_s_end(clock: VirtualClock) -> None:
    # Given an every-minute schedule on the clock, as LocalCloud wires it
    router, started = router_with("rate(1 minute)", now=clock.now)
    router.tick(clock.now())
    clock.listeners.append(router.tick)
    clock.wakeups.append(router.next_due)

    # When a workflow waits 150 s (a Wait state: the clock jumps, nothing else is busy)
    clock.sleep(150)

    # Then the target ran at +60 s and at +120 s (the clock ticks with real time: a few ms after each)
    assert [label for label, _ in started] == ["schedule s0", "schedule s0"]
    offsets = [(at - T0).total_seconds() for _, at in started]
    assert 60 <= offsets[0] < 62 and 120 <= offsets[1] < 122, offsets
    assert clock.now() >= T0 + timedelta(seconds=150)


def test_a_disabled_schedule_does_not_stop_the_clock(clock: VirtualClock) -> None:
    router, started = router_with("rate(1 minute)")
    router.schedules[0].enabled = False
    router.tick(clock.now())
    clock.listeners.append(router.tick)
    clock.wakeups.append(router.next_due)
    jumps = clock.jumps

    clock.sleep(150)

    assert started == [] and clock.jumps == jumps + 1
