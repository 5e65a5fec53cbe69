"""The fault matrix's starting platforms (tests/faults/starts.py): built once, each run in a fork of it."""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

import pytest

from localcloud.scenario import Platform
from tests.faults import matrix
from tests.faults.starts import RunFailed, Starts
from tests.forkserver import make_platform

MARK = "matrix-starts-mark"


def build(_workflow: str) -> Platform:
    return make_platform()


def job(platform: Platform, _workflow: str, argument: Any) -> dict[str, Any]:
    """Look whether an earlier run's mark is there, then mark the platform (or raise, when asked)."""
    if argument == "raise":
        raise ValueError("the job raised")
    s3 = platform.cloud.client("s3", platform.design.primary_region)
    bucket = platform.design.buckets[0]
    seen = s3.list_objects_v2(Bucket=bucket, Prefix=MARK).get("KeyCount", 0)
    s3.put_object(Bucket=bucket, Key=f"{MARK}/{argument}", Body=b"x")
    return {"pid": os.getpid(), "now": platform.cloud.clock.now(), "seen": seen}


def test_each_run_starts_from_the_same_platform_and_what_it_changed_dies_with_it() -> None:
    starts = Starts(build, job)
    try:
        first = starts.run("restore-test", "first")
        second = starts.run("restore-test", "second")
        with pytest.raises(RunFailed, match="ValueError: the job raised"):
            starts.run("restore-test", "raise")
        third = starts.run("restore-test", "third")  # the server serves on after a run that raised
    finally:
        starts.close()

    # each in a process of its own, none of them this one
    assert len({first["pid"], second["pid"], third["pid"], os.getpid()}) == 4
    # none saw the mark an earlier run left: each began from the platform as it was built
    assert [first["seen"], second["seen"], third["seen"]] == [0, 0, 0]
    # at the moment it was suspended (the clock ticks with real time from there, a few seconds at most)
    assert abs(second["now"] - first["now"]) < timedelta(seconds=5)
    assert abs(third["now"] - first["now"]) < timedelta(seconds=5)


def test_without_forking_each_run_builds_its_own_platform(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCALCLOUD_FORK", "0")
    made: list[str] = []

    def starting_platform(workflow: str) -> Platform:
        made.append(workflow)
        return make_platform()

    monkeypatch.setattr(matrix, "starting_platform", starting_platform)
    monkeypatch.setattr(matrix, "run_workflow", lambda platform, workflow, record=False: os.getpid())

    assert matrix._run("restore-test", None) == os.getpid()
    assert made == ["restore-test"]
