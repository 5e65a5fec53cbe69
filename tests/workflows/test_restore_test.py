"""The restore test on localcloud: a healthy platform restores, validates and reports every resource to AWS
Backup and leaves nothing behind; a failed restore, a failed validation and a fault in the middle leave
nothing behind either and are reported as failures; bad input and a running failover change nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from localcloud.scenario import Platform
from tests.workflows.conftest import Inbox, audit

RESTORE_TEST = "RestoreTestStateMachine"
PREFIX = "drtest-"


def run(platform: Platform, payload: Any = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """Run a restore test to its end: (DescribeExecution, its report: the output, else the audit record)."""
    execution = platform.cloud.start_execution(platform.stack.arn(RESTORE_TEST), payload or {"mode": "full"})
    result = platform.cloud.wait(execution)
    report = json.loads(result["output"]) if result.get("output") else audit(platform, execution)
    return result, report


def left_behind(platform: Platform) -> list[str]:
    """Every table, bucket and DB cluster a restore test may have created, in both regions."""
    found = []
    for region in (platform.design.primary_region, platform.design.recovery_region):
        found += [
            t for t in platform.cloud.client("dynamodb", region).list_tables()["TableNames"] if t.startswith(PREFIX)
        ]
        clusters = platform.cloud.client("rds", region).describe_db_clusters()["DBClusters"]
        found += [c["DBClusterIdentifier"] for c in clusters if c["DBClusterIdentifier"].startswith(PREFIX)]
    buckets = platform.cloud.client("s3", platform.design.primary_region).list_buckets()["Buckets"]
    return found + [b["Name"] for b in buckets if b["Name"].startswith(PREFIX)]


def by_type(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["resource_type"]: r for r in report["results"]}


def validations(platform: Platform, region: str) -> dict[str, str | None]:
    """What AWS Backup was told about each restore job: resource type -> ValidationStatus."""
    return {j["ResourceType"]: j.get("ValidationStatus") for j in platform.backup.restore_jobs(region)}


def test_a_healthy_platform_restores_validates_reports_and_leaves_nothing(backups: Platform, inbox: Inbox) -> None:
    d = backups.design
    points_before = len(backups.backup.recovery_points(d.backup_vault, d.primary_region))

    result, report = run(backups)

    assert result["status"] == "SUCCEEDED"
    assert (report["status"], report["error"], report["leftover_resources"]) == ("SUCCEEDED", None, 0)
    results = by_type(report)
    assert sorted(results) == ["Aurora", "DynamoDB", "S3"]
    # each restored in its modeled time (well within the 1 h RTO) and validated against its source
    durations = backups.backup.durations.restore
    for kind, outcome in results.items():
        assert (outcome["status"], outcome["validated"], outcome["within_rto"]) == ("SUCCEEDED", True, True)
        assert outcome["restore_seconds"] == durations[kind]
        assert all(check["ok"] for check in outcome["checks"])
        assert outcome["restored_resource"].rsplit(":", 1)[-1].rsplit("/", 1)[-1].startswith(PREFIX)
    assert {c["check"] for c in results["DynamoDB"]["checks"]} == {
        "table-active",
        "key-schema",
        "item-count",
        "sampled-items",
    }
    assert {c["check"] for c in results["S3"]["checks"]} == {"object-count", "sampled-etags"}
    assert report["restore_time"] == {"seconds": durations["Aurora"], "objective_seconds": 3600, "met": True}
    # AWS Backup was told each restore validated, from the primary vault's newest recovery points
    assert validations(backups, d.primary_region) == {
        "DynamoDB": "SUCCESSFUL",
        "Aurora": "SUCCESSFUL",
        "S3": "SUCCESSFUL",
    }
    assert all(j["Status"] == "COMPLETED" for j in backups.backup.restore_jobs(d.primary_region))
    # nothing is left behind, and the backups themselves are untouched
    assert left_behind(backups) == []
    assert len(report["deleted"]) == 3
    assert len(backups.backup.recovery_points(d.backup_vault, d.primary_region)) == points_before
    # the evidence and the notification
    s3 = backups.cloud.client("s3", d.recovery_region)
    bucket, _, key = report["report_location"]["json"].removeprefix("s3://").partition("/")
    assert json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())["status"] == "SUCCEEDED"
    assert audit(backups, result["executionArn"])["leftover_resources"] == 0
    assert "[DR] restore test full SUCCEEDED" in inbox.subjects()


def test_restoring_from_the_recovery_regions_copies_proves_the_copy_chain(backups: Platform) -> None:
    d = backups.design
    copies = {p["RecoveryPointArn"] for p in backups.backup.recovery_points(d.recovery_backup_vault, d.recovery_region)}
    # (and deletions that are throttled, or fail with a 5xx, are retried until nothing is left)
    backups.cloud.faults.inject("dynamodb", "DeleteTable", "throttle", times=5)
    backups.cloud.faults.inject("s3", "DeleteBucket", "5xx", times=5)

    result, report = run(backups, {"mode": "full", "from_copies": True})

    assert (result["status"], report["restore_region"], report["source_vault"]) == (
        "SUCCEEDED",
        d.recovery_region,
        d.recovery_backup_vault,
    )
    assert all(r["status"] == "SUCCEEDED" and r["validated"] for r in report["results"])
    assert {r["recovery_point_arn"] for r in report["results"]} <= copies
    assert backups.backup.restore_jobs(d.primary_region) == []
    assert set(validations(backups, d.recovery_region).values()) == {"SUCCESSFUL"}
    assert left_behind(backups) == []


def test_a_dry_run_reports_the_plan_and_restores_nothing(backups: Platform) -> None:
    result, report = run(backups, {"mode": "dry-run"})

    assert (result["status"], report["status"], report["leftover_resources"]) == ("SUCCEEDED", "DRY_RUN", 0)
    assert [r["status"] for r in report["results"]] == ["PLANNED"] * 3
    assert all("would restore" in r["message"] for r in report["results"])
    assert backups.backup.restore_jobs() == []


def test_a_restore_job_that_fails_leaves_nothing_behind_and_fails_the_test(backups: Platform, inbox: Inbox) -> None:
    backups.backup.fail_next_restore("DynamoDB", "Restore failed: the table's backup is unreadable (injected)")

    result, report = run(backups)

    assert (result["status"], result["error"]) == ("FAILED", "RestoreFailed")
    results = by_type(report)
    assert results["DynamoDB"]["status"] == "RESTORE_FAILED"
    assert "the table's backup is unreadable" in results["DynamoDB"]["message"]
    assert (results["Aurora"]["status"], results["S3"]["status"]) == ("SUCCEEDED", "SUCCEEDED")
    assert (report["status"], report["leftover_resources"]) == ("FAILED", 0)
    assert left_behind(backups) == []
    assert validations(backups, backups.design.primary_region) == {
        "DynamoDB": None,  # a failed restore job takes no validation result
        "Aurora": "SUCCESSFUL",
        "S3": "SUCCESSFUL",
    }
    assert "[DR] restore-test failed: RestoreFailed" in inbox.subjects()


def test_a_validation_that_fails_leaves_nothing_behind_and_fails_the_test(backups: Platform) -> None:
    # Given the newest backup of every table holds half the table's items
    for table in backups.design.tables:
        backups.backup_corrupted(backups.table_arn(table))

    result, report = run(backups)

    assert (result["status"], result["error"]) == ("FAILED", "ValidationFailed")
    table = by_type(report)["DynamoDB"]
    assert (table["status"], table["validated"]) == ("VALIDATION_FAILED", False)
    failed = {c["check"]: c["detail"] for c in table["checks"] if not c["ok"]}
    assert list(failed) == ["item-count"]
    assert failed["item-count"].startswith("10 items restored; the source holds 20")
    assert validations(backups, backups.design.primary_region)["DynamoDB"] == "FAILED"
    assert report["leftover_resources"] == 0
    assert left_behind(backups) == []


def test_a_fault_in_the_middle_leaves_nothing_behind_and_fails_the_test(backups: Platform) -> None:
    # Given AWS Backup cannot describe restore jobs any more once they have started (a 5xx every time)
    backups.cloud.faults.inject("backup", "DescribeRestoreJob", "5xx", times=None)

    result, report = run(backups)

    # Then every restore is an error, but cleanup waited for the jobs to finish and deleted what they made
    assert (result["status"], result["error"]) == ("FAILED", "RestoreFailed")
    assert {r["status"] for r in report["results"]} == {"ERROR"}
    assert report["leftover_resources"] == 0
    assert len(report["deleted"]) == 3
    assert left_behind(backups) == []
    # and AWS Backup was told none of them was validated
    assert set(validations(backups, backups.design.primary_region).values()) == {"FAILED"}


def test_bad_input_ends_in_invalid_input_with_nothing_changed(backups: Platform) -> None:
    for payload in ({"mode": "planned"}, {"mode": "full", "resource_types": ["EFS"]}, {"mode": "full", "surprise": 1}):
        result, report = run(backups, payload)

        assert (result["status"], result["error"], report["error"]) == ("FAILED", "InvalidInput", "InvalidInput")
        assert backups.backup.restore_jobs() == []
        assert left_behind(backups) == []


def test_a_restore_test_does_not_start_while_a_failover_holds_the_lease(backups: Platform) -> None:
    # Given a failover holds the DR lease
    now = datetime.now(UTC)
    backups.cloud.client("dynamodb", backups.design.recovery_region).put_item(
        TableName=backups.stack.physical("StateTable"),
        Item={
            "pk": {"S": "lease"},
            "holder": {"S": "arn:aws:states:us-west-2:123456789012:execution:roadcall-dr-failover:drill"},
            "operation": {"S": "failover"},
            "mode": {"S": "planned"},
            "state": {"S": "HELD"},
            "fence": {"N": "7"},
            "acquired_at": {"S": now.isoformat()},
            "expires_at": {"S": (now + timedelta(hours=4)).isoformat()},
        },
    )

    result, report = run(backups)

    assert (result["status"], result["error"]) == ("FAILED", "LeaseHeld")
    assert "a failover (planned) holds the DR lease" in report["cause"]
    assert backups.backup.restore_jobs() == []
    # and the lease is the failover's, untouched
    item = backups.cloud.client("dynamodb", backups.design.recovery_region).get_item(
        TableName=backups.stack.physical("StateTable"), Key={"pk": {"S": "lease"}}
    )["Item"]
    assert (item["state"]["S"], item["fence"]["N"], item["operation"]["S"]) == ("HELD", "7", "failover")
