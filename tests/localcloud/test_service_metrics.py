"""Fidelity of the metric series localcloud publishes into moto's CloudWatch."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto.cloudwatch.models import cloudwatch_backends
from moto.core import DEFAULT_ACCOUNT_ID

from localcloud.clock import VirtualClock
from localcloud.services.metrics import MetricsSimulator
from tests.localcloud.conftest import Bare


@pytest.fixture
def env(bare: Bare) -> tuple[VirtualClock, MetricsSimulator]:
    return bare.clock, bare.metrics()


class Knob:
    """A source whose value a test sets."""

    def __init__(self, value: float | None) -> None:
        self.value = value

    def __call__(self) -> float | None:
        return self.value


def _start(clock: VirtualClock) -> datetime:
    """A StartTime whose 60 s buckets hold the first publish (now) in the first bucket."""
    return clock.now().astimezone(UTC).replace(microsecond=0) - timedelta(seconds=30)


def _max_series(cw: Any, start: datetime, end: datetime, dimensions: list[dict[str, str]]) -> list[float]:
    result = cw.get_metric_data(
        MetricDataQueries=[
            {
                "Id": "lag",
                "MetricStat": {
                    "Metric": {
                        "Namespace": "AWS/RDS",
                        "MetricName": "AuroraGlobalDBReplicationLag",
                        "Dimensions": dimensions,
                    },
                    "Period": 60,
                    "Stat": "Maximum",
                },
            }
        ],
        StartTime=start,
        EndTime=end,
        ScanBy="TimestampAscending",
    )
    return list(result["MetricDataResults"][0]["Values"])


def test_get_metric_data_follows_the_source_as_the_clock_advances(env: Any) -> None:
    # Given a series in us-west-2 whose value is 250 ms
    clock, sim = env
    lag = Knob(250.0)
    sim.define(
        "us-west-2",
        "AWS/RDS",
        "AuroraGlobalDBReplicationLag",
        {"DBClusterIdentifier": "sec"},
        lag,
        unit="Milliseconds",
    )
    cw = boto3.client("cloudwatch", region_name="us-west-2")
    start = _start(clock)
    dims = [{"Name": "DBClusterIdentifier", "Value": "sec"}]

    # When it is read now, then the source changes and a minute passes, then it is read again
    first = _max_series(cw, start, start + timedelta(minutes=5), dims)
    lag.value = 9000.0
    clock.advance(60)
    second = _max_series(cw, start, start + timedelta(minutes=5), dims)

    # Then the first read saw one point, the second a new point carrying the new value
    assert first == [250.0]
    assert second == [250.0, 9000.0]


def test_get_metric_statistics_sees_the_backfilled_minutes(env: Any) -> None:
    # Given a published series at 1.0
    clock, sim = env
    status = Knob(1.0)
    sim.define("us-east-1", "AWS/Route53", "HealthCheckStatus", {"HealthCheckId": "hc-1"}, status)
    cw = boto3.client("cloudwatch", region_name="us-east-1")
    start = _start(clock)
    cw.list_metrics(Namespace="AWS/Route53")

    # When the source drops to 0 and three minutes pass before the next read
    status.value = 0.0
    clock.advance(180)
    stats = cw.get_metric_statistics(
        Namespace="AWS/Route53",
        MetricName="HealthCheckStatus",
        Dimensions=[{"Name": "HealthCheckId", "Value": "hc-1"}],
        StartTime=start,
        EndTime=start + timedelta(minutes=10),
        Period=60,
        Statistics=["Minimum", "Maximum"],
    )

    # Then the three missed minutes are backfilled with the current value
    points = sorted(stats["Datapoints"], key=lambda p: p["Timestamp"])
    assert [(p["Minimum"], p["Maximum"]) for p in points] == [(1.0, 1.0), (0.0, 0.0), (0.0, 0.0), (0.0, 0.0)]
    assert [p["Unit"] for p in points] == ["None"] * 4


def test_points_are_one_minute_apart_on_the_virtual_clock(env: Any) -> None:
    # Given a series published once
    clock, sim = env
    series = sim.define("us-east-1", "Custom", "Depth", {"Queue": "q"}, Knob(3.0), unit="Count")
    sim.publish("us-east-1")
    first = series.last_published

    # When 150 s pass and it is published again
    clock.advance(150)
    written = sim.publish("us-east-1")

    # Then two points were added, at +60 s and +120 s, and the next one is due at +180 s
    stored = sorted(
        d.timestamp for d in cloudwatch_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].metric_data if d.name == "Depth"
    )
    assert first is not None
    base = first.replace(tzinfo=None)
    assert written == 2
    assert stored == [base, base + timedelta(seconds=60), base + timedelta(seconds=120)]
    assert series.last_published == first + timedelta(seconds=120)


def test_a_long_gap_is_backfilled_with_at_most_sixty_points(env: Any) -> None:
    # Given a series published once
    clock, sim = env
    series = sim.define("us-east-1", "Custom", "Depth", {"Queue": "q"}, Knob(1.0))
    sim.publish("us-east-1")

    # When three hours pass
    clock.advance(3 * 3600)
    written = sim.publish("us-east-1")

    # Then only the most recent hour is written
    assert written == 60
    assert series.points_written == 61


def test_a_source_returning_none_leaves_a_gap(env: Any) -> None:
    # Given a series whose resource stops reporting after the first minute
    clock, sim = env
    knob = Knob(5.0)
    sim.define("us-west-2", "AWS/RDS", "AuroraGlobalDBReplicationLag", {"DBClusterIdentifier": "sec"}, knob)
    cw = boto3.client("cloudwatch", region_name="us-west-2")
    start = _start(clock)
    dims = [{"Name": "DBClusterIdentifier", "Value": "sec"}]
    _max_series(cw, start, start + timedelta(minutes=5), dims)

    # When the source returns None for two minutes, then reports again
    knob.value = None
    clock.advance(120)
    _max_series(cw, start, start + timedelta(minutes=5), dims)
    knob.value = 7.0
    clock.advance(60)
    values = _max_series(cw, start, start + timedelta(minutes=5), dims)

    # Then the silent minutes have no datapoints
    assert values == [5.0, 7.0]


def test_only_the_called_region_is_published(env: Any) -> None:
    # Given one series in each region
    _clock, sim = env
    east = sim.define("us-east-1", "Custom", "M", {}, Knob(1.0))
    west = sim.define("us-west-2", "Custom", "M", {}, Knob(2.0))

    # When CloudWatch is read in us-west-2
    listed = boto3.client("cloudwatch", region_name="us-west-2").list_metrics(Namespace="Custom")

    # Then only the us-west-2 series was published and listed
    assert listed["Metrics"] == [{"Namespace": "Custom", "MetricName": "M", "Dimensions": []}]
    assert (east.points_written, west.points_written) == (0, 1)


def test_refreshers_run_before_publishing(env: Any) -> None:
    # Given a refresher that defines a series the first time it runs
    _clock, sim = env

    def refresher() -> None:
        sim.define("us-east-1", "Custom", "Late", {"Id": "x"}, Knob(4.0))

    sim.before_publish(refresher)

    # When CloudWatch is read
    listed = boto3.client("cloudwatch", region_name="us-east-1").list_metrics(Namespace="Custom")

    # Then the series the refresher defined is already there
    assert listed["Metrics"] == [
        {"Namespace": "Custom", "MetricName": "Late", "Dimensions": [{"Name": "Id", "Value": "x"}]}
    ]


def test_redefining_a_series_keeps_its_history(env: Any) -> None:
    # Given a series published once
    clock, sim = env
    first = sim.define("us-east-1", "Custom", "M", {"A": "1"}, Knob(1.0))
    sim.publish("us-east-1")

    # When it is defined again with another source
    again = sim.define("us-east-1", "Custom", "M", {"A": "1"}, Knob(2.0), unit="Count")
    clock.advance(30)

    # Then it is the same series: nothing new is due before a full minute
    assert again is first
    assert (again.unit, sim.publish("us-east-1"), again.points_written) == ("Count", 0, 1)


def test_the_default_cloudwatch_client_is_answered(env: Any) -> None:
    # Given botocore's default CloudWatch client (the model lists smithy-rpc-v2-cbor first)
    _clock, sim = env
    cw = boto3.client("cloudwatch", region_name="us-east-1")
    sent: list[str] = []
    cw.meta.events.register("before-send", lambda request, **_: sent.append(request.headers["Content-Type"]))
    sim.define("us-east-1", "Custom", "M", {}, Knob(1.0))

    # When it lists metrics with no protocol configured
    listed = cw.list_metrics(Namespace="Custom")

    # Then it spoke awsJson1_0 and the published series came back
    assert cw.meta.service_model.metadata["protocols"][0] == "smithy-rpc-v2-cbor"
    assert sent == [b"application/x-amz-json-1.0"]
    assert listed["Metrics"] == [{"Namespace": "Custom", "MetricName": "M", "Dimensions": []}]
