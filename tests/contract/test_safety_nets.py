"""The safety nets of template.yaml: every EventBridge rule target and every schedule retries and has an
encrypted dead-letter queue in its own region, every such queue has an alarm, every alarm notifies exactly
once (its own AlarmActions in the recovery region, AlarmNotificationRule for the primary region's), and every
state machine has a top-level TimeoutSeconds longer than its longest legitimate run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from localcloud.template import expanded_template
from tests.contract.test_asl_conventions import asl_conventions

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = expanded_template(ROOT / "template.yaml")
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
PARAMETERS: dict[str, Any] = TEMPLATE["Parameters"]
RECOVERY_ONLY = {"IsRecoveryRegion", "HasEmail", "CreateRecoveryVault"}
PRIMARY_ONLY = {"IsPrimaryRegion", "HasPrimaryHealthCheck", "CreatePrimaryVault"}


def _targets() -> list[tuple[str, str, dict[str, Any]]]:
    """(where, resource's logical id, the target or event properties) of every rule target and schedule."""
    out = []
    for lid, res in RESOURCES.items():
        props = res.get("Properties") or {}
        for event_id, event in (props.get("Events") or {}).items():
            if event["Type"] in ("EventBridgeRule", "CloudWatchEvent", "Schedule", "ScheduleV2"):
                out.append((f"{lid}.Events.{event_id}", lid, event["Properties"]))
        if res["Type"] == "AWS::Events::Rule":
            out.extend((f"{lid}.Targets.{t['Id']}", lid, t) for t in props["Targets"])
        if res["Type"] == "AWS::Scheduler::Schedule":
            out.append((f"{lid}.Target", lid, props["Target"]))
    return out


def _ref(value: Any) -> str:
    """The logical id a !Ref / !GetAtt names."""
    if isinstance(value, dict) and "Ref" in value:
        return str(value["Ref"])
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        att = value["Fn::GetAtt"]
        return str(att[0] if isinstance(att, list) else att.split(".")[0])
    raise AssertionError(f"expected a !Ref or !GetAtt of a resource, found {value!r}")


def _regions(lid: str) -> set[str]:
    condition = RESOURCES[lid].get("Condition")
    if condition in RECOVERY_ONLY:
        return {"recovery"}
    if condition in PRIMARY_ONLY:
        return {"primary"}
    assert condition is None, f"{lid}: condition {condition} is not known to this test"
    return {"primary", "recovery"}


TARGETS = _targets()


def test_the_template_has_rule_targets_and_schedules_to_check() -> None:
    assert len(TARGETS) >= 10


@pytest.mark.parametrize(("where", "owner", "target"), TARGETS, ids=[t[0] for t in TARGETS])
def test_every_rule_target_and_schedule_retries_into_an_encrypted_queue_of_its_region(
    where: str, owner: str, target: dict[str, Any]
) -> None:
    retry = target.get("RetryPolicy") or {}
    assert 0 <= retry.get("MaximumRetryAttempts", -1) <= 185, f"{where}: RetryPolicy.MaximumRetryAttempts"
    assert 60 <= retry.get("MaximumEventAgeInSeconds", 0) <= 86400, f"{where}: RetryPolicy.MaximumEventAgeInSeconds"
    queue = _ref((target.get("DeadLetterConfig") or {}).get("Arn"))
    assert RESOURCES[queue]["Type"] == "AWS::SQS::Queue", where
    props = RESOURCES[queue]["Properties"]
    assert props.get("SqsManagedSseEnabled") is True or props.get("KmsMasterKeyId"), f"{queue} is not encrypted"
    assert _regions(owner) <= _regions(queue), f"{where}: its dead-letter queue is not in every region it is"


def test_rules_may_send_to_their_dead_letter_queues() -> None:
    queues = {_ref(t["DeadLetterConfig"]["Arn"]) for _, _, t in TARGETS}
    for queue in queues:
        policies = [
            r["Properties"]["PolicyDocument"]
            for r in RESOURCES.values()
            if r["Type"] == "AWS::SQS::QueuePolicy" and queue in {_ref(q) for q in r["Properties"]["Queues"]}
        ]
        statements = [s for p in policies for s in p["Statement"]]
        assert any(
            s["Effect"] == "Allow"
            and s["Principal"] == {"Service": "events.amazonaws.com"}
            and s["Action"] == "sqs:SendMessage"
            and "aws:SourceArn" in s["Condition"]["ArnLike"]
            for s in statements
        ), f"no queue policy lets this stack's rules send to {queue}"


def test_every_dead_letter_queue_has_an_alarm_on_visible_messages() -> None:
    queues = {lid for lid, r in RESOURCES.items() if r["Type"] == "AWS::SQS::Queue"}
    watched = {
        _ref(d["Value"])
        for r in RESOURCES.values()
        if r["Type"] == "AWS::CloudWatch::Alarm"
        and r["Properties"].get("MetricName") == "ApproximateNumberOfMessagesVisible"
        for d in r["Properties"]["Dimensions"]
        if d["Name"] == "QueueName"
    }
    assert queues and queues <= watched


ALARMS = {lid: r for lid, r in RESOURCES.items() if r["Type"] == "AWS::CloudWatch::Alarm"}


@pytest.mark.parametrize("lid", sorted(ALARMS))
def test_every_alarm_notifies_exactly_once(lid: str) -> None:
    props = ALARMS[lid]["Properties"]
    assert props["AlarmName"]["Fn::Sub"].startswith("${AWS::StackName}-")  # what both rules match
    rule = RESOURCES["AlarmNotificationRule"]["Properties"]["EventPattern"]
    forwarded = RESOURCES["ForwardAlarmsRule"]["Properties"]["EventPattern"]["detail"]["alarmName"]
    assert rule["region"] == [{"Ref": "PrimaryRegion"}]  # the rule notifies the primary region's alarms only
    assert forwarded == rule["detail"]["alarmName"] == [{"prefix": {"Fn::Sub": "${AWS::StackName}-"}}]
    actions = props.get("AlarmActions")
    if lid == "TrafficPinAlarm":  # a switch, not a page: it is set on purpose by the failover
        assert actions is None
    elif _regions(lid) == {"recovery"}:
        assert actions == [{"Ref": "EventsTopic"}], f"{lid} notifies through its own AlarmActions"
    elif _regions(lid) == {"primary"}:
        assert actions is None, f"{lid} is notified by AlarmNotificationRule; actions would notify twice"
    else:  # in both regions: its own action where the topic is, the rule for the primary's
        assert actions == {"Fn::If": ["IsRecoveryRegion", [{"Ref": "EventsTopic"}], {"Ref": "AWS::NoValue"}]}
    for kind in ("OKActions", "InsufficientDataActions"):
        assert props.get(kind) in (None, actions), f"{lid}: {kind} other than its AlarmActions"


def _asl(lid: str) -> dict[str, Any]:
    return dict(json.loads((ROOT / RESOURCES[lid]["Properties"]["DefinitionUri"]).read_text()))


def test_every_state_machine_has_a_top_level_timeout() -> None:
    machines = [lid for lid, r in RESOURCES.items() if r["Type"] == "AWS::Serverless::StateMachine"]
    assert machines
    for lid in machines:
        assert isinstance(_asl(lid).get("TimeoutSeconds"), int), lid


def test_the_timeouts_outlast_the_longest_legitimate_runs() -> None:
    approval = PARAMETERS["ApprovalTimeoutSeconds"]["MaxValue"]  # the gate may wait this long
    promotion = 45 * (20 + 30)  # 45 polls of the writer, 20 s apart, each up to 30 s
    assert _asl("FailoverStateMachine")["TimeoutSeconds"] >= approval + promotion + 3600
    replication_wait = 30 * (120 + 60)  # 30 polls of the lag, 2 min apart, each up to 1 min
    outage_writes = 2 * 900
    assert (
        _asl("FailbackStateMachine")["TimeoutSeconds"] >= approval + promotion + replication_wait + outage_writes + 3600
    )
    restores = 60 * (120 + 300)  # RESTORE_MAX_POLLS polls, 2 min apart, each up to 5 min
    instance_wait = 60 * 60  # ValidateRestore's ReplicaNotReady: 60 looks a minute apart, on a fixed schedule
    cleanup = 240 * 60  # up to 240 looks, a minute apart
    assert _asl("RestoreTestStateMachine")["TimeoutSeconds"] >= restores + instance_wait + cleanup + 900 + 600
    batches = 10 * 600  # 100 batches, 10 at a time, each up to 10 min
    assert _asl("BackupVerificationStateMachine")["TimeoutSeconds"] >= 630 + batches + 180


def _waits(rule: dict[str, Any]) -> list[float]:
    """A retrier's waits on its fixed schedule (JitterStrategy NONE), attempt by attempt."""
    return [
        min(rule["IntervalSeconds"] * rule["BackoffRate"] ** k, rule["MaxDelaySeconds"])
        for k in range(rule["MaxAttempts"])
    ]


@pytest.mark.parametrize("workflow", ["failover", "failback"])
def test_the_verification_waits_long_enough_for_dns_to_follow_the_traffic_pin(workflow: str) -> None:
    """After MoveTraffic, DNS follows the pin alarm's data stream: a minute that still holds the keeper's
    previous value is read as such until it is over (up to two of the alarm's periods), then Route 53's
    checkers (3 x 30 s) and the record's TTL (60 s). VerifyRecovery's wait for that must cover it whatever
    the draws: a fixed schedule, and at least five minutes in all."""
    definition = json.loads((ROOT / "statemachines" / f"{workflow}.asl.json").read_text())
    (rule,) = [
        r for r in definition["States"]["VerifyRecovery"]["Retry"] if r["ErrorEquals"] == ["RecoveryNotVerified"]
    ]
    pin = RESOURCES["TrafficPinAlarm"]["Properties"]
    assert rule["JitterStrategy"] == "NONE"
    assert sum(_waits(rule)) >= max(300, 2 * pin["Period"] * pin["EvaluationPeriods"] + 3 * 30 + 60)


@pytest.mark.parametrize(
    ("workflow", "state", "at_least"),
    [
        ("failover", "ConfirmDynamoDB", 300),  # a replica UPDATING (a settings change) settles in minutes
        ("failback", "ConfirmDynamoDB", 300),
        ("restore_test", "ValidateRestore", 1800),  # a restored cluster's first instance: tens of minutes
    ],
)
def test_a_wait_for_a_replica_or_restored_resource_is_certain(workflow: str, state: str, at_least: int) -> None:
    """ReplicaNotReady is not a transient fault to spread out but a wait for AWS to finish something: a fixed
    schedule, so the time given is what the schedule says and never a draw that can sum to almost nothing."""
    definition = json.loads((ROOT / "statemachines" / f"{workflow}.asl.json").read_text())
    (found,) = [states[state] for _, states in asl_conventions.scopes(definition) if state in states]
    (rule,) = [r for r in found["Retry"] if r["ErrorEquals"] == ["ReplicaNotReady"]]
    assert rule["JitterStrategy"] == "NONE"
    assert sum(_waits(rule)) >= at_least
