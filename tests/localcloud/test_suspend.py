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

from localcloud.cloud import LocalCloud
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
