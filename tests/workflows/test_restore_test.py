"""The restore test on localcloud, end to end, with faults injected and the platform's end state asserted:
what is left, what AWS Backup was told, the audit record and the notification.

- A healthy platform restores, reads every record of each restore (Aurora through the Data API, on an
  instance the test adds), finds it equal to the source at the recovery point, tells AWS Backup, and
  leaves nothing behind; from the recovery region's copies too.
- A corrupted backup is a failed validation (matched: false, AWS Backup told FAILED); an AWS error while
  validating is not (VALIDATION_ERROR, AWS Backup told nothing, ValidationNotCompleted).
- A refused deletion leaves only what was refused, reported with AWS's reason; the sweeper (at the start
  of each run, and on its own schedule) deletes what earlier runs left, and reports it.
- Every end is recorded and notified, independently: a lost notification of a passed test leaves it
  SUCCEEDED with warnings; a failure whose records are both lost says so in its Fail state's cause.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from dr import bookkeeping, restore_test

from drctl.season import READINESS_INPUT
from localcloud.scenario import Platform
from localcloud.template import expanded_template
from tests.contract.test_permissions import ROOT, action, allowed_actions
from tests.workflows.conftest import Inbox, audit

RESTORE_TEST = "RestoreTestStateMachine"
PREFIX = "drtest-"
TAGS = [{"Key": "dr:purpose", "Value": "restore-test"}, {"Key": "dr:execution", "Value": "an-earlier-test"}]


def execution_arn(platform: Platform, name: str) -> str:
    return platform.stack.arn(RESTORE_TEST).replace(":stateMachine:", ":execution:") + f":{name}"


def run(platform: Platform, payload: Any = None, name: str | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """Run a restore test to its end: (DescribeExecution, its report: the output, else the audit record)."""
    execution = platform.cloud.start_execution(platform.stack.arn(RESTORE_TEST), payload or {"mode": "full"}, name)
    result = platform.cloud.wait(execution)
    if result.get("output"):
        return result, json.loads(result["output"])
    try:
        return result, audit(platform, execution)
    except KeyError:  # no audit record: the test that lost it asserts that
        return result, {}


def left_behind(platform: Platform) -> list[str]:
    """Every table, bucket, DB cluster and DB instance a restore test may have created, in both regions."""
    found = []
    for region in (platform.design.primary_region, platform.design.recovery_region):
        found += [
            t for t in platform.cloud.client("dynamodb", region).list_tables()["TableNames"] if t.startswith(PREFIX)
        ]
        rds = platform.cloud.client("rds", region)
        found += [
            c["DBClusterIdentifier"]
            for c in rds.describe_db_clusters()["DBClusters"]
            if c["DBClusterIdentifier"].startswith(PREFIX)
        ]
        found += [
            i["DBInstanceIdentifier"]
            for i in rds.describe_db_instances()["DBInstances"]
            if i["DBInstanceIdentifier"].startswith(PREFIX)
        ]
    buckets = platform.cloud.client("s3", platform.design.primary_region).list_buckets()["Buckets"]
    return sorted(found + [b["Name"] for b in buckets if b["Name"].startswith(PREFIX)])


def by_type(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["resource_type"]: r for r in report["results"]}


def validations(platform: Platform, region: str) -> dict[str, str | None]:
    """What AWS Backup was told about each restore job: resource type -> ValidationStatus."""
    return {j["ResourceType"]: j.get("ValidationStatus") for j in platform.backup.restore_jobs(region)}


def restore_messages(inbox: Inbox) -> list[dict[str, Any]]:
    return [m for m in inbox.messages() if "restore" in str(m["subject"])]


def not_allowed(platform: Platform) -> dict[str, list[str]]:
    """Calls a function made that its Policies in template.yaml do not allow (function -> IAM actions)."""
    resources = expanded_template(ROOT / "template.yaml")["Resources"]
    by_name = {
        f"{platform.design.stack_name}-{lid}": r
        for lid, r in resources.items()
        if r["Type"] == "AWS::Serverless::Function"
    }
    missing = {}
    for function, calls in platform.cloud.interceptor.calls_by_function.items():
        granted = allowed_actions(resources, by_name[function]["Properties"].get("Policies", []))
        needed = {action(service, operation) for service, operation in calls} - granted
        if needed:
            missing[function] = sorted(needed)
    return missing


def leftover_table(platform: Platform, name: str, tags: list[dict[str, str]] | None = None) -> None:
    platform.cloud.client("dynamodb", platform.design.primary_region).create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        Tags=tags if tags is not None else TAGS,
    )


# -- a healthy platform -------------------------------------------------------------------------------------
def test_a_healthy_platform_restores_reads_every_record_reports_and_leaves_nothing(
    backups: Platform, inbox: Inbox
) -> None:
    d = backups.design
    points_before = len(backups.backup.recovery_points(d.backup_vault, d.primary_region))

    result, report = run(backups)

    assert result["status"] == "SUCCEEDED"
    assert (report["status"], report["error"], report["leftover_resources"], report["leftover_known"]) == (
        "SUCCEEDED",
        None,
        0,
        True,
    )
    assert report["warnings"] == [] and report["bookkeeping"] == {"audited": True, "notified": True, "warnings": []}
    results = by_type(report)
    assert sorted(results) == ["Aurora", "DynamoDB", "S3"]
    # each restored in its modeled time, and every record of it read and equal to the source's
    durations = backups.backup.durations.restore
    for kind, outcome in results.items():
        assert (outcome["status"], outcome["validated"], outcome["within_rto"]) == ("SUCCEEDED", True, True)
        assert outcome["restore_seconds"] == durations[kind]
        assert all(check["ok"] for check in outcome["checks"])
        assert outcome["data_checked"]["matched"] is True
        assert outcome["data_checked"]["checksum"] == outcome["data_checked"]["source_checksum"]
        assert outcome["restored_resource"].rsplit(":", 1)[-1].rsplit("/", 1)[-1].startswith(PREFIX)
    assert {k: (r["data_checked"]["kind"], r["data_checked"]["count"]) for k, r in results.items()} == {
        "DynamoDB": ("items", d.items_per_table),
        "S3": ("objects", d.objects_per_bucket),
        "Aurora": ("rows", d.rows_per_table * len(d.sql_tables)),
    }
    assert [c["check"] for c in results["DynamoDB"]["checks"]] == ["table-active", "key-schema", "items"]
    assert [c["check"] for c in results["Aurora"]["checks"]] == ["cluster-engine"] + [f"rows {t}" for t in d.sql_tables]
    # the Aurora rows were read through the Data API, from the restored cluster and from the source
    clusters = {s["cluster"].rsplit(":", 1)[-1] for s in backups.rds_data.statements}
    assert clusters == {d.primary_cluster_id, results["Aurora"]["restored_resource"].rsplit(":", 1)[-1]}
    assert report["restore_time"] == {"seconds": durations["Aurora"], "objective_seconds": 3600, "met": True}
    # AWS Backup was told each restore validated, from the primary vault's newest recovery points
    assert validations(backups, d.primary_region) == {
        "DynamoDB": "SUCCESSFUL",
        "Aurora": "SUCCESSFUL",
        "S3": "SUCCESSFUL",
    }
    # nothing is left behind (the cluster's instance included), and the backups themselves are untouched
    assert left_behind(backups) == []
    assert len(report["deleted"]) == 3 and report["cleanup_attempts"] == 1
    assert len(backups.backup.recovery_points(d.backup_vault, d.primary_region)) == points_before
    # the evidence, the audit record and the one notification of this end
    s3 = backups.cloud.client("s3", d.recovery_region)
    bucket, _, key = report["report_location"]["json"].removeprefix("s3://").partition("/")
    assert json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())["status"] == "SUCCEEDED"
    recorded = audit(backups, result["executionArn"])
    assert (recorded["status"], recorded["leftover_resources"]) == ("SUCCEEDED", 0)
    assert by_type(recorded)["Aurora"]["data_checked"]["matched"] is True
    messages = restore_messages(inbox)
    assert [m["subject"] for m in messages] == ["[DR] restore test full SUCCEEDED"]
    assert (
        "Aurora: SUCCEEDED, restored in 1200 s (within RTO True), 40 rows read, matched True"
        in (messages[0]["message"])
    )


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
    assert all(r["status"] == "SUCCEEDED" and r["data_checked"]["matched"] for r in report["results"])
    assert {r["recovery_point_arn"] for r in report["results"]} <= copies
    assert backups.backup.restore_jobs(d.primary_region) == []
    assert set(validations(backups, d.recovery_region).values()) == {"SUCCESSFUL"}
    # the restored cluster in us-west-2 was read with the secret's replica there
    restored = by_type(report)["Aurora"]["restored_resource"]
    assert restored.split(":")[3] == d.recovery_region
    assert any(s["cluster"] == restored for s in backups.rds_data.statements)
    assert left_behind(backups) == []
    assert report["cleanup_attempts"] >= 2  # the throttled table and the failing bucket were looked at again


def test_a_dry_run_reports_the_plan_and_what_it_would_sweep_and_changes_nothing(backups: Platform) -> None:
    leftover_table(backups, "drtest-0badc0de-roadcall-users-prod")

    result, report = run(backups, {"mode": "dry-run"})

    assert (result["status"], report["status"], report["leftover_resources"]) == ("SUCCEEDED", "DRY_RUN", 0)
    assert [r["status"] for r in report["results"]] == ["PLANNED"] * 3
    assert all("would restore" in r["message"] for r in report["results"])
    assert [(e["name"], e["state"]) for e in report["swept"]] == [
        ("drtest-0badc0de-roadcall-users-prod", "would delete")
    ]
    assert backups.backup.restore_jobs() == []
    assert left_behind(backups) == ["drtest-0badc0de-roadcall-users-prod"]


# -- restores and validations that fail, and validations that cannot run -----------------------------------
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
    assert [m["subject"] for m in restore_messages(inbox)] == ["[DR] restore-test failed: RestoreFailed"]


def test_a_corrupted_backup_is_a_failed_validation_told_to_aws_backup(backups: Platform, inbox: Inbox) -> None:
    # Given the newest backup of every table holds half its items, of every bucket one changed object, and
    # of the cluster half of each table's rows
    for arn, _ in backups.resource_arns():
        backups.backup_corrupted(arn)

    result, report = run(backups)

    # Then each restore's data is read and does not match, and AWS Backup is told so
    assert (result["status"], result["error"]) == ("FAILED", "ValidationFailed")
    results = by_type(report)
    assert {k: (r["status"], r["validated"], r["data_checked"]["matched"]) for k, r in results.items()} == {
        k: ("VALIDATION_FAILED", False, False) for k in ("DynamoDB", "S3", "Aurora")
    }
    d = backups.design
    assert (results["DynamoDB"]["data_checked"]["count"], results["DynamoDB"]["data_checked"]["differences"]) == (
        d.items_per_table // 2,
        d.items_per_table // 2,
    )
    assert results["S3"]["data_checked"]["differences"] == 1
    assert results["Aurora"]["data_checked"]["count"] == d.rows_per_table // 2 * len(d.sql_tables)
    failed = {c["check"]: c["detail"] for c in results["DynamoDB"]["checks"] if not c["ok"]}
    assert list(failed) == ["items"]
    assert failed["items"].startswith(f"{d.items_per_table // 2} items restored, {d.items_per_table} in the source")
    assert validations(backups, d.primary_region) == {"DynamoDB": "FAILED", "S3": "FAILED", "Aurora": "FAILED"}
    assert report["leftover_resources"] == 0
    assert left_behind(backups) == []
    recorded = audit(backups, result["executionArn"])
    assert (recorded["status"], recorded["error"], recorded["leftover_resources"]) == ("FAILED", "ValidationFailed", 0)
    assert [m["subject"] for m in restore_messages(inbox)] == ["[DR] restore-test failed: ValidationFailed"]


def test_an_aws_error_while_validating_is_not_a_failed_backup(backups: Platform, inbox: Inbox) -> None:
    # Given the tables cannot be scanned (access denied) and the Data API is throttled, however long we retry
    backups.cloud.faults.inject("dynamodb", "Scan", "access-denied", times=None)
    backups.cloud.faults.inject("rds-data", "ExecuteStatement", "throttle", times=None)

    result, report = run(backups)

    # Then those two restores could not be validated, and AWS Backup is told nothing about them
    assert (result["status"], result["error"]) == ("FAILED", "ValidationNotCompleted")
    results = by_type(report)
    assert {k: r["status"] for k, r in results.items()} == {
        "DynamoDB": "VALIDATION_ERROR",
        "Aurora": "VALIDATION_ERROR",
        "S3": "SUCCEEDED",
    }
    assert results["DynamoDB"]["message"].startswith("could not validate: validate the restored DynamoDB")
    assert "AccessDeniedException" in results["DynamoDB"]["message"]
    assert results["Aurora"]["error"]["Error"] == "TransientAwsError"
    assert "ThrottlingException" in results["Aurora"]["message"]
    assert all(not results[k]["validated"] and results[k]["data_checked"] is None for k in ("DynamoDB", "Aurora"))
    assert validations(backups, backups.design.primary_region) == {
        "DynamoDB": None,
        "Aurora": None,
        "S3": "SUCCESSFUL",
    }
    # and what was restored is deleted all the same, and the end is recorded and notified as "could not validate"
    assert left_behind(backups) == []
    recorded = audit(backups, result["executionArn"])
    assert (recorded["status"], recorded["error"], recorded["leftover_resources"]) == (
        "FAILED",
        "ValidationNotCompleted",
        0,
    )
    assert [m["subject"] for m in restore_messages(inbox)] == ["[DR] restore-test failed: ValidationNotCompleted"]


def test_a_fault_in_the_middle_leaves_nothing_behind_and_tells_aws_backup_nothing(backups: Platform) -> None:
    # Given AWS Backup cannot describe restore jobs any more once they have started (a 5xx every time)
    backups.cloud.faults.inject("backup", "DescribeRestoreJob", "5xx", times=None)

    result, report = run(backups)

    # Then every restore is an error, but cleanup waited for the jobs to finish and deleted what they made
    assert (result["status"], result["error"]) == ("FAILED", "RestoreFailed")
    assert {r["status"] for r in report["results"]} == {"ERROR"}
    assert report["leftover_resources"] == 0
    assert len(report["deleted"]) == 3
    assert left_behind(backups) == []
    # and AWS Backup was told nothing: nobody looked at the data, so there is no verdict about the backup
    assert set(validations(backups, backups.design.primary_region).values()) == {None}


# -- cleanup and the sweeper -----------------------------------------------------------------------------------
def test_a_refused_deletion_leaves_only_that_and_the_sweeper_deletes_it_once_it_may(
    backups: Platform, inbox: Inbox
) -> None:
    # Given the restore test may not delete tables
    d = backups.design
    backups.cloud.faults.inject("dynamodb", "DeleteTable", "access-denied", times=None)

    result, report = run(backups)

    # Then the bucket and the cluster are deleted all the same; the table is left, named with AWS's reason,
    # and the test fails without waiting hours for a refusal to pass
    assert (result["status"], result["error"]) == ("FAILED", "CleanupIncomplete")
    table = next(r for r in report["cleanup"] if r["kind"] == "DynamoDB")
    assert (table["state"], report["leftover_resources"], report["leftover_known"]) == ("failed", 1, True)
    assert report["leftover"] == [f"DynamoDB {table['name']} in {d.primary_region}: failed, {table['reason']}"]
    assert table["reason"].startswith("AccessDeniedException")
    assert left_behind(backups) == [table["name"]]
    assert report["cleanup_attempts"] == 1
    recorded = audit(backups, result["executionArn"])
    assert (recorded["error"], recorded["leftover_resources"], recorded["leftover"]) == (
        "CleanupIncomplete",
        1,
        report["leftover"],
    )
    assert "[DR] restore-test failed: CleanupIncomplete" in [m["subject"] for m in restore_messages(inbox)]

    # When the permission is back and the sweeper's daily schedule comes (09:00 UTC)
    backups.cloud.faults.clear()
    now = backups.cloud.clock.now()
    nine = now.replace(hour=9, minute=0, second=0, microsecond=0)
    backups.cloud.advance(((nine if nine > now else nine + timedelta(days=1)) - now).total_seconds() + 60)

    # Then the table is deleted, and the sweep is recorded and notified with the table's name and age
    assert left_behind(backups) == []
    sweeps = [m for m in inbox.messages() if str(m["subject"]).startswith("[DR] restore-test sweep")]
    assert [m["subject"] for m in sweeps] == ["[DR] restore-test sweep: 1 leftover(s) deleted"]
    assert f"deleted DynamoDB {table['name']} in {d.primary_region} (" in sweeps[0]["message"]
    ddb = backups.cloud.client("dynamodb", d.recovery_region)
    records = [
        json.loads(i["report"]["S"])
        for i in ddb.scan(TableName=backups.stack.physical("StateTable"))["Items"]
        if i["pk"]["S"].startswith("audit#restore-sweep:")
    ]
    assert [(r["status"], [e["name"] for e in r["swept"]]) for r in records] == [("SWEPT", [table["name"]])]
    assert not_allowed(backups) == {}  # the cleanup's and the scheduled sweeper's calls included


def test_each_run_first_sweeps_what_earlier_runs_left_and_reports_it(backups: Platform) -> None:
    # Given leftovers of an earlier test (tagged), a drtest table without the tag, and a table this very
    # run will claim as its own (its name carries the run's prefix)
    d = backups.design
    this_run = execution_arn(backups, "monthly-run")
    own = restore_test.restore_name("DynamoDB", "scratch", this_run)
    leftover_table(backups, "drtest-0badc0de-roadcall-users-prod")
    backups.cloud.client("s3", d.primary_region).create_bucket(Bucket="drtest-0badc0de-roadcall-media")
    backups.cloud.client("s3", d.primary_region).put_bucket_tagging(
        Bucket="drtest-0badc0de-roadcall-media", Tagging={"TagSet": TAGS}
    )
    leftover_table(backups, "drtest-untagged-roadcall-users-prod", tags=[])
    leftover_table(backups, own)
    backups.cloud.advance(3600)

    result, report = run(backups, name="monthly-run")

    # Then the run swept the earlier test's leftovers (with their ages), kept its own for its cleanup,
    # reported the untagged one and left it
    assert result["status"] == "SUCCEEDED" and report["leftover_resources"] == 0
    assert sorted((e["kind"], e["name"], e["state"]) for e in report["swept"]) == [
        ("DynamoDB", "drtest-0badc0de-roadcall-users-prod", "deleted"),
        ("S3", "drtest-0badc0de-roadcall-media", "deleted"),
    ], report["sweep"]
    assert all(e["age_seconds"] >= 3600 for e in report["swept"])
    assert [e["name"] for e in report["sweep"]["kept"]] == [own]
    assert [e["name"] for e in report["sweep"]["untagged"]] == ["drtest-untagged-roadcall-users-prod"]
    assert f"DynamoDB {own} in {d.primary_region}" in report["deleted"]  # this run's cleanup took it
    assert left_behind(backups) == ["drtest-untagged-roadcall-users-prod"]


# -- every end is recorded and notified -------------------------------------------------------------------------
def test_a_passed_test_whose_notification_fails_is_notified_by_the_state_machine_and_still_succeeds(
    backups: Platform, inbox: Inbox
) -> None:
    # Given the topic refuses every publish the step makes (all its retries), then recovers
    retries = bookkeeping._PATIENT.retries or {}
    attempts = int(retries.get("total_max_attempts") or int(retries.get("max_attempts", 0)) + 1)
    backups.cloud.faults.inject("sns", "Publish", "throttle", times=attempts)
    # (the half-hourly readiness evaluation, which publishes too, would take some of them: not this time)
    for schedule in backups.cloud.router.schedules:
        if READINESS_INPUT in (schedule.input_json or ""):
            schedule.enabled = False

    result, report = run(backups)

    # Then the test SUCCEEDED, says what happened, and the notification arrived once, from the state machine
    assert (result["status"], report["status"]) == ("SUCCEEDED", "SUCCEEDED")
    assert report["bookkeeping"]["notified"] is False and report["bookkeeping"]["audited"] is True
    assert report["warnings"][0].startswith("the notification was not published (Throttling")
    assert report["warnings"][-1] == "the notification was published by the state machine"
    assert [m["subject"] for m in restore_messages(inbox)] == ["[DR] restore test full SUCCEEDED"]
    assert audit(backups, result["executionArn"])["status"] == "SUCCEEDED"
    entered = [
        e["stateEnteredEventDetails"]["name"]
        for e in backups.cloud.history(result["executionArn"])
        if "stateEnteredEventDetails" in e
    ]
    assert entered[-2:] == ["NotifyOutcome", "RestoreTestSucceeded"]


def test_a_dry_run_whose_audit_record_is_lost_still_notifies_and_succeeds_with_a_warning(
    backups: Platform, inbox: Inbox
) -> None:
    backups.cloud.faults.inject("dynamodb", "PutItem", "access-denied", times=None, region="us-west-2")

    result, report = run(backups, {"mode": "dry-run"})

    assert (result["status"], report["status"]) == ("SUCCEEDED", "DRY_RUN")
    assert report["warnings"] == [
        "the audit record was not written (AccessDeniedException: An error occurred (AccessDeniedException) "
        "when calling the PutItem operation: User is not authorized to perform this action)"
    ]
    assert [m["subject"] for m in restore_messages(inbox)] == ["[DR] restore test dry-run DRY_RUN"]


def test_a_failure_whose_records_are_both_lost_says_so_in_its_fail_state(backups: Platform) -> None:
    # Given a corrupted table backup, and neither the state table nor the topic can be written
    for table in backups.design.tables:
        backups.backup_corrupted(backups.table_arn(table))
    backups.cloud.faults.inject("dynamodb", "PutItem", "access-denied", times=None, region="us-west-2")
    backups.cloud.faults.inject("sns", "Publish", "access-denied", times=None)

    result, _ = run(backups, {"mode": "full", "resource_types": ["DynamoDB"]})

    # Then it ends in its own Fail state, whose cause says what could not be recorded
    assert (result["status"], result["error"]) == ("FAILED", "ValidationFailed")
    assert "NOT RECORDED: the audit record and the notification could not be written" in result["cause"]
    assert left_behind(backups) == []
    # and the loss is counted where an alarm can see it (EMF, through the function's logs). Only the restore
    # test's series: a daily verification the schedule starts during the run (08:00 UTC) loses its records too.
    metrics = backups.cloud.client("cloudwatch", "us-west-2").list_metrics(
        Namespace="RoadCallDR",
        MetricName="BookkeepingFailed",
        Dimensions=[{"Name": "Workflow", "Value": "restore-test"}],
    )["Metrics"]
    assert len(metrics) == 1


# -- what must not start --------------------------------------------------------------------------------------------
def test_bad_input_ends_in_invalid_input_with_nothing_changed(backups: Platform) -> None:
    for payload in ({"mode": "planned"}, {"mode": "full", "resource_types": ["EFS"]}, {"mode": "full", "surprise": 1}):
        result, report = run(backups, payload)

        assert (result["status"], result["error"], report["error"]) == ("FAILED", "InvalidInput", "InvalidInput")
        assert (report["leftover_resources"], report["leftover_known"]) == (0, True)
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
