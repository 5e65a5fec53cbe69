"""Shared fixtures: an embedded AWS per test, and the seeded platform with the app deployed on it."""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

# Offline and deterministic: no real credentials or regions leak into a test.
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-west-2",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "RoadCallDR",
        "POWERTOOLS_SERVICE_NAME": "roadcall-dr",  # handlers imported at collection read it at import
    }
)
os.environ.pop("AWS_PROFILE", None)
# Every cloud of the suite starts at one instant, whatever the hour the suite runs at: the platform's schedules
# fire at fixed hours (the backup plan at 02:00 UTC, the daily verification at 08:00, the monthly restore test
# on the 2nd at 10:00), and a run that crossed one of them counted its executions, reports and direct reads too
# (CI at 07:58 UTC failed so). The same run at any hour; LOCALCLOUD_START replays another moment (docs/testing.md).
os.environ.setdefault("LOCALCLOUD_START", "2026-12-01T12:00:00Z")

from localcloud.cloud import LocalCloud
from tests import forkserver
from tests.forkserver import pytest_runtest_protocol, pytest_runtestloop  # noqa: F401  (its hooks, here)

# A test process holds a large heap: botocore's service models and clients, moto's backends, each test's
# platform (600,000 objects after one whole-workflow test, over 1,000,000 after a dozen). At the default
# thresholds (2000, 10, 10) the collector walked all of it every few seconds: 22 % of test_failover.py's
# CPU, serially. At these, 7 %; the whole suite's workers spend 12 % of their CPU in it and peak at 1.8 GB
# (docs/performance.md).
gc.set_threshold(20_000, 20, 20)

if TYPE_CHECKING:
    from localcloud.scenario import Platform


# What builds a whole platform (seconds each) or runs whole workflows (tens of seconds).
WHOLE_PLATFORM_FIXTURES = frozenset({"platform", "arc_platform", "outage_platform"})
WHOLE_WORKFLOW_DIRS = frozenset({"workflows", "faults", "contract", "drctl"})


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The long tests first: ``make test`` deals tests to two workers one at a time, so a long test dealt
    last keeps one worker busy while the other has nothing left. Heavy first, the suite ends on short
    tests and both workers end together. The order is otherwise the collection's (a stable sort), the
    same in every worker, as xdist requires."""

    here = Path(__file__).parent

    def heavy(item: pytest.Item) -> bool:
        under = item.path.relative_to(here).parts[0] if item.path.is_relative_to(here) else ""
        return under in WHOLE_WORKFLOW_DIRS or not WHOLE_PLATFORM_FIXTURES.isdisjoint(getattr(item, "fixturenames", ()))

    items.sort(key=lambda item: not heavy(item))


UNGROUPED = (
    "--dist loadgroup did not group this test marked xdist_group (pytest-xdist#1386): its shared fixture would "
    "be built on every worker. Is pytest the version pyproject.toml pins?"
)


def pytest_runtest_setup(item: pytest.Item) -> None:
    """``--dist loadgroup`` sends a group's tests to one worker by a suffix pytest-xdist adds to their node
    ids. When that does not take (pytest-xdist#1386, on pytest 9.2), the groups are dealt test by test and
    each module fixture they share is built again on the other worker, silently. Those tests fail instead,
    before their fixtures are built."""
    grouping = item.config.getoption("loadgroup", default=False)  # set in xdist's workers only
    if grouping and item.get_closest_marker("xdist_group") and "@" not in item.nodeid:
        pytest.fail(UNGROUPED, pytrace=False)


@pytest.fixture
@forkserver.fork_safe
def cloud() -> Iterator[LocalCloud]:
    if (built := forkserver.built()) is not None:  # in a fork of the fork server: its platform's cloud
        yield built.cloud
        built.cloud.stop()  # as a cloud of the test's own ends: nothing of the test runs on after its teardown
        return
    with LocalCloud() as running:
        yield running


@pytest.fixture
@forkserver.fork_safe
def platform(cloud: LocalCloud) -> Iterator[Platform]:
    """The platform of the DR design, seeded in both regions, with the app deployed (health-check routing)."""
    built = forkserver.built() or forkserver.fresh_platform(cloud)
    yield built
    built.close()


@pytest.fixture
def arc_platform(cloud: LocalCloud) -> Iterator[Platform]:
    """The same platform with ARC routing controls moving the traffic."""
    from localcloud.scenario import Platform, PlatformDesign

    built = Platform(cloud, PlatformDesign(use_arc=True)).seed()
    built.deploy()
    yield built
    built.close()


@pytest.fixture
@forkserver.fork_safe
def outage_platform(cloud: LocalCloud, request: pytest.FixtureRequest) -> Iterator[Platform]:
    """The seeded, deployed platform in an outage of its primary region. Parametrize it indirectly with
    the profile name, or with (name, {option: value}) for its options (see Platform.primary_outage):
    ``@pytest.mark.parametrize("outage_platform", ["region", ("gray", {"seed": 3})], indirect=True)``."""
    param = getattr(request, "param", "app")
    name, options = (param, {}) if isinstance(param, str) else (param[0], dict(param[1]))
    built = forkserver.built() or forkserver.fresh_platform(cloud)
    built.primary_outage(name, **options)
    yield built
    built.close()


# Headless Chromium that reaches nothing: the browser tests of the HTML timeline and the dashboard.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
