"""The restore test's cleanup against the embedded AWS: it deletes every temporary resource of its own
execution (recorded or not, a versioned bucket's every version, a cluster's instances first) and nothing
else, and says what is left."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from dr import restore_test
from dr.backup_models import BackupRequest, RestorePlanItem

from localcloud.cloud import LocalCloud
from localcloud.services.backup import BackupSimulator

REGION = "us-east-1"
EXECUTION = "arn:aws:states:us-west-2:123456789012:execution:roadcall-dr-restore-test:cleanup"
OTHER = "arn:aws:states:us-west-2:123456789012:execution:roadcall-dr-restore-test:another"


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


def item(kind: str, source: str) -> RestorePlanItem:
    return RestorePlanItem(
        resource_arn=f"arn:aws:x:::{source}",
        resource_type=kind,  # type: ignore[arg-type]
        resource_name=source,
        source_region=REGION,
        recovery_point_arn=f"arn:aws:backup:{REGION}:123456789012:recovery-point:{kind}",
        recovery_point_created_at=datetime.now(UTC) - timedelta(hours=5),
        vault="roadcall-backup-vault",
        region=REGION,
        restore_name=restore_test.restore_name(kind, source, EXECUTION),
    )


def table(aws: LocalCloud, name: str) -> None:
    aws.client("dynamodb", REGION).create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
    )


def test_cleanup_deletes_all_of_its_own_and_nothing_else(aws: LocalCloud) -> None:
    # Given what this restore test restored (one of them never recorded), and what is not its own
    mine = [
        item("DynamoDB", "roadcall-users-prod"),
        item("S3", "roadcall-kb-documents-prod"),
        item("Aurora", "roadcall-aurora-prod"),
    ]
    unrecorded = restore_test.restore_name("DynamoDB", "roadcall-vendors-prod", EXECUTION)
    someone_elses = restore_test.restore_name("DynamoDB", "roadcall-users-prod", OTHER)
    for name in (mine[0].restore_name, unrecorded, someone_elses, "roadcall-users-prod"):
        table(aws, name)
    s3 = aws.client("s3", REGION)
    s3.create_bucket(Bucket=mine[1].restore_name)
    s3.put_bucket_versioning(Bucket=mine[1].restore_name, VersioningConfiguration={"Status": "Enabled"})
    for n in range(3):
        s3.put_object(Bucket=mine[1].restore_name, Key="doc.txt", Body=f"version {n}".encode())
    rds = aws.client("rds", REGION)
    rds.create_db_cluster(
        DBClusterIdentifier=mine[2].restore_name,
        Engine="aurora-postgresql",
        MasterUsername="a",
        MasterUserPassword="p4ssword!",
    )
    rds.create_db_instance(
        DBInstanceIdentifier=f"{mine[2].restore_name}-1",
        DBClusterIdentifier=mine[2].restore_name,
        Engine="aurora-postgresql",
        DBInstanceClass="db.r6g.large",
    )

    # When the cleanup runs
    out = restore_test.clean_up(request(), mine, [])

    # Then all of this execution's resources are gone, and nothing else was touched
    assert (out["done"], out["leftover_resources"], out["leftover"], out["pending"]) == (True, 0, [], [])
    assert sorted(out["deleted"]) == sorted(
        [
            f"DynamoDB {mine[0].restore_name} in {REGION}",
            f"DynamoDB {unrecorded} in {REGION}",
            f"S3 {mine[1].restore_name} in {REGION}",
            f"Aurora {mine[2].restore_name} in {REGION}",
        ]
    )
    assert sorted(aws.client("dynamodb", REGION).list_tables()["TableNames"]) == sorted(
        ["roadcall-users-prod", someone_elses]
    )
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == []
    assert rds.describe_db_clusters()["DBClusters"] == []


def test_a_plan_item_whose_name_is_not_this_executions_is_never_deleted(aws: LocalCloud) -> None:
    table(aws, "roadcall-users-prod")
    tampered = item("DynamoDB", "roadcall-users-prod").model_copy(update={"restore_name": "roadcall-users-prod"})

    out = restore_test.clean_up(request(), [tampered], [])

    assert out["deleted"] == []
    assert aws.client("dynamodb", REGION).list_tables()["TableNames"] == ["roadcall-users-prod"]


def test_a_second_run_finds_nothing_left_and_deletes_nothing(aws: LocalCloud) -> None:
    plan = [item("DynamoDB", "roadcall-users-prod")]
    table(aws, plan[0].restore_name)
    restore_test.clean_up(request(), plan, [])

    again = restore_test.clean_up(request(), plan, [])

    assert (again["deleted"], again["leftover_resources"], again["done"]) == ([], 0, True)
