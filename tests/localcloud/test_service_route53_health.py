"""Fidelity of the simulated Route 53 health-check status."""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from localcloud.clock import VirtualClock
from localcloud.services.route53_health import CHECKER_REGIONS, Route53HealthSimulator
from tests.localcloud.conftest import Bare

HTTP_OK = "Success: HTTP Status Code 200, OK"
TIMED_OUT = (
    "Failure: Connection timed out. The endpoint or the internet connection is down, or requests are being "
    "blocked by your firewall. See https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/"
    "dns-failover-router-firewall-rules.html"
)


@pytest.fixture
def env(bare: Bare) -> tuple[VirtualClock, Route53HealthSimulator]:
    return bare.clock, bare.register(Route53HealthSimulator(bare.clock, bare.metrics()))


def _route53() -> Any:
    return boto3.client("route53", region_name="us-east-1")


def _create(reference: str = "primary-api", **config: Any) -> str:
    health_check_config = {
        "Type": "HTTPS",
        "FullyQualifiedDomainName": "api.us-east-1.roadcall.example",
        "Port": 443,
        "ResourcePath": "/health",
        **config,
    }
    return str(
        _route53().create_health_check(CallerReference=reference, HealthCheckConfig=health_check_config)["HealthCheck"][
            "Id"
        ]
    )


def _statuses(health_check_id: str) -> set[str]:
    observations = _route53().get_health_check_status(HealthCheckId=health_check_id)["HealthCheckObservations"]
    return {o["StatusReport"]["Status"] for o in observations}


def test_a_new_health_check_is_healthy_from_every_checker_region(env: Any) -> None:
    # Given a new HTTPS health check
    clock, sim = env
    health_check_id = _create()

    # When its status is read
    observations = _route53().get_health_check_status(HealthCheckId=health_check_id)["HealthCheckObservations"]

    # Then each of the eight default checker regions reports success, checked within the last 30 s
    now = clock.now().astimezone(UTC)
    assert [o["Region"] for o in observations] == list(CHECKER_REGIONS)
    assert {o["StatusReport"]["Status"] for o in observations} == {HTTP_OK}
    assert all(timedelta(0) <= now - o["StatusReport"]["CheckedTime"] < timedelta(seconds=32) for o in observations)
    assert observations[0]["IPAddress"] == "15.177.0.10"
    assert sim.is_healthy(health_check_id) is True


def test_an_outage_is_reported_after_failure_threshold_times_request_interval(env: Any) -> None:
    # Given a health check with the defaults (3 failures x 30 s)
    clock, sim = env
    health_check_id = _create()

    # When the endpoint stops answering
    sim.set_endpoint_health(health_check_id, False)

    # Then it is still healthy 60 s later, and unhealthy once 90 s have passed
    clock.advance(60)
    assert (sim.is_healthy(health_check_id), _statuses(health_check_id)) == (True, {HTTP_OK})
    clock.advance(31)
    assert (sim.is_healthy(health_check_id), _statuses(health_check_id)) == (False, {TIMED_OUT})


def test_failure_threshold_and_interval_come_from_the_health_check(env: Any) -> None:
    # Given a fast health check: 1 failure x 10 s
    clock, sim = env
    health_check_id = _create(RequestInterval=10, FailureThreshold=1)

    # When the endpoint fails and 11 s pass
    sim.set_endpoint_health(health_check_id, False)
    clock.advance(11)

    # Then it is unhealthy
    assert sim.is_healthy(health_check_id) is False


def test_a_blip_shorter_than_the_threshold_is_not_reported(env: Any) -> None:
    # Given an endpoint that fails for 30 s and recovers
    clock, sim = env
    health_check_id = _create()
    sim.set_endpoint_health(health_check_id, False)
    clock.advance(30)
    sim.set_endpoint_health(health_check_id, True)

    # When much more time passes
    clock.advance(300)

    # Then the health check never went unhealthy
    assert sim.is_healthy(health_check_id) is True


def test_inverted_flips_the_reported_status(env: Any) -> None:
    # Given a healthy endpoint whose health check is inverted (a planned move of traffic)
    _clock, sim = env
    health_check_id = _create()
    _route53().update_health_check(HealthCheckId=health_check_id, Inverted=True)

    # When its status is read
    statuses = _statuses(health_check_id)

    # Then Route 53 reports it unhealthy, and back to healthy once inversion is removed
    assert sim.is_healthy(health_check_id) is False
    assert sim.endpoint_healthy(health_check_id) is True
    assert statuses == {
        "Failure: HTTP Status Code 200, OK (the health check is inverted, so this result is reported "
        "the other way round)"
    }
    _route53().update_health_check(HealthCheckId=health_check_id, Inverted=False)
    assert sim.is_healthy(health_check_id) is True


def test_inverted_health_check_of_a_down_endpoint_is_healthy(env: Any) -> None:
    # Given an inverted health check created that way, and its endpoint down
    _clock, sim = env
    health_check_id = _create(Inverted=True)
    sim.set_endpoint_health(health_check_id, False, immediate=True)

    # Then it is reported healthy
    assert sim.is_healthy(health_check_id) is True
    assert {s.split(":")[0] for s in _statuses(health_check_id)} == {"Success"}


def test_disabled_health_check_is_healthy(env: Any) -> None:
    # Given a disabled health check of a down endpoint
    _clock, sim = env
    health_check_id = _create(Disabled=True)
    sim.set_endpoint_health(health_check_id, False, immediate=True)

    # Then it is considered healthy
    assert sim.is_healthy(health_check_id) is True
    assert _statuses(health_check_id) == {"Success: Health check is disabled: Route 53 considers it healthy"}


def test_configured_checker_regions_are_the_observations(env: Any) -> None:
    # Given a TCP health check checked from three regions
    health_check_id = _create(Type="TCP", Regions=["us-east-1", "us-west-2", "eu-west-1"])

    # When its status is read
    observations = _route53().get_health_check_status(HealthCheckId=health_check_id)["HealthCheckObservations"]

    # Then one observation per configured region
    assert [(o["Region"], o["StatusReport"]["Status"]) for o in observations] == [
        ("us-east-1", "Success: TCP connection established"),
        ("us-west-2", "Success: TCP connection established"),
        ("eu-west-1", "Success: TCP connection established"),
    ]


def test_calculated_health_check_follows_its_children(env: Any) -> None:
    # Given a calculated check needing 2 healthy of 2 children
    _clock, sim = env
    east, west = _create("east"), _create("west")
    parent = _create("parent", Type="CALCULATED", ChildHealthChecks=[east, west], HealthThreshold=2)

    # When one child's endpoint goes down
    sim.set_endpoint_health(west, False, immediate=True)

    # Then the calculated check is unhealthy, and GetHealthCheckStatus refuses it as in AWS
    assert sim.is_healthy(parent) is False
    with pytest.raises(ClientError) as error:
        _route53().get_health_check_status(HealthCheckId=parent)
    assert error.value.response["Error"]["Code"] == "InvalidInput"


def test_unknown_health_check_is_no_such_health_check(env: Any) -> None:
    # When an unknown id is read
    with pytest.raises(ClientError) as error:
        _route53().get_health_check_status(HealthCheckId="00000000-0000-0000-0000-000000000000")

    # Then NoSuchHealthCheck, HTTP 404
    assert error.value.response["Error"]["Code"] == "NoSuchHealthCheck"
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_health_check_status_metric_follows_the_reported_status(env: Any) -> None:
    # Given a health check read once through CloudWatch (publishing the first point, 1)
    clock, sim = env
    health_check_id = _create()
    cw = boto3.client("cloudwatch", region_name="us-east-1")
    start = clock.now().astimezone(UTC).replace(microsecond=0) - timedelta(seconds=30)

    def minimums() -> list[float]:
        result = cw.get_metric_data(
            MetricDataQueries=[
                {
                    "Id": "status",
                    "MetricStat": {
                        "Metric": {
                            "Namespace": "AWS/Route53",
                            "MetricName": "HealthCheckStatus",
                            "Dimensions": [{"Name": "HealthCheckId", "Value": health_check_id}],
                        },
                        "Period": 60,
                        "Stat": "Minimum",
                    },
                }
            ],
            StartTime=start,
            EndTime=start + timedelta(minutes=10),
            ScanBy="TimestampAscending",
        )
        return list(result["MetricDataResults"][0]["Values"])

    assert minimums() == [1.0]

    # When the endpoint fails and two minutes pass (reported unhealthy after 90 s)
    sim.set_endpoint_health(health_check_id, False)
    clock.advance(120)

    # Then the metric reads 0 for the new minutes, and it lives in us-east-1 only
    assert minimums() == [1.0, 0.0, 0.0]
    west = boto3.client("cloudwatch", region_name="us-west-2").list_metrics(Namespace="AWS/Route53")
    assert west["Metrics"] == []
