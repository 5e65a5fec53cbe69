"""CloudWatch alarm evaluation on the virtual clock: the rules AWS documents, the actions and the events."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from localcloud.cloud import LocalCloud
from localcloud.scenario import Platform, PlatformDesign
from localcloud.services.alarms import AlarmEvaluator, Expression

REGION = "us-west-2"


@pytest.fixture
def evaluator(cloud: LocalCloud) -> AlarmEvaluator:
    built = AlarmEvaluator(cloud.clock, cloud.router)
    built.register(cloud.interceptor)
    return built


def boundary(cloud: LocalCloud) -> datetime:
    now = cloud.clock.now()
    return datetime.fromtimestamp(int(now.timestamp()) // 60 * 60, UTC)


def put_alarm(cloud: LocalCloud, name: str, **overrides: Any) -> None:
    props: dict[str, Any] = {
        "AlarmName": name,
        "Namespace": "Test",
        "MetricName": "Signal",
        "Dimensions": [{"Name": "Endpoint", "Value": "primary"}],
        "Statistic": "Minimum",
        "Period": 60,
        "EvaluationPeriods": 3,
        "Threshold": 1.0,
        "ComparisonOperator": "LessThanThreshold",
        "TreatMissingData": "missing",
    }
    props.update(overrides)
    cloud.client("cloudwatch", REGION).put_metric_alarm(**props)


def put_points(
    cloud: LocalCloud, at: datetime, values: list[float | None], metric: str = "Signal", **dims: str
) -> None:
    """``values`` for the periods before ``at``, oldest first (None: no datapoint in that minute)."""
    dimensions = [{"Name": k, "Value": v} for k, v in (dims or {"Endpoint": "primary"}).items()]
    for k, value in enumerate(reversed(values), start=1):
        if value is None:
            continue
        cloud.client("cloudwatch", REGION).put_metric_data(
            Namespace="Test",
            MetricData=[
                {
                    "MetricName": metric,
                    "Dimensions": dimensions,
                    "Value": value,
                    "Timestamp": at - timedelta(seconds=60 * k - 10),
                }
            ],
        )


def state(cloud: LocalCloud, name: str) -> dict[str, Any]:
    alarm: dict[str, Any] = cloud.client("cloudwatch", REGION).describe_alarms(AlarmNames=[name])["MetricAlarms"][0]
    return alarm


# -- TreatMissingData ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("treat", "expected"),
    [("breaching", "ALARM"), ("notBreaching", "OK"), ("missing", "INSUFFICIENT_DATA")],
)
def test_an_alarm_with_no_data_follows_its_treat_missing_data(
    cloud: LocalCloud, evaluator: AlarmEvaluator, treat: str, expected: str
) -> None:
    put_alarm(cloud, f"no-data-{treat}", TreatMissingData=treat)
    evaluator.evaluate_all(boundary(cloud))
    assert state(cloud, f"no-data-{treat}")["StateValue"] == expected


def test_an_alarm_that_ignores_missing_data_keeps_its_state_when_data_stops(
    cloud: LocalCloud, evaluator: AlarmEvaluator
) -> None:
    at = boundary(cloud)
    put_alarm(cloud, "ignoring", TreatMissingData="ignore", EvaluationPeriods=1)
    put_points(cloud, at, [0.0])
    evaluator.evaluate_all(at)
    assert state(cloud, "ignoring")["StateValue"] == "ALARM"

    evaluator.evaluate_all(at + timedelta(minutes=30))  # no data in its evaluation range any more
    assert state(cloud, "ignoring")["StateValue"] == "ALARM"


def test_enough_real_datapoints_are_evaluated_without_treating_the_missing_ones(
    cloud: LocalCloud, evaluator: AlarmEvaluator
) -> None:
    # Given 3 healthy datapoints among the last 5 minutes and the two most recent missing
    at = boundary(cloud)
    put_alarm(cloud, "gappy", TreatMissingData="breaching")
    put_points(cloud, at, [1.0, 1.0, 1.0, None, None])
    evaluator.evaluate_all(at)
    # Then the real datapoints decide (AWS: TreatMissingData is not needed), not the missing ones
    assert state(cloud, "gappy")["StateValue"] == "OK"


def test_missing_datapoints_treated_as_breaching_fill_only_what_is_missing(
    cloud: LocalCloud, evaluator: AlarmEvaluator
) -> None:
    at = boundary(cloud)
    put_alarm(cloud, "one-real", TreatMissingData="breaching", DatapointsToAlarm=3)
    put_points(cloud, at, [1.0])  # one healthy point; two periods missing
    evaluator.evaluate_all(at)
    assert state(cloud, "one-real")["StateValue"] == "OK"  # 2 breaching (filled) < 3
    put_alarm(cloud, "one-real-2of3", TreatMissingData="breaching", DatapointsToAlarm=2)
    evaluator.evaluate_all(at)
    assert state(cloud, "one-real-2of3")["StateValue"] == "ALARM"


def test_dynamodb_metrics_always_ignore_missing_data(cloud: LocalCloud, evaluator: AlarmEvaluator) -> None:
    put_alarm(cloud, "ddb", Namespace="AWS/DynamoDB", MetricName="ReplicationLatency", TreatMissingData="breaching")
    evaluator.evaluate_all(boundary(cloud))
    assert state(cloud, "ddb")["StateValue"] == "INSUFFICIENT_DATA"  # kept (new alarms start there)


# -- DatapointsToAlarm ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("values", "expected"), [([1.0, 0.0, 1.0], "OK"), ([0.0, 1.0, 0.0], "ALARM")])
def test_m_out_of_n_datapoints_must_breach(
    cloud: LocalCloud, evaluator: AlarmEvaluator, values: list[float], expected: str
) -> None:
    at = boundary(cloud)
    put_alarm(cloud, "two-of-three", DatapointsToAlarm=2)
    put_points(cloud, at, values)
    evaluator.evaluate_all(at)
    out = state(cloud, "two-of-three")
    assert out["StateValue"] == expected
    assert "Threshold Crossed" in out["StateReason"]
    reason_data = json.loads(out["StateReasonData"])
    assert reason_data["recentDatapoints"] == values
    assert (reason_data["period"], reason_data["threshold"]) == (60, 1.0)


def test_the_statistic_aggregates_every_datapoint_of_the_period(cloud: LocalCloud, evaluator: AlarmEvaluator) -> None:
    at = boundary(cloud)
    put_alarm(
        cloud, "sum", Statistic="Sum", EvaluationPeriods=1, Threshold=5.0, ComparisonOperator="GreaterThanThreshold"
    )
    put_points(cloud, at, [3.0])
    put_points(cloud, at, [4.0])
    evaluator.evaluate_all(at)
    assert state(cloud, "sum")["StateValue"] == "ALARM"  # 3 + 4 > 5, though each alone is not


# -- metric math ---------------------------------------------------------------------------------------
def math_alarm(cloud: LocalCloud, name: str, expression: str, ids: list[str], stat: str = "Maximum") -> None:
    metrics: list[dict[str, Any]] = [{"Id": "e", "Expression": expression, "Label": "worst"}]
    metrics += [
        {
            "Id": i,
            "ReturnData": False,
            "MetricStat": {
                "Metric": {"Namespace": "Test", "MetricName": "Lag", "Dimensions": [{"Name": "Table", "Value": i}]},
                "Period": 60,
                "Stat": stat,
            },
        }
        for i in ids
    ]
    cloud.client("cloudwatch", REGION).put_metric_alarm(
        AlarmName=name,
        Metrics=metrics,
        EvaluationPeriods=1,
        Threshold=5000.0,
        ComparisonOperator="GreaterThanThreshold",
        TreatMissingData="notBreaching",
    )


def test_a_max_of_metrics_alarm_fires_on_the_worst_member(cloud: LocalCloud, evaluator: AlarmEvaluator) -> None:
    at = boundary(cloud)
    math_alarm(cloud, "worst", "MAX([t0, t1, t2])", ["t0", "t1", "t2"])
    put_points(cloud, at, [100.0], metric="Lag", Table="t0")
    put_points(cloud, at, [9000.0], metric="Lag", Table="t2")  # t1 has no data: skipped
    evaluator.evaluate_all(at)
    assert state(cloud, "worst")["StateValue"] == "ALARM"


def test_a_sum_of_metrics_alarm_needs_every_operand(cloud: LocalCloud, evaluator: AlarmEvaluator) -> None:
    at = boundary(cloud)
    math_alarm(cloud, "sum-all", "a + b + c", ["a", "b", "c"], stat="Sum")
    put_points(cloud, at, [3000.0], metric="Lag", Table="a")
    put_points(cloud, at, [3000.0], metric="Lag", Table="b")
    evaluator.evaluate_all(at)
    assert state(cloud, "sum-all")["StateValue"] == "OK"  # c missing: the sum is missing -> notBreaching
    put_points(cloud, at, [1.0], metric="Lag", Table="c")
    evaluator.evaluate_all(at)
    assert state(cloud, "sum-all")["StateValue"] == "ALARM"


def test_the_expression_subset() -> None:
    values = {"a": 1.0, "b": 2.0, "c": None}
    assert Expression("a + b * 2").evaluate(values) == 5.0
    assert Expression("(a + b) / 2").evaluate(values) == 1.5
    assert Expression("MAX([a, b, c])").evaluate(values) == 2.0
    assert Expression("SUM([a, b])").evaluate(values) == 3.0
    assert Expression("a + c").evaluate(values) is None
    assert Expression("MIN([c])").evaluate(values) is None
    with pytest.raises(ValueError, match="not the id"):
        Expression("a + d").evaluate(values)


# -- state changes: actions and events -------------------------------------------------------------------
def subscribed_queue(cloud: LocalCloud, topic_arn: str) -> str:
    sqs = cloud.client("sqs", REGION)
    url = sqs.create_queue(QueueName="alarm-inbox")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    cloud.client("sns", REGION).subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn)
    return str(url)


def received(cloud: LocalCloud, url: str) -> list[dict[str, Any]]:
    messages = cloud.client("sqs", REGION).receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(m["Body"]) for m in messages]


def test_a_state_change_notifies_the_topic_and_emits_the_event_in_awss_shape(
    cloud: LocalCloud, evaluator: AlarmEvaluator
) -> None:
    # Given an alarm whose ALARM action is a topic
    topic = cloud.client("sns", REGION).create_topic(Name="dr")["TopicArn"]
    url = subscribed_queue(cloud, topic)
    put_alarm(cloud, "probe", TreatMissingData="breaching", AlarmActions=[topic], AlarmDescription="probe fails")

    # When it is evaluated with no data (breaching)
    evaluator.evaluate_all(boundary(cloud))

    # Then the topic got CloudWatch's message
    [message] = received(cloud, url)
    assert message["Subject"] == 'ALARM: "probe" in US West (Oregon)'
    body = json.loads(message["Message"])
    assert (body["AlarmName"], body["NewStateValue"], body["OldStateValue"]) == ("probe", "ALARM", "INSUFFICIENT_DATA")
    assert body["Trigger"]["MetricName"] == "Signal"
    # and the event went to the region's default bus
    [delivered] = [d for d in cloud.router.delivered if d["event"]["source"] == "aws.cloudwatch"]
    event = delivered["event"]
    assert (delivered["region"], delivered["bus"]) == (REGION, "default")
    assert set(event) == {"version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"}
    assert (event["detail-type"], event["region"]) == ("CloudWatch Alarm State Change", REGION)
    assert event["resources"] == [f"arn:aws:cloudwatch:{REGION}:123456789012:alarm:probe"]
    detail = event["detail"]
    assert detail["alarmName"] == "probe"
    assert detail["state"]["value"] == "ALARM" and detail["previousState"]["value"] == "INSUFFICIENT_DATA"
    assert set(detail["state"]) == {"value", "reason", "reasonData", "timestamp"}
    assert detail["configuration"]["description"] == "probe fails"
    [metric] = detail["configuration"]["metrics"]
    assert metric["metricStat"]["metric"] == {
        "namespace": "Test",
        "name": "Signal",
        "dimensions": {"Endpoint": "primary"},
    }
    assert (metric["metricStat"]["period"], metric["metricStat"]["stat"], metric["returnData"]) == (60, "Minimum", True)

    # When nothing changes at the next evaluation, nothing more is sent
    evaluator.evaluate_all(boundary(cloud) + timedelta(minutes=1))
    assert received(cloud, url) == []


def test_set_alarm_state_emits_the_event_and_runs_the_actions(cloud: LocalCloud, evaluator: AlarmEvaluator) -> None:
    topic = cloud.client("sns", REGION).create_topic(Name="dr")["TopicArn"]
    url = subscribed_queue(cloud, topic)
    put_alarm(cloud, "manual", AlarmActions=[topic])
    cloud.client("cloudwatch", REGION).set_alarm_state(AlarmName="manual", StateValue="ALARM", StateReason="drill")
    [message] = received(cloud, url)
    assert json.loads(message["Message"])["NewStateReason"] == "drill"
    events = [d["event"] for d in cloud.router.delivered if d["event"]["source"] == "aws.cloudwatch"]
    assert [e["detail"]["state"]["value"] for e in events] == ["ALARM"]


def test_a_topic_whose_key_cloudwatch_may_not_use_receives_nothing(
    cloud: LocalCloud, evaluator: AlarmEvaluator
) -> None:
    kms = cloud.client("kms", REGION)
    key = kms.create_key(Description="no cloudwatch")["KeyMetadata"]["KeyId"]  # default policy: the account only
    topic = cloud.client("sns", REGION).create_topic(Name="locked", Attributes={"KmsMasterKeyId": key})["TopicArn"]
    url = subscribed_queue(cloud, topic)
    put_alarm(cloud, "locked", TreatMissingData="breaching", AlarmActions=[topic])
    evaluator.evaluate_all(boundary(cloud))
    assert received(cloud, url) == []
    assert (
        evaluator.failed_actions[0]["alarm"] == "locked"
        and "cloudwatch.amazonaws.com" in evaluator.failed_actions[0]["why"]
    )


# -- the template's alarms on the platform ----------------------------------------------------------------
@pytest.fixture
def evaluating_platform(cloud: LocalCloud) -> Any:
    built = Platform(cloud, PlatformDesign(evaluate_alarms=True)).seed()
    built.deploy()
    yield built
    built.close()


def cloudwatch_state(platform: Platform, region: str, name: str) -> str:
    alarms = platform.cloud.client("cloudwatch", region).describe_alarms(AlarmNames=[name])["MetricAlarms"]
    return str(alarms[0]["StateValue"])


def alarm_states(platform: Platform, region: str, name: str) -> list[str]:
    return [t["to"] for t in platform.alarms.transitions if t["region"] == region and t["alarm"] == name]


def test_the_probe_and_health_alarms_fire_when_the_primary_goes_down(evaluating_platform: Platform) -> None:
    platform, d = evaluating_platform, evaluating_platform.design
    probe, health = f"{d.stack_name}-primary-probe", f"{d.stack_name}-primary-health"
    # Given the alarms settled after the deployment (the health alarm never left OK: its metric has history)
    assert alarm_states(platform, d.recovery_region, probe)[-1] == "OK"
    assert alarm_states(platform, d.primary_region, health) == ["OK"]

    # When the primary endpoint goes down for its alarms' evaluation window (2 of 3 minutes)
    platform.primary_outage("app", minutes=3)

    # Then the probe alarm in us-west-2 is in ALARM, and its event is on the us-west-2 bus
    assert alarm_states(platform, d.recovery_region, probe)[-1] == "ALARM"
    assert any(
        e["region"] == d.recovery_region and e["event"]["detail"].get("alarmName") == probe
        for e in platform.cloud.router.delivered
    )
    # and the us-east-1 health alarm fired from HealthCheckStatus; its event reached us-west-2 (forwarder)
    assert alarm_states(platform, d.primary_region, health)[-1] == "ALARM"
    forwarded = [
        e
        for e in platform.cloud.router.delivered
        if e["region"] == d.recovery_region and e["event"]["detail"].get("alarmName") == health
    ]
    assert forwarded and forwarded[-1]["event"]["region"] == d.primary_region
    assert any(
        s["stateMachineArn"] == platform.stack.arn("FailoverStateMachine") for s in platform.cloud.router.started
    )


def test_in_a_region_outage_the_primary_regions_alarms_stay_silent(evaluating_platform: Platform) -> None:
    platform, d = evaluating_platform, evaluating_platform.design
    health = f"{d.stack_name}-primary-health"
    before, delivered_before = (
        len(alarm_states(platform, d.primary_region, health)),
        len(platform.cloud.router.delivered),
    )

    # When us-east-1 is down for the health alarm's whole evaluation window and more
    platform.primary_outage("region", minutes=5)

    # Then its health alarm was not evaluated, and nothing was delivered from (or forwarded by) us-east-1
    assert len(alarm_states(platform, d.primary_region, health)) == before
    since = platform.cloud.router.delivered[delivered_before:]
    assert not [e for e in since if e["event"]["detail"].get("alarmName") == health]
    assert not [e for e in since if e["region"] == d.primary_region]
    # while the recovery region's own probe alarm sees the outage
    assert alarm_states(platform, d.recovery_region, f"{d.stack_name}-primary-probe")[-1] == "ALARM"
    # and after the outage us-east-1 evaluates again and the healthy datapoints leave the alarm OK. (Whether
    # the gap first shows as a brief ALARM depends on when the late datapoints land against the evaluation
    # boundaries while the failover the probe alarm started moves the clock: both are what AWS can do.)
    platform.primary_recovers()
    for _ in range(4):
        platform.cloud.advance(60)
    assert platform.alarms.evaluates(d.primary_region)
    assert alarm_states(platform, d.primary_region, health)[before:] in ([], ["ALARM", "OK"])
    assert cloudwatch_state(platform, d.primary_region, health) == "OK"
