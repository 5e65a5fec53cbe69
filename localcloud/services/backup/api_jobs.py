"""Backup, copy and restore jobs: Start*/Describe*/List* and PutRestoreValidationResult.

Modeled: validation of the request against the vaults, recovery points and resources it names (the error
codes of botocore's model, with messages that say what was expected and what was found), IdempotencyToken
(the same token in the same Region answers the first job again), the documented states
(backup/copy: CREATED -> RUNNING -> COMPLETED or FAILED; restore: PENDING -> RUNNING -> COMPLETED or
FAILED) and every List filter that applies to a single account without parent jobs.
Not modeled: composite (parent/child) jobs, StopBackupJob, start/complete windows expiring a job,
cross-account copies, backup options (Windows VSS), restore testing plans.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from localcloud.interceptor import Call
from localcloud.services.backup.api_common import Filters, Handler, lifecycle, listing
from localcloud.services.backup.arns import (
    RESOURCE_TYPES,
    ResourceRef,
    new_job_id,
    new_recovery_point_arn,
    parse_resource_arn,
    parse_vault_arn,
)
from localcloud.services.backup.errors import BackupApiError, invalid_parameter, invalid_request, not_found
from localcloud.services.backup.records import BackupJob, CopyJob, Job, RestoreJob
from localcloud.services.backup.snapshots import SourceUnavailable, capture, check_restore_target

if TYPE_CHECKING:
    from localcloud.services.backup.engine import BackupEngine

J = TypeVar("J", bound=Job)
_DEFAULT_START_WINDOW_MINUTES = 480
_MIN_START_WINDOW_MINUTES = 60
_RESTORABLE = ("COMPLETED", "PARTIAL", "AVAILABLE")


def _lookup(jobs: dict[str, J], job_id: str, region: str, kind: str) -> J:
    job = jobs.get(job_id)
    if job is None or job.region != region:
        raise not_found(f"{kind} job '{job_id}' does not exist in {region}")
    return job


def _replayed(engine: BackupEngine, operation: str, region: str, token: str | None) -> str | None:
    return engine.idempotency.get((operation, region, token)) if token else None


def _remember(engine: BackupEngine, operation: str, region: str, token: str | None, job_id: str) -> None:
    if token:
        engine.idempotency[(operation, region, token)] = job_id


# ---------------------------------------------------------------- backup jobs


def start_backup_job(engine: BackupEngine, call: Call) -> dict[str, Any]:
    params, region = call.params, call.region
    replayed = _replayed(engine, "StartBackupJob", region, params.get("IdempotencyToken"))
    if replayed is None:
        job = _new_backup_job(engine, params, region)
        engine.add_job(job)
        _remember(engine, "StartBackupJob", region, params.get("IdempotencyToken"), job.job_id)
    else:
        job = engine.backup_jobs_by_id[replayed]
    return {
        "BackupJobId": job.job_id,
        "RecoveryPointArn": job.recovery_point_arn,
        "CreationDate": job.created_at,
        "IsParent": False,
    }


def _new_backup_job(engine: BackupEngine, params: dict[str, Any], region: str) -> BackupJob:
    vault = engine.require_vault(region, params["BackupVaultName"])
    ref = parse_resource_arn(params["ResourceArn"])
    if ref.region is not None and ref.region != region:
        raise invalid_parameter(
            f"ResourceArn {ref.arn} is in {ref.region} but backup vault {vault.backup_vault_name} is in "
            f"{region}; a backup job backs a resource up into a vault of its own Region (copy it afterwards)"
        )
    window = params.get("StartWindowMinutes")
    if window is not None and window < _MIN_START_WINDOW_MINUTES:
        raise invalid_parameter(f"StartWindowMinutes must be at least 60; found {window}")
    now = engine.now()
    return BackupJob(
        job_id=new_job_id(),
        region=region,
        account_id=engine.account_id,
        created_at=now,
        finishes_at=now + timedelta(seconds=engine.durations.backup),
        resource_arn=ref.arn,
        resource_type=ref.resource_type,
        resource_name=ref.name,
        iam_role_arn=params["IamRoleArn"],
        planned_failure=engine.take_failure("backup", ref.resource_type, ref.arn),
        vault_name=vault.backup_vault_name,
        vault_arn=vault.backup_vault_arn,
        recovery_point_arn=new_recovery_point_arn(ref, region, engine.account_id, now),
        lifecycle=lifecycle(params.get("Lifecycle")),
        encryption_key_arn=engine.vault_key_arn(region, vault.backup_vault_name),
        start_by=now + timedelta(minutes=window or _DEFAULT_START_WINDOW_MINUTES),
        tags=dict(params.get("RecoveryPointTags") or {}),
    )


def describe_backup_job(engine: BackupEngine, call: Call) -> dict[str, Any]:
    job = _lookup(engine.backup_jobs_by_id, call.params["BackupJobId"], call.region, "Backup")
    return job.to_api(engine.now())


_BACKUP_FILTERS: Filters = {
    "ByResourceArn": ("ResourceArn", "eq"),
    "ByState": ("State", "eq"),
    "ByBackupVaultName": ("BackupVaultName", "eq"),
    "ByResourceType": ("ResourceType", "eq"),
    "ByAccountId": ("AccountId", "eq"),
    "ByParentJobId": ("ParentJobId", "eq"),
    "ByCreatedAfter": ("CreationDate", "after"),
    "ByCreatedBefore": ("CreationDate", "before"),
    "ByCompleteAfter": ("CompletionDate", "after"),
    "ByCompleteBefore": ("CompletionDate", "before"),
}


def list_backup_jobs(engine: BackupEngine, call: Call) -> dict[str, Any]:
    now = engine.now()
    entries = [j.to_api(now) for j in engine.backup_jobs_by_id.values() if j.region == call.region]
    return listing(entries, call.params, _BACKUP_FILTERS, "BackupJobId", "BackupJobs")


# ---------------------------------------------------------------- copy jobs


def start_copy_job(engine: BackupEngine, call: Call) -> dict[str, Any]:
    params, region = call.params, call.region
    replayed = _replayed(engine, "StartCopyJob", region, params.get("IdempotencyToken"))
    if replayed is None:
        job = _new_copy_job(engine, params, region)
        engine.add_job(job)
        _remember(engine, "StartCopyJob", region, params.get("IdempotencyToken"), job.job_id)
    else:
        job = engine.copy_jobs_by_id[replayed]
    return {"CopyJobId": job.job_id, "CreationDate": job.created_at, "IsParent": False}


def _new_copy_job(engine: BackupEngine, params: dict[str, Any], region: str) -> CopyJob:
    source_vault = engine.require_vault(region, params["SourceBackupVaultName"])
    arn = params["RecoveryPointArn"]
    point = engine.points.get(arn)
    if point is None or point.region != region or point.vault_name != source_vault.backup_vault_name:
        raise not_found(f"Recovery point {arn} is not in backup vault {source_vault.backup_vault_name} in {region}")
    if point.current_status != "COMPLETED":
        raise invalid_request(f"Recovery point {arn} is {point.current_status}; only a COMPLETED one can be copied")
    dest_region, dest_account, dest_name = parse_vault_arn(params["DestinationBackupVaultArn"])
    if dest_account != engine.account_id:
        raise invalid_parameter(
            f"DestinationBackupVaultArn is in account {dest_account}; only copies within account "
            f"{engine.account_id} are modeled"
        )
    dest_vault = engine.require_vault(dest_region, dest_name)
    if (dest_region, dest_name) == (region, source_vault.backup_vault_name):
        raise invalid_parameter(f"The destination vault {dest_vault.backup_vault_arn} is the source vault itself")
    copy_lifecycle = lifecycle(params.get("Lifecycle"))
    if copy_lifecycle.to_api() is None:
        copy_lifecycle = point.lifecycle
    now = engine.now()
    ref = ResourceRef(point.resource_arn, point.resource_type, point.resource_name, None)
    return CopyJob(
        job_id=new_job_id(),
        region=region,
        account_id=engine.account_id,
        created_at=now,
        finishes_at=now + timedelta(seconds=engine.durations.copy),
        resource_arn=point.resource_arn,
        resource_type=point.resource_type,
        resource_name=point.resource_name,
        iam_role_arn=params["IamRoleArn"],
        planned_failure=engine.take_failure("copy", point.resource_type, point.resource_arn, point.arn),
        size_bytes=point.size_bytes,
        source_vault_arn=source_vault.backup_vault_arn,
        source_recovery_point_arn=arn,
        destination_vault_arn=dest_vault.backup_vault_arn,
        destination_region=dest_region,
        destination_vault_name=dest_name,
        destination_recovery_point_arn=new_recovery_point_arn(ref, dest_region, engine.account_id, now, copy=True),
        lifecycle=copy_lifecycle,
        destination_encryption_key_arn=engine.vault_key_arn(dest_region, dest_name),
    )


def describe_copy_job(engine: BackupEngine, call: Call) -> dict[str, Any]:
    job = _lookup(engine.copy_jobs_by_id, call.params["CopyJobId"], call.region, "Copy")
    return {"CopyJob": job.to_api(engine.now())}


_COPY_FILTERS: Filters = {
    "ByResourceArn": ("ResourceArn", "eq"),
    "ByState": ("State", "eq"),
    "ByResourceType": ("ResourceType", "eq"),
    "ByDestinationVaultArn": ("DestinationBackupVaultArn", "eq"),
    "BySourceRecoveryPointArn": ("SourceRecoveryPointArn", "eq"),
    "ByAccountId": ("AccountId", "eq"),
    "ByParentJobId": ("ParentJobId", "eq"),
    "ByCreatedAfter": ("CreationDate", "after"),
    "ByCreatedBefore": ("CreationDate", "before"),
    "ByCompleteAfter": ("CompletionDate", "after"),
    "ByCompleteBefore": ("CompletionDate", "before"),
}


def list_copy_jobs(engine: BackupEngine, call: Call) -> dict[str, Any]:
    now = engine.now()
    entries = [j.to_api(now) for j in engine.copy_jobs_by_id.values() if j.region == call.region]
    return listing(entries, call.params, _COPY_FILTERS, "CopyJobId", "CopyJobs")


# ---------------------------------------------------------------- restore jobs


def start_restore_job(engine: BackupEngine, call: Call) -> dict[str, Any]:
    params, region = call.params, call.region
    replayed = _replayed(engine, "StartRestoreJob", region, params.get("IdempotencyToken"))
    if replayed is None:
        job = _new_restore_job(engine, params, region)
        engine.add_job(job)
        _remember(engine, "StartRestoreJob", region, params.get("IdempotencyToken"), job.job_id)
        replayed = job.job_id
    return {"RestoreJobId": replayed}


def _new_restore_job(engine: BackupEngine, params: dict[str, Any], region: str) -> RestoreJob:
    arn = params["RecoveryPointArn"]
    point = engine.points.get(arn)
    if point is None or point.region != region:
        raise not_found(f"Recovery point {arn} does not exist in any backup vault in {region}")
    if point.current_status not in _RESTORABLE:
        raise invalid_request(f"Recovery point {arn} is {point.current_status}; only a COMPLETED one can be restored")
    wanted = params.get("ResourceType")
    if wanted is not None and wanted != point.resource_type:
        raise invalid_parameter(
            f"ResourceType '{wanted}' does not match recovery point {arn}, "
            f"which is of a '{point.resource_type}' resource"
        )
    if point.resource_type not in RESOURCE_TYPES:
        raise invalid_parameter(
            f"Restoring a '{point.resource_type}' recovery point is not modeled; only {RESOURCE_TYPES}"
        )
    metadata = dict(params.get("Metadata") or {})
    check_restore_target(point.resource_type, metadata, region, engine.account_id)
    snapshot = point.snapshot
    if snapshot is None:  # a seeded recovery point: restore the source as it is now, if it can be read
        try:
            snapshot = capture(parse_resource_arn(point.resource_arn), region, engine.account_id)
        except (SourceUnavailable, BackupApiError):
            snapshot = None
    now = engine.now()
    duration = engine.durations.restore.get(point.resource_type, engine.durations.backup)
    return RestoreJob(
        job_id=new_job_id(),
        region=region,
        account_id=engine.account_id,
        created_at=now,
        finishes_at=now + timedelta(seconds=duration),
        resource_arn=point.resource_arn,
        resource_type=point.resource_type,
        resource_name=point.resource_name,
        iam_role_arn=params.get("IamRoleArn"),
        planned_failure=engine.take_failure("restore", point.resource_type, point.resource_arn, point.arn),
        size_bytes=point.size_bytes,
        recovery_point_arn=arn,
        vault_arn=point.vault_arn,
        recovery_point_created_at=point.created_at,
        metadata=metadata,
        snapshot=snapshot,
    )


def describe_restore_job(engine: BackupEngine, call: Call) -> dict[str, Any]:
    job = _lookup(engine.restore_jobs_by_id, call.params["RestoreJobId"], call.region, "Restore")
    return job.to_api(engine.now())


_RESTORE_FILTERS: Filters = {
    "ByStatus": ("Status", "eq"),
    "ByResourceType": ("ResourceType", "eq"),
    "ByAccountId": ("AccountId", "eq"),
    "ByParentJobId": ("ParentJobId", "eq"),
    "ByRestoreTestingPlanArn": ("RestoreTestingPlanArn", "eq"),
    "ByCreatedAfter": ("CreationDate", "after"),
    "ByCreatedBefore": ("CreationDate", "before"),
    "ByCompleteAfter": ("CompletionDate", "after"),
    "ByCompleteBefore": ("CompletionDate", "before"),
}


def list_restore_jobs(engine: BackupEngine, call: Call) -> dict[str, Any]:
    now = engine.now()
    entries = [j.to_api(now) for j in engine.restore_jobs_by_id.values() if j.region == call.region]
    return listing(entries, call.params, _RESTORE_FILTERS, "RestoreJobId", "RestoreJobs")


def put_restore_validation_result(engine: BackupEngine, call: Call) -> dict[str, Any]:
    job = _lookup(engine.restore_jobs_by_id, call.params["RestoreJobId"], call.region, "Restore")
    state = job.state(engine.now())
    if state != "COMPLETED":
        raise invalid_request(
            f"Restore job {job.job_id} is {state}; a validation result can only be put on a COMPLETED restore job"
        )
    job.validation_status = call.params["ValidationStatus"]
    job.validation_message = call.params.get("ValidationStatusMessage")
    return {}


HANDLERS: dict[str, Handler] = {
    "StartBackupJob": start_backup_job,
    "DescribeBackupJob": describe_backup_job,
    "ListBackupJobs": list_backup_jobs,
    "StartCopyJob": start_copy_job,
    "DescribeCopyJob": describe_copy_job,
    "ListCopyJobs": list_copy_jobs,
    "StartRestoreJob": start_restore_job,
    "DescribeRestoreJob": describe_restore_job,
    "ListRestoreJobs": list_restore_jobs,
    "PutRestoreValidationResult": put_restore_validation_result,
}
