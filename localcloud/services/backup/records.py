"""The records AWS Backup keeps (recovery points, backup/copy/restore jobs, selections) and their API views.

A job's state is computed from the virtual clock whenever it is read: it spends the first tenth of its
modeled duration in its initial state (``CREATED``, or ``PENDING`` for a restore), the rest ``RUNNING``,
and is terminal (``outcome``) once the simulator has settled it at ``finishes_at`` — that is when the work
happens (a snapshot is taken, a recovery point or a restored resource appears). Timestamps are kept to
the millisecond, the precision the AWS API answers with.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from localcloud.services.backup.snapshots import Snapshot

STARTING_SHARE = 0.1  # the share of a job's duration spent CREATED / PENDING before it runs
_DAY = timedelta(days=1)


def to_ms(moment: datetime) -> datetime:
    """``moment`` in UTC, truncated to milliseconds (naive datetimes are taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def _compact(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


@dataclass
class Durations:
    """Modeled job durations in (virtual) seconds, from creation to the terminal state."""

    backup: float = 300.0
    copy: float = 600.0
    restore: dict[str, float] = field(default_factory=lambda: {"DynamoDB": 480.0, "Aurora": 1200.0, "S3": 300.0})
    delete: float = 60.0  # how long a deleted recovery point stays DELETING before it is gone


@dataclass(frozen=True)
class Lifecycle:
    delete_after_days: int | None = None
    cold_after_days: int | None = None

    @classmethod
    def from_api(cls, value: dict[str, Any] | None) -> Lifecycle:
        value = value or {}
        delete, cold = value.get("DeleteAfterDays"), value.get("MoveToColdStorageAfterDays")
        return cls(int(delete) if delete is not None else None, int(cold) if cold is not None else None)

    def to_api(self) -> dict[str, Any] | None:
        out = _compact({"MoveToColdStorageAfterDays": self.cold_after_days, "DeleteAfterDays": self.delete_after_days})
        return out or None

    def calculated(self, created_at: datetime) -> dict[str, Any] | None:
        out = _compact(
            {
                "MoveToColdStorageAt": created_at + self.cold_after_days * _DAY if self.cold_after_days else None,
                "DeleteAt": created_at + self.delete_after_days * _DAY if self.delete_after_days else None,
            }
        )
        return out or None


@dataclass(eq=False, kw_only=True)
class RecoveryPoint:
    arn: str
    region: str
    account_id: str
    vault_name: str
    vault_arn: str
    resource_arn: str
    resource_type: str
    resource_name: str
    created_at: datetime
    completed_at: datetime
    status: str = "COMPLETED"
    status_message: str | None = None
    encryption_key_arn: str | None = None  # None: not encrypted
    lifecycle: Lifecycle = field(default_factory=Lifecycle)
    created_by: dict[str, str] | None = None
    iam_role_arn: str | None = None
    source_vault_arn: str | None = None
    snapshot: Snapshot | None = None
    size_bytes: int = 0
    deleting_since: datetime | None = None
    last_restore_time: datetime | None = None

    @property
    def current_status(self) -> str:
        return "DELETING" if self.deleting_since is not None else self.status

    def storage_class(self, now: datetime) -> str:
        if self.deleting_since is not None:
            return "DELETED"
        cold = self.lifecycle.cold_after_days
        return "COLD" if cold and now >= self.created_at + cold * _DAY else "WARM"

    def _common(self) -> dict[str, Any]:
        return _compact(
            {
                "RecoveryPointArn": self.arn,
                "BackupVaultName": self.vault_name,
                "BackupVaultArn": self.vault_arn,
                "SourceBackupVaultArn": self.source_vault_arn,
                "ResourceArn": self.resource_arn,
                "ResourceType": self.resource_type,
                "ResourceName": self.resource_name,
                "CreatedBy": self.created_by,
                "IamRoleArn": self.iam_role_arn,
                "Status": self.current_status,
                "StatusMessage": self.status_message,
                "CreationDate": self.created_at,
                "InitiationDate": self.created_at,
                "CompletionDate": self.completed_at,
                "BackupSizeInBytes": self.size_bytes,
                "CalculatedLifecycle": self.lifecycle.calculated(self.created_at),
                "Lifecycle": self.lifecycle.to_api(),
                "EncryptionKeyArn": self.encryption_key_arn,
                "IsEncrypted": self.encryption_key_arn is not None,
                "LastRestoreTime": self.last_restore_time,
                "IsParent": False,
                "VaultType": "BACKUP_VAULT",
            }
        )

    def describe(self, now: datetime) -> dict[str, Any]:
        """The DescribeRecoveryPoint answer."""
        return {**self._common(), "StorageClass": self.storage_class(now)}

    def vault_entry(self) -> dict[str, Any]:
        """A member of ListRecoveryPointsByBackupVault's ``RecoveryPoints``."""
        return self._common()

    def resource_entry(self) -> dict[str, Any]:
        """A member of ListRecoveryPointsByResource's ``RecoveryPoints``."""
        return _compact(
            {
                "RecoveryPointArn": self.arn,
                "CreationDate": self.created_at,
                "Status": self.current_status,
                "StatusMessage": self.status_message,
                "EncryptionKeyArn": self.encryption_key_arn,
                "BackupSizeBytes": self.size_bytes,
                "BackupVaultName": self.vault_name,
                "IsParent": False,
                "ResourceName": self.resource_name,
                "VaultType": "BACKUP_VAULT",
            }
        )


@dataclass(eq=False, kw_only=True)
class Job:
    """What backup, copy and restore jobs share: identity, timing, and the outcome once settled."""

    job_id: str
    region: str
    account_id: str
    created_at: datetime
    finishes_at: datetime
    resource_arn: str
    resource_type: str
    resource_name: str
    iam_role_arn: str | None = None
    outcome: str | None = None  # the terminal state, set when the job is settled
    status_message: str | None = None
    planned_failure: str | None = None  # a test's fail_next_* message: the job ends FAILED with it
    size_bytes: int | None = None

    initial_state: ClassVar[str] = "CREATED"

    def state(self, now: datetime) -> str:
        if self.outcome is not None:
            return self.outcome
        duration = (self.finishes_at - self.created_at).total_seconds()
        started = self.created_at + timedelta(seconds=duration * STARTING_SHARE)
        return self.initial_state if now < started else "RUNNING"

    def percent_done(self, now: datetime) -> str:
        if self.outcome is not None:
            return "100.0" if self.outcome == "COMPLETED" else "0.0"
        total = (self.finishes_at - self.created_at).total_seconds() or 1.0
        elapsed = (now - self.created_at).total_seconds()
        return f"{max(0.0, min(99.0, 100.0 * elapsed / total)):.1f}"

    @property
    def completion_date(self) -> datetime | None:
        return self.finishes_at if self.outcome is not None else None

    def to_api(self, now: datetime) -> dict[str, Any]:
        """The job as its Describe*Job answers it (each kind of job its own shape)."""
        raise NotImplementedError


@dataclass(eq=False, kw_only=True)
class BackupJob(Job):
    vault_name: str
    vault_arn: str
    recovery_point_arn: str
    lifecycle: Lifecycle = field(default_factory=Lifecycle)
    created_by: dict[str, str] | None = None
    encryption_key_arn: str | None = None
    start_by: datetime | None = None
    tags: dict[str, str] = field(default_factory=dict)

    def to_api(self, now: datetime) -> dict[str, Any]:
        """The DescribeBackupJob answer (also a ListBackupJobs member)."""
        state = self.state(now)
        produced = state not in ("FAILED", "ABORTED", "EXPIRED")
        return _compact(
            {
                "AccountId": self.account_id,
                "BackupJobId": self.job_id,
                "BackupVaultName": self.vault_name,
                "BackupVaultArn": self.vault_arn,
                "VaultType": "BACKUP_VAULT",
                "RecoveryPointArn": (self.recovery_point_arn or None) if produced else None,
                "RecoveryPointLifecycle": self.lifecycle.to_api(),
                "EncryptionKeyArn": self.encryption_key_arn,
                "IsEncrypted": self.encryption_key_arn is not None,
                "ResourceArn": self.resource_arn,
                "ResourceType": self.resource_type,
                "ResourceName": self.resource_name,
                "CreationDate": self.created_at,
                "InitiationDate": self.created_at,
                "CompletionDate": self.completion_date,
                "ExpectedCompletionDate": self.finishes_at,
                "StartBy": self.start_by,
                "State": state,
                "StatusMessage": self.status_message,
                "PercentDone": self.percent_done(now),
                "BackupSizeInBytes": self.size_bytes,
                "BytesTransferred": self.size_bytes,
                "IamRoleArn": self.iam_role_arn,
                "CreatedBy": self.created_by,
                "IsParent": False,
            }
        )


@dataclass(eq=False, kw_only=True)
class CopyJob(Job):
    source_vault_arn: str
    source_recovery_point_arn: str
    destination_vault_arn: str
    destination_region: str
    destination_vault_name: str
    destination_recovery_point_arn: str
    lifecycle: Lifecycle = field(default_factory=Lifecycle)
    created_by: dict[str, str] | None = None
    destination_encryption_key_arn: str | None = None

    def to_api(self, now: datetime) -> dict[str, Any]:
        """DescribeCopyJob's ``CopyJob`` (also a ListCopyJobs member)."""
        state = self.state(now)
        return _compact(
            {
                "AccountId": self.account_id,
                "CopyJobId": self.job_id,
                "SourceBackupVaultArn": self.source_vault_arn,
                "SourceRecoveryPointArn": self.source_recovery_point_arn or None,
                "DestinationBackupVaultArn": self.destination_vault_arn,
                "DestinationVaultType": "BACKUP_VAULT",
                "DestinationRecoveryPointArn": (
                    (self.destination_recovery_point_arn or None) if state in ("COMPLETED", "PARTIAL") else None
                ),
                "DestinationEncryptionKeyArn": self.destination_encryption_key_arn,
                "DestinationRecoveryPointLifecycle": self.lifecycle.to_api(),
                "ResourceArn": self.resource_arn,
                "ResourceType": self.resource_type,
                "ResourceName": self.resource_name,
                "CreationDate": self.created_at,
                "CompletionDate": self.completion_date,
                "State": state,
                "StatusMessage": self.status_message,
                "BackupSizeInBytes": self.size_bytes,
                "IamRoleArn": self.iam_role_arn,
                "CreatedBy": self.created_by,
                "IsParent": False,
            }
        )


@dataclass(eq=False, kw_only=True)
class RestoreJob(Job):
    recovery_point_arn: str
    vault_arn: str
    recovery_point_created_at: datetime
    metadata: dict[str, str] = field(default_factory=dict)
    snapshot: Snapshot | None = None  # what will be restored (None: the job fails, there is no data)
    created_resource_arn: str | None = None
    validation_status: str | None = None
    validation_message: str | None = None

    initial_state: ClassVar[str] = "PENDING"

    def to_api(self, now: datetime) -> dict[str, Any]:
        """The DescribeRestoreJob answer (also a ListRestoreJobs member)."""
        minutes = round((self.finishes_at - self.created_at).total_seconds() / 60)
        return _compact(
            {
                "AccountId": self.account_id,
                "RestoreJobId": self.job_id,
                "RecoveryPointArn": self.recovery_point_arn,
                "SourceResourceArn": self.resource_arn,
                "BackupVaultArn": self.vault_arn,
                "CreationDate": self.created_at,
                "CompletionDate": self.completion_date,
                "Status": self.state(now),
                "StatusMessage": self.status_message,
                "PercentDone": self.percent_done(now),
                "BackupSizeInBytes": self.size_bytes,
                "IamRoleArn": self.iam_role_arn,
                "ExpectedCompletionTimeMinutes": minutes,
                "CreatedResourceArn": self.created_resource_arn,
                "ResourceType": self.resource_type,
                "RecoveryPointCreationDate": self.recovery_point_created_at,
                "ValidationStatus": self.validation_status,
                "ValidationStatusMessage": self.validation_message,
                "IsParent": False,
            }
        )


@dataclass(eq=False, kw_only=True)
class Selection:
    selection_id: str
    plan_id: str
    region: str
    created_at: datetime
    body: dict[str, Any]  # the BackupSelection as created
    creator_request_id: str | None = None

    def to_get(self) -> dict[str, Any]:
        return _compact(
            {
                "BackupSelection": self.body,
                "SelectionId": self.selection_id,
                "BackupPlanId": self.plan_id,
                "CreationDate": self.created_at,
                "CreatorRequestId": self.creator_request_id,
            }
        )

    def to_list(self) -> dict[str, Any]:
        return _compact(
            {
                "SelectionId": self.selection_id,
                "SelectionName": self.body.get("SelectionName"),
                "BackupPlanId": self.plan_id,
                "CreationDate": self.created_at,
                "CreatorRequestId": self.creator_request_id,
                "IamRoleArn": self.body.get("IamRoleArn"),
            }
        )
