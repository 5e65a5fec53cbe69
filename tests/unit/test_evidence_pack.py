"""The evidence pack's rules (drctl.evidence.build), on reports shaped as the workflows record them: which
runs count as evidence, which gaps a period shows, and each control's status."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from drctl import evidence
from drctl.evidence_render import render
from drctl.target import TargetError

SINCE = datetime(2026, 9, 1, tzinfo=UTC)
UNTIL = datetime(2026, 11, 30, tzinfo=UTC)
ARN = "arn:aws:states:us-west-2:123456789012:execution:roadcall-dr-{}:{}"


def day(n: float) -> str:
    return (SINCE + timedelta(days=n)).isoformat()


def drill(n: float, workflow: str = "failover", **over: Any) -> dict[str, Any]:
    report = {
        "workflow": workflow,
        "mode": "planned",
        "trigger": "console",
        "status": "SUCCEEDED",
        "execution": ARN.format(workflow, f"{workflow}-{n}"),
        "finished_at": day(n),
        "rto": {"seconds": 180.0, "objective_seconds": 3600, "met": True},
        "rpo": {"seconds": 2.0, "objective_seconds": 900, "met": True, "unknown_stores": []},
        "time_split": {"aws": 170.0, "people": 300.0, "orchestration": 6.0, "detection": 0.0},
    }
    return {**report, **over}


def restore(n: float, statuses: dict[str, str], **over: Any) -> dict[str, Any]:
    results = [
        {
            "resource_arn": f"arn:aws:dynamodb:us-east-1:123456789012:table/{name}",
            "resource_type": "DynamoDB",
            "status": status,
            "restore_seconds": 480.0,
            "within_rto": True,
            "message": "checksums equal" if status == "SUCCEEDED" else "restore job ended FAILED: disk on fire",
            "data_checked": {"kind": "items", "count": 22, "matched": status == "SUCCEEDED"},
        }
        for name, status in statuses.items()
    ]
    failed = any(s != "SUCCEEDED" for s in statuses.values())
    report = {
        "workflow": "restore-test",
        "mode": "full",
        "status": "FAILED" if failed else "SUCCEEDED",
        "execution": ARN.format("restore-test", f"restore-{n}"),
        "finished_at": day(n),
        "restore_time": {"seconds": 480.0, "objective_seconds": 3600, "met": True},
        "rto_objective_seconds": 3600,
        "results": results,
        "leftover_resources": 0,
    }
    return {**report, **over}


def verification(n: float, findings: int = 0) -> dict[str, Any]:
    listed = [
        {"severity": "HIGH", "resource": f"arn:aws:s3:::bucket-{i}", "check": "stale", "reason": "26 h old"}
        for i in range(findings)
    ]
    return {
        "workflow": "backup-verification",
        "mode": "verify",
        "status": "FINDINGS" if findings else "SUCCEEDED",
        "execution": ARN.format("backup-verification", f"verify-{n}"),
        "finished_at": day(n),
        "resources_checked": 9,
        "findings": listed,
        "summary": {"by_severity": {"HIGH": findings, "MEDIUM": 0, "LOW": 0}},
    }


def healthy_quarter() -> list[dict[str, Any]]:
    return [
        drill(40),
        drill(40.1, "failback"),
        restore(1, {"roadcall-users-prod": "SUCCEEDED"}),
        restore(31, {"roadcall-incidents-prod": "SUCCEEDED"}),
        restore(61, {"roadcall-vendors-prod": "SUCCEEDED"}),
        *[verification(n) for n in range(0, 90)],
    ]


def pack_of(reports: list[dict[str, Any]], **kwargs: Any) -> dict[str, Any]:
    return evidence.build(reports, {}, SINCE, UNTIL, "test", [], **kwargs)


def gaps(pack: dict[str, Any]) -> list[str]:
    return [g["gap"] for g in pack["gaps"]]


def test_a_healthy_quarter_evidences_every_control_and_shows_no_gap() -> None:
    pack = pack_of(healthy_quarter())
    assert gaps(pack) == []
    assert {c["status"] for c in pack["controls"]} == {"evidenced"}
    assert {c["ref"] for c in pack["controls"]} >= {"A1.2", "A1.3", "12.10.1", "12.10.2", "Art. 32(1)(c)"}
    assert pack["summary"]["backup-verification"] == {"runs": 90, "passed": 90}
    # readiness evaluations are not deployed: the pack says so, and it is no gap
    assert any("no readiness evaluations recorded" in note for note in pack["notes"])


def test_an_empty_period_is_a_gap_for_every_kind_and_every_control() -> None:
    pack = pack_of([])
    assert gaps(pack) == [
        "no successful failover drill in the last 90 days",
        "no successful failback drill in the last 90 days",
        "no restore test in the last 90 days",
        "no backup verification in the last 90 days",
    ]
    assert {c["status"] for c in pack["controls"]} == {"gap"}


def test_a_resource_whose_restore_failed_and_has_not_passed_since_is_a_gap_one_that_passed_again_is_not() -> None:
    reports = [r for r in healthy_quarter() if r["workflow"] != "restore-test"] + [
        restore(1, {"roadcall-users-prod": "RESTORE_FAILED", "roadcall-incidents-prod": "SUCCEEDED"}),
        restore(31, {"roadcall-users-prod": "SUCCEEDED", "roadcall-incidents-prod": "RESTORE_FAILED"}),
        restore(61, {"roadcall-users-prod": "SUCCEEDED", "roadcall-incidents-prod": "VALIDATION_FAILED"}),
    ]
    pack = pack_of(reports)
    assert gaps(pack) == [
        "restore test of roadcall-incidents-prod failed on 2026-10-02 (RESTORE_FAILED: restore job ended FAILED: "
        "disk on fire) and has not passed since"
    ]
    (gap,) = pack["gaps"]
    assert gap["execution"].endswith("restore-31") and "SOC2-A1.3" in gap["controls"]
    status = {c["id"]: c["status"] for c in pack["controls"]}
    assert status["SOC2-A1.3"] == status["GDPR-32(1)(c)"] == "gap"
    assert status["HIPAA-164.308(a)(7)(ii)(C)"] == "evidenced"  # emergency mode: the failover, not restores


def test_a_restore_over_the_rto_is_a_gap() -> None:
    slow = restore(61, {"roadcall-vendors-prod": "SUCCEEDED"})
    slow["results"][0].update(restore_seconds=4000.0, within_rto=False)
    pack = pack_of([*(r for r in healthy_quarter() if not r["execution"].endswith("restore-61")), slow])
    assert gaps(pack) == ["restore of roadcall-vendors-prod on 2026-11-01 took 4000.0 s, over the RTO of 3600 s"]


def test_verifications_with_findings_since_a_date_and_a_stale_newest_verification_are_gaps() -> None:
    reports = [r for r in healthy_quarter() if r["workflow"] != "backup-verification"]
    reports += [verification(n) for n in range(0, 60)] + [verification(n, findings=2) for n in range(60, 80)]
    pack = pack_of(reports)
    assert gaps(pack) == [
        "the newest backup verification is from 2026-11-19: older than 2 days (it runs daily)",
        "backup verifications have reported problems since 2026-10-31 (the latest: 2 finding(s), HIGH 2, MEDIUM 0, "
        "LOW 0; e.g. [HIGH] bucket-0 stale: 26 h old)",
    ]


def test_an_alarms_failover_is_an_incident_and_a_dry_run_tests_nothing() -> None:
    reports = [r for r in healthy_quarter() if r["workflow"] != "failover"]
    reports += [drill(10, trigger="alarm", mode="unplanned"), drill(20, mode="dry-run", status="DRY_RUN")]
    pack = pack_of(reports)
    assert gaps(pack) == ["no successful failover drill in the last 90 days"]
    incident = next(i for i in pack["evidence"] if i["kind"] == "failover" and not i["drill"])
    assert incident["passed"] is True  # it still evidences recovery, for what does not require a drill
    assert next(i for i in pack["evidence"] if i.get("mode") == "dry-run")["tested"] is False


def test_a_drill_with_an_unknown_rpo_or_a_missed_rto_did_not_pass_and_a_later_success_closes_the_gap() -> None:
    unknown = drill(10, rpo={"seconds": None, "objective_seconds": 900, "met": None, "unknown_stores": ["s3"]})
    missed = drill(20, rto={"seconds": 4000.0, "objective_seconds": 3600, "met": False})
    reports = [r for r in healthy_quarter() if r["workflow"] != "failover"]
    pack = pack_of([*reports, unknown, missed])
    assert gaps(pack) == [
        "no successful failover drill in the last 90 days (2 ran; the latest on 2026-09-21 succeeded but missed its "
        "objectives)"
    ]
    assert [i["findings"] for i in pack["evidence"] if i["kind"] == "failover"] == [
        ["RPO unknown: s3 could not be measured"],
        ["RTO 4000.0 s over the objective of 3600 s"],
    ]
    # a passing drill, then a failing one: the gap names the first failure after the last success
    assert gaps(pack_of([*reports, drill(5), unknown, missed])) == [
        "failover drill on 2026-09-11 succeeded but missed its objectives (RPO unknown: s3 could not be measured) "
        "and none has succeeded since"
    ]
    assert pack_of([*reports, unknown, missed, drill(30)])["gaps"] == []


def test_failure_records_without_a_trigger_are_told_apart_by_the_executions_input() -> None:
    failed = {
        "workflow": "failover",
        "status": "FAILED",
        "execution": ARN.format("failover", "f1"),
        "finished_at": day(50),
        "phase": "Promote",
        "error": "PromotionRejected",
        "cause": "the switchover was refused",
    }
    reports = [*(r for r in healthy_quarter() if r["workflow"] != "failover"), failed]
    pack = pack_of(reports, alarms={failed["execution"]: True})
    item = next(i for i in pack["evidence"] if i["kind"] == "failover")
    assert (item["drill"], item["trigger"], item["passed"]) == (False, "alarm", False)
    assert item["findings"] == ["failed in Promote: PromotionRejected: the switchover was refused"]


def test_readiness_evaluations_count_when_present_and_the_latest_not_ready_is_a_gap() -> None:
    ready = {"workflow": "readiness", "status": "SUCCEEDED", "ready": True, "execution": ARN.format("r", "1")}
    not_ready = {
        "workflow": "readiness",
        "status": "SUCCEEDED",
        "ready": False,
        "problems": ["aurora: lag 40 s over 5 s"],
        "execution": ARN.format("r", "2"),
    }
    pack = pack_of([*healthy_quarter(), {**ready, "finished_at": day(5)}, {**not_ready, "finished_at": day(80)}])
    assert gaps(pack) == [
        "the latest readiness evaluation (2026-11-20) found the recovery region not ready: aurora: lag 40 s over 5 s"
    ]
    assert not any("no readiness evaluations" in note for note in pack["notes"])


def test_runs_outside_the_period_are_left_out() -> None:
    pack = pack_of([*healthy_quarter(), drill(-5, status="FAILED"), drill(95, status="FAILED")])
    assert pack["summary"]["failover"] == {"runs": 1, "passed": 1}


def test_the_pack_reads_as_markdown_html_and_text() -> None:
    pack = pack_of([r for r in healthy_quarter() if r["workflow"] != "failback"])
    markdown = render(pack, "markdown")
    assert markdown.startswith("# DR evidence pack: 2026-09-01 to 2026-11-30 (90 days)")
    assert "| SOC 2 A1.3: Recovery plan testing |" in markdown
    assert "1. no successful failback drill in the last 90 days" in markdown
    assert "own 6.0 s, AWS 170 s, people 300 s" in markdown
    page = render(pack, "html")
    assert "<script" not in page and page.count('<circle class="run ') == len(pack["evidence"])
    assert "GAP" in render(pack, "text")


@pytest.mark.parametrize(("text", "days"), [("90d", 90), ("12w", 84)])
def test_since_takes_days_or_weeks(text: str, days: int) -> None:
    assert evidence.parse_since(text, UNTIL) == UNTIL - timedelta(days=days)


def test_since_takes_a_date_and_refuses_anything_else() -> None:
    assert evidence.parse_since("2026-09-01", UNTIL) == SINCE
    with pytest.raises(TargetError, match="90d, 12w"):
        evidence.parse_since("last quarter", UNTIL)
