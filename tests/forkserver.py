"""The suite's fork server: the platform built once per test process, and each test that only needs a fresh
one run in a fork of it.

A test that asks for ``platform``, ``outage_platform`` or ``backups`` (and nothing else that could change what
the platform is built from) builds and deploys the whole platform: a second and a half of CPU, a hundred
times in the suite. Here a fork of the test process, made before the first test runs (the *server*), builds
it once, at the first such test, and stops its threads (``Platform.suspend``). For each such test it forks
again: the fork (the *child*) starts with the built platform in its memory, copy on write, restarts its
threads and its clock at the moment the platform was built (``Platform.resume``), runs the test's whole
protocol (setup, call, teardown) and sends the reports back; what the test changed dies with the fork. The
test process logs those reports as its own (pytest-xdist sends them on), as pytest-forked does.

``LOCALCLOUD_FORK=0`` runs every test in the test process, building its own platform, as before.
"""

from __future__ import annotations

import contextlib
import gc
import os
import threading
import time
import traceback
import warnings
from collections.abc import Iterator
from multiprocessing import Pipe
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

import pytest
from _pytest.reports import TestReport
from _pytest.runner import runtestprotocol
from _pytest.warnings import catch_warnings_for_item

if TYPE_CHECKING:
    from datetime import datetime

    from localcloud.cloud import LocalCloud
    from localcloud.scenario import Platform

SWITCH = "LOCALCLOUD_FORK"
FRESH = frozenset({"platform", "outage_platform", "backups"})
# What a test may ask for beside them and still run in a fork: the fixtures marked ``fork_safe`` (they build
# on the platform) and these of pytest's own. Anything else (an autouse fixture, a fixture that patches what
# the platform is built from, a wider scope) and the test builds its own platform, in the test process.
PYTESTS_OWN = frozenset({"capsys", "capfd", "caplog", "tmp_path", "request"})


class _Here:
    built: Platform | None = None  # in a child: the platform, running again
    server: Server | None = None  # in the test process


def built() -> Platform | None:
    """The platform a fork of the server runs with (None outside one: build your own)."""
    return _Here.built


def fork_safe(fixture: Any) -> Any:
    """Mark a fixture function that a test may ask for and still run in a fork: ``cloud``, ``platform`` and
    the like return what ``built()`` holds there; the others build on them and change nothing the platform
    is built from. Apply it below ``@pytest.fixture``."""
    fixture.fork_safe = True
    return fixture


def make_platform() -> Platform:
    """What the server builds once: a running cloud with a fresh platform on it."""
    from localcloud.cloud import LocalCloud

    return fresh_platform(LocalCloud().start())


def fresh_platform(cloud: LocalCloud) -> Platform:
    """The platform of the DR design, seeded in both regions, with the app deployed (what ``platform`` is)."""
    from localcloud.scenario import Platform, PlatformDesign

    platform = Platform(cloud, PlatformDesign()).seed()
    platform.deploy()
    return platform


def forkable(item: pytest.Item) -> bool:
    """A test that asks for a fresh platform and for nothing that could change what it is built from."""
    info = getattr(item, "_fixtureinfo", None)
    names = set(getattr(item, "fixturenames", ()))
    if info is None or not names & FRESH or item.get_closest_marker("xdist_group"):
        return False
    direct = set(getattr(getattr(item, "callspec", None), "params", {})) - FRESH  # parametrize arguments
    for name in names - direct - PYTESTS_OWN:
        defs = info.name2fixturedefs.get(name)
        if not defs or defs[-1].scope != "function" or not getattr(defs[-1].func, "fork_safe", False):
            return False
    return True


# -- in the test process ---------------------------------------------------------------------------------
@pytest.hookimpl(wrapper=True)
def pytest_runtestloop(session: pytest.Session) -> Iterator[object]:
    """The server is forked before the first test and ends after the last."""
    start(session)
    try:
        return (yield)
    finally:
        stop()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> bool | None:
    """A test that only needs a fresh platform runs in a fork of the one the server built."""
    return run_protocol(item, nextitem)


def start(session: pytest.Session) -> None:
    """Fork the server, before any test has set anything up, when at least two tests can use it."""
    if os.environ.get(SWITCH, "1") == "0" or session.config.option.collectonly:
        return
    if sum(1 for item in session.items if forkable(item)) >= 2:
        _Here.server = Server(session)


def stop() -> None:
    if _Here.server is not None:
        _Here.server.close()
        _Here.server = None


def run_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> bool | None:
    """Run the test in a fork of the server and log its reports here (True); None: run it here."""
    if _Here.server is None or not forkable(item):
        return None
    outcome = _Here.server.run(item)
    if outcome is None:
        return None
    reports, caught = outcome
    ihook = item.ihook
    ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
    for message, category, filename, lineno, when in caught:
        item.config.hook.pytest_warning_recorded.call_historic(
            kwargs={
                "warning_message": warnings.WarningMessage(category(message), category, filename, lineno),
                "when": when,
                "nodeid": item.nodeid,
                "location": None,
            }
        )
    for report in reports:
        ihook.pytest_runtest_logreport(report=report)
    ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
    # What the default protocol does at a test's end: tear down here what the next test does not share
    # (fixtures of earlier tests that ran here; the fork set up its own).
    item.session._setupstate.teardown_exact(nextitem)
    return True


class Server:
    """The test process's end of the server: a request per test, answered by the child's reports."""

    def __init__(self, session: pytest.Session) -> None:
        self.conn, theirs = Pipe()
        self.unavailable: str | None = None
        with warnings.catch_warnings():  # pytest-xdist's threads: the server never uses them
            warnings.simplefilter("ignore", DeprecationWarning)
            self.pid = os.fork()
        if self.pid == 0:
            self.conn.close()
            try:
                _serve(session, theirs)
            finally:
                os._exit(0)
        theirs.close()

    def run(self, item: pytest.Item) -> tuple[list[TestReport], list[Any]] | None:
        if self.unavailable is not None:
            return None
        try:
            self.conn.send(item.nodeid)
            answer = self.conn.recv()
            if answer[0] == "unavailable":
                self.unavailable = answer[1]
                item.warn(pytest.PytestWarning(f"the fork server cannot build the platform: {answer[1]}"))
                return None
            said: dict[str, Any] = {}
            while answer[0] != "ended":
                said[answer[0]] = answer[1:]
                answer = self.conn.recv()
        except (EOFError, OSError) as err:
            self.unavailable = f"the fork server is gone ({err!r})"
            item.warn(pytest.PytestWarning(self.unavailable))
            return None
        if "reports" not in said:
            why = said.get("broken", ("",))[0]
            return [
                _crashed(
                    item, f"the fork that ran this test ended without its reports (wait status {answer[1]})\n{why}"
                )
            ], []
        sent = said["reports"]
        config = item.config
        reports = [config.hook.pytest_report_from_serializable(config=config, data=data) for data in sent[0]]
        return reports, sent[1]

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.conn.send(None)
        self.conn.close()
        os.waitpid(self.pid, 0)


def _crashed(item: pytest.Item, why: str) -> TestReport:
    return TestReport(
        nodeid=item.nodeid, location=item.location, keywords={}, outcome="failed", longrepr=why, when="call"
    )


# -- in the server ---------------------------------------------------------------------------------------
def _serve(session: pytest.Session, conn: Connection) -> None:
    items = {item.nodeid: item for item in session.items}
    platform: Platform | None = None
    moment: datetime | None = None
    while (nodeid := conn.recv()) is not None:
        if platform is None:
            try:
                platform, moment = _build()
            except Exception:
                conn.send(("unavailable", traceback.format_exc(limit=3)))
                return
        child = os.fork()
        if child == 0:
            _run(items[nodeid], platform, moment, conn)
        _, status = os.waitpid(child, 0)
        conn.send(("ended", status))


def _build() -> tuple[Platform, datetime]:
    platform = make_platform()
    return platform, ready_to_fork(platform)


def ready_to_fork(platform: Platform) -> datetime:
    """Suspend ``platform``, wait for the last of its threads to end and freeze the heap; returns the moment
    each fork resumes it at (the fault matrix's starting platforms use it too: tests/faults/starts.py)."""
    moment = platform.suspend()
    deadline = time.monotonic() + 5
    while threading.active_count() > 1:  # a fork keeps only the thread that forked
        if time.monotonic() > deadline:
            raise RuntimeError(f"threads still running: {[t.name for t in threading.enumerate()]}")
        time.sleep(0.01)
    gc.collect()
    gc.freeze()  # the children's collections leave the built heap alone (and its pages shared)
    return moment


class _Caught:
    """The warnings of the child's test, for the test process to record."""

    def __init__(self) -> None:
        self.caught: list[tuple[str, type[Warning], str, int, str]] = []

    @pytest.hookimpl
    def pytest_warning_recorded(self, warning_message: warnings.WarningMessage, when: str) -> None:
        category = warning_message.category
        try:
            category(str(warning_message.message))
        except Exception:
            category = UserWarning
        self.caught.append(
            (str(warning_message.message), category, warning_message.filename, warning_message.lineno, when)
        )


def _run(item: pytest.Item, platform: Platform, moment: datetime, conn: Connection) -> None:
    """In the child: the test's protocol on the platform, its reports to the test process; never returns."""
    try:
        platform.resume(moment)
        _Here.built = platform
        plugins = item.config.pluginmanager
        for plugin in [p for p in plugins.get_plugins() if type(p).__name__ == "WorkerInteractor"]:
            plugins.unregister(plugin)  # pytest-xdist's channel to its controller is the test process's alone
        caught = _Caught()
        plugins.register(caught)
        with catch_warnings_for_item(item.config, ihook=item.ihook, when="runtest", item=item):  # as pytest does
            reports = runtestprotocol(item, log=False, nextitem=None)
        # The test has ended: what its threads still print (a request answered as the fork ends) is no one's.
        quiet = os.open(os.devnull, os.O_WRONLY)
        os.dup2(quiet, 1)
        os.dup2(quiet, 2)
        config = item.config
        sent = [config.hook.pytest_report_to_serializable(config=config, report=r) for r in reports]
        conn.send(("reports", sent, caught.caught))
    except BaseException:
        with contextlib.suppress(Exception):
            conn.send(("broken", traceback.format_exc()))
    finally:
        os._exit(0)
