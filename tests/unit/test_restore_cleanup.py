"""The restore test's cleanup and the sweeper, against the embedded AWS.

Cleanup: it deletes every temporary resource of its own execution (recorded or not, a versioned bucket's
every version, a cluster's instances first) and nothing else; each resource on its own, so a refused
deletion does not stop the others; a passing error is retried on the next look; and it says, per resource,
what is left and why, with a count that is always a number and a flag when it is not the whole truth.

Sweeper: it deletes only ``drtest-*`` resources tagged ``dr:purpose=restore-test`` that belong to no
running restore test and are older than any, and reports each with its age."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from dr import restore_cleanup, restore_test
from dr.backup_models import BackupRequest, RestorePlanItem
from dr.settings import Settings

from localcloud.cloud import LocalCloud
from localcloud.services.backup import BackupSimulator

REGION = "us-east-1"
EXECUTION = "arn:aws:states:us-west-2:123456789012:execution:roadcall-dr-restore-test:cleanup"
OTHER = "arn:aws:states:us-west-2:123456789012:execution:roadcall-dr-restore-test:another"
TAGS = {"dr:purpose": "restore-test", "dr:execution": "earlier"}


@pytest.fixture
def aws(cloud: LocalCloud) -> LocalCloud:
    BackupSimulator(cloud.clock).register(cloud.interceptor)  # ListRestoreJobs
    return cloud


def request() -> BackupRequest:
    return BackupRequest(
        workflow="restore-test",
        mode="full",
        trigger="console",
        execution=EXECUTION,
        started_at=datetime.now(UTC) - timedelta(minutes=30),
        reason="",
        requested_by="test",
        primary_region=REGION,
        recovery_region="us-west-2",
        vault="roadcall-backup-vault",
        recovery_vault="roadcall-backup-vault-dr",
        resource_types=["DynamoDB", "Aurora", "S3"],
    )


def item(kind: str, source: str, execution: str = EXECUTION) -> RestorePlanItem:
    return RestorePlanItem(
        resource_arn=f"arn:aws:x:::{source}",
        resource_type=kind,  # type: ignore[arg-type]
        resource_name=source,
        source_region=REGION,
        recovery_point_arn=f"arn:aws:backup:{REGION}:123456789012:recovery-point:{kind}",
        recovery_point_created_at=datetime.now(UTC) - timedelta(hours=5),
        vault="roadcall-backup-vault",
        region=REGION,
        restore_name=restore_test.restore_name(kind, source, execution),
    )


def table(aws: LocalCloud, name: str, tags: dict[str, str] | None = None) -> None:
    aws.client("dynamodb", REGION).create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        Tags=[{"Key": k, "Value": v} for k, v in (tags or {}).items()],
    )


def bucket(aws: LocalCloud, name: str, versions: int = 0, tags: dict[str, str] | None = None) -> None:
    s3 = aws.client("s3", REGION)
    s3.create_bucket(Bucket=name)
    if versions:
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    for n in range(versions):
        s3.put_object(Bucket=name, Key="doc.txt", Body=f"version {n}".encode())
    if tags:
        s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]})


def cluster(aws: LocalCloud, name: str, tags: dict[str, str] | None = None) -> None:
    rds = aws.client("rds", REGION)
    rds.create_db_cluster(
        DBClusterIdentifier=name,
        Engine="aurora-postgresql",
        MasterUsername="a",
        MasterUserPassword="p4ssword!",
        Tags=[{"Key": k, "Value": v} for k, v in (tags or {}).items()],
    )
    rds.create_db_instance(
        DBInstanceIdentifier=f"{name}-1",
        DBClusterIdentifier=name,
        Engine="aurora-postgresql",
        DBInstanceClass="db.r6g.large",
    )


def tables(aws: LocalCloud) -> list[str]:
    return sorted(aws.client("dynamodb", REGION).list_tables()["TableNames"])


def states(out: dict[str, Any]) -> dict[str, str]:
    return {r["name"]: r["state"] for r in out["resources"]}


def mine() -> list[RestorePlanItem]:
    return [
        item("DynamoDB", "roadcall-users-prod"),
        item("S3", "roadcall-kb-documents-prod"),
        item("Aurora", "roadcall-aurora-prod"),
    ]


def restored(aws: LocalCloud, plan: list[RestorePlanItem]) -> None:
    table(aws, plan[0].restore_name)
    bucket(aws, plan[1].restore_name, versions=3)
    cluster(aws, plan[2].restore_name)


# -- the cleanup of one test ----------------------------------------------------------------------------------
def test_cleanup_deletes_all_of_its_own_and_nothing_else(aws: LocalCloud) -> None:
    # Given what this restore test restored (one of them never recorded), and what is not its own
    plan = mine()
    restored(aws, plan)
    unrecorded = restore_test.restore_name("DynamoDB", "roadcall-vendors-prod", EXECUTION)
    someone_elses = restore_test.restore_name("DynamoDB", "roadcall-users-prod", OTHER)
    for name in (unrecorded, someone_elses, "roadcall-users-prod"):
        table(aws, name)

    # When the cleanup runs
    out = restore_cleanup.clean_up(request(), plan, [])

    # Then all of this execution's resources are gone, and nothing else was touched
    assert (out["done"], out["settled"], out["leftover_resources"], out["leftover"]) == (True, True, 0, [])
    assert (out["leftover_known"], out["leftover_unchecked"], out["attempts"]) == (True, [], 1)
    assert sorted(out["deleted"]) == sorted(
        [
            f"DynamoDB {plan[0].restore_name} in {REGION}",
            f"DynamoDB {unrecorded} in {REGION}",
            f"S3 {plan[1].restore_name} in {REGION}",
            f"Aurora {plan[2].restore_name} in {REGION}",
        ]
    )
    assert set(states(out).values()) == {"deleted"}
    assert tables(aws) == sorted(["roadcall-users-prod", someone_elses])
    assert aws.client("s3", REGION).list_buckets()["Buckets"] == []
    assert aws.client("rds", REGION).describe_db_clusters()["DBClusters"] == []
    assert aws.client("rds", REGION).describe_db_instances()["DBInstances"] == []


def test_a_plan_item_whose_name_is_not_this_executions_is_never_deleted(aws: LocalCloud) -> None:
    table(aws, "roadcall-users-prod")
    tampered = item("DynamoDB", "roadcall-users-prod").model_copy(update={"restore_name": "roadcall-users-prod"})

    out = restore_cleanup.clean_up(request(), [tampered], [])

    assert (out["deleted"], out["resources"], out["done"]) == ([], [], True)
    assert tables(aws) == ["roadcall-users-prod"]


def test_a_second_look_finds_nothing_left_and_keeps_what_the_first_deleted(aws: LocalCloud) -> None:
    plan = [item("DynamoDB", "roadcall-users-prod")]
    table(aws, plan[0].restore_name)
    first = restore_cleanup.clean_up(request(), plan, [])

    again = restore_cleanup.clean_up(request(), plan, [], first)

    assert (again["deleted"], again["leftover_resources"], again["done"], again["attempts"]) == (
        [f"DynamoDB {plan[0].restore_name} in {REGION}"],
        0,
        True,
        2,
    )


def test_a_refused_table_deletion_does_not_stop_the_buckets_and_is_reported_with_awss_reason(
    aws: LocalCloud,
) -> None:
    # Given this test's table, bucket and cluster, and a role that may not delete the table
    plan = mine()
    restored(aws, plan)
    aws.faults.inject("dynamodb", "DeleteTable", "access-denied", times=None, everyone=True)

    out = restore_cleanup.clean_up(request(), plan, [])

    # Then the bucket and the cluster are deleted all the same, and the table is left, with why
    assert states(out) == {
        plan[0].restore_name: "failed",
        plan[1].restore_name: "deleted",
        plan[2].restore_name: "deleted",
    }
    assert (out["leftover_resources"], out["settled"], out["done"]) == (1, True, False)
    assert out["leftover"] == [
        f"DynamoDB {plan[0].restore_name} in {REGION}: failed, AccessDeniedException: "
        "User is not authorized to perform this action"
    ]
    assert tables(aws) == [plan[0].restore_name]
    assert aws.client("s3", REGION).list_buckets()["Buckets"] == []
    # and the table it must leave is tagged, so the sweeper will recognise it
    arn = aws.client("dynamodb", REGION).describe_table(TableName=plan[0].restore_name)["Table"]["TableArn"]
    tags = aws.client("dynamodb", REGION).list_tags_of_resource(ResourceArn=arn)["Tags"]
    assert {"Key": "dr:purpose", "Value": "restore-test"} in tags


def test_a_throttled_deletion_is_retried_on_the_next_look_until_it_succeeds(aws: LocalCloud) -> None:
    # Given deletions of the table that are throttled longer than the SDK's own retries (1 + 3 attempts)
    plan = mine()
    restored(aws, plan)
    aws.faults.inject("dynamodb", "DeleteTable", "throttle", times=4, everyone=True)

    first = restore_cleanup.clean_up(request(), plan, [])
    second = restore_cleanup.clean_up(request(), plan, [], first)

    # Then the first look says it will try again (and deletes the rest); the second deletes it
    assert states(first)[plan[0].restore_name] == "retrying"
    assert "ThrottlingException" in first["pending"][0] and "will try again" in first["pending"][0]
    assert (first["settled"], first["leftover_resources"], states(first)[plan[1].restore_name]) == (
        False,
        1,
        "deleted",
    )
    assert set(states(second).values()) == {"deleted"}
    assert (second["done"], second["leftover_resources"], len(second["deleted"])) == (True, 0, 3)
    assert tables(aws) == []


def test_a_deletion_that_keeps_failing_transiently_counts_as_failed_after_the_retry_limit(
    aws: LocalCloud,
) -> None:
    plan = [item("DynamoDB", "roadcall-users-prod")]
    table(aws, plan[0].restore_name)
    aws.faults.inject("dynamodb", "DeleteTable", "5xx", times=None, everyone=True)
    out: dict[str, Any] = {}

    looks = []
    for _ in range(restore_cleanup.RETRY_LIMIT):
        out = restore_cleanup.clean_up(request(), plan, [], out)
        looks.append(states(out)[plan[0].restore_name])

    assert looks == ["retrying"] * (restore_cleanup.RETRY_LIMIT - 1) + ["failed"]
    assert out["settled"] and out["leftover_resources"] == 1
    assert f"after {restore_cleanup.RETRY_LIMIT} tries" in out["leftover"][0]


def test_a_restore_job_still_running_keeps_the_cleanup_waiting(aws: LocalCloud) -> None:
    # Given a restore job of this test's recovery point that is still running
    backup = aws.client("backup", REGION)
    sim = BackupSimulator(aws.clock)
    sim.register(aws.interceptor)
    backup.create_backup_vault(BackupVaultName="roadcall-backup-vault")
    table(aws, "roadcall-users-prod")
    point = sim.seed_recovery_point(
        "roadcall-backup-vault",
        REGION,
        f"arn:aws:dynamodb:{REGION}:123456789012:table/roadcall-users-prod",
        "DynamoDB",
        datetime.now(UTC) - timedelta(hours=5),
    )
    plan = [item("DynamoDB", "roadcall-users-prod").model_copy(update={"recovery_point_arn": point})]
    job = backup.start_restore_job(RecoveryPointArn=point, Metadata={"targetTableName": plan[0].restore_name})

    out = restore_cleanup.clean_up(request(), plan, [{"recovery_point_arn": point, **job}])

    assert states(out) == {plan[0].restore_name: "waiting"}
    assert out["pending"][0].endswith(f"restore job {job['RestoreJobId']} still running")
    assert (out["settled"], out["done"], out["leftover_resources"]) == (False, False, 1)


def test_a_listing_that_cannot_be_read_makes_the_count_incomplete_and_says_so(aws: LocalCloud) -> None:
    # Given this test's bucket that may not be deleted, and tables that may not be listed
    plan = [item("S3", "roadcall-kb-documents-prod")]
    bucket(aws, plan[0].restore_name)
    aws.faults.inject("s3", "DeleteBucket", "access-denied", times=None, everyone=True)
    aws.faults.inject("dynamodb", "ListTables", "access-denied", times=None, region=REGION, everyone=True)

    out = restore_cleanup.clean_up(request(), plan, [])

    # Then what is known is counted, and the count says it is not the whole truth
    assert out["leftover_resources"] == 1
    assert out["leftover_known"] is False
    assert out["leftover_unchecked"] == [
        f"DynamoDB tables in {REGION}: AccessDeniedException: User is not authorized to perform this action"
    ]
    assert (out["settled"], out["done"]) == (True, False)


# -- the sweeper ------------------------------------------------------------------------------------------------
def settings() -> Settings:
    return Settings(PRIMARY_REGION=REGION, RECOVERY_REGION="us-west-2")


def test_the_sweeper_deletes_only_tagged_leftovers_of_no_running_test_older_than_any(aws: LocalCloud) -> None:
    # Given leftovers of earlier tests (tagged), a running test's table, an untagged drtest table,
    # a tagged table that is not a drtest one, and a leftover younger than the running test
    running = restore_test.restore_name("DynamoDB", "roadcall-users-prod", OTHER)
    table(aws, "drtest-0badc0de-roadcall-users-prod", TAGS)
    bucket(aws, "drtest-0badc0de-roadcall-kb-documents-prod", versions=2, tags=TAGS)
    cluster(aws, "drtest-0badc0de-roadcall-aurora-prod", TAGS)
    table(aws, running, TAGS)
    table(aws, "drtest-untagged-roadcall-users-prod")
    table(aws, "roadcall-users-prod", TAGS)
    aws.advance(3 * 3600)
    started = aws.clock.now()
    aws.advance(600)
    table(aws, "drtest-00000000-younger", TAGS)
    now = aws.clock.now()

    out = restore_cleanup.sweep(settings(), now, live=[(OTHER, started)])

    # Then the three old leftovers are deleted, and reported with their ages
    swept = {e["name"]: e for e in out["swept"]}
    assert sorted(swept) == [
        "drtest-0badc0de-roadcall-aurora-prod",
        "drtest-0badc0de-roadcall-kb-documents-prod",
        "drtest-0badc0de-roadcall-users-prod",
    ]
    assert {e["state"] for e in out["swept"]} == {"deleted"}
    assert all(3 * 3600 + 600 <= e["age_seconds"] <= 3 * 3600 + 630 for e in out["swept"])  # real seconds pass too
    assert {e["execution"] for e in out["swept"]} == {"earlier"}
    assert out["swept_resources"] == 3
    # and nothing else is touched: the running test's, the younger one, the untagged one, the non-drtest one
    assert tables(aws) == sorted(
        [running, "drtest-00000000-younger", "drtest-untagged-roadcall-users-prod", "roadcall-users-prod"]
    )
    kept = {e["name"]: e["reason"] for e in out["kept"]}
    assert kept[running] == f"belongs to the running restore test {OTHER}"
    assert "not before the oldest running restore test" in kept["drtest-00000000-younger"]
    assert [e["name"] for e in out["untagged"]] == ["drtest-untagged-roadcall-users-prod"]
    assert aws.client("s3", REGION).list_buckets()["Buckets"] == []
    assert aws.client("rds", REGION).describe_db_clusters()["DBClusters"] == []


def test_a_dry_run_sweep_says_what_it_would_delete_and_deletes_nothing(aws: LocalCloud) -> None:
    table(aws, "drtest-0badc0de-roadcall-users-prod", TAGS)
    aws.advance(3600)

    out = restore_cleanup.sweep(settings(), aws.clock.now(), dry_run=True, live=[])

    assert [(e["name"], e["state"]) for e in out["swept"]] == [("drtest-0badc0de-roadcall-users-prod", "would delete")]
    assert tables(aws) == ["drtest-0badc0de-roadcall-users-prod"]


def test_a_sweeper_that_cannot_see_the_running_tests_deletes_nothing_and_says_why(aws: LocalCloud) -> None:
    table(aws, "drtest-0badc0de-roadcall-users-prod", TAGS)
    aws.advance(3600)
    arn = "arn:aws:states:us-west-2:123456789012:stateMachine:roadcall-dr-restore-test"
    aws.faults.inject("stepfunctions", "ListExecutions", "access-denied", times=None, everyone=True)

    out = restore_cleanup.sweep(Settings(RESTORE_TEST_STATE_MACHINE_ARN=arn), aws.clock.now())

    assert out["swept"] == [] and out["swept_resources"] == 0
    assert out["unchecked"][0].startswith("running restore tests: AccessDeniedException")
    assert out["unchecked"][0].endswith("nothing was deleted")
    assert tables(aws) == ["drtest-0badc0de-roadcall-users-prod"]


def test_a_refused_sweep_deletion_is_reported_and_the_rest_is_swept(aws: LocalCloud) -> None:
    table(aws, "drtest-0badc0de-roadcall-users-prod", TAGS)
    bucket(aws, "drtest-0badc0de-roadcall-kb-documents-prod", tags=TAGS)
    aws.advance(3600)
    aws.faults.inject("dynamodb", "DeleteTable", "access-denied", times=None, everyone=True)

    out = restore_cleanup.sweep(settings(), aws.clock.now(), live=[])

    assert {e["name"]: e["state"] for e in out["swept"]} == {
        "drtest-0badc0de-roadcall-users-prod": "failed",
        "drtest-0badc0de-roadcall-kb-documents-prod": "deleted",
    }
    assert aws.client("s3", REGION).list_buckets()["Buckets"] == []
