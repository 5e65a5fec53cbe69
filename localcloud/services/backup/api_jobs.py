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

from collections.abc import Callable
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


def _start(
    engine: BackupEngine, call: Call, jobs: dict[str, J], new: Callable[[BackupEngine, dict[str, Any], str], J]
) -> J:
    """The job a Start* call makes, or the one an earlier call with its IdempotencyToken made in its Region."""
    token = str(call.params.get("IdempotencyToken") or "")
    key = (call.operation, call.region, token)
    if token and key in engine.idempotency:
        return jobs[engine.idempotency[key]]
    job = new(engine, call.params, call.region)
    engine.add_job(job)
    if token:
        engine.idempotency[key] = job.job_id
    return job


def _basics(
    engine: BackupEngine, region: str, seconds: float, resource: tuple[str, str, str], role: str | None
) -> dict[str, Any]:
    """What every job has: its id, Region, account, when it was made and when it ends, what it is of."""
    now = engine.now()
    arn, resource_type, name = resource
    return {
        "job_id": new_job_id(),
        "region": region,
        "account_id": engine.account_id,
        "created_at": now,
        "finishes_at": now + timedelta(seconds=seconds),
        "resource_arn": arn,
        "resource_type": resource_type,
        "resource_name": name,
        "iam_role_arn": role,
    }


def _list(engine: BackupEngine, call: Call, jobs: dict[str, J], filters: Filters, kind: str) -> dict[str, Any]:
    now = engine.now()
    entries = [j.to_api(now) for j in jobs.values() if j.region == call.region]
    return listing(entries, call.params, filters, f"{kind}JobId", f"{kind}Jobs")


# Every List*Jobs filter on a job's account, parent and times
_COMMON_FILTERS: Filters = {
    "ByResourceType": ("ResourceType", "eq"),
    "ByAccountId": ("AccountId", "eq"),
    "ByParentJobId": ("ParentJobId", "eq"),
    "ByCreatedAfter": ("CreationDate", "after"),
    "ByCreatedBefore": ("CreationDate", "before"),
    "ByCompleteAfter": ("CompletionDate", "after"),
    "ByCompleteBefore": ("CompletionDate", "before"),
}


# ---------------------------------------------------------------- backup jobs


def start_backup_job(engine: BackupEngine, call: Call) -> dict[str, Any]:
    job = _start(engine, call, engine.backup_jobs_by_id, _new_backup_job)
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
    basics = _basics(
        engine, region, engine.durations.backup, (ref.arn, ref.resource_type, ref.name), params["IamRoleArn"]
    )
    now = basics["created_at"]
    return BackupJob(
        **basics,
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
    **_COMMON_FILTERS,
    "ByResourceArn": ("ResourceArn", "eq"),
    "ByState": ("State", "eq"),
    "ByBackupVaultName": ("BackupVaultName", "eq"),
}


def list_backup_jobs(engine: BackupEngine, call: Call) -> dict[str, Any]:
    return _list(engine, call, engine.backup_jobs_by_id, _BACKUP_FILTERS, "Backup")


# ---------------------------------------------------------------- copy jobs


def start_copy_job(engine: BackupEngine, call: Call) -> dict[str, Any]:
    job = _start(engine, call, engine.copy_jobs_by_id, _new_copy_job)
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
    ref = ResourceRef(point.resource_arn, point.resource_type, point.resource_name, None)
    resource = (point.resource_arn, point.resource_type, point.resource_name)
    basics = _basics(engine, region, engine.durations.copy, resource, params["IamRoleArn"])
    now = basics["created_at"]
    return CopyJob(
        **basics,
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
    **_COMMON_FILTERS,
    "ByResourceArn": ("ResourceArn", "eq"),
    "ByState": ("State", "eq"),
    "ByDestinationVaultArn": ("DestinationBackupVaultArn", "eq"),
    "BySourceRecoveryPointArn": ("SourceRecoveryPointArn", "eq"),
}


def list_copy_jobs(engine: BackupEngine, call: Call) -> dict[str, Any]:
    return _list(engine, call, engine.copy_jobs_by_id, _COPY_FILTERS, "Copy")


# ---------------------------------------------------------------- restore jobs


def start_restore_job(engine: BackupEngine, call: Call) -> dict[str, Any]:
    return {"RestoreJobId": _start(engine, call, engine.restore_jobs_by_id, _new_restore_job).job_id}


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
    duration = engine.durations.restore.get(point.resource_type, engine.durations.backup)
    resource = (point.resource_arn, point.resource_type, point.resource_name)
    return RestoreJob(
        **_basics(engine, region, duration, resource, params.get("IamRoleArn")),
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
    **_COMMON_FILTERS,
    "ByStatus": ("Status", "eq"),
    "ByRestoreTestingPlanArn": ("RestoreTestingPlanArn", "eq"),
}


def list_restore_jobs(engine: BackupEngine, call: Call) -> dict[str, Any]:
    return _list(engine, call, engine.restore_jobs_by_id, _RESTORE_FILTERS, "Restore")


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
