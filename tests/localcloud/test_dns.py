"""The Route 53 DNS data plane: real DNS answers over UDP that follow the health checks."""

from __future__ import annotations

from typing import Any

import dns.message
import dns.query
import dns.rcode
import dns.resolver
import pytest

from localcloud.cloud import LocalCloud
from localcloud.scenario import Platform
from tests import forkserver

NAME = "api.roadcall.example"


def ask(cloud: LocalCloud, name: str, rtype: str = "A") -> dns.message.Message:
    host, port = cloud.dns.address.rsplit(":", 1)
    return dns.query.udp(dns.message.make_query(name, rtype), host, port=int(port), timeout=5)


def a_records(cloud: LocalCloud, name: str = NAME) -> list[str]:
    """The answer an ordinary resolver gets (dnspython pointed at cloud.dns.address, as DNS_RESOLVER does)."""
    resolver = dns.resolver.Resolver(configure=False)
    host, port = cloud.dns.address.rsplit(":", 1)
    resolver.nameservers, resolver.port = [host], int(port)
    return [str(r) for r in resolver.resolve(name, "A", lifetime=5)]


@pytest.fixture
@forkserver.fork_safe
def routed(platform: Platform) -> Platform:
    """The seeded platform with the app deployed (``platform``, from the suite's fork server when it runs):
    its failover records for api.roadcall.example."""
    return platform


def pin_traffic(platform: Platform, value: float) -> None:
    """What the failover's data-plane action does (MoveTraffic): the traffic-pin metric in the recovery region,
    and the alarm's state, which the app's KeepTrafficPin republishes every minute."""
    d = platform.design
    cloudwatch = platform.cloud.client("cloudwatch", d.recovery_region)
    cloudwatch.put_metric_data(
        Namespace="RoadCallDR",
        MetricData=[
            {"MetricName": "TrafficPinnedToRecovery", "Dimensions": [{"Name": "Record", "Value": NAME}], "Value": value}
        ],
    )
    state = "ALARM" if value else "OK"
    cloudwatch.set_alarm_state(AlarmName=f"{d.stack_name}-traffic-pin", StateValue=state, StateReason="test")


def test_the_primary_answers_while_everything_is_healthy(routed: Platform) -> None:
    assert routed.cloud.dns.address.startswith("127.0.0.1:")
    assert a_records(routed.cloud) == ["127.0.1.1"]
    assert routed.traffic_region() == routed.design.primary_region
    assert routed.parameters()["DnsResolver"] == routed.cloud.dns.address
    assert routed.parameters()["TrafficDnsAnswers"] == "us-east-1=127.0.1.1,us-west-2=127.0.2.1"


def test_the_secondary_answers_when_the_primary_endpoint_goes_down(routed: Platform) -> None:
    routed.primary_outage(minutes=0)
    assert a_records(routed.cloud) == ["127.0.2.1"]
    assert routed.traffic_region() == routed.design.recovery_region
    routed.primary_recovers()
    assert a_records(routed.cloud) == ["127.0.1.1"]


def test_the_traffic_pin_in_alarm_moves_users_even_with_the_primary_healthy(routed: Platform) -> None:
    # Given a healthy primary, when the recovery region pins the traffic (data plane: PutMetricData there)
    pin_traffic(routed, 1.0)
    routed.cloud.advance(60)
    # Then Route 53 answers the secondary, alarm evaluation on or off (it watches the alarm's data stream)
    assert routed.alarms.enabled is False
    assert a_records(routed.cloud) == ["127.0.2.1"]
    # and it stays there while the metric is quiet (the alarm ignores missing data), until unpinned
    routed.cloud.advance(1800)
    assert a_records(routed.cloud) == ["127.0.2.1"]
    pin_traffic(routed, 0.0)
    # the stream is judged by minute (Maximum): the minute that still holds the last 1 must pass
    for _ in range(2):
        routed.cloud.advance(60)
    assert a_records(routed.cloud) == ["127.0.1.1"]


def test_when_both_are_unhealthy_route_53_answers_the_primary(routed: Platform) -> None:
    routed.primary_outage(minutes=0)
    routed.recovery_endpoint_unhealthy()
    assert a_records(routed.cloud) == ["127.0.1.1"]


def test_dns_keeps_answering_in_a_region_outage(routed: Platform) -> None:
    routed.primary_outage("region", minutes=1)
    assert a_records(routed.cloud) == ["127.0.2.1"]


def test_unknown_names_are_nxdomain_in_a_zone_and_refused_outside(routed: Platform) -> None:
    inside = ask(routed.cloud, "nothing.roadcall.example")
    assert inside.rcode() == dns.rcode.NXDOMAIN
    outside = ask(routed.cloud, "example.org")
    assert outside.rcode() == dns.rcode.REFUSED
    no_data = ask(routed.cloud, NAME, "AAAA")
    assert no_data.rcode() == dns.rcode.NOERROR and not no_data.answer


def test_simple_and_cname_records_are_answered_as_they_are(cloud: LocalCloud) -> None:
    route53 = cloud.client("route53", "us-east-1")
    zone = route53.create_hosted_zone(Name="plain.example.", CallerReference="plain")["HostedZone"]["Id"]
    changes: list[dict[str, Any]] = [
        {
            "Action": "CREATE",
            "ResourceRecordSet": {
                "Name": "www.plain.example",
                "Type": "A",
                "TTL": 30,
                "ResourceRecords": [{"Value": "10.0.0.1"}, {"Value": "10.0.0.2"}],
            },
        },
        {
            "Action": "CREATE",
            "ResourceRecordSet": {
                "Name": "alias.plain.example",
                "Type": "CNAME",
                "TTL": 30,
                "ResourceRecords": [{"Value": "www.plain.example"}],
            },
        },
    ]
    route53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": changes})
    assert sorted(a_records(cloud, "WWW.plain.example.")) == ["10.0.0.1", "10.0.0.2"]
    answer = ask(cloud, "alias.plain.example")
    assert answer.answer[0].rdtype == dns.rdatatype.CNAME
    assert str(answer.answer[0][0]) == "www.plain.example."
    assert answer.answer[0].ttl == 30


def test_a_cloudwatch_metric_check_with_insufficient_data_follows_its_setting(cloud: LocalCloud) -> None:
    from localcloud.services.alarms import AlarmEvaluator
    from localcloud.services.route53_health import Route53HealthSimulator

    health = Route53HealthSimulator(cloud.clock, model_failure_threshold=False)
    health.register(cloud.interceptor)
    health.alarm_state = AlarmEvaluator(cloud.clock, cloud.router).state_of
    cw = cloud.client("cloudwatch", "us-west-2")
    cw.put_metric_alarm(
        AlarmName="quiet",
        Namespace="N",
        MetricName="M",
        Statistic="Maximum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1.0,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        TreatMissingData="missing",
    )
    route53 = cloud.client("route53", "us-east-1")
    checks = {
        setting: route53.create_health_check(
            CallerReference=f"quiet-{setting}",
            HealthCheckConfig={
                "Type": "CLOUDWATCH_METRIC",
                "AlarmIdentifier": {"Region": "us-west-2", "Name": "quiet"},
                "InsufficientDataHealthStatus": setting,
            },
        )["HealthCheck"]["Id"]
        for setting in ("Healthy", "Unhealthy", "LastKnownStatus")
    }
    assert health.is_healthy(checks["Healthy"]) is True
    assert health.is_healthy(checks["Unhealthy"]) is False
    assert health.is_healthy(checks["LastKnownStatus"]) is True  # nothing known yet
    cw.put_metric_data(Namespace="N", MetricData=[{"MetricName": "M", "Value": 5.0}])
    cloud.advance(60)
    assert health.is_healthy(checks["Healthy"]) is False  # ALARM
    assert health.is_healthy(checks["LastKnownStatus"]) is False
    cloud.advance(600)  # the data stream goes quiet: insufficient data
    assert health.is_healthy(checks["Healthy"]) is True
    assert health.is_healthy(checks["LastKnownStatus"]) is False  # the last known status: unhealthy


def test_set_alarm_state_does_not_move_a_cloudwatch_metric_health_check(routed: Platform) -> None:
    # AWS: Route 53 monitors the alarm's data stream, so SetAlarmState cannot force a health check's status
    d = routed.design
    routed.cloud.client("cloudwatch", d.recovery_region).set_alarm_state(
        AlarmName=f"{d.stack_name}-traffic-pin", StateValue="ALARM", StateReason="forced"
    )
    assert a_records(routed.cloud) == ["127.0.1.1"]
