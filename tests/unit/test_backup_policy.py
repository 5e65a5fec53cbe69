"""The backup policy's judgement (dr.backup_policy), the verification's input and report (pure logic)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from dr import backup_policy as policy
from dr.backup_models import ProtectedResource, ResourceCheck
from dr.errors import InvalidInput
from dr.settings import Settings
from dr.steps import backup_input, write_verification_report

NOW = datetime(2026, 3, 15, 9, 0, tzinfo=UTC)
TABLE = ProtectedResource(
    arn="arn:aws:dynamodb:us-east-1:123456789012:table/users", type="DynamoDB", name="users", region="us-east-1"
)
RULES = {r.name: r for r in policy.rules(Settings())}


def point(
    hours_ago: float,
    rule: str | None = "daily",
    *,
    status: str = "COMPLETED",
    encrypted: bool = True,
    days: int | None = 35,
    by_id: bool = False,
) -> dict[str, Any]:
    creator = None
    if rule:
        creator = {"BackupPlanId": "plan-1", "BackupRuleId": f"id-{rule}", "BackupPlanName": "roadcall-dr-plan"}
        if not by_id:
            creator["BackupRuleName"] = rule
    return {
        "RecoveryPointArn": f"arn:aws:backup:us-east-1:123456789012:recovery-point:{rule}-{hours_ago}",
        "CreationDate": NOW - timedelta(hours=hours_ago),
        "Status": status,
        "IsEncrypted": encrypted,
        "Lifecycle": {"DeleteAfterDays": days} if days else {},
        **({"CreatedBy": creator} if creator else {}),
    }


def checks(found: list[Any]) -> list[tuple[str, str]]:
    return [(f.check, f.severity) for f in found]


# -- one rule ---------------------------------------------------------------------------------------------
def test_a_fresh_completed_encrypted_point_kept_as_the_rule_says_is_no_finding() -> None:
    assert policy.evaluate_rule(TABLE, RULES["daily"], [point(7), point(31)], NOW, "vault") == []


def test_no_completed_point_is_missing_and_says_which_rule() -> None:
    [finding] = policy.evaluate_rule(TABLE, RULES["weekly"], [point(3, "weekly", status="EXPIRED")], NOW, "vault")
    assert (finding.check, finding.severity, finding.rule) == ("recovery-point-missing", "HIGH", "weekly")
    assert "no completed weekly recovery point of users in vault vault" in finding.reason


@pytest.mark.parametrize(("hours", "stale"), [(26, False), (26.01, True)])
def test_a_daily_point_may_be_26_hours_old_and_no_older(hours: float, stale: bool) -> None:
    found = policy.evaluate_rule(TABLE, RULES["daily"], [point(hours)], NOW, "vault")
    assert checks(found) == ([("recovery-point-stale", "HIGH")] if stale else [])


@pytest.mark.parametrize(("rule", "limit_days"), [("weekly", 8), ("monthly", 32)])
def test_weekly_and_monthly_points_have_their_own_age_limits(rule: str, limit_days: int) -> None:
    days = 90 if rule == "weekly" else 365
    fresh = policy.evaluate_rule(TABLE, RULES[rule], [point(limit_days * 24 - 1, rule, days=days)], NOW, "v")
    stale = policy.evaluate_rule(TABLE, RULES[rule], [point(limit_days * 24 + 1, rule, days=days)], NOW, "v")
    assert (checks(fresh), checks(stale)) == ([], [("recovery-point-stale", "HIGH")])


def test_a_newest_attempt_that_did_not_complete_is_reported_beside_the_usable_one() -> None:
    found = policy.evaluate_rule(TABLE, RULES["daily"], [point(2, status="PARTIAL"), point(20)], NOW, "vault")
    assert checks(found) == [("recovery-point-not-completed", "MEDIUM")]
    assert "is PARTIAL" in found[0].reason


def test_an_unencrypted_newest_point_is_high() -> None:
    found = policy.evaluate_rule(TABLE, RULES["daily"], [point(2, encrypted=False)], NOW, "vault")
    assert checks(found) == [("recovery-point-unencrypted", "HIGH")]


@pytest.mark.parametrize(
    ("days", "expected"),
    [(7, ("retention-mismatch", "HIGH")), (60, ("retention-mismatch", "LOW")), (None, ("retention-mismatch", "LOW"))],
    ids=["shorter", "longer", "forever"],
)
def test_retention_other_than_the_rules_is_a_finding(days: int | None, expected: tuple[str, str]) -> None:
    found = policy.evaluate_rule(TABLE, RULES["daily"], [point(2, days=days)], NOW, "vault")
    assert checks(found) == [expected]


# -- rules of points --------------------------------------------------------------------------------------
def test_a_point_belongs_to_the_rule_its_creator_names_or_whose_id_it_carries() -> None:
    assert policy.rule_of(point(1, "weekly"), {}) == "weekly"
    assert policy.rule_of(point(1, "weekly", by_id=True), {"id-weekly": "weekly"}) == "weekly"
    assert policy.rule_of(point(1, None), {}) is None  # on demand
    assert policy.rule_of(point(1, "daily"), {}, plan_name="another-plan") is None


def test_on_demand_points_count_for_no_rule() -> None:
    found, newest = policy.evaluate_recovery_points(
        TABLE, [point(1, None)], [], policy.rules(Settings()), NOW, vault="v", recovery_vault="dr", copy_grace_hours=24
    )
    assert sorted(f.rule for f in found) == ["daily", "monthly", "weekly"]
    assert {f.check for f in found} == {"recovery-point-missing"}
    assert newest == {"daily": None, "weekly": None, "monthly": None}


# -- copies -----------------------------------------------------------------------------------------------
def copy(hours_ago: float) -> dict[str, Any]:
    return {"CreationDate": NOW - timedelta(hours=hours_ago), "Status": "COMPLETED"}


def test_each_monthly_point_needs_a_copy_made_after_it() -> None:
    monthly = [point(24 * 10, "monthly", days=365), point(24 * 40, "monthly", days=365)]
    copies = [copy(24 * 10 - 1)]  # only the newer one was copied
    [finding] = policy.evaluate_copies(TABLE, RULES["monthly"], monthly, copies, NOW, "dr-vault", 24)
    assert (finding.check, finding.recovery_point) == ("copy-missing", monthly[1]["RecoveryPointArn"])
    assert "recovery region's vault dr-vault" in finding.reason


def test_a_point_younger_than_the_grace_period_may_still_be_copying() -> None:
    assert policy.evaluate_copies(TABLE, RULES["monthly"], [point(3, "monthly")], [], NOW, "dr", 24) == []


def test_a_copy_made_long_after_the_point_does_not_count_for_it() -> None:
    found = policy.evaluate_copies(TABLE, RULES["monthly"], [point(24 * 30, "monthly")], [copy(24 * 2)], NOW, "dr", 24)
    assert checks(found) == [("copy-missing", "HIGH")]


# -- the resources' own protection ------------------------------------------------------------------------
def test_pitr_must_be_enabled() -> None:
    enabled = {"PointInTimeRecoveryDescription": {"PointInTimeRecoveryStatus": "ENABLED"}}
    disabled = {"PointInTimeRecoveryDescription": {"PointInTimeRecoveryStatus": "DISABLED"}}
    assert policy.evaluate_table(TABLE, enabled) == []
    assert checks(policy.evaluate_table(TABLE, disabled)) == [("pitr-disabled", "HIGH")]


def test_aurora_keeps_its_backups_at_least_35_days() -> None:
    cluster = ProtectedResource(arn="arn:aws:rds:us-east-1:1:cluster:c", type="Aurora", name="c", region="us-east-1")
    assert policy.evaluate_cluster(cluster, {"BackupRetentionPeriod": 35}, 35) == []
    found = policy.evaluate_cluster(cluster, {"BackupRetentionPeriod": 7}, 35)
    assert checks(found) == [("aurora-retention-short", "HIGH")]
    assert "keeps its automated backups 7 days" in found[0].reason


BUCKET = ProtectedResource(arn="arn:aws:s3:::media", type="S3", name="media", region="us-east-1")
RTC_RULE = {"Status": "Enabled", "Destination": {"ReplicationTime": {"Status": "Enabled"}}}


@pytest.mark.parametrize(
    ("versioning", "replication", "expected"),
    [
        ({"Status": "Enabled"}, {"Rules": [RTC_RULE]}, []),
        ({}, {"Rules": [RTC_RULE]}, [("versioning-disabled", "HIGH")]),
        ({"Status": "Enabled"}, None, [("replication-disabled", "HIGH")]),
        ({"Status": "Enabled"}, {"Rules": [{**RTC_RULE, "Status": "Disabled"}]}, [("replication-disabled", "HIGH")]),
        (
            {"Status": "Enabled"},
            {"Rules": [{"Status": "Enabled", "Destination": {}}]},
            [("replication-rtc-disabled", "MEDIUM")],
        ),
    ],
    ids=["healthy", "versioning never enabled", "no replication", "rule disabled", "no RTC"],
)
def test_buckets_are_versioned_and_replicated_with_rtc(
    versioning: dict[str, Any], replication: dict[str, Any] | None, expected: list[tuple[str, str]]
) -> None:
    assert checks(policy.evaluate_bucket(BUCKET, versioning, replication)) == expected


# -- jobs -------------------------------------------------------------------------------------------------
def job(state: str, **extra: Any) -> dict[str, Any]:
    return {
        "BackupJobId": "J1",
        "State": state,
        "ResourceArn": TABLE.arn,
        "ResourceType": "DynamoDB",
        "ResourceName": "users",
        "CreationDate": NOW - timedelta(hours=3),
        "StatusMessage": "it went wrong",
        **extra,
    }


def test_failed_aborted_expired_and_partial_jobs_are_findings_completed_ones_are_not() -> None:
    backups = [job(s) for s in ("COMPLETED", "RUNNING", "FAILED", "ABORTED", "EXPIRED", "PARTIAL")]
    copies = [{**job("FAILED"), "CopyJobId": "C1"}]
    found = policy.evaluate_jobs(backups, copies, {}, "us-east-1", 24)
    assert checks(found) == [
        ("backup-job-failed", "HIGH"),
        ("backup-job-failed", "HIGH"),
        ("backup-job-failed", "HIGH"),
        ("backup-job-failed", "MEDIUM"),
        ("copy-job-failed", "HIGH"),
    ]
    assert found[0].reason.endswith("ended FAILED within the last 24 h: it went wrong")


# -- the report ---------------------------------------------------------------------------------------------
def test_findings_are_sorted_worst_first_and_summarized() -> None:
    found = [
        *policy.evaluate_bucket(BUCKET, {"Status": "Enabled"}, {"Rules": [{"Status": "Enabled"}]}),
        *policy.evaluate_table(TABLE, {}),
    ]
    ordered = policy.sort_findings(found)
    assert [f.check for f in ordered] == ["pitr-disabled", "replication-rtc-disabled"]
    assert policy.summarize(ordered) == {
        "by_severity": {"HIGH": 1, "MEDIUM": 1, "LOW": 0},
        "by_check": {"pitr-disabled": 1, "replication-rtc-disabled": 1},
    }


def test_a_failed_iteration_becomes_an_unreadable_finding_with_the_lambdas_message() -> None:
    cause = json.dumps({"errorMessage": "backup:ListRecoveryPointsByBackupVault: throttled", "errorType": "X"})
    check = ResourceCheck(
        resource=TABLE.arn, resource_type="DynamoDB", error={"Error": "TransientAwsError", "Cause": cause}
    )
    [finding] = write_verification_report.gather([check], [])
    assert (finding.check, finding.severity, finding.resource) == ("resource-unreadable", "HIGH", TABLE.arn)
    assert "after its retries: TransientAwsError: backup:ListRecoveryPointsByBackupVault: throttled" in finding.reason


# -- the workflow inputs ------------------------------------------------------------------------------------
EVENT = {"execution": "arn:aws:states:us-west-2:123456789012:execution:sm:run", "startedAt": "2026-03-15T09:00:00Z"}


@pytest.fixture
def inventory_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "BACKUP_VAULT_NAME": "vault",
        "RECOVERY_BACKUP_VAULT_NAME": "vault-dr",
        "PRIMARY_ENDPOINT_URL": "https://p",
        "RECOVERY_ENDPOINT_URL": "https://r",
        "PRIMARY_HEALTH_CHECK_ID": "hc",
        "TRAFFIC_DNS_NAME": "api.example",
        "TRAFFIC_DNS_ANSWERS": "us-east-1=127.0.1.1,us-west-2=127.0.2.1",
        "TRAFFIC_PIN_ALARM_NAME": "pin",
    }.items():
        monkeypatch.setenv(name, value)


@pytest.mark.usefixtures("inventory_env")
def test_the_schedules_inputs_and_envelopes_become_requests() -> None:
    daily = backup_input.build_request(
        {**EVENT, "workflow": "backup-verification", "input": {"requested_by": "schedule:daily"}}
    )
    monthly = backup_input.build_request(
        {**EVENT, "workflow": "restore-test", "input": {"mode": "full", "requested_by": "schedule:monthly"}}
    )
    envelope = {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}
    bare = backup_input.build_request({**EVENT, "workflow": "restore-test", "input": envelope})
    assert (daily.mode, daily.trigger, daily.vault, daily.recovery_vault) == ("verify", "schedule", "vault", "vault-dr")
    assert (monthly.mode, monthly.trigger, monthly.resource_types) == ("full", "schedule", ["DynamoDB", "Aurora", "S3"])
    assert (bare.mode, bare.trigger, bare.from_copies) == ("full", "schedule", False)


@pytest.mark.usefixtures("inventory_env")
@pytest.mark.parametrize(
    ("workflow", "raw", "message"),
    [
        ("backup-verification", {"mode": "full"}, "mode: Extra inputs are not permitted"),
        ("restore-test", {"mode": "planned"}, "mode: Input should be 'full' or 'dry-run'"),
        ("restore-test", {"resource_types": ["S3", "S3"]}, "each resource type at most once"),
        ("restore-test", {"resource_types": []}, "resource_types: List should have at least 1 item"),
        ("restore-test", [], "must be a JSON object"),
        ("failover", {}, "workflow must be 'backup-verification' or 'restore-test'"),
    ],
)
def test_bad_input_is_invalid_input_naming_the_field(workflow: str, raw: Any, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        backup_input.build_request({**EVENT, "workflow": workflow, "input": raw})
