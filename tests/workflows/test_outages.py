"""The failover on the worst day: one test per outage profile of localcloud (docs/outages.md), end to end.

Each asserts the platform's end state, the decision and its stated reason, the honesty of the RPO (a
number or unknown, never 0 for unknown and never "met" when unknown), the lease, and how much the run
depended on the failed region (``source_region_calls``).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from localcloud.scenario import Platform
from tests.workflows.conftest import Inbox, audit, lease, run_to_end, start, wait_until

PRIMARY, RECOVERY = "us-east-1", "us-west-2"


def inbox_of(platform: Platform) -> Inbox:
    return Inbox(platform.cloud, platform.stack.physical("EventsTopic"), RECOVERY)


def decision_of(platform: Platform, execution: str) -> dict[str, Any]:
    decided = next(
        e
        for e in platform.cloud.history(execution)
        if e["type"] == "TaskStateExited" and e["stateExitedEventDetails"]["name"] == "Decide"
    )
    return dict(json.loads(decided["stateExitedEventDetails"]["output"])["Payload"])


def honest_rpo(report: dict[str, Any]) -> None:
    by_store = report["rpo"]["by_store"]
    assert set(by_store) == {"aurora", "dynamodb", "s3"}
    assert all(v is None or isinstance(v, float | int) for v in by_store.values())
    if None in by_store.values():
        assert report["rpo"]["met"] is None and report["rpo"]["seconds"] is None


@pytest.mark.parametrize("outage_platform", ["region"], indirect=True)
def test_a_regional_outage_fails_over_alone_from_the_recovery_region(outage_platform: Platform) -> None:
    platform = outage_platform
    # Given us-east-1 is down for the application: its APIs, metrics, alarms and EventBridge
    execution = start(platform, "failover", {"mode": "unplanned", "reason": "us-east-1 is down"})

    result = run_to_end(platform, execution, approve=False)

    # Then it proceeded alone (two sources agree, exposure measured from us-west-2) and recovered
    assert result["status"] == "SUCCEEDED", result.get("cause")
    report = json.loads(result["output"])
    assert report["decision"]["action"] == "PROCEED", report["decision"]["reasons"]
    assert (report["writer_region"], report["traffic_region"]) == (RECOVERY, RECOVERY)
    assert (platform.writer_region(), platform.traffic_region()) == (RECOVERY, RECOVERY)
    assert report["rto"]["met"] is True
    honest_rpo(report)
    assert all(v is not None for v in report["rpo"]["by_store"].values())  # heartbeats and the lag in us-west-2
    assert report["warnings"] == []
    # it sent one call to the failed region (the informational backup check), and that call failed
    assert report["source_region_calls"] == {"made": 1, "failed": 1}
    assert lease(platform)["state"] == "RELEASED"
    assert platform.cloud.outage.failed_calls("backup", PRIMARY) >= 1


def test_in_a_regional_outage_the_recovery_regions_probe_alarm_starts_the_failover(cloud: Any) -> None:
    from localcloud.scenario import Platform, PlatformDesign

    platform = Platform(cloud, PlatformDesign(evaluate_alarms=True)).seed()
    platform.deploy()
    try:
        # Given us-east-1 is down: its health alarm cannot fire and its forwarder cannot deliver
        platform.primary_outage("region")

        # Then the probe alarm in us-west-2 starts the failover on its own, and it recovers
        executions = wait_until(lambda: platform.cloud.executions(platform.stack.arn("FailoverStateMachine")))
        result = run_to_end(platform, executions[-1]["executionArn"], approve=False)
        report = json.loads(result["output"])
        assert (result["status"], report["trigger"]) == ("SUCCEEDED", "alarm")
        assert report["requested_by"] == "alarm:roadcall-dr-primary-probe"
        assert (platform.writer_region(), platform.traffic_region()) == (RECOVERY, RECOVERY)
        assert len(platform.aurora.promotion_events(platform.design.global_cluster_id)) == 1
    finally:
        platform.close()


@pytest.mark.parametrize("outage_platform", [("gray", {"seed": 7})], indirect=True)
def test_a_gray_failure_decides_by_the_rule_and_says_why(outage_platform: Platform) -> None:
    platform = outage_platform
    inbox = inbox_of(platform)
    execution = start(platform, "failover", {"mode": "unplanned", "reason": "the primary is flaky"})
    result = run_to_end(platform, execution)  # a person approves if it asks

    decision = decision_of(platform, execution)
    assert decision["action"] in ("ASK", "PROCEED")
    assert decision["reasons"], "the decision states its reason"
    if decision["action"] == "ASK":
        assert any(m["subject"].startswith("[DR] Approval needed") for m in inbox.messages())
        assert not decision["evidence_agrees"] or not decision["within_budget"]
    assert result["status"] == "SUCCEEDED", result.get("cause")
    honest_rpo(json.loads(result["output"]))
    assert lease(platform)["state"] == "RELEASED"


@pytest.mark.parametrize("outage_platform", [("recovery-partial", {"service": "rds"})], indirect=True)
def test_a_degraded_recovery_region_refuses_with_a_named_reason_and_changes_nothing(
    outage_platform: Platform,
) -> None:
    platform = outage_platform
    inbox = inbox_of(platform)
    before = platform.snapshot()
    execution = start(platform, "failover", {"mode": "unplanned", "reason": "us-east-1 is down"})
    result = run_to_end(platform, execution, approve=False)

    assert (result["status"], result["error"]) == ("FAILED", "NotReady")
    assert "RDS" in result["cause"] or "rds" in result["cause"] or "Aurora" in result["cause"], result["cause"]
    assert platform.snapshot() == before
    record = audit(platform, execution)
    assert (record["changed"], record["unknown"], record["attempted"]) == ([], [], [])
    assert lease(platform)["state"] == "RELEASED"
    assert "[DR] failover failed: NotReady" in [m["subject"] for m in inbox.messages()]


@pytest.mark.parametrize("outage_platform", ["control-plane"], indirect=True)
def test_a_control_plane_outage_fails_over(outage_platform: Platform) -> None:
    platform = outage_platform
    result = run_to_end(platform, start(platform, "failover", {"mode": "unplanned", "reason": "control planes"}))
    assert result["status"] == "SUCCEEDED", result.get("cause")
    assert (platform.writer_region(), platform.traffic_region()) == (RECOVERY, RECOVERY)
    honest_rpo(json.loads(result["output"]))


def test_after_a_regional_outage_the_failback_reprotects_and_switches_home_losing_nothing(cloud: Any) -> None:
    from localcloud import scenario_failback
    from localcloud.scenario import Platform, PlatformDesign

    platform = Platform(cloud, PlatformDesign()).seed()
    platform.deploy()
    try:
        # Given a failover during a regional outage, and writes the recovery region took meanwhile
        platform.primary_outage("region")
        scenario_failback.queue_writes_for_primary(platform)
        failover = run_to_end(platform, start(platform, "failover", {"mode": "unplanned", "reason": "region"}))
        assert failover["status"] == "SUCCEEDED", failover.get("cause")
        written = scenario_failback.write_during_outage(platform)
        platform.cloud.advance(1800)

        # When us-east-1 is back and a person runs the failback
        platform.primary_recovers()
        scenario_failback.deliver_queued_writes(platform)
        platform.cloud.advance(5)
        result = run_to_end(platform, start(platform, "failback", {"mode": "planned", "reason": "home"}), timeout=120)

        # Then the platform is home, switched over (no AllowDataLoss), and nothing written during the outage is lost
        assert result["status"] == "SUCCEEDED", result.get("cause")
        report = json.loads(result["output"])
        assert (platform.writer_region(), platform.traffic_region()) == (PRIMARY, PRIMARY)
        assert report["replication"]["caught_up"] is True
        assert platform.aurora.promotion_events(platform.design.global_cluster_id)[-1]["data_loss_allowed"] is False
        assert scenario_failback.missing_at_home(platform, written) == []
        assert lease(platform)["state"] == "RELEASED"
    finally:
        platform.close()
