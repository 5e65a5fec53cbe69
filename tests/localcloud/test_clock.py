"""Waits inside busy work (a client's timeout, botocore's back-off) are real waits on the virtual clock's
scheduler: concurrent waits overlap, and other work is measured against the clock as it would be in AWS."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from localcloud.clock import START_VARIABLE, VirtualClock, VirtualTimeoutEvent

LIVENESS = 30.0  # real seconds: a wait that held the clock would block for its whole virtual duration


@pytest.fixture
def clock() -> Iterator[VirtualClock]:
    running = VirtualClock()
    running.install()
    VirtualTimeoutEvent.clock = running
    try:
        yield running
    finally:
        VirtualTimeoutEvent.clock = None
        running.uninstall()


def in_thread(work: object) -> threading.Thread:
    thread = threading.Thread(target=work, daemon=True)  # type: ignore[arg-type]
    thread.start()
    return thread


def test_two_concurrent_waits_of_five_seconds_end_at_plus_five_not_plus_ten(clock: VirtualClock) -> None:
    # Given two threads, each in busy work (an AWS call) that waits out a 5 s timeout
    start = clock.now()
    ended: list[datetime] = []
    both_busy = threading.Barrier(2)

    def call() -> None:
        with clock.busy():
            both_busy.wait()
            clock.skip(5)
            ended.append(clock.now())

    # When both wait at the same time
    threads = [in_thread(call), in_thread(call)]
    for thread in threads:
        thread.join(LIVENESS)

    # Then the waits overlapped: both ended about 5 s after the start, not 10 s
    assert len(ended) == 2
    for moment in ended:
        assert timedelta(seconds=5) <= moment - start < timedelta(seconds=8)


def test_a_quick_task_is_not_timed_out_by_another_lambdas_long_wait(clock: VirtualClock) -> None:
    # Given a Task with a 30 s timeout whose Lambda takes 100 ms of real work
    task_done = VirtualTimeoutEvent()
    waiting = threading.Event()

    def heartbeat_lambda() -> None:  # elsewhere, a Lambda waits out 8 connect timeouts of 2 s and a 60 s read
        with clock.busy(), clock.busy():  # the handler, and the AWS call inside it
            waiting.set()
            for _ in range(8):
                clock.skip(2)
            clock.skip(60)

    def quick_lambda() -> None:
        waiting.wait(LIVENESS)
        with clock.busy():
            threading.Event().wait(0.1)  # real work
        task_done.set()

    start = clock.now()
    slow = in_thread(heartbeat_lambda)
    quick = in_thread(quick_lambda)

    # When the Task waits for its Lambda
    finished_in_time = task_done.wait(30)

    # Then it finished in time, and the long wait still took its full 76 s on the clock
    assert finished_in_time
    quick.join(LIVENESS)
    slow.join(LIVENESS)
    assert not slow.is_alive()
    assert clock.now() - start >= timedelta(seconds=76)


def test_a_wait_inside_nested_busy_holds_does_not_hold_the_clock(clock: VirtualClock) -> None:
    # Given a Lambda handler inside a Task's invocation inside an AWS call: three holds of one thread
    start = clock.now()

    def nested() -> None:
        with clock.busy(), clock.busy(), clock.busy():
            clock.skip(3600)  # an hour: only the scheduler's jump can end it in time

    thread = in_thread(nested)
    thread.join(LIVENESS)

    # Then the wait ended (the clock jumped to its deadline), and the thread's holds are back to none
    assert not thread.is_alive()
    assert clock.now() - start >= timedelta(seconds=3600)
    assert clock.busy_count == 0


def test_localcloud_start_sets_where_a_clock_starts_and_a_bad_value_says_what_it_expects(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(START_VARIABLE, "2026-12-01T02:31:00Z")
    assert VirtualClock()._start == datetime(2026, 12, 1, 2, 31, tzinfo=UTC)
    assert VirtualClock(datetime(2027, 1, 1, tzinfo=UTC))._start == datetime(2027, 1, 1, tzinfo=UTC)  # given wins
    for bad, says in (("yesterday", "expected an ISO 8601 time"), ("2026-12-01T02:31:00", "give its offset")):
        monkeypatch.setenv(START_VARIABLE, bad)
        with pytest.raises(ValueError, match=says):
            VirtualClock()
    monkeypatch.delenv(START_VARIABLE)
    assert abs((VirtualClock()._start - datetime.now(UTC)).total_seconds()) < 5
