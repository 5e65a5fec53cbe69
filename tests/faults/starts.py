"""Each workflow's starting platform, built once per process; every run of the workflow (a cell of the fault
matrix, its clean run) in a fork of it.

A cell needs a fresh platform at its workflow's starting point (seeded, deployed, then in the ``app`` outage,
after a planned failover, or with its backup history): two to four seconds of CPU to build, most of a cell's
cost, and the same platform every time. Here a process forked from this one (the workflow's *server*, made
at its first run) builds it once and suspends it (``Platform.suspend``: no thread left). For each run the
server forks again: the fork (the *child*) resumes the platform at the moment it was suspended, runs the
job on it and sends its result back through a pipe; what the run changed dies with the child. Each run
thus starts from the same platform, at the same virtual moment.

``LOCALCLOUD_FORK=0`` builds a platform for every run in this process instead (as the suite's fork server,
tests/forkserver.py, which serves one default platform to the tests that ask for it).
"""

from __future__ import annotations

import atexit
import os
import traceback
import warnings
from collections.abc import Callable
from multiprocessing import Pipe
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

from tests.forkserver import ready_to_fork

if TYPE_CHECKING:
    from localcloud.scenario import Platform

SWITCH = "LOCALCLOUD_FORK"
Build = Callable[[str], "Platform"]  # the workflow's starting platform, on a started cloud of its own
Job = Callable[["Platform", str, Any], Any]  # (platform, workflow, argument) -> a picklable result


class RunFailed(RuntimeError):
    """The run raised in its fork, or its fork ended without a result: the message holds why."""


def forking() -> bool:
    return os.environ.get(SWITCH, "1") != "0"


class Starts:
    """The servers of this process, one per workflow, made at the workflow's first run."""

    def __init__(self, build: Build, job: Job) -> None:
        self.build, self.job = build, job
        self._servers: dict[str, _Server] = {}
        self._pid = os.getpid()
        atexit.register(self.close)

    def run(self, workflow: str, argument: Any) -> Any:
        """``job(platform, workflow, argument)`` on a fork of the workflow's starting platform; its result."""
        if os.getpid() != self._pid:  # a process forked from this one: its servers are not its own
            self._servers, self._pid = {}, os.getpid()
        server = self._servers.get(workflow)
        if server is None:
            others = [s.conn for s in self._servers.values()]
            server = self._servers[workflow] = _Server(workflow, self.build, self.job, others)
        return server.run(argument)

    def close(self) -> None:
        if os.getpid() != self._pid:
            return
        for server in self._servers.values():
            server.close()
        self._servers = {}


class _Server:
    def __init__(self, workflow: str, build: Build, job: Job, others: list[Connection]) -> None:
        self.workflow = workflow
        self.conn, theirs = Pipe()
        with warnings.catch_warnings():  # threads of this process (pytest-xdist's): the server never uses them
            warnings.simplefilter("ignore", DeprecationWarning)
            self.pid = os.fork()
        if self.pid == 0:
            self.conn.close()
            for conn in others:  # the other servers' pipes: each server ends when its own pipe closes
                conn.close()
            try:
                _serve(theirs, workflow, build, job)
            finally:
                os._exit(0)
        theirs.close()

    def run(self, argument: Any) -> Any:
        try:
            self.conn.send((argument,))  # a request is a 1-tuple; None closes
            kind, payload = self.conn.recv()
        except (EOFError, OSError) as err:
            raise RunFailed(f"the {self.workflow} server is gone ({err!r})") from err
        if kind != "result":
            raise RunFailed(payload)
        return payload

    def close(self) -> None:
        try:
            self.conn.send(None)
            self.conn.close()
        except OSError:
            pass
        os.waitpid(self.pid, 0)


def _serve(conn: Connection, workflow: str, build: Build, job: Job) -> None:
    try:
        platform = build(workflow)
        moment = ready_to_fork(platform)
    except Exception:
        unavailable = f"the {workflow} starting platform could not be built:\n{traceback.format_exc(limit=5)}"
        while _received(conn) is not None:
            conn.send(("unavailable", unavailable))
        return
    while (request := _received(conn)) is not None:
        (argument,) = request
        child = os.fork()
        if child == 0:
            try:
                platform.resume(moment)
                result = job(platform, workflow, argument)
                conn.send(("result", result))
            except BaseException:
                conn.send(("raised", traceback.format_exc()))
            finally:
                os._exit(0)
        _, status = os.waitpid(child, 0)
        if status != 0:  # it died before it could answer (a signal, the OOM killer)
            conn.send(("died", f"the fork that ran the {workflow} run ended with wait status {status}"))


def _received(conn: Connection) -> Any:
    """The next request; None once the pipe says so or closes."""
    try:
        return conn.recv()
    except (EOFError, OSError):
        return None
