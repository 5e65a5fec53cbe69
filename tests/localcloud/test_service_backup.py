"""Fidelity of the simulated AWS Backup: selections, jobs on the virtual clock, recovery points, copies,
restores that really create resources in moto, restore validation, pagination and error codes.

Every call goes through a real boto3 client, so each answer is also proven to parse with botocore's model.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.s3.models import s3_backends

from localcloud.clock import VirtualClock
from localcloud.services.backup import BackupSimulator
from tests.localcloud.conftest import Bare

EAST, WEST = "us-east-1", "us-west-2"
ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/service-role/AWSBackupDefaultServiceRole"
VAULT = "roadcall-vault"
DR_VAULT = "roadcall-vault-dr"
VAULT_ARN = f"arn:aws:backup:{EAST}:{ACCOUNT}:backup-vault:{VAULT}"
DR_VAULT_ARN = f"arn:aws:backup:{WEST}:{ACCOUNT}:backup-vault:{DR_VAULT}"
TABLE = "roadcall-users-prod"
TABLE_ARN = f"arn:aws:dynamodb:{EAST}:{ACCOUNT}:table/{TABLE}"
BUCKET = "roadcall-kb-documents-prod"
BUCKET_ARN = f"arn:aws:s3:::{BUCKET}"
CLUSTER = "roadcall-aurora-use1"
CLUSTER_ARN = f"arn:aws:rds:{EAST}:{ACCOUNT}:cluster:{CLUSTER}"
T0 = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)  # a seeded nightly backup window


@pytest.fixture
def env(bare: Bare) -> tuple[VirtualClock, BackupSimulator]:
    return bare.clock, bare.register(BackupSimulator(bare.clock))


def _client(service: str, region: str = EAST) -> Any:
    return boto3.client(service, region_name=region)


def _code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


def _message(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Message"])


def _vaults() -> None:
    _client("backup", EAST).create_backup_vault(BackupVaultName=VAULT)
    _client("backup", WEST).create_backup_vault(BackupVaultName=DR_VAULT)


def _table(items: list[dict[str, Any]], name: str = TABLE, region: str = EAST) -> None:
    ddb = _client("dynamodb", region)
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "N"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    for item in items:
        ddb.put_item(TableName=name, Item=item)


def _item(pk: str, sk: int, name: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"N": str(sk)}, "name": {"S": name}}


def _scan(name: str, region: str = EAST) -> list[dict[str, Any]]:
    items = _client("dynamodb", region).scan(TableName=name)["Items"]
    return sorted(items, key=lambda i: (i["pk"]["S"], int(i["sk"]["N"])))


def _put_object(bucket: str, key: str, body: bytes, content_type: str) -> None:
    """Write an object straight into moto's S3 backend.

    Not through boto3: the Interceptor (localcloud/interceptor.py) reads a streamed request body when it
    names the call and hands moto the exhausted stream, so a PutObject through it stores an empty object."""
    obj = s3_backends[ACCOUNT]["aws"].put_object(bucket, key, body)
    obj.set_metadata({"Content-Type": content_type})


def _backup_now(clock: VirtualClock, resource_arn: str = TABLE_ARN) -> dict[str, Any]:
    """Start an on-demand backup and let it finish (default 300 s); returns DescribeBackupJob."""
    backup = _client("backup")
    job_id = backup.start_backup_job(BackupVaultName=VAULT, ResourceArn=resource_arn, IamRoleArn=ROLE)["BackupJobId"]
    clock.advance(300)
    return dict(backup.describe_backup_job(BackupJobId=job_id))


# ---------------------------------------------------------------- what moto keeps answering


def test_vaults_and_plans_stay_with_moto_and_vault_counts_follow_recovery_points(env: Any) -> None:
    # Given a vault created through moto
    _, sim = env
    backup = _client("backup")
    backup.create_backup_vault(BackupVaultName=VAULT)
    # When two recovery points are seeded into it
    for day in range(2):
        sim.seed_recovery_point(VAULT, EAST, TABLE_ARN, "DynamoDB", T0 + timedelta(days=day))
    # Then moto's own DescribeBackupVault counts them
    described = backup.describe_backup_vault(BackupVaultName=VAULT)
    assert (described["BackupVaultArn"], described["NumberOfRecoveryPoints"]) == (VAULT_ARN, 2)


# ---------------------------------------------------------------- selections


def _plan(region: str = EAST) -> dict[str, Any]:
    return dict(
        _client("backup", region).create_backup_plan(
            BackupPlan={
                "BackupPlanName": "roadcall-daily",
                "Rules": [
                    {
                        "RuleName": "daily-0200",
                        "TargetBackupVaultName": VAULT,
                        "ScheduleExpression": "cron(0 2 * * ? *)",
                        "Lifecycle": {"DeleteAfterDays": 35},
                    }
                ],
            }
        )
    )


def test_backup_selection_create_get_list_delete(env: Any) -> None:
    # Given a plan held by moto
    backup = _client("backup")
    plan_id = _plan()["BackupPlanId"]
    selection = {"SelectionName": "roadcall-tables", "IamRoleArn": ROLE, "Resources": [TABLE_ARN, BUCKET_ARN]}
    # When a selection is created on it
    created = backup.create_backup_selection(BackupPlanId=plan_id, BackupSelection=selection, CreatorRequestId="r1")
    selection_id = created["SelectionId"]
    # Then it is returned as created, and listed
    got = backup.get_backup_selection(BackupPlanId=plan_id, SelectionId=selection_id)
    assert got["BackupSelection"] == selection
    assert (got["BackupPlanId"], got["SelectionId"], got["CreatorRequestId"]) == (plan_id, selection_id, "r1")
    assert got["CreationDate"] == created["CreationDate"]
    listed = backup.list_backup_selections(BackupPlanId=plan_id)["BackupSelectionsList"]
    assert [(s["SelectionId"], s["SelectionName"], s["IamRoleArn"]) for s in listed] == [
        (selection_id, "roadcall-tables", ROLE)
    ]
    # And the same CreatorRequestId does not create a second one
    again = backup.create_backup_selection(BackupPlanId=plan_id, BackupSelection=selection, CreatorRequestId="r1")
    assert again["SelectionId"] == selection_id
    # When it is deleted, Then it is gone
    backup.delete_backup_selection(BackupPlanId=plan_id, SelectionId=selection_id)
    assert backup.list_backup_selections(BackupPlanId=plan_id)["BackupSelectionsList"] == []
    with pytest.raises(ClientError) as error:
        backup.get_backup_selection(BackupPlanId=plan_id, SelectionId=selection_id)
    assert _code(error) == "ResourceNotFoundException"
    assert _message(error) == f"Backup selection '{selection_id}' does not exist in plan '{plan_id}'"


def test_backup_selection_on_unknown_plan_is_resource_not_found(env: Any) -> None:
    # Given no plan
    backup = _client("backup")
    # When a selection is created on a plan id that does not exist
    with pytest.raises(ClientError) as error:
        backup.create_backup_selection(
            BackupPlanId="no-such-plan", BackupSelection={"SelectionName": "s", "IamRoleArn": ROLE}
        )
    # Then ResourceNotFoundException names the plan
    assert _code(error) == "ResourceNotFoundException"
    assert _message(error) == "Backup plan 'no-such-plan' does not exist in us-east-1"
    with pytest.raises(ClientError) as listed:
        backup.list_backup_selections(BackupPlanId="no-such-plan")
    assert _code(listed) == "ResourceNotFoundException"


# ---------------------------------------------------------------- backup jobs


def test_backup_job_goes_created_running_completed_and_only_then_has_a_recovery_point(env: Any) -> None:
    # Given a table and a vault
    clock, _ = env
    _vaults()
    _table([_item("u1", 1, "Ana")])
    backup = _client("backup")
    # When an on-demand backup starts
    started = backup.start_backup_job(
        BackupVaultName=VAULT,
        ResourceArn=TABLE_ARN,
        IamRoleArn=ROLE,
        Lifecycle={"DeleteAfterDays": 35},
        RecoveryPointTags={"purpose": "drill"},
    )
    job_id, point_arn = started["BackupJobId"], started["RecoveryPointArn"]
    # Then it is CREATED, with a DynamoDB backup ARN, and no recovery point exists yet
    assert re.fullmatch(rf"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/{TABLE}/backup/\d{{14}}-[0-9a-f]{{8}}", point_arn)
    assert re.fullmatch(r"[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}", job_id)
    job = backup.describe_backup_job(BackupJobId=job_id)
    assert (job["State"], job["PercentDone"], job["ResourceType"], job["ResourceName"]) == (
        "CREATED",
        "0.0",
        "DynamoDB",
        TABLE,
    )
    assert (job["BackupVaultArn"], job["IamRoleArn"], job["RecoveryPointLifecycle"]) == (
        VAULT_ARN,
        ROLE,
        {"DeleteAfterDays": 35},
    )
    assert "CompletionDate" not in job
    assert backup.list_recovery_points_by_backup_vault(BackupVaultName=VAULT)["RecoveryPoints"] == []
    # When 60 s pass (past the first tenth of 300 s)
    clock.advance(60)
    # Then it is RUNNING, about a fifth done
    running = backup.describe_backup_job(BackupJobId=job_id)
    assert (running["State"], running["PercentDone"][:2]) == ("RUNNING", "20")
    # When the modeled 300 s have passed
    clock.advance(240)
    # Then it is COMPLETED at exactly creation + 300 s, and its recovery point is in the vault
    done = backup.describe_backup_job(BackupJobId=job_id)
    assert (done["State"], done["PercentDone"], done["RecoveryPointArn"]) == ("COMPLETED", "100.0", point_arn)
    assert done["CompletionDate"] - done["CreationDate"] == timedelta(seconds=300)
    assert done["CreationDate"] == started["CreationDate"]
    points = backup.list_recovery_points_by_backup_vault(BackupVaultName=VAULT)["RecoveryPoints"]
    assert [(p["RecoveryPointArn"], p["Status"], p["ResourceArn"]) for p in points] == [
        (point_arn, "COMPLETED", TABLE_ARN)
    ]
    assert backup.list_tags(ResourceArn=point_arn)["Tags"] == {"purpose": "drill"}


def test_backup_job_of_a_table_that_does_not_exist_ends_failed(env: Any) -> None:
    # Given a vault but no table
    clock, _ = env
    _vaults()
    # When a backup of a missing table runs its course
    job = _backup_now(clock)
    # Then it FAILED with a message naming the table, and produced no recovery point
    assert (job["State"], job["StatusMessage"]) == (
        "FAILED",
        f"DynamoDB table {TABLE} does not exist in us-east-1; nothing to back up",
    )
    assert "RecoveryPointArn" not in job
    assert _client("backup").list_recovery_points_by_resource(ResourceArn=TABLE_ARN)["RecoveryPoints"] == []


def test_fail_next_backup_knob_fails_one_job_only(env: Any) -> None:
    # Given a table and a failure queued for the next DynamoDB backup
    clock, sim = env
    _vaults()
    _table([_item("u1", 1, "Ana")])
    sim.fail_next_backup("DynamoDB", "Insufficient privileges to read the table")
    # When two backups run one after the other
    first, second = _backup_now(clock), _backup_now(clock)
    # Then only the first failed, with the message
    assert (first["State"], first["StatusMessage"]) == ("FAILED", "Insufficient privileges to read the table")
    assert (second["State"], "StatusMessage" in second) == ("COMPLETED", False)


def test_start_backup_job_is_idempotent_per_token(env: Any) -> None:
    # Given a table and a vault
    _vaults()
    _table([])
    backup = _client("backup")
    # When the same request is sent twice with one IdempotencyToken
    first = backup.start_backup_job(BackupVaultName=VAULT, ResourceArn=TABLE_ARN, IamRoleArn=ROLE, IdempotencyToken="t")
    second = backup.start_backup_job(
        BackupVaultName=VAULT, ResourceArn=TABLE_ARN, IamRoleArn=ROLE, IdempotencyToken="t"
    )
    # Then one job exists
    assert (second["BackupJobId"], second["RecoveryPointArn"]) == (
        first["BackupJobId"],
        first["RecoveryPointArn"],
    )
    assert len(backup.list_backup_jobs()["BackupJobs"]) == 1


def test_start_backup_job_errors(env: Any) -> None:
    # Given one vault in us-east-1
    _vaults()
    backup = _client("backup")
    # When the vault, the resource type, the Region or the lifecycle is wrong, Then the modeled error says so
    with pytest.raises(ClientError) as missing_vault:
        backup.start_backup_job(BackupVaultName="nope", ResourceArn=TABLE_ARN, IamRoleArn=ROLE)
    assert (_code(missing_vault), _message(missing_vault)) == (
        "ResourceNotFoundException",
        f"Backup vault 'nope' does not exist in us-east-1 (account {ACCOUNT})",
    )
    with pytest.raises(ClientError) as unsupported:
        backup.start_backup_job(BackupVaultName=VAULT, ResourceArn="arn:aws:ec2:us-east-1:1:volume/v", IamRoleArn=ROLE)
    assert _code(unsupported) == "InvalidParameterValueException"
    assert _message(unsupported).startswith("ResourceArn 'arn:aws:ec2:us-east-1:1:volume/v' is not a resource")
    west_table = f"arn:aws:dynamodb:us-west-2:{ACCOUNT}:table/{TABLE}"
    with pytest.raises(ClientError) as other_region:
        backup.start_backup_job(BackupVaultName=VAULT, ResourceArn=west_table, IamRoleArn=ROLE)
    assert _code(other_region) == "InvalidParameterValueException"
    assert _message(other_region).startswith(f"ResourceArn {west_table} is in us-west-2 but backup vault {VAULT}")
    with pytest.raises(ClientError) as lifecycle:
        backup.start_backup_job(
            BackupVaultName=VAULT,
            ResourceArn=TABLE_ARN,
            IamRoleArn=ROLE,
            Lifecycle={"MoveToColdStorageAfterDays": 30, "DeleteAfterDays": 35},
        )
    assert (_code(lifecycle), _message(lifecycle)) == (
        "InvalidParameterValueException",
        "Lifecycle DeleteAfterDays must be at least 90 days more than MoveToColdStorageAfterDays; "
        "found DeleteAfterDays=35, MoveToColdStorageAfterDays=30",
    )
    with pytest.raises(ClientError) as unknown_job:
        backup.describe_backup_job(BackupJobId="NOPE")
    assert (_code(unknown_job), _message(unknown_job)) == (
        "ResourceNotFoundException",
        "Backup job 'NOPE' does not exist in us-east-1",
    )


def test_list_backup_jobs_filters_and_pages(env: Any) -> None:
    # Given seeded jobs: two completed table backups, one failed bucket backup, one expired one
    _, sim = env
    ok1 = sim.seed_backup_job(VAULT, EAST, TABLE_ARN, "COMPLETED", T0)
    ok2 = sim.seed_backup_job(VAULT, EAST, TABLE_ARN, "COMPLETED", T0 + timedelta(days=1))
    failed = sim.seed_backup_job(VAULT, EAST, BUCKET_ARN, "FAILED", T0 + timedelta(days=1, hours=1))
    expired = sim.seed_backup_job("other-vault", EAST, TABLE_ARN, "EXPIRED", T0 + timedelta(days=2))
    backup = _client("backup")

    def ids(**filters: Any) -> list[str]:
        return [j["BackupJobId"] for j in backup.list_backup_jobs(**filters)["BackupJobs"]]

    # When listed with each filter, Then exactly the matching jobs come back, newest first
    assert ids() == [expired, failed, ok2, ok1]
    assert ids(ByState="COMPLETED") == [ok2, ok1]
    assert ids(ByResourceArn=BUCKET_ARN) == [failed]
    assert ids(ByResourceType="S3") == [failed]
    assert ids(ByBackupVaultName="other-vault") == [expired]
    assert ids(ByCreatedAfter=T0 + timedelta(hours=12)) == [expired, failed, ok2]
    assert ids(ByCreatedBefore=T0 + timedelta(days=1, minutes=30)) == [ok2, ok1]
    assert ids(ByCompleteAfter=T0 + timedelta(days=1, minutes=30), ByCompleteBefore=T0 + timedelta(days=2)) == [failed]
    # And the failed one carries its message, the expired one no recovery point
    jobs = {j["BackupJobId"]: j for j in backup.list_backup_jobs()["BackupJobs"]}
    assert jobs[failed]["StatusMessage"] == "An internal error occurred while backing up the resource"
    assert "RecoveryPointArn" not in jobs[expired]
    # And the completed ones put their recovery points into the vault
    points = backup.list_recovery_points_by_backup_vault(BackupVaultName=VAULT)["RecoveryPoints"]
    assert [p["RecoveryPointArn"] for p in points] == [
        jobs[ok2]["RecoveryPointArn"],
        jobs[ok1]["RecoveryPointArn"],
    ]
    # And pages of one return all four exactly once
    seen, token = [], None
    while True:
        page = backup.list_backup_jobs(MaxResults=1, **({"NextToken": token} if token else {}))
        seen += [j["BackupJobId"] for j in page["BackupJobs"]]
        token = page.get("NextToken")
        if not token:
            break
    assert seen == [expired, failed, ok2, ok1]


# ---------------------------------------------------------------- recovery points


def test_describe_recovery_point_reports_every_modeled_field(env: Any) -> None:
    # Given a plan held by moto and a recovery point its rule made, with cold storage after 30 days
    _, sim = env
    _vaults()
    plan = _plan()
    rule = _client("backup").get_backup_plan(BackupPlanId=plan["BackupPlanId"])["BackupPlan"]["Rules"][0]
    arn = sim.seed_recovery_point(
        VAULT,
        EAST,
        TABLE_ARN,
        "DynamoDB",
        T0,
        delete_after_days=365,
        cold_after_days=30,
        plan_id=plan["BackupPlanId"],
        rule_id=rule["RuleId"],
        size_bytes=2048,
    )
    # When it is described
    point = _client("backup").describe_recovery_point(BackupVaultName=VAULT, RecoveryPointArn=arn)
    # Then every field is what was seeded, and the lifecycle dates follow from the creation date
    assert {k: point[k] for k in ("RecoveryPointArn", "BackupVaultName", "BackupVaultArn", "ResourceArn")} == {
        "RecoveryPointArn": arn,
        "BackupVaultName": VAULT,
        "BackupVaultArn": VAULT_ARN,
        "ResourceArn": TABLE_ARN,
    }
    assert (point["ResourceType"], point["ResourceName"], point["Status"], point["IsEncrypted"]) == (
        "DynamoDB",
        TABLE,
        "COMPLETED",
        True,
    )
    assert re.fullmatch(rf"arn:aws:kms:us-east-1:{ACCOUNT}:key/[0-9a-f-]{{36}}", point["EncryptionKeyArn"])
    assert (point["CreationDate"], point["CompletionDate"]) == (T0, T0 + timedelta(seconds=300))
    assert point["Lifecycle"] == {"MoveToColdStorageAfterDays": 30, "DeleteAfterDays": 365}
    assert point["CalculatedLifecycle"] == {
        "MoveToColdStorageAt": T0 + timedelta(days=30),
        "DeleteAt": T0 + timedelta(days=365),
    }
    assert point["CreatedBy"] == {
        "BackupPlanId": plan["BackupPlanId"],
        "BackupPlanArn": plan["BackupPlanArn"],
        "BackupPlanVersion": plan["VersionId"],
        "BackupPlanName": "roadcall-daily",
        "BackupRuleId": rule["RuleId"],
        "BackupRuleName": "daily-0200",
        "BackupRuleCron": "cron(0 2 * * ? *)",
        "BackupRuleTimezone": "Etc/UTC",
    }
    assert (point["BackupSizeInBytes"], "SourceBackupVaultArn" in point) == (2048, False)
    assert point["StorageClass"] == "COLD"  # T0 is long before the clock's start


def test_storage_class_moves_to_cold_when_the_clock_passes_move_to_cold_storage_at(env: Any) -> None:
    # Given a point created now that moves to cold storage after 30 days
    clock, sim = env
    created = clock.now().replace(microsecond=0)
    arn = sim.seed_recovery_point(
        VAULT, EAST, TABLE_ARN, "DynamoDB", created, cold_after_days=30, delete_after_days=120
    )
    backup = _client("backup")

    def storage_class() -> str:
        return str(backup.describe_recovery_point(BackupVaultName=VAULT, RecoveryPointArn=arn)["StorageClass"])

    # When 29 days pass it is WARM; When 30 days have passed it is COLD
    clock.advance(29 * 86400)
    assert storage_class() == "WARM"
    clock.advance(86400)
    assert storage_class() == "COLD"


def test_seeded_statuses_encryption_and_copies_are_reported(env: Any) -> None:
    # Given an unencrypted PARTIAL point, an EXPIRED one, and a copy in the DR vault
    _, sim = env
    partial = sim.seed_recovery_point(VAULT, EAST, TABLE_ARN, "DynamoDB", T0, status="PARTIAL", encrypted=False)
    expired = sim.seed_recovery_point(VAULT, EAST, BUCKET_ARN, "S3", T0, status="EXPIRED")
    copy = sim.seed_recovery_point(DR_VAULT, WEST, TABLE_ARN, "DynamoDB", T0, source_vault_arn=VAULT_ARN)
    east, west = _client("backup", EAST), _client("backup", WEST)
    # When they are described
    p = east.describe_recovery_point(BackupVaultName=VAULT, RecoveryPointArn=partial)
    e = east.describe_recovery_point(BackupVaultName=VAULT, RecoveryPointArn=expired)
    c = west.describe_recovery_point(BackupVaultName=DR_VAULT, RecoveryPointArn=copy)
    # Then status, encryption, ARNs and the copy's source are as seeded
    assert (p["Status"], p["IsEncrypted"], "EncryptionKeyArn" in p) == ("PARTIAL", False, False)
    assert (e["Status"], e["ResourceType"]) == ("EXPIRED", "S3")
    assert re.fullmatch(rf"arn:aws:backup:us-east-1:{ACCOUNT}:recovery-point:[0-9A-F-]{{36}}", expired)
    assert (c["SourceBackupVaultArn"], c["BackupVaultArn"], c["ResourceArn"]) == (
        VAULT_ARN,
        DR_VAULT_ARN,
        TABLE_ARN,
    )
    assert re.fullmatch(rf"arn:aws:backup:us-west-2:{ACCOUNT}:recovery-point:[0-9A-F-]{{36}}", copy)


def test_list_recovery_points_by_vault_filters(env: Any) -> None:
    # Given points of a table (two days) and a bucket, one from a plan
    _, sim = env
    day1 = sim.seed_recovery_point(VAULT, EAST, TABLE_ARN, "DynamoDB", T0, plan_id="plan-1")
    day2 = sim.seed_recovery_point(VAULT, EAST, TABLE_ARN, "DynamoDB", T0 + timedelta(days=1))
    bucket = sim.seed_recovery_point(VAULT, EAST, BUCKET_ARN, "S3", T0 + timedelta(hours=1))
    backup = _client("backup")

    def arns(**filters: Any) -> list[str]:
        points = backup.list_recovery_points_by_backup_vault(BackupVaultName=VAULT, **filters)["RecoveryPoints"]
        return [p["RecoveryPointArn"] for p in points]

    # When listed with each filter, Then exactly the matching points come back, newest first
    assert arns() == [day2, bucket, day1]
    assert arns(ByResourceArn=TABLE_ARN) == [day2, day1]
    assert arns(ByResourceType="S3") == [bucket]
    assert arns(ByBackupPlanId="plan-1") == [day1]
    assert arns(ByCreatedAfter=T0 + timedelta(minutes=30)) == [day2, bucket]
    assert arns(ByCreatedBefore=T0 + timedelta(hours=2)) == [bucket, day1]


def test_pagination_over_250_recovery_points_returns_each_once_newest_first(env: Any) -> None:
    # Given 250 recovery points of 5 tables, one every hour
    _, sim = env
    seeded = {}
    for n in range(250):
        arn = f"arn:aws:dynamodb:{EAST}:{ACCOUNT}:table/roadcall-t{n % 5}"
        seeded[sim.seed_recovery_point(VAULT, EAST, arn, "DynamoDB", T0 + timedelta(hours=n))] = n
    backup = _client("backup")
    # When the vault is listed 100 at a time
    pages, token = [], None
    while True:
        page = backup.list_recovery_points_by_backup_vault(
            BackupVaultName=VAULT, MaxResults=100, **({"NextToken": token} if token else {})
        )
        pages.append([p["RecoveryPointArn"] for p in page["RecoveryPoints"]])
        token = page.get("NextToken")
        if not token:
            break
    # Then three pages hold all 250 exactly once, newest first
    assert [len(p) for p in pages] == [100, 100, 50]
    listed = [arn for page in pages for arn in page]
    assert listed == sorted(seeded, key=lambda a: -seeded[a])
    # And one table's 50 points page the same way by resource
    table0 = f"arn:aws:dynamodb:{EAST}:{ACCOUNT}:table/roadcall-t0"
    by_resource, token = [], None
    while True:
        page = backup.list_recovery_points_by_resource(
            ResourceArn=table0, MaxResults=7, **({"NextToken": token} if token else {})
        )
        by_resource += [p["RecoveryPointArn"] for p in page["RecoveryPoints"]]
        token = page.get("NextToken")
        if not token:
            break
    assert by_resource == [a for a in listed if seeded[a] % 5 == 0]
    assert len(by_resource) == 50


def test_list_recovery_points_by_resource_entry_shape(env: Any) -> None:
    # Given one seeded point of the table
    _, sim = env
    arn = sim.seed_recovery_point(VAULT, EAST, TABLE_ARN, "DynamoDB", T0, size_bytes=10)
    # When listed by resource
    points = _client("backup").list_recovery_points_by_resource(ResourceArn=TABLE_ARN)["RecoveryPoints"]
    # Then the entry has the ByResource shape
    assert len(points) == 1
    assert {k: points[0][k] for k in ("RecoveryPointArn", "CreationDate", "Status", "BackupSizeBytes")} == {
        "RecoveryPointArn": arn,
        "CreationDate": T0,
        "Status": "COMPLETED",
        "BackupSizeBytes": 10,
    }
    assert (points[0]["BackupVaultName"], points[0]["ResourceName"]) == (VAULT, TABLE)


def test_bad_next_token_and_max_results(env: Any) -> None:
    # Given a vault
    _vaults()
    backup = _client("backup")
    # When a token that this API never returned is sent, Then InvalidParameterValueException
    with pytest.raises(ClientError) as error:
        backup.list_recovery_points_by_backup_vault(BackupVaultName=VAULT, NextToken="garbage")
    assert (_code(error), _message(error)) == (
        "InvalidParameterValueException",
        "NextToken 'garbage' is not a token returned by this API",
    )
    # And an unknown vault is ResourceNotFoundException
    with pytest.raises(ClientError) as vault:
        backup.list_recovery_points_by_backup_vault(BackupVaultName="nope")
    assert _code(vault) == "ResourceNotFoundException"


def test_delete_recovery_point_is_deleting_then_gone(env: Any) -> None:
    # Given a vault with one seeded point
    clock, sim = env
    _vaults()
    arn = sim.seed_recovery_point(VAULT, EAST, TABLE_ARN, "DynamoDB", T0)
    backup = _client("backup")
    # When it is deleted
    backup.delete_recovery_point(BackupVaultName=VAULT, RecoveryPointArn=arn)
    # Then it is DELETING for the modeled 60 s, then gone from the vault and its count
    point = backup.describe_recovery_point(BackupVaultName=VAULT, RecoveryPointArn=arn)
    assert (point["Status"], point["StorageClass"]) == ("DELETING", "DELETED")
    clock.advance(60)
    assert backup.list_recovery_points_by_backup_vault(BackupVaultName=VAULT)["RecoveryPoints"] == []
    assert backup.describe_backup_vault(BackupVaultName=VAULT)["NumberOfRecoveryPoints"] == 0
    with pytest.raises(ClientError) as error:
        backup.describe_recovery_point(BackupVaultName=VAULT, RecoveryPointArn=arn)
    assert (_code(error), _message(error)) == (
        "ResourceNotFoundException",
        f"Recovery point {arn} is not in backup vault '{VAULT}' in us-east-1",
    )


def test_delete_backup_vault_refuses_a_vault_with_recovery_points(env: Any) -> None:
    # Given a vault holding one point, and an empty one
    _, sim = env
    _vaults()
    sim.seed_recovery_point(VAULT, EAST, TABLE_ARN, "DynamoDB", T0)
    backup = _client("backup")
    backup.create_backup_vault(BackupVaultName="empty")
    # When both are deleted
    with pytest.raises(ClientError) as error:
        backup.delete_backup_vault(BackupVaultName=VAULT)
    backup.delete_backup_vault(BackupVaultName="empty")
    # Then the full one stays (InvalidRequestException), the empty one is gone
    assert (_code(error), _message(error)) == (
        "InvalidRequestException",
        f"Backup vault '{VAULT}' cannot be deleted: it still contains 1 recovery points; delete them first",
    )
    assert [v["BackupVaultName"] for v in backup.list_backup_vaults()["BackupVaultList"]] == [VAULT]


def test_restore_metadata_of_each_resource_type(env: Any) -> None:
    # Given points of a table, a bucket and a cluster
    _, sim = env
    table = sim.seed_recovery_point(VAULT, EAST, TABLE_ARN, "DynamoDB", T0)
    bucket = sim.seed_recovery_point(VAULT, EAST, BUCKET_ARN, "S3", T0)
    cluster = sim.seed_recovery_point(VAULT, EAST, CLUSTER_ARN, "Aurora", T0)
    backup = _client("backup")

    def metadata(arn: str) -> tuple[str, dict[str, str]]:
        got = backup.get_recovery_point_restore_metadata(BackupVaultName=VAULT, RecoveryPointArn=arn)
        assert (got["BackupVaultArn"], got["RecoveryPointArn"]) == (VAULT_ARN, arn)
        return got["ResourceType"], got["RestoreMetadata"]

    # When their restore metadata is read, Then it names the original resource with the restore keys
    assert metadata(table) == ("DynamoDB", {"targetTableName": TABLE, "encryptionType": "Default"})
    assert metadata(bucket) == ("S3", {"DestinationBucketName": BUCKET, "NewBucket": "false"})
    assert metadata(cluster) == ("Aurora", {"DBClusterIdentifier": CLUSTER})
    assert re.fullmatch(rf"arn:aws:rds:us-east-1:{ACCOUNT}:cluster-snapshot:awsbackup:job-[0-9a-f-]{{36}}", cluster)


def test_protected_resources_are_those_with_recovery_points(env: Any) -> None:
    # Given two table points, one bucket point in another vault, and a point in us-west-2
    _, sim = env
    _vaults()
    sim.seed_recovery_point(VAULT, EAST, TABLE_ARN, "DynamoDB", T0)
    latest = sim.seed_recovery_point(VAULT, EAST, TABLE_ARN, "DynamoDB", T0 + timedelta(days=1))
    bucket = sim.seed_recovery_point("media-vault", EAST, BUCKET_ARN, "S3", T0)
    sim.seed_recovery_point(DR_VAULT, WEST, CLUSTER_ARN, "Aurora", T0)
    backup = _client("backup")
    # When protected resources are listed in us-east-1
    results = backup.list_protected_resources()["Results"]
    # Then each resource of the Region appears once (ordered by ARN), with its latest recovery point
    assert results == [
        {
            "ResourceArn": TABLE_ARN,
            "ResourceType": "DynamoDB",
            "ResourceName": TABLE,
            "LastBackupTime": T0 + timedelta(days=1),
            "LastBackupVaultArn": VAULT_ARN,
            "LastRecoveryPointArn": latest,
        },
        {
            "ResourceArn": BUCKET_ARN,
            "ResourceType": "S3",
            "ResourceName": BUCKET,
            "LastBackupTime": T0,
            "LastBackupVaultArn": f"arn:aws:backup:us-east-1:{ACCOUNT}:backup-vault:media-vault",
            "LastRecoveryPointArn": bucket,
        },
    ]
    # And by vault, only that vault's resources; pages of one return both
    by_vault = backup.list_protected_resources_by_backup_vault(BackupVaultName=VAULT)["Results"]
    assert [r["ResourceArn"] for r in by_vault] == [TABLE_ARN]
    first = backup.list_protected_resources(MaxResults=1)
    second = backup.list_protected_resources(MaxResults=1, NextToken=first["NextToken"])
    assert [r["ResourceArn"] for r in first["Results"] + second["Results"]] == [TABLE_ARN, BUCKET_ARN]
    assert "NextToken" not in second


# ---------------------------------------------------------------- copy jobs


def test_copy_to_another_region_appears_there_with_its_source(env: Any) -> None:
    # Given a completed backup of a table in us-east-1 and a DR vault in us-west-2
    clock, _ = env
    _vaults()
    _table([_item("u1", 1, "Ana"), _item("u2", 1, "Bo")])
    source_arn = _backup_now(clock)["RecoveryPointArn"]
    east, west = _client("backup", EAST), _client("backup", WEST)
    # When it is copied to the DR vault
    started = east.start_copy_job(
        RecoveryPointArn=source_arn,
        SourceBackupVaultName=VAULT,
        DestinationBackupVaultArn=DR_VAULT_ARN,
        IamRoleArn=ROLE,
        Lifecycle={"DeleteAfterDays": 365},
    )
    copy_id = started["CopyJobId"]
    # Then it is CREATED, RUNNING after 61 s, and nothing is in the DR vault until 600 s have passed
    assert east.describe_copy_job(CopyJobId=copy_id)["CopyJob"]["State"] == "CREATED"
    clock.advance(61)
    assert east.describe_copy_job(CopyJobId=copy_id)["CopyJob"]["State"] == "RUNNING"
    assert west.list_recovery_points_by_backup_vault(BackupVaultName=DR_VAULT)["RecoveryPoints"] == []
    clock.advance(539)
    job = east.describe_copy_job(CopyJobId=copy_id)["CopyJob"]
    assert (job["State"], job["SourceRecoveryPointArn"], job["SourceBackupVaultArn"]) == (
        "COMPLETED",
        source_arn,
        VAULT_ARN,
    )
    assert (job["DestinationBackupVaultArn"], job["ResourceArn"], job["ResourceType"]) == (
        DR_VAULT_ARN,
        TABLE_ARN,
        "DynamoDB",
    )
    assert job["CompletionDate"] - job["CreationDate"] == timedelta(seconds=600)
    # And the copy is in us-west-2, referencing its source vault
    copies = west.list_recovery_points_by_backup_vault(BackupVaultName=DR_VAULT)["RecoveryPoints"]
    assert [(c["RecoveryPointArn"], c["SourceBackupVaultArn"], c["ResourceArn"]) for c in copies] == [
        (job["DestinationRecoveryPointArn"], VAULT_ARN, TABLE_ARN)
    ]
    assert re.fullmatch(
        rf"arn:aws:backup:us-west-2:{ACCOUNT}:recovery-point:[0-9A-F-]{{36}}", copies[0]["RecoveryPointArn"]
    )
    assert copies[0]["Lifecycle"] == {"DeleteAfterDays": 365}
    assert (
        west.list_recovery_points_by_resource(ResourceArn=TABLE_ARN)["RecoveryPoints"][0]["BackupVaultName"] == DR_VAULT
    )
    # And ListCopyJobs (in the source Region) filters by destination, state and resource
    assert [j["CopyJobId"] for j in east.list_copy_jobs(ByDestinationVaultArn=DR_VAULT_ARN)["CopyJobs"]] == [copy_id]
    assert [j["CopyJobId"] for j in east.list_copy_jobs(ByState="COMPLETED", ByResourceArn=TABLE_ARN)["CopyJobs"]] == [
        copy_id
    ]
    assert east.list_copy_jobs(ByState="RUNNING")["CopyJobs"] == []
    # And restoring the copy in us-west-2 gives the items the backup held
    restore_id = west.start_restore_job(
        RecoveryPointArn=copies[0]["RecoveryPointArn"],
        Metadata={"targetTableName": "restored"},
        IamRoleArn=ROLE,
    )["RestoreJobId"]
    clock.advance(480)
    assert west.describe_restore_job(RestoreJobId=restore_id)["Status"] == "COMPLETED"
    assert _scan("restored", WEST) == [_item("u1", 1, "Ana"), _item("u2", 1, "Bo")]


def test_copy_job_errors(env: Any) -> None:
    # Given a seeded point in the primary vault
    _, sim = env
    _vaults()
    arn = sim.seed_recovery_point(VAULT, EAST, TABLE_ARN, "DynamoDB", T0)
    east = _client("backup", EAST)

    def copy(**overrides: Any) -> pytest.ExceptionInfo[ClientError]:
        request = {
            "RecoveryPointArn": arn,
            "SourceBackupVaultName": VAULT,
            "DestinationBackupVaultArn": DR_VAULT_ARN,
            "IamRoleArn": ROLE,
        }
        with pytest.raises(ClientError) as error:
            east.start_copy_job(**{**request, **overrides})
        return error

    # When the point, the destination ARN or the destination vault is wrong, Then the modeled errors
    unknown = copy(RecoveryPointArn="arn:aws:backup:us-east-1:123456789012:recovery-point:X")
    assert (_code(unknown), _message(unknown)) == (
        "ResourceNotFoundException",
        f"Recovery point arn:aws:backup:us-east-1:{ACCOUNT}:recovery-point:X "
        f"is not in backup vault {VAULT} in us-east-1",
    )
    bad_arn = copy(DestinationBackupVaultArn="dr-vault")
    assert _code(bad_arn) == "InvalidParameterValueException"
    missing = copy(DestinationBackupVaultArn=f"arn:aws:backup:us-west-2:{ACCOUNT}:backup-vault:nope")
    assert (_code(missing), _message(missing)) == (
        "ResourceNotFoundException",
        f"Backup vault 'nope' does not exist in us-west-2 (account {ACCOUNT})",
    )
    with pytest.raises(ClientError) as unknown_job:
        east.describe_copy_job(CopyJobId="NOPE")
    assert _code(unknown_job) == "ResourceNotFoundException"


def test_fail_next_copy_and_seeded_copy_jobs(env: Any) -> None:
    # Given a seeded point, a copy failure queued for it, and a seeded completed copy job
    clock, sim = env
    _vaults()
    arn = sim.seed_recovery_point(VAULT, EAST, TABLE_ARN, "DynamoDB", T0)
    sim.fail_next_copy(arn, "Destination vault access denied")
    seeded = sim.seed_copy_job(VAULT, EAST, DR_VAULT_ARN, BUCKET_ARN, created_at=T0, source_recovery_point_arn="x")
    east, west = _client("backup", EAST), _client("backup", WEST)
    # When a copy of the point runs its course
    failing = east.start_copy_job(
        RecoveryPointArn=arn,
        SourceBackupVaultName=VAULT,
        DestinationBackupVaultArn=DR_VAULT_ARN,
        IamRoleArn=ROLE,
    )["CopyJobId"]
    clock.advance(600)
    # Then it FAILED with the message and made no copy, while the seeded one made its copy in us-west-2
    failed = east.describe_copy_job(CopyJobId=failing)["CopyJob"]
    assert (failed["State"], failed["StatusMessage"], "DestinationRecoveryPointArn" in failed) == (
        "FAILED",
        "Destination vault access denied",
        False,
    )
    done = east.describe_copy_job(CopyJobId=seeded)["CopyJob"]
    assert (done["State"], done["CreationDate"], done["CompletionDate"]) == (
        "COMPLETED",
        T0,
        T0 + timedelta(seconds=600),
    )
    copies = west.list_recovery_points_by_backup_vault(BackupVaultName=DR_VAULT)["RecoveryPoints"]
    assert [(c["RecoveryPointArn"], c["SourceBackupVaultArn"], c["ResourceType"]) for c in copies] == [
        (done["DestinationRecoveryPointArn"], VAULT_ARN, "S3")
    ]
    assert [j["CopyJobId"] for j in east.list_copy_jobs(ByState="FAILED")["CopyJobs"]] == [failing]
    assert [j["CopyJobId"] for j in east.list_copy_jobs(ByCreatedAfter=T0 + timedelta(days=1))["CopyJobs"]] == [failing]


# ---------------------------------------------------------------- restore jobs


def test_restored_table_has_exactly_the_items_present_when_the_backup_completed(env: Any) -> None:
    # Given a table with one item, and a backup that is running when a second item is written
    clock, _ = env
    _vaults()
    _table([_item("u1", 1, "Ana")])
    backup, ddb = _client("backup"), _client("dynamodb")
    job_id = backup.start_backup_job(BackupVaultName=VAULT, ResourceArn=TABLE_ARN, IamRoleArn=ROLE)["BackupJobId"]
    clock.advance(100)
    ddb.put_item(TableName=TABLE, Item=_item("u2", 1, "Bo"))
    clock.advance(200)
    # When an item is written after the backup completed, and the recovery point is restored
    ddb.put_item(TableName=TABLE, Item=_item("u3", 1, "Cy"))
    point_arn = backup.describe_backup_job(BackupJobId=job_id)["RecoveryPointArn"]
    restore_id = backup.start_restore_job(
        RecoveryPointArn=point_arn, Metadata={"targetTableName": "roadcall-users-restored"}, IamRoleArn=ROLE
    )["RestoreJobId"]
    # Then the restore is PENDING, RUNNING, and the table does not exist before it completes
    assert backup.describe_restore_job(RestoreJobId=restore_id)["Status"] == "PENDING"
    clock.advance(60)
    running = backup.describe_restore_job(RestoreJobId=restore_id)
    assert (running["Status"], "CreatedResourceArn" in running) == ("RUNNING", False)
    with pytest.raises(ClientError) as missing:
        ddb.describe_table(TableName="roadcall-users-restored")
    assert _code(missing) == "ResourceNotFoundException"
    clock.advance(420)
    # And once completed it holds exactly the items present at completion of the backup, with the key schema
    job = backup.describe_restore_job(RestoreJobId=restore_id)
    assert (job["Status"], job["CreatedResourceArn"], job["ResourceType"]) == (
        "COMPLETED",
        f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/roadcall-users-restored",
        "DynamoDB",
    )
    assert (job["RecoveryPointArn"], job["SourceResourceArn"], job["BackupVaultArn"]) == (
        point_arn,
        TABLE_ARN,
        VAULT_ARN,
    )
    assert job["CompletionDate"] - job["CreationDate"] == timedelta(seconds=480)
    assert job["ExpectedCompletionTimeMinutes"] == 8
    point = backup.describe_recovery_point(BackupVaultName=VAULT, RecoveryPointArn=point_arn)
    assert job["RecoveryPointCreationDate"] == point["CreationDate"]
    assert point["LastRestoreTime"] == job["CompletionDate"]
    assert "CreatedBy" not in job  # no restore testing plan
    assert _scan("roadcall-users-restored") == [_item("u1", 1, "Ana"), _item("u2", 1, "Bo")]
    table = ddb.describe_table(TableName="roadcall-users-restored")["Table"]
    assert table["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    assert len(_scan(TABLE)) == 3  # the source keeps its later write


def test_restored_bucket_has_the_objects_bodies_and_etags(env: Any) -> None:
    # Given a bucket with two objects, backed up
    clock, _ = env
    _vaults()
    s3 = _client("s3")
    s3.create_bucket(Bucket=BUCKET)
    _put_object(BUCKET, "kb/a.md", b"# runbook", "text/markdown")
    _put_object(BUCKET, "kb/b.json", b'{"v": 1}', "application/json")
    source = {o["Key"]: o["ETag"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]}
    job = _backup_now(clock, BUCKET_ARN)
    assert re.fullmatch(rf"arn:aws:backup:us-east-1:{ACCOUNT}:recovery-point:[0-9A-F-]{{36}}", job["RecoveryPointArn"])
    assert job["BackupSizeInBytes"] == len(b"# runbook") + len(b'{"v": 1}')
    s3.delete_object(Bucket=BUCKET, Key="kb/a.md")  # after the backup: must not matter
    # When it is restored into a new bucket
    backup = _client("backup")
    restore_id = backup.start_restore_job(
        RecoveryPointArn=job["RecoveryPointArn"],
        Metadata={"DestinationBucketName": "roadcall-restore-test", "NewBucket": "true"},
        IamRoleArn=ROLE,
        ResourceType="S3",
    )["RestoreJobId"]
    clock.advance(299)
    assert backup.describe_restore_job(RestoreJobId=restore_id)["Status"] == "RUNNING"
    clock.advance(1)
    # Then the new bucket holds both objects, with their bodies, ETags and content types
    assert (
        backup.describe_restore_job(RestoreJobId=restore_id)["CreatedResourceArn"]
        == "arn:aws:s3:::roadcall-restore-test"
    )
    restored = {o["Key"]: o["ETag"] for o in s3.list_objects_v2(Bucket="roadcall-restore-test")["Contents"]}
    assert restored == source
    got = s3.get_object(Bucket="roadcall-restore-test", Key="kb/a.md")
    assert (got["Body"].read(), got["ContentType"], got["ETag"]) == (
        b"# runbook",
        "text/markdown",
        source["kb/a.md"],
    )


def test_restored_aurora_cluster_exists_only_after_twenty_minutes(env: Any) -> None:
    # Given an Aurora cluster, backed up
    clock, _ = env
    _vaults()
    rds = _client("rds")
    rds.create_db_cluster(
        DBClusterIdentifier=CLUSTER,
        Engine="aurora-postgresql",
        EngineVersion="15.4",
        MasterUsername="roadcall",
        MasterUserPassword="not-a-real-password",
        DatabaseName="roadcall",
        StorageEncrypted=True,
    )
    job = _backup_now(clock, CLUSTER_ARN)
    assert re.fullmatch(
        rf"arn:aws:rds:us-east-1:{ACCOUNT}:cluster-snapshot:awsbackup:job-[0-9a-f-]{{36}}",
        job["RecoveryPointArn"],
    )
    backup = _client("backup")
    metadata = backup.get_recovery_point_restore_metadata(
        BackupVaultName=VAULT, RecoveryPointArn=job["RecoveryPointArn"]
    )
    assert metadata["RestoreMetadata"] == {
        "DBClusterIdentifier": CLUSTER,
        "Engine": "aurora-postgresql",
        "EngineVersion": "15.4",
        "Port": "5432",
        "DBSubnetGroupName": "default",
        "VpcSecurityGroupIds": "[]",
    }
    # When it is restored as a new cluster
    restore_id = backup.start_restore_job(
        RecoveryPointArn=job["RecoveryPointArn"], Metadata={"DBClusterIdentifier": "roadcall-restore-test"}
    )["RestoreJobId"]
    clock.advance(1199)
    # Then it does not exist before 20 minutes, and does afterwards, like the source
    assert backup.describe_restore_job(RestoreJobId=restore_id)["Status"] == "RUNNING"
    with pytest.raises(ClientError) as missing:
        rds.describe_db_clusters(DBClusterIdentifier="roadcall-restore-test")
    assert _code(missing) == "DBClusterNotFoundFault"
    clock.advance(1)
    done = backup.describe_restore_job(RestoreJobId=restore_id)
    assert (done["Status"], done["CreatedResourceArn"]) == (
        "COMPLETED",
        f"arn:aws:rds:us-east-1:{ACCOUNT}:cluster:roadcall-restore-test",
    )
    cluster = rds.describe_db_clusters(DBClusterIdentifier="roadcall-restore-test")["DBClusters"][0]
    assert (
        cluster["Engine"],
        cluster["EngineVersion"],
        cluster["MasterUsername"],
        cluster["DatabaseName"],
    ) == (
        "aurora-postgresql",
        "15.4",
        "roadcall",
        "roadcall",
    )
    assert (cluster["Status"], cluster["StorageEncrypted"]) == ("available", True)


def test_fail_next_restore_fails_that_restore_after_its_duration_and_creates_nothing(env: Any) -> None:
    # Given a backed-up table and a failure queued for the next DynamoDB restore
    clock, sim = env
    _vaults()
    _table([_item("u1", 1, "Ana")])
    point_arn = _backup_now(clock)["RecoveryPointArn"]
    sim.fail_next_restore("DynamoDB", "Access denied to KMS key")
    backup = _client("backup")

    def restore(name: str) -> str:
        return str(
            backup.start_restore_job(RecoveryPointArn=point_arn, Metadata={"targetTableName": name})["RestoreJobId"]
        )

    # When two restores run
    failing = restore("restore-1")
    clock.advance(479)
    assert backup.describe_restore_job(RestoreJobId=failing)["Status"] == "RUNNING"
    clock.advance(1)
    succeeding = restore("restore-2")
    clock.advance(480)
    # Then the first FAILED with the message and no table, the second COMPLETED
    failed = backup.describe_restore_job(RestoreJobId=failing)
    assert (failed["Status"], failed["StatusMessage"], "CreatedResourceArn" in failed) == (
        "FAILED",
        "Access denied to KMS key",
        False,
    )
    assert _client("dynamodb").list_tables()["TableNames"] == [TABLE, "restore-2"]
    assert backup.describe_restore_job(RestoreJobId=succeeding)["Status"] == "COMPLETED"
    # And ListRestoreJobs filters by status, and the accessor agrees
    assert [j["RestoreJobId"] for j in backup.list_restore_jobs(ByStatus="FAILED")["RestoreJobs"]] == [failing]
    assert [j["RestoreJobId"] for j in backup.list_restore_jobs(ByResourceType="DynamoDB")["RestoreJobs"]] == [
        succeeding,
        failing,
    ]
    assert [(j["RestoreJobId"], j["Status"]) for j in sim.restore_jobs()] == [
        (succeeding, "COMPLETED"),
        (failing, "FAILED"),
    ]


def test_restore_validation_result_is_recorded_on_completed_jobs_only(env: Any) -> None:
    # Given a restore that is still running
    clock, _ = env
    _vaults()
    _table([_item("u1", 1, "Ana")])
    point_arn = _backup_now(clock)["RecoveryPointArn"]
    backup = _client("backup")
    restore_id = backup.start_restore_job(RecoveryPointArn=point_arn, Metadata={"targetTableName": "restored"})[
        "RestoreJobId"
    ]
    # When a validation result is put too early, Then InvalidRequestException
    with pytest.raises(ClientError) as early:
        backup.put_restore_validation_result(RestoreJobId=restore_id, ValidationStatus="SUCCESSFUL")
    assert (_code(early), _message(early)) == (
        "InvalidRequestException",
        f"Restore job {restore_id} is PENDING; a validation result can only be put on a COMPLETED restore job",
    )
    # When it completes and the result is put
    clock.advance(480)
    backup.put_restore_validation_result(
        RestoreJobId=restore_id,
        ValidationStatus="SUCCESSFUL",
        ValidationStatusMessage="1 item, checksums match",
    )
    # Then DescribeRestoreJob and ListRestoreJobs show it
    job = backup.describe_restore_job(RestoreJobId=restore_id)
    assert (job["ValidationStatus"], job["ValidationStatusMessage"]) == (
        "SUCCESSFUL",
        "1 item, checksums match",
    )
    listed = backup.list_restore_jobs()["RestoreJobs"]
    assert [(j["RestoreJobId"], j["ValidationStatus"]) for j in listed] == [(restore_id, "SUCCESSFUL")]
    with pytest.raises(ClientError) as unknown:
        backup.put_restore_validation_result(RestoreJobId="NOPE", ValidationStatus="FAILED")
    assert _code(unknown) == "ResourceNotFoundException"


def test_start_restore_job_errors(env: Any) -> None:
    # Given a seeded table point and an existing table
    _, sim = env
    _vaults()
    _table([])
    arn = sim.seed_recovery_point(VAULT, EAST, TABLE_ARN, "DynamoDB", T0)
    backup = _client("backup")

    def restore(**request: Any) -> pytest.ExceptionInfo[ClientError]:
        with pytest.raises(ClientError) as error:
            backup.start_restore_job(**{"RecoveryPointArn": arn, **request})
        return error

    # When the point is unknown, the metadata lacks the target, the target exists or the type is wrong
    unknown = restore(RecoveryPointArn=f"arn:aws:backup:us-east-1:{ACCOUNT}:recovery-point:X", Metadata={"a": "b"})
    no_key = restore(Metadata={"encryptionType": "Default"})
    exists = restore(Metadata={"targetTableName": TABLE})
    wrong_type = restore(Metadata={"targetTableName": "x"}, ResourceType="S3")
    # Then each answers the modeled error naming what was wrong
    assert (_code(unknown), _message(unknown)) == (
        "ResourceNotFoundException",
        f"Recovery point arn:aws:backup:us-east-1:{ACCOUNT}:recovery-point:X "
        "does not exist in any backup vault in us-east-1",
    )
    assert (_code(no_key), _message(no_key)) == (
        "InvalidParameterValueException",
        "Restore metadata for a DynamoDB recovery point must include 'targetTableName' "
        "(the name of the resource to create); the keys given were ['encryptionType']",
    )
    assert (_code(exists), _message(exists)) == (
        "InvalidParameterValueException",
        f"targetTableName '{TABLE}' is already a table in us-east-1; a restore creates a new table",
    )
    assert (_code(wrong_type), _message(wrong_type)) == (
        "InvalidParameterValueException",
        f"ResourceType 'S3' does not match recovery point {arn}, which is of a 'DynamoDB' resource",
    )
    with pytest.raises(ClientError) as describe:
        backup.describe_restore_job(RestoreJobId="NOPE")
    assert (_code(describe), _message(describe)) == (
        "ResourceNotFoundException",
        "Restore job 'NOPE' does not exist in us-east-1",
    )


def test_s3_restore_metadata_is_checked(env: Any) -> None:
    # Given a bucket point
    _, sim = env
    arn = sim.seed_recovery_point(VAULT, EAST, BUCKET_ARN, "S3", T0)
    backup = _client("backup")
    # When the destination does not exist and NewBucket is not 'true'
    with pytest.raises(ClientError) as error:
        backup.start_restore_job(RecoveryPointArn=arn, Metadata={"DestinationBucketName": "nowhere"})
    # Then InvalidParameterValueException says how to fix it
    assert (_code(error), _message(error)) == (
        "InvalidParameterValueException",
        "DestinationBucketName 'nowhere' does not exist; set NewBucket to 'true' to create it",
    )


def test_seeded_point_with_a_snapshot_restores_that_snapshot(env: Any) -> None:
    # Given a point seeded with a snapshot of the table taken now, then the table changes
    clock, sim = env
    _table([_item("u1", 1, "Ana")])
    arn = sim.seed_recovery_point(VAULT, EAST, TABLE_ARN, "DynamoDB", T0, snapshot=sim.snapshot_of(TABLE_ARN, EAST))
    _client("dynamodb").put_item(TableName=TABLE, Item=_item("u9", 9, "Zed"))
    # When it is restored
    backup = _client("backup")
    restore_id = backup.start_restore_job(RecoveryPointArn=arn, Metadata={"targetTableName": "from-seed"})[
        "RestoreJobId"
    ]
    clock.advance(480)
    # Then the restored table holds the snapshot's items only
    assert backup.describe_restore_job(RestoreJobId=restore_id)["Status"] == "COMPLETED"
    assert _scan("from-seed") == [_item("u1", 1, "Ana")]


def test_seeded_point_without_snapshot_restores_the_source_as_it_is_or_fails_without_one(env: Any) -> None:
    # Given two points seeded without snapshots: one of an existing table, one of a table that is gone
    clock, sim = env
    _table([_item("u1", 1, "Ana")])
    present = sim.seed_recovery_point(VAULT, EAST, TABLE_ARN, "DynamoDB", T0)
    gone_arn = f"arn:aws:dynamodb:{EAST}:{ACCOUNT}:table/roadcall-gone"
    gone = sim.seed_recovery_point(VAULT, EAST, gone_arn, "DynamoDB", T0)
    backup = _client("backup")
    # When both are restored
    ok = backup.start_restore_job(RecoveryPointArn=present, Metadata={"targetTableName": "r1"})["RestoreJobId"]
    ko = backup.start_restore_job(RecoveryPointArn=gone, Metadata={"targetTableName": "r2"})["RestoreJobId"]
    clock.advance(480)
    # Then the first holds the source's items at restore start, the second FAILED saying why
    assert backup.describe_restore_job(RestoreJobId=ok)["Status"] == "COMPLETED"
    assert _scan("r1") == [_item("u1", 1, "Ana")]
    failed = backup.describe_restore_job(RestoreJobId=ko)
    assert (failed["Status"], failed["StatusMessage"]) == (
        "FAILED",
        f"Recovery point {gone} holds no data to restore: it was seeded without a snapshot and its source "
        f"{gone_arn} could not be read when the restore started",
    )


def test_set_durations_changes_the_modeled_times(env: Any) -> None:
    # Given shorter durations
    clock, sim = env
    sim.set_durations(backup=60, restore={"DynamoDB": 120})
    _vaults()
    _table([_item("u1", 1, "Ana")])
    backup = _client("backup")
    # When a backup and a restore run
    job_id = backup.start_backup_job(BackupVaultName=VAULT, ResourceArn=TABLE_ARN, IamRoleArn=ROLE)["BackupJobId"]
    clock.advance(60)
    job = backup.describe_backup_job(BackupJobId=job_id)
    restore_id = backup.start_restore_job(RecoveryPointArn=job["RecoveryPointArn"], Metadata={"targetTableName": "r"})[
        "RestoreJobId"
    ]
    clock.advance(120)
    restore = backup.describe_restore_job(RestoreJobId=restore_id)
    # Then each finished at its new duration
    assert (job["State"], job["CompletionDate"] - job["CreationDate"]) == ("COMPLETED", timedelta(seconds=60))
    assert (restore["Status"], restore["ExpectedCompletionTimeMinutes"]) == ("COMPLETED", 2)


def test_accessors_return_api_shaped_records(env: Any) -> None:
    # Given a seeded point and a seeded failed backup job
    _, sim = env
    arn = sim.seed_recovery_point(VAULT, EAST, TABLE_ARN, "DynamoDB", T0)
    job_id = sim.seed_backup_job(VAULT, EAST, BUCKET_ARN, "FAILED", T0, status_message="Bucket policy denies")
    # When the accessors are read
    points = sim.recovery_points(VAULT, EAST)
    jobs = sim.backup_jobs(EAST)
    # Then they hold the same records the API answers with
    assert [(p["RecoveryPointArn"], p["Status"], p["CreationDate"]) for p in points] == [(arn, "COMPLETED", T0)]
    assert [(j["BackupJobId"], j["State"], j["StatusMessage"]) for j in jobs] == [
        (job_id, "FAILED", "Bucket policy denies")
    ]
    assert sim.copy_jobs() == []
    assert json.dumps(sim.backup_jobs(WEST)) == "[]"
