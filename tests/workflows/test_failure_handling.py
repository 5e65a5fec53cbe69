"""Failure handling an operator can trust: the lease, the audit record and the notification are right on
every path — a stopped execution, a lease taken over during the approval wait, an alarm the lease turns
away, a recovery whose paperwork partly fails."""

from __future__ import annotations

import json

from localcloud.interceptor import Call
from localcloud.scenario import Platform
from tests.workflows.conftest import Inbox, approval_token, audit, lease, run_to_end, start, wait_until

RECOVERY = "us-west-2"


def lease_state(platform: Platform, state: str) -> dict:
    return wait_until(lambda: (lease(platform).get("state") == state and lease(platform)) or None)


def test_an_execution_stopped_at_the_approval_gate_releases_its_lease(platform: Platform, inbox: Inbox) -> None:
    # Given a planned failover waiting for a person
    execution = start(platform, "failover", {"mode": "planned", "reason": "drill"})
    approval_token(platform, execution)
    assert lease(platform)["state"] == "HELD"

    # When someone stops it (console: Stop execution)
    platform.cloud.client("stepfunctions", RECOVERY).stop_execution(
        executionArn=execution, error="Drill.Cancelled", cause="not today"
    )

    # Then it is ABORTED, and its status-change event settles the lease: nothing had changed, so RELEASED
    assert platform.cloud.describe(execution)["status"] == "ABORTED"
    settled = lease_state(platform, "RELEASED")
    assert "ABORTED before changing anything" in settled["note"]
    record = wait_until(lambda: _audit_or_none(platform, execution))
    assert (record["status"], record["lease"], record["changed"]) == ("ABORTED", "RELEASED", [])
    assert wait_until(lambda: "[DR] failover ABORTED: lease RELEASED" in inbox.subjects())
    assert platform.writer_region() == "us-east-1"


def test_an_execution_stopped_during_the_promotion_blocks_the_lease_with_what_is_known(
    platform: Platform, inbox: Inbox
) -> None:
    platform.primary_outage()
    execution = start(platform, "failover", {"mode": "unplanned", "reason": "outage"})
    platform.cloud.wait_for_state(execution, "WaitForWriter")

    platform.cloud.client("stepfunctions", RECOVERY).stop_execution(executionArn=execution, cause="operator stop")

    settled = lease_state(platform, "BLOCKED")
    assert "ABORTED after entering" in settled["note"] and "Promote" in settled["note"]
    assert "writer in" in settled["note"] and "users sent to" in settled["note"]
    # the failover it started goes on without it: the note does not pin the writer where it was
    assert "writer in us-east-1 (a promotion is in progress: it may still move)" in settled["note"], settled["note"]
    assert wait_until(lambda: "[DR] failover ABORTED: lease BLOCKED" in inbox.subjects())


def _audit_or_none(platform: Platform, execution: str) -> dict | None:
    try:
        return audit(platform, execution)
    except KeyError:
        return None


def test_a_run_whose_lease_was_taken_over_during_the_approval_wait_stops_before_changing_anything(
    platform: Platform, inbox: Inbox
) -> None:
    # Given a planned failover waiting for a person
    execution = start(platform, "failover", {"mode": "planned", "reason": "drill"})
    token = approval_token(platform, execution)
    # When, meanwhile, its lease is taken over (another run acquired it: a new holder, the next fence)
    ddb = platform.cloud.client("dynamodb", RECOVERY)
    ddb.update_item(
        TableName=platform.stack.physical("StateTable"),
        Key={"pk": {"S": "lease"}},
        UpdateExpression="SET holder = :other ADD fence :one",
        ExpressionAttributeValues={":other": {"S": "arn:another-run"}, ":one": {"N": "1"}},
    )
    # and then the approval arrives
    platform.cloud.client("stepfunctions", RECOVERY).send_task_success(taskToken=token, output='{"approved_by": "sre"}')
    result = platform.cloud.wait(execution)

    # Then it stops with LeaseLost before the promotion, and leaves the other run's lease alone
    assert (result["status"], result["error"]) == ("FAILED", "LeaseLost")
    assert "no longer holds the DR lease" in result["cause"]
    assert (platform.writer_region(), len(platform.aurora.promotion_events(platform.design.global_cluster_id))) == (
        "us-east-1",
        0,
    )
    assert lease(platform)["holder"] == "arn:another-run" and lease(platform)["state"] == "HELD"
    record = audit(platform, execution)
    assert (record["error"], record["lease"], record["changed"]) == ("LeaseLost", "not held", [])
    assert "[DR] failover failed: LeaseLost" in inbox.subjects()


def test_an_alarm_while_the_failback_holds_the_lease_is_recorded_and_notified_as_not_acted_on(
    platform: Platform, inbox: Inbox
) -> None:
    # Given a failback in progress (it holds the lease while it waits for its approval)
    failover = start(platform, "failover", {"mode": "planned"})
    assert run_to_end(platform, failover)["status"] == "SUCCEEDED"
    failback = start(platform, "failback", {"mode": "planned", "reason": "home"})
    approval_token(platform, failback)

    # When the primary's health alarm fires
    platform.alarm_event("ALARM")
    executions = wait_until(
        lambda: [
            e
            for e in platform.cloud.executions(platform.stack.arn("FailoverStateMachine"))
            if e["status"] != "RUNNING" and e["executionArn"] != failover
        ]
    )
    result = platform.cloud.describe(executions[0]["executionArn"])

    # Then it is not acted on, and the operator sees exactly that
    report = json.loads(result["output"])
    assert (result["status"], report["status"]) == ("SUCCEEDED", "SKIPPED")
    record = audit(platform, executions[0]["executionArn"])
    assert (record["status"], record["duplicate"]) == ("SKIPPED", False)
    assert any(s.startswith("[DR] failover not acted on: failback (HELD) holds the lease") for s in inbox.subjects())


def test_a_duplicate_alarm_during_a_failover_is_recorded_but_not_notified(platform: Platform, inbox: Inbox) -> None:
    platform.primary_outage()
    running = start(platform, "failover", {"mode": "unplanned", "reason": "outage"})
    platform.cloud.wait_for_state(running, "Promote")
    platform.alarm_event("ALARM")
    duplicate = wait_until(
        lambda: [
            e
            for e in platform.cloud.executions(platform.stack.arn("FailoverStateMachine"))
            if e["executionArn"] != running and e["status"] == "SUCCEEDED"
        ]
    )[0]["executionArn"]
    assert audit(platform, duplicate)["duplicate"] is True
    assert platform.cloud.wait(running)["status"] == "SUCCEEDED"
    assert not any(s.startswith("[DR] failover not acted on") for s in inbox.subjects())


def test_a_verified_recovery_whose_notification_fails_stays_succeeded_with_a_warning(
    platform: Platform, inbox: Inbox
) -> None:
    # Given the DR topic refuses every publish (e.g. its key policy) after the decision
    platform.primary_outage()
    platform.cloud.faults.inject("sns", "Publish", "access-denied", times=None)

    result = run_to_end(platform, start(platform, "failover", {"mode": "unplanned", "reason": "outage"}))

    # Then the recovered platform is reported SUCCEEDED, with the lost notification as a warning
    assert result["status"] == "SUCCEEDED", result.get("cause")
    report = json.loads(result["output"])
    assert (platform.writer_region(), platform.traffic_region()) == (RECOVERY, RECOVERY)
    assert any(w.startswith("the notification was not published (AuthorizationError") for w in report["warnings"])
    assert audit(platform, report["execution"])["status"] == "SUCCEEDED"  # the audit record is independent
    assert lease(platform)["state"] == "RELEASED"


def test_a_failure_handler_timed_out_after_recording_keeps_its_own_audit_record(
    platform: Platform, inbox: Inbox
) -> None:
    # Given a promotion the recovery region refuses, and a DR topic that does not answer four times: the
    # failure handler writes its audit record, then its notification's retries (read timeouts of 15 s) outlast
    # its Task's 60 s, and the state machine records and notifies the failure itself
    platform.primary_outage()
    platform.cloud.faults.inject("rds", "FailoverGlobalCluster", "access-denied", times=None)
    platform.cloud.faults.inject("sns", "Publish", "timeout", times=4)

    result = run_to_end(platform, start(platform, "failover", {"mode": "unplanned", "reason": "outage"}))
    assert result["status"] == "FAILED"
    assert "the failure handler did not finish (States.Timeout)" in result["cause"], result["cause"]

    # Then the audit record is still the handler's (what it checked changed, the lease it settled), not
    # overwritten by the state machine's fallback saying the handler could not run; the end says so
    record = audit(platform, result["executionArn"])
    assert "failure_handler_error" not in record, record
    # (the refused promotion changed nothing: the handler found so and released the lease)
    assert (record["status"], record["lease"], record["changed"]) == ("FAILED", "RELEASED", []), record
    assert lease(platform)["state"] == "RELEASED"
    assert "recorded by the failure handler before it stopped" in result["cause"], result["cause"]
    # and the notification the state machine sends says the handler did record
    direct = wait_until(lambda: [m for m in inbox.messages() if "did not finish" in m["message"]])
    assert "its audit record says what changed" in direct[0]["message"], direct[0]["message"]


def test_a_retried_direct_record_replaces_its_own_and_does_not_credit_the_failure_handler(platform: Platform) -> None:
    # Given Lambda down for good (HandleFailure cannot run either), and the state machine's first direct write
    # landing without its answer (simulated: the same item is already there when the write arrives)
    platform.cloud.faults.inject("lambda", "Invoke", "5xx", times=None)
    table = platform.stack.physical("StateTable")
    ddb = platform.cloud.client("dynamodb", RECOVERY)
    landed: list[str] = []

    def earlier_attempt_landed(call: Call) -> None:
        if (call.service, call.operation) != ("dynamodb", "PutItem") or landed:
            return
        item = call.params.get("Item", {})
        direct = "failure_handler_error" in item.get("report", {}).get("S", "")  # the state machine's record
        if call.params.get("TableName") == table and direct:
            landed.append(item["pk"]["S"])
            ddb.put_item(TableName=table, Item=item)

    platform.cloud.interceptor.hook(earlier_attempt_landed)
    result = run_to_end(platform, start(platform, "failover", {"mode": "planned", "reason": "drill"}))

    # Then the write replaces the state machine's own record (it is not the handler's), and the end says it
    # recorded directly: the handler is not credited with a record it never wrote
    assert landed == [f"audit#{result['executionArn']}"]
    assert result["status"] == "FAILED"
    assert "the failure handler could not run" in result["cause"] and "recorded directly" in result["cause"]
    assert "failure_handler_error" in audit(platform, result["executionArn"])
