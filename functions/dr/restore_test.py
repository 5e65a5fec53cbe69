"""Restore test: restore the newest recovery points into temporary resources, prove the data is there,
tell AWS Backup what was proved, delete everything that was restored and prove nothing is left.

Temporary resources are named ``drtest-<8 hex of the execution>-<source name>`` (recognisable, unique per
execution) and tagged ``dr:purpose=restore-test``, ``dr:execution``, ``dr:source``. Cleanup deletes only
names that carry this execution's prefix: whatever else exists in the account is never touched
(``dr.restore_cleanup``; what the validation compares: ``dr.restore_validation``).

What AWS Backup is told (PutRestoreValidationResult) is a verdict about the backup, so it is sent only
when the data was read and compared: SUCCESSFUL when it matched, FAILED when it did not. An AWS error while
validating (throttling after the retries, a 5xx, access denied, a timeout) or a check that cannot run as
configured is not a verdict: the result is ``VALIDATION_ERROR`` ("could not validate") and AWS Backup is
told nothing (its statuses are SUCCESSFUL, FAILED, TIMED_OUT and VALIDATING: none of them means "the
check could not run", and TIMED_OUT or VALIDATING would say something that did not happen).
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from dr import restore_validation as rv
from dr.aws import aws_errors, client, error_code, is_transient
from dr.backup_models import BackupRequest, RestorePlanItem, RestoreResult
from dr.backup_verification import arn_parts, inventory_resources, read
from dr.errors import ReplicaNotReady, RestoreFailed, TransientAwsError
from dr.inventory import Inventory
from dr.observability import logger
from dr.settings import Settings

PREFIX = "drtest"
PURPOSE_TAG = "dr:purpose"
PURPOSE = "restore-test"
RUNNING_STATES = ("PENDING", "RUNNING", "CREATED")


# -- names -----------------------------------------------------------------------------------------------
def short_id(execution: str) -> str:
    return hashlib.sha256(execution.encode()).hexdigest()[:8]


def name_prefix(execution: str) -> str:
    return f"{PREFIX}-{short_id(execution)}-"


def restore_name(resource_type: str, source_name: str, execution: str) -> str:
    """A legal, recognisable name for the temporary resource restored from ``source_name``."""
    name = name_prefix(execution) + source_name
    if resource_type == "DynamoDB":
        return re.sub(r"[^A-Za-z0-9_.-]", "-", name)[:255]
    if resource_type == "S3":
        name = re.sub(r"[^a-z0-9.-]", "-", name.lower())[:63]
        return name.rstrip(".-")
    name = re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9-]", "-", name.lower()))[:63]
    return name.rstrip("-")


def ours(name: str, execution: str) -> bool:
    """Whether ``name`` is one this execution gave a temporary resource (the prefix is lower case)."""
    return name.startswith(name_prefix(execution))


# -- selection -------------------------------------------------------------------------------------------
def rotation(items: list[str], when: datetime) -> str:
    """One of ``items`` per month, in turn, so every table and bucket is restored over the months."""
    return items[(when.year * 12 + when.month) % len(items)]


def newest_point(region: str, vault: str, resource_arn: str) -> dict[str, Any] | None:
    pages = client("backup", region).get_paginator("list_recovery_points_by_backup_vault")
    points = read(
        f"backup:ListRecoveryPointsByBackupVault {vault}",
        lambda: [
            point
            for page in pages.paginate(BackupVaultName=vault, ByResourceArn=resource_arn)
            for point in page.get("RecoveryPoints", [])
        ],
    )
    completed = [p for p in points if p.get("Status") == "COMPLETED"]
    return max(completed, key=lambda p: p["CreationDate"]) if completed else None


def select(request: BackupRequest, inv: Inventory) -> tuple[list[RestorePlanItem], list[dict[str, Any]]]:
    """The plan (one item per tested resource type) and what could not be planned, with why."""
    partition, account = arn_parts(request.execution)
    resources = inventory_resources(inv, partition, account)
    vault, region = (
        (request.recovery_vault, request.recovery_region)
        if request.from_copies
        else (request.vault, request.primary_region)
    )
    plan: list[RestorePlanItem] = []
    missing: list[dict[str, Any]] = []
    for kind in request.resource_types:
        candidates = [r for r in resources if r.type == kind]
        if not candidates:
            missing.append(
                {"resource_arn": "", "resource_type": kind, "message": f"the inventory has no {kind} resource"}
            )
            continue
        chosen_name = rotation([r.name for r in candidates], request.started_at)
        resource = next(r for r in candidates if r.name == chosen_name)
        try:
            point = newest_point(region, vault, resource.arn)
        except Exception as err:
            if isinstance(err, TransientAwsError):
                raise
            missing.append(
                {
                    "resource_arn": resource.arn,
                    "resource_type": kind,
                    "message": f"vault {vault} could not be read: {err}",
                }
            )
            continue
        if point is None:
            missing.append(
                {
                    "resource_arn": resource.arn,
                    "resource_type": kind,
                    "message": f"vault {vault} in {region} holds no completed recovery point of {resource.name}",
                }
            )
            continue
        plan.append(
            RestorePlanItem(
                resource_arn=resource.arn,
                resource_type=kind,
                resource_name=resource.name,
                source_region=resource.region,
                recovery_point_arn=str(point["RecoveryPointArn"]),
                recovery_point_created_at=point["CreationDate"],
                recovery_point_completed_at=point.get("CompletionDate"),
                vault=vault,
                region=region,
                restore_name=restore_name(kind, resource.name, request.execution),
            )
        )
    return plan, missing


# -- restore ---------------------------------------------------------------------------------------------
def restore_metadata(
    item: RestorePlanItem, original: dict[str, str], settings: Settings | None = None
) -> dict[str, str]:
    """The recovery point's restore metadata, pointed at the temporary resource instead of the original.

    An Aurora cluster is restored into the network of the region it is restored in: the subnet group and
    security groups configured for that region (template parameters Aurora{Primary,Recovery}SubnetGroup and
    ...SecurityGroupIds). Unconfigured, the recovery point's own are kept where it was taken; in the other
    region its security groups cannot exist (they are regional ids) and are left out (RDS uses the VPC's
    default group), and its subnet group name is kept (docs/setup-guide.md: same name in both regions)."""
    metadata = dict(original)
    if item.resource_type == "DynamoDB":
        metadata["targetTableName"] = item.restore_name
    elif item.resource_type == "S3":
        metadata.update(DestinationBucketName=item.restore_name, NewBucket="true")
    else:
        metadata["DBClusterIdentifier"] = item.restore_name
        subnet_group, security_groups = _aurora_network(item.region, settings or Settings())
        if subnet_group:
            metadata["DBSubnetGroupName"] = subnet_group
        if security_groups:
            metadata["VpcSecurityGroupIds"] = json.dumps(security_groups)
        elif item.region != item.source_region:
            metadata.pop("VpcSecurityGroupIds", None)
    return metadata


def _aurora_network(region: str, settings: Settings) -> tuple[str, list[str]]:
    """(subnet group, security group ids) configured for restores in ``region``."""
    if region == settings.primary_region:
        subnet_group, groups = settings.restore_primary_subnet_group, settings.restore_primary_security_group_ids
    elif region == settings.recovery_region:
        subnet_group, groups = settings.restore_recovery_subnet_group, settings.restore_recovery_security_group_ids
    else:
        return "", []
    return subnet_group, [g.strip() for g in groups.split(",") if g.strip()]


def start(request: BackupRequest, item: RestorePlanItem, settings: Settings) -> dict[str, Any]:
    backup = client("backup", item.region)
    with aws_errors(f"backup:GetRecoveryPointRestoreMetadata {item.recovery_point_arn}", RestoreFailed):
        original = backup.get_recovery_point_restore_metadata(
            BackupVaultName=item.vault, RecoveryPointArn=item.recovery_point_arn
        ).get("RestoreMetadata", {})
    token = hashlib.sha256(f"{request.execution}|{item.recovery_point_arn}".encode()).hexdigest()[:32]
    kwargs: dict[str, Any] = {
        "RecoveryPointArn": item.recovery_point_arn,
        "Metadata": restore_metadata(item, original, settings),
        "IdempotencyToken": token,
        "ResourceType": item.resource_type,
    }
    if settings.restore_role_arn:
        kwargs["IamRoleArn"] = settings.restore_role_arn
    with aws_errors(f"backup:StartRestoreJob {item.recovery_point_arn}", RestoreFailed):
        job_id = str(backup.start_restore_job(**kwargs)["RestoreJobId"])
    return {"restore_job_id": job_id, "started_at": datetime.now(UTC).isoformat()}


def poll(item: RestorePlanItem, job_id: str, rto_seconds: int) -> dict[str, Any]:
    """One look at the restore job: its status and, once it ended, how long it took."""
    backup = client("backup", item.region)
    with aws_errors(f"backup:DescribeRestoreJob {job_id}", RestoreFailed):
        job = backup.describe_restore_job(RestoreJobId=job_id)
    seconds = None
    if job.get("CompletionDate") and job.get("CreationDate"):
        seconds = round((job["CompletionDate"] - job["CreationDate"]).total_seconds(), 3)
    return {
        "restore_job_id": job_id,
        "status": str(job.get("Status", "")),
        "message": str(job.get("StatusMessage") or ""),
        "created_resource_arn": job.get("CreatedResourceArn"),
        "restore_seconds": seconds,
        "within_rto": None if seconds is None else seconds <= rto_seconds,
    }


# -- validation ------------------------------------------------------------------------------------------
def tag(item: RestorePlanItem, request: BackupRequest, resource_arn: str) -> None:
    """Tag the restored resource as this test's (the sweeper deletes only what carries the purpose tag)."""
    tags = {
        PURPOSE_TAG: PURPOSE,
        "dr:execution": request.execution_name,
        "dr:source": item.resource_arn,
        "dr:delete-after": (request.started_at + timedelta(days=1)).isoformat(),
    }
    if item.resource_type == "DynamoDB":
        ddb = client("dynamodb", item.region)
        arn = resource_arn or ddb.describe_table(TableName=item.restore_name)["Table"]["TableArn"]
        ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": k, "Value": v} for k, v in tags.items()])
    elif item.resource_type == "S3":
        client("s3", item.region).put_bucket_tagging(
            Bucket=item.restore_name, Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]}
        )
    else:
        rds = client("rds", item.region)
        arn = (
            resource_arn
            or rds.describe_db_clusters(DBClusterIdentifier=item.restore_name)["DBClusters"][0]["DBClusterArn"]
        )
        rds.add_tags_to_resource(ResourceName=arn, Tags=[{"Key": k, "Value": v} for k, v in tags.items()])


def _not_validated(base: dict[str, Any], why: str, code: str) -> RestoreResult:
    return RestoreResult(
        **base,
        status="VALIDATION_ERROR",
        validated=False,
        validation_reported=False,
        message=f"could not validate: {why}"[:1000],
        error={"Error": code, "Cause": why[:1000]},
    )


def validate(request: BackupRequest, item: RestorePlanItem, job: dict[str, Any], settings: Settings) -> RestoreResult:
    """Tag the restored resource, compare its data with its source's at the recovery point, and tell AWS
    Backup the verdict. ReplicaNotReady while a restored cluster's instance is being created; a passing AWS
    error raises TransientAwsError (the state machine retries, then records VALIDATION_ERROR)."""
    created = str(job.get("created_resource_arn") or "")
    job_id = str(job["restore_job_id"])
    base: dict[str, Any] = {
        "resource_arn": item.resource_arn,
        "resource_type": item.resource_type,
        "recovery_point_arn": item.recovery_point_arn,
        "restore_job_id": job_id,
        "restored_resource": created or item.restore_name,
        "restore_seconds": job.get("restore_seconds"),
        "within_rto": job.get("within_rto"),
    }
    action = f"validate the restored {item.resource_type} {item.restore_name}"
    try:
        tag(item, request, created)
        if item.resource_type == "DynamoDB":
            checks, comparison = rv.validate_table(item, settings)
        elif item.resource_type == "S3":
            checks, comparison = rv.validate_bucket(item, settings)
        else:
            checks, comparison = rv.validate_cluster(item, request, settings)
    except ReplicaNotReady:
        raise
    except rv.NotValidatable as err:
        return _not_validated(base, str(err), "NotValidatable")
    except (ClientError, BotoCoreError) as err:
        if is_transient(err):
            raise TransientAwsError(f"{action}: transient AWS error, will retry: {err}") from err
        code = error_code(err) if isinstance(err, ClientError) else type(err).__name__
        logger.warning("validation could not run", extra={"action": action, "error": code})
        return _not_validated(base, f"{action}: {code}: {err}", code)
    validated = all(c["ok"] for c in checks) and comparison.matched
    failed = [f"{c['check']}: {c['detail']}" for c in checks if not c["ok"]]
    message = ("; ".join(failed) if failed else "; ".join(c["detail"] for c in checks))[:1000]
    verdict = "SUCCESSFUL" if validated else "FAILED"
    return RestoreResult(
        **base,
        status="SUCCEEDED" if validated else "VALIDATION_FAILED",
        validated=validated,
        validation_status=verdict,
        validation_reported=report_validation(item, job_id, verdict, message),
        checks=checks,
        data_checked=comparison.data_checked(),
        message=message,
    )


def report_validation(item: RestorePlanItem, job_id: str, status: str, message: str) -> bool:
    """PutRestoreValidationResult with a verdict (SUCCESSFUL or FAILED); False when it could not be told."""
    if status not in ("SUCCESSFUL", "FAILED"):
        raise ValueError(f"only a verdict is reported to AWS Backup, not {status!r}")
    try:
        client("backup", item.region).put_restore_validation_result(
            RestoreJobId=job_id,
            ValidationStatus=status,
            ValidationStatusMessage=message[:1000] or status.lower(),
        )
    except (ClientError, BotoCoreError) as err:
        logger.warning("validation result not reported", extra={"restore_job_id": job_id, "error": str(err)})
        return False
    return True
