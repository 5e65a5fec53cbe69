"""The suite's fork server (tests/forkserver.py), run by a pytest of its own on a stand-in platform: each test
that asks for the platform runs in a fork that starts with it as built and as suspended, its failures,
output and warnings reach the summary as if it had run in the test process, a fork that dies is a failed
test, and what one test changes the next never sees. Once as ``make test`` runs it (two xdist workers) and
once in one process."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

CONFTEST = '''
import os
from datetime import UTC, datetime

import pytest

from tests import forkserver
from tests.forkserver import pytest_runtest_protocol, pytest_runtestloop
TEST_PROCESS = os.getpid()
BUILT_AT = datetime(2026, 12, 1, 2, 31, tzinfo=UTC)


class StandIn:
    """A platform as the server handles one: built, suspended, resumed in each fork."""

    def __init__(self):
        self.changes, self.resumed_at, self.built_by = [], None, os.getpid()

    def suspend(self):
        return BUILT_AT

    def resume(self, at):
        self.resumed_at = at

    def close(self):
        pass


forkserver.make_platform = StandIn


@pytest.fixture
@forkserver.fork_safe
def platform():
    yield forkserver.built() or StandIn()
'''

TESTS = """
import os
import warnings

from conftest import BUILT_AT, TEST_PROCESS
from tests import forkserver


def test_runs_in_a_fork_of_the_built_platform_resumed_where_it_was_suspended(platform):
    assert os.getpid() != TEST_PROCESS and platform.built_by not in (os.getpid(), TEST_PROCESS)
    assert platform is forkserver.built() and platform.resumed_at == BUILT_AT


def test_a_failure_in_a_fork_keeps_its_message_and_output(platform):
    print("printed in the fork")
    assert platform.changes == ["something"], "the fork's own assertion"


def test_a_warning_in_a_fork_reaches_the_summary(platform):
    warnings.warn(UserWarning("warned in the fork"))


def test_a_fork_that_dies_is_a_failed_test(platform):
    os._exit(3)


def test_one_change(platform):
    assert platform.changes == []
    platform.changes.append("one")


def test_another_change(platform):
    assert platform.changes == []
    platform.changes.append("another")


def test_without_a_platform_runs_in_the_test_process():
    assert os.getpid() == TEST_PROCESS and forkserver.built() is None
"""


@pytest.mark.parametrize("how", [["-n", "2", "--dist", "loadgroup"], ["-p", "no:xdist"]], ids=["two-workers", "one"])
def test_the_fork_server_runs_each_platform_test_in_a_fork_and_reports_it_here(tmp_path: Path, how: list[str]) -> None:
    (tmp_path / "conftest.py").write_text(CONFTEST)
    (tmp_path / "test_inner.py").write_text(TESTS)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LOCALCLOUD_FORK": "1"}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rA", "--rootdir", str(tmp_path), *how],
        check=False,
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    out = run.stdout + run.stderr
    summary = re.search(r"=+ (.*) in [\d.]+s", out)
    assert summary is not None, out
    assert summary.group(1) == "2 failed, 5 passed, 1 warning", out
    assert "AssertionError: the fork's own assertion" in out and "printed in the fork" in out
    assert "the fork that ran this test ended without its reports (wait status 768)" in out  # exit code 3
    assert "UserWarning: warned in the fork" in out
