"""``BackupSimulator``: the simulated AWS Backup as the interceptor serves it, and the knobs tests turn.

``register(interceptor)`` routes the operations moto's backup backend lacks (selections, protected
resources, recovery points, backup/copy/restore jobs, restore validation, and a DeleteBackupVault that
refuses a non-empty vault) to this simulator and hooks ``settle()`` before every AWS call, so a job whose
modeled duration has passed on the virtual clock has done its work before anything can observe it.
Vaults and plans stay moto's (CreateBackupVault, CreateBackupPlan, GetBackupPlan, ... are moto's answers).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from localcloud.interceptor import Call, Interceptor, Response, serialize_error, serialize_result
from localcloud.services.backup import api_jobs, api_points
from localcloud.services.backup.api_common import Handler
from localcloud.services.backup.arns import (
    ResourceRef,
    new_job_id,
    new_recovery_point_arn,
    parse_resource_arn,
    parse_vault_arn,
)
from localcloud.services.backup.engine import BackupEngine
from localcloud.services.backup.errors import BackupApiError
from localcloud.services.backup.records import BackupJob, CopyJob, Lifecycle, RecoveryPoint, to_ms
from localcloud.services.backup.snapshots import Snapshot, capture

_BACKUP_END_STATES = ("COMPLETED", "FAILED", "ABORTED", "EXPIRED", "PARTIAL")
_COPY_END_STATES = ("COMPLETED", "FAILED", "PARTIAL")
_SEEDED_MESSAGES = {
    "FAILED": "An internal error occurred while backing up the resource",
    "ABORTED": "Backup job was aborted",
    "EXPIRED": "Backup job did not start within the start window",
    "PARTIAL": "Backup job completed with some items not backed up",
}


class BackupSimulator(BackupEngine):
    """AWS Backup for DynamoDB tables, Aurora clusters and S3 buckets on the virtual clock.

    ``BackupSimulator(clock, account_id=DEFAULT_ACCOUNT_ID)``; durations are in ``self.durations``
    (``set_durations`` changes them). See the package docstring for what is modeled.
    """

    def register(self, interceptor: Interceptor) -> None:
        interceptor.hook(self._before_call)
        for handlers in (api_points.HANDLERS, api_jobs.HANDLERS):
            for operation, handler in handlers.items():
                interceptor.route("backup", operation, self._answerer(handler))

    def _before_call(self, call: Call) -> None:
        self.settle()

    def _answerer(self, handler: Handler) -> Any:
        def answer(call: Call) -> Response:
            with self.lock:
                self.settle()
                try:
                    result = handler(self, call)
                except BackupApiError as error:
                    return serialize_error(call, error.code, error.message, 400)
            return serialize_result(call, result)

        return answer

    # ------------------------------------------------------------------ knobs

    def set_durations(
        self,
        *,
        backup: float | None = None,
        copy: float | None = None,
        restore: dict[str, float] | None = None,
        delete: float | None = None,
    ) -> None:
        """Modeled durations in seconds for jobs started from now on (``restore`` per resource type)."""
        with self.lock:
            if backup is not None:
                self.durations.backup = backup
            if copy is not None:
                self.durations.copy = copy
            if restore:
                self.durations.restore.update(restore)
            if delete is not None:
                self.durations.delete = delete

    def fail_next_restore(self, resource_type_or_arn: str, message: str = "Restore failed (injected)") -> None:
        """The next restore job of that resource type ("DynamoDB"), source resource ARN or recovery point
        ARN ends FAILED with ``message`` after its modeled duration, creating nothing."""
        with self.lock:
            self.failures["restore"].append((resource_type_or_arn, message))

    def fail_next_backup(self, resource_type_or_arn: str, message: str = "Backup failed (injected)") -> None:
        """The next backup job of that resource type or resource ARN ends FAILED, with no recovery point."""
        with self.lock:
            self.failures["backup"].append((resource_type_or_arn, message))

    def fail_next_copy(self, resource_type_or_arn: str, message: str = "Copy failed (injected)") -> None:
        """The next copy job of that resource type, resource ARN or source recovery point ARN ends FAILED."""
        with self.lock:
            self.failures["copy"].append((resource_type_or_arn, message))

    def snapshot_of(self, resource_arn: str, region: str) -> Snapshot:
        """The data of a resource as it is now (to seed a recovery point that can really be restored)."""
        return capture(parse_resource_arn(resource_arn), region, self.account_id)

    def seed_recovery_point(
        self,
        vault_name: str,
        region: str,
        resource_arn: str,
        resource_type: str,
        created_at: datetime,
        *,
        status: str = "COMPLETED",
        encrypted: bool = True,
        delete_after_days: int | None = 35,
        plan_id: str | None = None,
        rule_id: str | None = None,
        source_vault_arn: str | None = None,
        snapshot: Snapshot | None = None,
        cold_after_days: int | None = None,
        size_bytes: int | None = None,
        completed_at: datetime | None = None,
        status_message: str | None = None,
        encryption_key_arn: str | None = None,
    ) -> str:
        """Put a finished recovery point straight into a vault (created in moto if missing); O(1).

        Any ``resource_type`` may be seeded (the ARN need not be a modeled one); a recovery point seeded
        without ``snapshot`` restores its source as it is when the restore starts."""
        with self.lock:
            created = to_ms(created_at)
            vault = self.ensure_vault(region, vault_name)
            ref = ResourceRef(resource_arn, resource_type, _resource_name(resource_arn), region)
            key = encryption_key_arn or self.vault_key_arn(region, vault_name)
            completed = to_ms(completed_at) if completed_at else created + timedelta(seconds=self.durations.backup)
            if size_bytes is None:
                size_bytes = snapshot.size_bytes if snapshot else 0
            point = RecoveryPoint(
                arn=new_recovery_point_arn(ref, region, self.account_id, created, copy=bool(source_vault_arn)),
                region=region,
                account_id=self.account_id,
                vault_name=vault_name,
                vault_arn=vault.backup_vault_arn,
                resource_arn=resource_arn,
                resource_type=resource_type,
                resource_name=ref.name,
                created_at=created,
                completed_at=completed,
                status=status,
                status_message=status_message,
                encryption_key_arn=key if encrypted else None,
                lifecycle=Lifecycle(delete_after_days, cold_after_days),
                created_by=self.created_by(region, plan_id, rule_id),
                source_vault_arn=source_vault_arn,
                snapshot=snapshot,
                size_bytes=size_bytes,
            )
            self.add_point(point)
            return point.arn

    def seed_backup_job(
        self,
        vault_name: str,
        region: str,
        resource_arn: str,
        state: str = "COMPLETED",
        created_at: datetime | None = None,
        *,
        completed_at: datetime | None = None,
        status_message: str | None = None,
        resource_type: str | None = None,
        plan_id: str | None = None,
        rule_id: str | None = None,
        create_recovery_point: bool = True,
        delete_after_days: int | None = 35,
        encrypted: bool = True,
        size_bytes: int = 0,
    ) -> str:
        """A backup job that already ended in ``state``; a COMPLETED/PARTIAL one also seeds its recovery
        point (unless ``create_recovery_point`` is False). Returns the job id."""
        if state not in _BACKUP_END_STATES:
            raise ValueError(f"seed_backup_job: state must be one of {_BACKUP_END_STATES}; found {state!r}")
        with self.lock:
            created, finished = times = self._seed_times(created_at, completed_at, self.durations.backup)
            kind = resource_type or parse_resource_arn(resource_arn).resource_type
            vault = self.ensure_vault(region, vault_name)
            point_arn = ""
            if state in ("COMPLETED", "PARTIAL") and create_recovery_point:
                point_arn = self.seed_recovery_point(
                    vault_name,
                    region,
                    resource_arn,
                    kind,
                    created,
                    status=state,
                    encrypted=encrypted,
                    delete_after_days=delete_after_days,
                    plan_id=plan_id,
                    rule_id=rule_id,
                    size_bytes=size_bytes,
                    completed_at=finished,
                )
            message = status_message or _SEEDED_MESSAGES.get(state)
            job = BackupJob(
                **self._ended_job(region, times, (resource_arn, kind), (state, message), size_bytes),
                vault_name=vault_name,
                vault_arn=vault.backup_vault_arn,
                recovery_point_arn=point_arn,
                lifecycle=Lifecycle(delete_after_days),
                created_by=self.created_by(region, plan_id, rule_id),
                encryption_key_arn=self.vault_key_arn(region, vault_name) if encrypted else None,
            )
            self.add_job(job)
            return job.job_id

    def seed_copy_job(
        self,
        source_vault_name: str,
        region: str,
        destination_vault_arn: str,
        resource_arn: str,
        *,
        state: str = "COMPLETED",
        created_at: datetime | None = None,
        completed_at: datetime | None = None,
        source_recovery_point_arn: str | None = None,
        status_message: str | None = None,
        resource_type: str | None = None,
        create_recovery_point: bool = True,
        delete_after_days: int | None = 35,
        size_bytes: int = 0,
    ) -> str:
        """A copy job that already ended in ``state``; a COMPLETED/PARTIAL one also seeds the copy in the
        destination vault (with SourceBackupVaultArn) unless ``create_recovery_point`` is False."""
        if state not in _COPY_END_STATES:
            raise ValueError(f"seed_copy_job: state must be one of {_COPY_END_STATES}; found {state!r}")
        with self.lock:
            created, finished = times = self._seed_times(created_at, completed_at, self.durations.copy)
            kind = resource_type or parse_resource_arn(resource_arn).resource_type
            source_vault = self.ensure_vault(region, source_vault_name)
            dest_region, _, dest_name = parse_vault_arn(destination_vault_arn)
            dest_vault = self.ensure_vault(dest_region, dest_name)
            source = self.points.get(source_recovery_point_arn) if source_recovery_point_arn else None
            copy_arn = ""
            if state in ("COMPLETED", "PARTIAL") and create_recovery_point:
                copy_arn = self.seed_recovery_point(
                    dest_name,
                    dest_region,
                    resource_arn,
                    kind,
                    created,
                    status=state,
                    delete_after_days=delete_after_days,
                    source_vault_arn=source_vault.backup_vault_arn,
                    snapshot=source.snapshot if source else None,
                    size_bytes=size_bytes,
                    completed_at=finished,
                )
            message = status_message or (_SEEDED_MESSAGES["FAILED"] if state == "FAILED" else None)
            job = CopyJob(
                **self._ended_job(region, times, (resource_arn, kind), (state, message), size_bytes),
                source_vault_arn=source_vault.backup_vault_arn,
                source_recovery_point_arn=source_recovery_point_arn or "",
                destination_vault_arn=dest_vault.backup_vault_arn,
                destination_region=dest_region,
                destination_vault_name=dest_name,
                destination_recovery_point_arn=copy_arn,
                lifecycle=Lifecycle(delete_after_days),
                destination_encryption_key_arn=self.vault_key_arn(dest_region, dest_name),
            )
            self.add_job(job)
            return job.job_id

    def _seed_times(
        self, created_at: datetime | None, completed_at: datetime | None, seconds: float
    ) -> tuple[datetime, datetime]:
        """When a seeded job was created (now by default) and ended (its duration later by default)."""
        created = to_ms(created_at or self.now())
        return created, to_ms(completed_at) if completed_at else created + timedelta(seconds=seconds)

    def _ended_job(
        self,
        region: str,
        times: tuple[datetime, datetime],
        resource: tuple[str, str],
        end: tuple[str, str | None],
        size_bytes: int,
    ) -> dict[str, Any]:
        """What a seeded job that already ended has, whatever its kind."""
        (created, finished), (resource_arn, kind), (state, message) = times, resource, end
        return {
            "job_id": new_job_id(),
            "region": region,
            "account_id": self.account_id,
            "created_at": created,
            "finishes_at": finished,
            "resource_arn": resource_arn,
            "resource_type": kind,
            "resource_name": _resource_name(resource_arn),
            "outcome": state,
            "status_message": message,
            "size_bytes": size_bytes,
        }

    # ------------------------------------------------------------------ accessors (API-shaped, newest first)

    def backup_jobs(self, region: str | None = None) -> list[dict[str, Any]]:
        return self._jobs(self.backup_jobs_by_id.values(), region)

    def copy_jobs(self, region: str | None = None) -> list[dict[str, Any]]:
        return self._jobs(self.copy_jobs_by_id.values(), region)

    def restore_jobs(self, region: str | None = None) -> list[dict[str, Any]]:
        return self._jobs(self.restore_jobs_by_id.values(), region)

    def recovery_points(self, vault: str, region: str) -> list[dict[str, Any]]:
        """The vault's recovery points as DescribeRecoveryPoint answers them, newest first."""
        with self.lock:
            self.settle()
            now = self.now()
            return [p.describe(now) for p in self.points.in_vault(region, vault)]

    def _jobs(self, jobs: Any, region: str | None) -> list[dict[str, Any]]:
        with self.lock:
            self.settle()
            now = self.now()
            chosen = [j for j in jobs if region is None or j.region == region]
            chosen.sort(key=lambda j: (j.created_at, j.job_id), reverse=True)
            return [j.to_api(now) for j in chosen]


def _resource_name(resource_arn: str) -> str:
    """The name AWS Backup shows for a resource: the table, cluster or bucket name (else the ARN's tail)."""
    try:
        return parse_resource_arn(resource_arn).name
    except BackupApiError:
        return resource_arn.rsplit(":", 1)[-1].rsplit("/", 1)[-1]
