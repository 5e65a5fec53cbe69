"""Platform.suspend and resume, which the suite's fork server forks between (tests/forkserver.py): a
suspended platform has none of its threads left (a fork keeps only the thread that forked), and resumed it
answers again with its clock where it stopped. And the socket servers' threads (localcloud.serving)."""

from __future__ import annotations

import socket
import socketserver
import threading
import time
import urllib.request

import pytest
from dr import probes

from localcloud.cloud import LocalCloud
from localcloud.scenario import Platform
from localcloud.serving import Served
from tests.forkserver import fresh_platform

THREADS = {"virtual-clock", "localcloud-dns", "endpoint-primary", "endpoint-recovery"}


def test_a_suspended_platform_has_no_thread_left_and_resumes_answering_at_the_moment_it_stopped() -> None:
    with LocalCloud() as cloud:
        platform = fresh_platform(cloud)
        try:
            moment = platform.suspend()
            assert not THREADS & {t.name for t in threading.enumerate()}
            time.sleep(2.0)  # real time passes while the fork server waits for a test

            resumed = time.monotonic()
            platform.resume(moment)

            assert {t.name for t in threading.enumerate()} >= THREADS
            # from the moment it stopped: the clock ticks with real time since the resume, not the 2 s before
            assert 0 <= (cloud.clock.now() - moment).total_seconds() <= time.monotonic() - resumed
            with urllib.request.urlopen(platform.primary_endpoint.url, timeout=5) as answer:
                assert answer.status == 200
            assert cloud.clock.advance(60) > moment  # the clock moves, its listeners hear it
        finally:
            platform.close()


def test_a_served_socket_keeps_quiet_about_a_client_that_gave_up_and_reports_any_other_error(
    capfd: pytest.CaptureFixture[str],
) -> None:
    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            raise {b"gone": BrokenPipeError, b"bug": ValueError}[self.request.recv(16)]("raised by the handler")

    served = Served(socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler), "test-served").start()
    try:
        for word in (b"gone", b"bug"):
            with socket.create_connection(served.address, timeout=5) as client:
                client.sendall(word)
                client.recv(1)  # the handler has ended: the server closed the connection
    finally:
        served.stop()
    err = capfd.readouterr().err
    assert "ValueError: raised by the handler" in err and "BrokenPipeError: raised" not in err
    assert err.count("Exception occurred during processing of request") == 1


def test_a_schedule_firing_as_the_platform_closes_still_finds_its_endpoints_answering(platform: Platform) -> None:
    # Given a clock listener (as the every-minute probe is) that the scheduler runs, and that probes the primary
    # endpoint once the platform has begun to close its endpoints (or after 0.3 s, if that never comes first)
    clock, endpoint = platform.cloud.clock, platform.primary_endpoint
    firing, closing, seen = threading.Event(), threading.Event(), []
    stop = endpoint.stop

    def stop_noting_it() -> None:
        closing.set()
        stop()

    def probe(_now: object) -> None:
        if firing.is_set():
            return
        firing.set()
        closing.wait(0.3)
        seen.append(probes.http_check(endpoint.url, timeout=2.0))

    endpoint.stop = stop_noting_it  # type: ignore[method-assign]
    clock.listeners.append(probe)
    threading.Thread(target=clock.sleep, args=(60,), daemon=True).start()  # the scheduler jumps: it fires
    assert firing.wait(10), "the scheduler never ran its listeners"

    # When the platform closes while that listener is running
    platform.close()

    # Then the listener ended before the endpoints closed, and its probe was answered
    assert [check.status for check in seen] == [200], seen
