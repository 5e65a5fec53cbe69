"""The backup verification on localcloud: a healthy platform has no findings; each broken thing yields
exactly its own finding; a resource that cannot be read is a finding, never a crash; bad input changes
nothing; each vault is listed once per run; a lost record or notification is a warning, never a failure.
Each test asserts the report, where it was written, and what was notified.

A verification only reads the platform (what it writes is keyed by its own execution), so the tests that
break nothing share one seeded platform per class: the faults they inject are finite and are checked to
have fired before the next test. A test that breaks something builds its own."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from localcloud.cloud import LocalCloud
from localcloud.scenario import Platform, PlatformDesign
from localcloud.template import expanded_template
from tests.contract.test_permissions import action, allowed_actions
from tests.workflows.conftest import Inbox, audit, wait_until

VERIFICATION = "BackupVerificationStateMachine"
VERIFICATION_STEPS = ("ListProtectedResources", "VerifyBatch", "CheckBackupJobs", "WriteVerificationReport")
ROOT = Path(__file__).resolve().parents[2]


def policies(resources: dict[str, Any], function: str, prefix: str) -> list[Any]:
    return list(resources[function.removeprefix(prefix)]["Properties"].get("Policies", []))


def verify(platform: Platform, payload: Any = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """Run the verification to its end: (DescribeExecution, its report)."""
    execution = platform.cloud.start_execution(platform.stack.arn(VERIFICATION), payload or {"requested_by": "test"})
    result = platform.cloud.wait(execution)
    report = json.loads(result["output"]) if result.get("output") else {}
    return result, report


def findings(report: dict[str, Any]) -> list[tuple[str, str, str, str | None]]:
    return [(f["check"], f["severity"], f["resource"], f.get("rule")) for f in report["findings"]]


def reports_bucket(platform: Platform) -> str:
    return str(platform.stack.physical("ReportsBucket"))


def stored(platform: Platform, location: str) -> str:
    bucket, _, key = location.removeprefix("s3://").partition("/")
    s3 = platform.cloud.client("s3", platform.design.recovery_region)
    return str(s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode())


def findings_metric(platform: Platform) -> list[float]:
    cloudwatch = platform.cloud.client("cloudwatch", platform.design.recovery_region)
    now = datetime.now(UTC)
    points = cloudwatch.get_metric_statistics(
        Namespace="RoadCallDR",
        MetricName="BackupFindings",
        Dimensions=[{"Name": "Workflow", "Value": "backup-verification"}, {"Name": "service", "Value": "roadcall-dr"}],
        StartTime=now - timedelta(hours=1),
        EndTime=now + timedelta(minutes=5),
        Period=3600,
        Statistics=["Maximum"],
    )["Datapoints"]
    return [p["Maximum"] for p in points]


def test_each_broken_case_yields_exactly_its_finding(backups: Platform, inbox: Inbox) -> None:
    # Given nine things broken, each on its own resource or its own check
    p, d = backups, backups.design
    p.backup_stale(p.table_arn(d.tables[0]))
    p.backup_unencrypted(p.table_arn(d.tables[1]))
    p.pitr_off(d.tables[2])
    p.backup_job_failed(p.table_arn(d.tables[3]), "FAILED")
    p.backup_job_failed(p.table_arn(d.tables[4]), "PARTIAL")
    p.backup_retention(p.cluster_arn(), 7)
    p.aurora_backup_retention(7)
    p.backup_copy_missing(p.bucket_arn(d.buckets[0]))
    p.replication_off(d.buckets[1])

    # When the verification runs
    result, report = verify(backups)

    # Then it ran to its report, which holds exactly one finding per broken thing, and nothing else
    assert result["status"] == "SUCCEEDED"
    assert (report["status"], report["passed"]) == ("FINDINGS", False)
    assert sorted(findings(report), key=str) == sorted(  # (the reasons, if this fails: report["findings"])
        [
            ("recovery-point-stale", "HIGH", p.table_arn(d.tables[0]), "daily"),
            ("recovery-point-unencrypted", "HIGH", p.table_arn(d.tables[1]), "daily"),
            ("pitr-disabled", "HIGH", p.table_arn(d.tables[2]), None),
            ("backup-job-failed", "HIGH", p.table_arn(d.tables[3]), "daily"),
            ("backup-job-failed", "MEDIUM", p.table_arn(d.tables[4]), "daily"),
            ("retention-mismatch", "HIGH", p.cluster_arn(), "daily"),
            ("aurora-retention-short", "HIGH", p.cluster_arn(), None),
            ("copy-missing", "HIGH", p.bucket_arn(d.buckets[0]), "monthly"),
            ("replication-disabled", "HIGH", p.bucket_arn(d.buckets[1]), None),
        ],
        key=str,
    )
    assert all(f["reason"] for f in report["findings"])  # each says why, in plain language
    assert report["summary"]["by_severity"] == {"HIGH": 8, "MEDIUM": 1, "LOW": 0}
    # counted as a metric (the findings alarm watches it), and named in the Markdown summary
    assert wait_until(lambda: findings_metric(backups)) == [9.0]
    markdown = stored(backups, report["report_location"]["markdown"])
    assert markdown.startswith("# Backup verification: FINDINGS")
    assert f"| HIGH | {d.tables[2]} | pitr-disabled |" in markdown
    # and the on-call was told once, with the worst first
    [message] = [m for m in inbox.messages() if "backup verification" in str(m["subject"])]
    assert message["subject"] == "[DR] backup verification: 9 finding(s)"
    assert message["message"].splitlines()[2].startswith("[HIGH] ")


def test_a_resource_whose_check_keeps_failing_becomes_a_finding_after_the_retries(backups: Platform) -> None:
    # Given the vault answers every recovery-point listing with a 5xx (retried by the SDK, then the workflow)
    backups.cloud.faults.inject("backup", "ListRecoveryPointsByBackupVault", "5xx", times=None)

    result, report = verify(backups)

    # Then every resource is a resource-unreadable finding; the verification still reports
    assert result["status"] == "SUCCEEDED"
    assert {f[0] for f in findings(report)} == {"resource-unreadable"}
    assert sorted(f[2] for f in findings(report)) == sorted(arn for arn, _ in backups.resource_arns())
    assert "after its retries" in report["findings"][0]["reason"]


def test_resources_only_the_vault_knows_are_verified_too(backups: Platform) -> None:
    # Given a table outside the inventory, backed up into the vault by hand long ago
    d = backups.design
    arn = backups.table_arn("roadcall-legacy-prod")
    backups.backup.seed_recovery_point(
        d.backup_vault, d.primary_region, arn, "DynamoDB", datetime.now(UTC) - timedelta(days=20)
    )

    _, report = verify(backups)

    assert report["resources_checked"] == len(backups.resource_arns()) + 1
    # it has no rule's recovery points, and the table itself does not exist
    assert sorted((c, r) for c, _, r, _ in findings(report)) == sorted(
        [("recovery-point-missing", arn)] * 3 + [("resource-unreadable", arn)]
    )


def test_bad_input_ends_in_invalid_input_with_nothing_changed(backups: Platform, inbox: Inbox) -> None:
    for payload in ({"mode": "full"}, '"not an object"'):
        execution = backups.cloud.start_execution(backups.stack.arn(VERIFICATION), payload)
        result = backups.cloud.wait(execution)

        assert (result["status"], result["error"]) == ("FAILED", "InvalidInput")
        history = backups.cloud.history(execution)
        entered = {e["stateEnteredEventDetails"]["name"] for e in history if "stateEnteredEventDetails" in e}
        assert "ListProtectedResources" not in entered and "WriteReport" not in entered
        assert audit(backups, execution)["error"] == "InvalidInput"
    s3 = backups.cloud.client("s3", backups.design.recovery_region)
    assert s3.list_objects_v2(Bucket=reports_bucket(backups)).get("KeyCount") == 0
    assert inbox.subjects().count("[DR] backup-verification failed: InvalidInput") == 2


def test_the_daily_schedule_runs_the_verification_after_the_backup_window(backups: Platform) -> None:
    # When the clock reaches 08:00 UTC (the daily rule starts at 02:00 and has three hours to finish)
    now = backups.cloud.clock.now()
    eight = now.replace(hour=8, minute=0, second=0, microsecond=0)
    eight = eight if eight > now else eight + timedelta(days=1)
    backups.cloud.advance((eight - now).total_seconds() + 1)

    # Then the schedule started one verification, which ran to its report
    arn = backups.stack.arn(VERIFICATION)
    started = wait_until(lambda: [s for s in backups.cloud.router.started if s["stateMachineArn"] == arn])
    assert len(started) == 1
    result = backups.cloud.wait(started[0]["executionArn"])
    report = json.loads(result["output"])
    assert (report["trigger"], report["requested_by"]) == ("schedule", "schedule:daily")
    assert report["resources_checked"] == len(backups.resource_arns())


def test_a_knobs_newest_recovery_point_is_the_newest_even_just_after_the_plans_daily_backup() -> None:
    # Given a platform at 02:31 UTC, half an hour after its plan's daily backup of 02:00 finished (the suite
    # failed there: the knobs took their point an hour back, before that backup, so it was not the newest)
    with LocalCloud(start=datetime(2026, 12, 1, 2, 31, tzinfo=UTC)) as cloud:
        platform = Platform(cloud, PlatformDesign()).seed()
        platform.deploy()
        platform.seed_backup_history()
        d, vault = platform.design, platform.design.backup_vault
        backup = cloud.client("backup", d.primary_region)
        for arn, knob in (
            (platform.table_arn(d.tables[0]), platform.backup_unencrypted),
            (platform.cluster_arn(), platform.backup_corrupted),
        ):
            before = backup.list_recovery_points_by_backup_vault(BackupVaultName=vault, ByResourceArn=arn)
            assert max(p["CreationDate"] for p in before["RecoveryPoints"]).hour == 2  # today's daily is there

            # When a knob makes the resource's newest recovery point
            made = knob(arn)

            # Then it is the newest of them, taken before now
            points = backup.list_recovery_points_by_backup_vault(BackupVaultName=vault, ByResourceArn=arn)
            newest = max(points["RecoveryPoints"], key=lambda p: p["CreationDate"])
            assert newest["RecoveryPointArn"] == made and newest["CreationDate"] < cloud.clock.now()
        platform.close()


# -- verifications that leave the platform as they found it: one platform per class ---------------------
class OnOneHealthyPlatform:
    """A seeded, deployed platform with its backup history, shared by the tests of the class."""

    @pytest.fixture(scope="class")
    def backups(self) -> Iterator[Platform]:
        with LocalCloud() as cloud:
            built = Platform(cloud, PlatformDesign()).seed()
            built.deploy()
            built.seed_backup_history()
            yield built
            built.close()

    @pytest.fixture
    def inbox(self, backups: Platform) -> Inbox:
        return Inbox(backups.cloud, backups.stack.physical("EventsTopic"), backups.design.recovery_region)

    @pytest.fixture(autouse=True)
    def left_as_found(self, backups: Platform) -> Iterator[None]:
        yield
        assert backups.cloud.faults.active() == [], "a shared platform's test must leave no fault behind"


class TestVerifyingAHealthyPlatform(OnOneHealthyPlatform):
    def test_a_healthy_platform_verifies_with_no_findings(self, backups: Platform, inbox: Inbox) -> None:
        d = backups.design
        result, report = verify(backups)

        assert result["status"] == "SUCCEEDED"
        assert (report["status"], report["passed"], report["findings"]) == ("SUCCEEDED", True, []), report["findings"]
        assert report["resources_checked"] == len(d.tables) + 1 + len(d.buckets)
        in_vault = backups.backup.recovery_points(d.backup_vault, d.primary_region)
        copies = backups.backup.recovery_points(d.recovery_backup_vault, d.recovery_region)
        assert report["recovery_points_checked"] == len(in_vault)
        assert report["copies_checked"] == len(copies) > 0
        since = backups.cloud.clock.now() - timedelta(hours=24)
        recent = [j for j in backups.backup.backup_jobs(d.primary_region) if j["CreationDate"] > since]
        assert report["jobs"]["backup_jobs"] == len(recent)  # the last day's jobs, all COMPLETED
        # the evidence: JSON and Markdown in the encrypted reports bucket, the audit record, the metric
        assert json.loads(stored(backups, report["report_location"]["json"]))["findings"] == []
        assert stored(backups, report["report_location"]["markdown"]).startswith("# Backup verification: SUCCEEDED")
        assert audit(backups, result["executionArn"])["status"] == "SUCCEEDED"
        assert wait_until(lambda: findings_metric(backups)) == [0.0]
        # nothing to notify
        assert not [s for s in inbox.subjects() if "backup verification" in s]

    def test_each_vault_is_listed_once_and_each_resource_read_once(self, backups: Platform) -> None:
        # Given the platform's 9 resources with every recovery point their plan made (fewer than a page each)
        d = backups.design
        before = Counter(backups.cloud.interceptor.calls)

        # When the verification runs
        result, report = verify(backups)

        # Then each vault was listed in one call for the whole run, not once per resource
        calls = Counter(backups.cloud.interceptor.calls)
        calls.subtract(before)
        assert result["status"] == "SUCCEEDED" and report["findings"] == []
        assert calls[("backup", "ListRecoveryPointsByBackupVault")] == 2  # the vault, the recovery vault
        assert calls[("backup", "ListProtectedResourcesByBackupVault")] == 1
        # and each resource's own protection was read once: PITR per table, the cluster, each bucket
        assert calls[("dynamodb", "DescribeContinuousBackups")] == len(d.tables)
        assert calls[("rds", "DescribeDBClusters")] == 1
        assert calls[("s3", "GetBucketVersioning")] == calls[("s3", "GetBucketReplication")] == len(d.buckets)

    def test_a_vault_listed_in_many_pages_yields_the_same_report(
        self, backups: Platform, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # Given listings read 10 recovery points a page (in AWS 1,000), so each vault takes many pages
        from dr import backup_verification

        monkeypatch.setattr(backup_verification, "PAGE", {"PageSize": 10})
        before = Counter(backups.cloud.interceptor.calls)

        # When the verification runs
        _, report = verify(backups)

        # Then it followed every page of both vaults, saw every recovery point and copy, and found nothing
        d = backups.design
        in_vault = backups.backup.recovery_points(d.backup_vault, d.primary_region)
        copies = backups.backup.recovery_points(d.recovery_backup_vault, d.recovery_region)
        calls = Counter(backups.cloud.interceptor.calls)
        calls.subtract(before)
        pages = -(-len(in_vault) // 10) + -(-len(copies) // 10)
        assert calls[("backup", "ListRecoveryPointsByBackupVault")] == pages
        assert (report["recovery_points_checked"], report["copies_checked"]) == (len(in_vault), len(copies))
        assert report["findings"] == []

    def test_every_call_a_verification_step_made_is_allowed_by_its_policies(self, backups: Platform) -> None:
        # When the verification runs (after whatever else ran on this platform)
        result, _ = verify(backups)

        # Then each function's calls are actions its Policies in template.yaml grant
        resources = expanded_template(ROOT / "template.yaml")["Resources"]
        prefix = f"{backups.design.stack_name}-"
        calls = backups.cloud.interceptor.calls_by_function
        missing = {
            function: sorted(
                {action(*c) for c in made} - allowed_actions(resources, policies(resources, function, prefix))
            )
            for function, made in calls.items()
        }
        assert result["status"] == "SUCCEEDED"
        assert {f"{prefix}{name}Function" for name in VERIFICATION_STEPS} <= set(calls)
        assert {f: m for f, m in missing.items() if m} == {}


class TestPassingFaults(OnOneHealthyPlatform):
    def test_a_resource_that_cannot_be_read_is_a_finding_not_a_crash(self, backups: Platform) -> None:
        # Given the PITR setting of one table cannot be read (permission removed), and the vault and S3 throttle
        backups.cloud.faults.inject("dynamodb", "DescribeContinuousBackups", "access-denied", times=1)
        backups.cloud.faults.inject("backup", "ListRecoveryPointsByBackupVault", "throttle", times=4)
        backups.cloud.faults.inject("s3", "GetBucketReplication", "throttle", times=4)

        result, report = verify(backups)

        assert result["status"] == "SUCCEEDED"
        [(check, severity, resource, _)] = findings(report)
        assert (check, severity) == ("resource-unreadable", "HIGH")
        assert resource in [backups.table_arn(t) for t in backups.design.tables]
        assert "AccessDeniedException" in report["findings"][0]["reason"]
        # the throttling was retried away: it is no finding

    def test_a_lost_audit_record_leaves_the_verification_succeeded_and_notified_with_a_warning(
        self, backups: Platform, inbox: Inbox
    ) -> None:
        # Given one finding (a PITR setting that cannot be read), and the state table refusing the audit record
        p = backups
        p.cloud.faults.inject("dynamodb", "DescribeContinuousBackups", "access-denied", times=1)
        p.cloud.faults.inject("dynamodb", "PutItem", "access-denied", times=1, region=p.design.recovery_region)

        result, report = verify(p)

        # Then the verification that ran still succeeded, says what was lost, and the on-call was told anyway
        assert (result["status"], report["status"]) == ("SUCCEEDED", "FINDINGS")
        assert [w.split(" (")[0] for w in report["warnings"]] == ["the audit record was not written"]
        assert (report["bookkeeping"]["audited"], report["bookkeeping"]["notified"]) == (False, True)
        assert inbox.subjects() == ["[DR] backup verification: 1 finding(s)"]

    def test_a_failed_notification_never_fails_a_verification_that_ran(self, backups: Platform, inbox: Inbox) -> None:
        # Given one finding (a PITR setting that cannot be read), and the DR topic refusing the notification
        p = backups
        p.cloud.faults.inject("dynamodb", "DescribeContinuousBackups", "access-denied", times=1)
        p.cloud.faults.inject("sns", "Publish", "access-denied", times=1)

        result, report = verify(p)

        # Then it ends SUCCEEDED with its findings and a warning, and the audit record was written regardless
        assert (result["status"], report["status"]) == ("SUCCEEDED", "FINDINGS")
        assert [w.split(" (")[0] for w in report["warnings"]] == ["the notification was not published"]
        assert audit(p, result["executionArn"])["status"] == "FINDINGS"
        assert inbox.subjects() == []
