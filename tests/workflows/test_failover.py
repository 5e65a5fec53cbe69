"""The failover workflow on localcloud: each test asserts the platform's end state, not only the status."""

from __future__ import annotations

import json
import threading

import pytest

from localcloud.scenario import Platform
from tests.workflows.conftest import Inbox, approval_token, audit, lease, start, wait_until

RECOVERY = "us-west-2"


def failover_executions(platform: Platform) -> list[dict]:
    return platform.cloud.executions(platform.stack.arn("FailoverStateMachine"))


def test_an_alarm_on_the_primary_bus_fails_over_alone_and_measures_rto_and_rpo(
    platform: Platform, inbox: Inbox
) -> None:
    # Given the primary's API goes down and its health alarm fires in us-east-1
    platform.primary_outage()
    platform.alarm_event("ALARM")

    # When the forwarded event starts the failover in the recovery region
    execution = wait_until(lambda: failover_executions(platform))[0]["executionArn"]
    result = platform.cloud.wait(execution)

    # Then the writer and the traffic are in us-west-2, and RTO and RPO were measured and met
    assert result["status"] == "SUCCEEDED", result
    assert (platform.writer_region(), platform.traffic_region()) == (RECOVERY, RECOVERY)
    report = json.loads(result["output"])
    assert (report["mode"], report["trigger"], report["decision"]["action"]) == ("unplanned", "alarm", "PROCEED")
    assert report["rto"]["met"] is True and 0 < report["rto"]["seconds"] < 3600
    assert report["rpo"]["met"] is True and set(report["rpo"]["by_store"]) == {"aurora", "dynamodb", "s3"}
    assert all(v is not None for v in report["rpo"]["by_store"].values())
    assert platform.aurora.promotion_events(platform.design.global_cluster_id)[-1]["data_loss_allowed"] is True
    # the audit record, the notification and the released lease are there
    assert audit(platform, execution)["status"] == "SUCCEEDED"
    assert "[DR] failover unplanned SUCCEEDED" in inbox.subjects()
    assert lease(platform)["state"] == "RELEASED"


def test_an_ok_alarm_starts_nothing(platform: Platform) -> None:
    platform.alarm_event("OK")
    platform.alarm_event("INSUFFICIENT_DATA")
    platform.cloud.advance(1)
    threading.Event().wait(0.3)
    assert failover_executions(platform) == []


def test_ten_duplicate_alarms_cause_exactly_one_failover(platform: Platform) -> None:
    platform.primary_outage()
    for _ in range(10):
        platform.alarm_event("ALARM")
    executions = wait_until(lambda: len(failover_executions(platform)) == 10 and failover_executions(platform))
    results = [platform.cloud.wait(e["executionArn"]) for e in executions]

    outputs = [json.loads(r["output"]) for r in results if r["status"] == "SUCCEEDED"]
    assert len(outputs) == 10  # duplicates are not failures
    assert sorted(o["status"] for o in outputs).count("SUCCEEDED") == 1
    assert len(platform.aurora.promotion_events(platform.design.global_cluster_id)) == 1
    assert (platform.writer_region(), platform.traffic_region()) == (RECOVERY, RECOVERY)


def test_a_flapping_alarm_after_the_failover_does_nothing_more(platform: Platform) -> None:
    platform.primary_outage()
    platform.alarm_event("ALARM")
    first = wait_until(lambda: failover_executions(platform))[0]["executionArn"]
    assert platform.cloud.wait(first)["status"] == "SUCCEEDED"

    platform.alarm_event("ALARM")
    second = wait_until(lambda: [e for e in failover_executions(platform) if e["executionArn"] != first])[0]
    output = json.loads(platform.cloud.wait(second["executionArn"])["output"])
    assert output["status"] == "SKIPPED"
    assert len(platform.aurora.promotion_events(platform.design.global_cluster_id)) == 1


def test_lag_over_the_rpo_budget_asks_and_an_approval_proceeds(platform: Platform, inbox: Inbox) -> None:
    platform.set_replication_lag(1200)
    platform.primary_outage()
    execution = start(platform, "failover", {"mode": "unplanned", "reason": "test"})
    token = approval_token(platform, execution)
    message = wait_until(
        lambda: next((m for m in inbox.messages() if m["subject"].startswith("[DR] Approval needed")), None)
    )
    assert f"drctl approve {execution}" in message["message"]
    assert "over the RPO budget of 900 s" in message["message"]

    platform.cloud.client("stepfunctions", RECOVERY).send_task_success(taskToken=token, output='{"approved_by": "sre"}')
    result = platform.cloud.wait(execution)
    assert result["status"] == "SUCCEEDED"
    report = json.loads(result["output"])
    # the lag at promotion plus the age of its datapoint (at most a minute or two)
    assert report["rpo"]["met"] is False and 1200 <= report["rpo"]["by_store"]["aurora"] < 1200 + 180
    assert report["approval"] == {"approved_by": "sre"}
    assert platform.writer_region() == RECOVERY


@pytest.mark.parametrize("how", ["reject", "timeout"])
def test_a_rejection_or_a_timeout_aborts_with_nothing_changed(platform: Platform, inbox: Inbox, how: str) -> None:
    before = platform.snapshot()
    execution = start(platform, "failover", {"mode": "planned", "approval_timeout_seconds": 600})
    token = approval_token(platform, execution)
    if how == "reject":
        platform.cloud.client("stepfunctions", RECOVERY).send_task_failure(
            taskToken=token, error="ApprovalRejected", cause="rejected by sre: not during the sale"
        )
    else:
        platform.cloud.advance(601)
    result = platform.cloud.wait(execution)

    expected = (
        ("ApprovalRejected", "rejected by sre: not during the sale")
        if how == "reject"
        else ("ApprovalTimedOut", "nobody approved within 600 s; aborted with nothing changed")
    )
    assert (result["status"], result["error"], result["cause"]) == ("FAILED", *expected)
    assert platform.snapshot() == before
    assert audit(platform, execution)["changed"] == []
    assert lease(platform)["state"] == "RELEASED"
    assert any(s.startswith("[DR] failover failed") for s in inbox.subjects())


def test_dry_run_changes_nothing_and_reports_the_plan(platform: Platform) -> None:
    before = platform.snapshot()
    execution = start(platform, "failover", {"mode": "dry-run"})
    result = platform.cloud.wait(execution)
    assert result["status"] == "SUCCEEDED"
    report = json.loads(result["output"])
    assert report["status"] == "DRY_RUN"
    assert report["decision"]["plan"][0].startswith("Aurora: SwitchoverGlobalCluster on roadcall-aurora-global")
    assert len(report["decision"]["plan"]) == 5
    assert report["rto"]["seconds"] is None
    assert platform.snapshot() == before


def test_bad_console_input_ends_in_invalid_input_with_nothing_changed(platform: Platform, inbox: Inbox) -> None:
    before = platform.snapshot()
    execution = start(platform, "failover", {"mode": "sideways", "force": True})
    result = platform.cloud.wait(execution)
    assert (result["status"], result["error"]) == ("FAILED", "InvalidInput")
    assert "mode: Input should be 'unplanned', 'planned' or 'dry-run'" in result["cause"]
    assert "force: Extra inputs are not permitted" in result["cause"]
    assert platform.snapshot() == before
    assert lease(platform) == {}
    assert "[DR] failover failed: InvalidInput" in inbox.subjects()


def test_access_denied_on_the_promotion_is_a_named_failure_recorded_and_notified(
    platform: Platform, inbox: Inbox
) -> None:
    platform.cloud.faults.inject("rds", "FailoverGlobalCluster", "access-denied", times=None)
    platform.primary_outage()
    execution = start(platform, "failover", {"mode": "unplanned"})
    result = platform.cloud.wait(execution)

    assert (result["status"], result["error"]) == ("FAILED", "PromotionFailed")
    assert "rds:FailoverGlobalCluster roadcall-aurora-global" in result["cause"] and "AccessDenied" in result["cause"]
    record = audit(platform, execution)
    assert record["phase"] == "Promote" and record["changed"] == []
    assert "Aurora writer: still in us-east-1" in record["unchanged"]
    assert lease(platform)["state"] == "RELEASED"
    assert "PromotionFailed" in lease(platform)["note"]
    assert "[DR] failover failed: PromotionFailed" in inbox.subjects()
    assert platform.writer_region() == "us-east-1"


def test_arc_routing_controls_move_the_traffic(arc_platform: Platform) -> None:
    execution = start(arc_platform, "failover", {"mode": "planned"})
    arc_platform.cloud.client("stepfunctions", RECOVERY).send_task_success(
        taskToken=approval_token(arc_platform, execution), output="{}"
    )
    result = arc_platform.cloud.wait(execution)
    assert result["status"] == "SUCCEEDED"
    assert arc_platform.snapshot()["routing_controls"] == {"primary": "Off", "recovery": "On"}
    assert json.loads(result["output"])["changes"] == ["ARC via us-west-2: us-west-2 On, us-east-1 Off"]


def test_the_probe_seeing_the_primary_healthy_makes_an_alarm_ask_instead_of_acting(platform: Platform) -> None:
    # Given the alarm fires but the primary still answers the probe and a direct check (a false alarm)
    platform.alarm_event("ALARM")
    execution = wait_until(lambda: failover_executions(platform))[0]["executionArn"]
    approval_token(platform, execution)

    # Then the failover waits for a person, with the disagreement as the reason, having changed nothing
    decided = next(
        e
        for e in platform.cloud.history(execution)
        if e["type"] == "TaskStateExited" and e["stateExitedEventDetails"]["name"] == "Decide"
    )
    decision = json.loads(decided["stateExitedEventDetails"]["output"])["Payload"]
    assert (decision["action"], decision["evidence_agrees"]) == ("ASK", False)
    assert any("sees" in r and "healthy now" in r for r in decision["reasons"]), decision["reasons"]
    assert decision["evidence"]["route53"].startswith("up: DNS answers the us-east-1 record")
    assert platform.writer_region() == "us-east-1"


THROTTLED = [
    ("rds", "DescribeGlobalClusters"),
    ("rds", "DescribeDBClusters"),
    ("rds", "SwitchoverGlobalCluster"),
    ("dynamodb", "DescribeTable"),
    ("dynamodb", "UpdateItem"),
    ("dynamodb", "PutItem"),
    ("cloudwatch", "GetMetricData"),
    ("cloudwatch", "DescribeAlarms"),
    ("cloudwatch", "PutMetricData"),
    ("cloudwatch", "SetAlarmState"),
    ("s3", "GetBucketVersioning"),
    ("s3", "HeadObject"),
    ("backup", "ListRecoveryPointsByBackupVault"),
    ("lambda", "Invoke"),
    ("sns", "Publish"),
    ("stepfunctions", "GetExecutionHistory"),
]


def test_throttling_on_every_aws_call_is_retried_through(platform: Platform) -> None:
    # Given every AWS call the failover makes is throttled four times (more than the SDK's own 3 attempts)
    for service, operation in THROTTLED:
        platform.cloud.faults.inject(service, operation, "throttle", times=4)
    execution = start(platform, "failover", {"mode": "planned"})
    platform.cloud.client("stepfunctions", RECOVERY).send_task_success(
        taskToken=approval_token(platform, execution), output="{}"
    )

    result = platform.cloud.wait(execution)

    assert result["status"] == "SUCCEEDED", result.get("cause")
    assert (platform.writer_region(), platform.traffic_region()) == (RECOVERY, RECOVERY)
    fired = {(f.service, f.operation): f.fired for f in platform.cloud.faults._faults}
    assert all(count == 4 for count in fired.values()), fired
    retried = [e for e in platform.cloud.history(execution) if e["type"] == "TaskFailed"]
    assert retried, "the state machine itself retried some of them"
