"""The state of the simulated AWS Backup and how it moves with the virtual clock.

Jobs are settled lazily: ``settle()`` (run before every AWS call by an interceptor hook, and before every
simulated Backup answer) finishes, in order, each job whose modeled duration has elapsed on the clock.
Finishing is when the work happens: a backup job reads the source from moto and adds its recovery point,
a copy job adds the copy to the destination vault (in the destination Region), a restore job creates the
restored resource in moto. Nothing runs in the background and nothing sleeps.

Vaults and plans stay in moto's backup backend (``backup_backends[account][region]``); this engine keeps
what moto lacks and keeps moto's ``NumberOfRecoveryPoints`` of each vault in step with it.
"""

from __future__ import annotations

import hashlib
import heapq
import itertools
import threading
import uuid
from datetime import datetime, timedelta
from typing import Any

from moto.backup.models import backup_backends
from moto.core import DEFAULT_ACCOUNT_ID

from localcloud.clock import VirtualClock
from localcloud.services.backup.arns import parse_resource_arn, partition, restored_resource_arn
from localcloud.services.backup.errors import not_found
from localcloud.services.backup.records import (
    BackupJob,
    CopyJob,
    Durations,
    Job,
    RecoveryPoint,
    RestoreJob,
    Selection,
    to_ms,
)
from localcloud.services.backup.snapshots import RestoreFailed, SourceUnavailable, capture, materialize
from localcloud.services.backup.store import RecoveryPointStore


class BackupEngine:
    def __init__(self, clock: VirtualClock, account_id: str = DEFAULT_ACCOUNT_ID) -> None:
        self.clock = clock
        self.account_id = account_id
        self.durations = Durations()
        self.points = RecoveryPointStore()
        self.backup_jobs_by_id: dict[str, BackupJob] = {}
        self.copy_jobs_by_id: dict[str, CopyJob] = {}
        self.restore_jobs_by_id: dict[str, RestoreJob] = {}
        self.selections: dict[tuple[str, str], dict[str, Selection]] = {}  # (region, plan id) -> id -> selection
        self.idempotency: dict[tuple[str, str, str], str] = {}  # (operation, region, token) -> job id
        self.failures: dict[str, list[tuple[str, str]]] = {"backup": [], "copy": [], "restore": []}
        self.lock = threading.RLock()
        self._due: list[tuple[datetime, int, Job]] = []
        self._purges: list[tuple[datetime, int, str]] = []
        self._seq = itertools.count()
        self._settling = False
        self._default_keys: dict[str, str] = {}

    # ------------------------------------------------------------------ time

    def now(self) -> datetime:
        return to_ms(self.clock.now())

    def settle(self) -> None:
        """Finish every job whose time has come, and forget recovery points whose deletion is done."""
        with self.lock:
            if self._settling:
                return
            self._settling = True
            try:
                now = self.now()
                while self._due and self._due[0][0] <= now:
                    self._finish(heapq.heappop(self._due)[2])
                while self._purges and self._purges[0][0] <= now:
                    self._purge(heapq.heappop(self._purges)[2])
            finally:
                self._settling = False

    # ------------------------------------------------------------------ vaults and plans (moto's)

    def vault(self, region: str, name: str) -> Any | None:
        return backup_backends[self.account_id][region].vaults.get(name)

    def require_vault(self, region: str, name: str) -> Any:
        vault = self.vault(region, name)
        if vault is None:
            raise not_found(f"Backup vault '{name}' does not exist in {region} (account {self.account_id})")
        return vault

    def ensure_vault(self, region: str, name: str) -> Any:
        vault = self.vault(region, name)
        if vault is None:
            vault = backup_backends[self.account_id][region].create_backup_vault(name, {}, None, None)
        return vault

    def vault_key_arn(self, region: str, name: str) -> str:
        """The vault's KMS key: the one it was created with, else the Region's aws/backup managed key."""
        vault = self.vault(region, name)
        if vault is not None and vault.encryption_key_arn:
            return str(vault.encryption_key_arn)
        if region not in self._default_keys:
            self._default_keys[region] = f"arn:{partition(region)}:kms:{region}:{self.account_id}:key/{uuid.uuid4()}"
        return self._default_keys[region]

    def plan(self, region: str, plan_id: str) -> Any | None:
        plan = backup_backends[self.account_id][region].plans.get(plan_id)
        return plan if plan is not None and plan.deletion_date is None else None

    def created_by(self, region: str, plan_id: str | None, rule_id: str | None) -> dict[str, str] | None:
        """``CreatedBy`` of a recovery point or job made by a plan's rule (None: an on-demand one)."""
        if plan_id is None:
            return None
        plan = self.plan(region, plan_id)
        if plan is None:  # a plan the scenario did not create: still a consistent creator
            version = hashlib.sha256(plan_id.encode()).hexdigest()[:48]
            arn = f"arn:{partition(region)}:backup:{region}:{self.account_id}:backup-plan:{plan_id}"
            creator = {"BackupPlanId": plan_id, "BackupPlanArn": arn, "BackupPlanVersion": version}
            return {**creator, "BackupRuleId": rule_id} if rule_id else creator
        creator = {
            "BackupPlanId": plan_id,
            "BackupPlanArn": plan.backup_plan_arn,
            "BackupPlanVersion": plan.version_id,
            "BackupPlanName": plan.backup_plan["BackupPlanName"],
        }
        for rule in plan.backup_plan["Rules"]:
            if rule.get("RuleId") == rule_id:
                creator.update(
                    BackupRuleId=rule["RuleId"],
                    BackupRuleName=rule["RuleName"],
                    BackupRuleCron=rule["ScheduleExpression"],
                    BackupRuleTimezone=rule["ScheduleExpressionTimezone"],
                )
        if rule_id and "BackupRuleId" not in creator:
            creator["BackupRuleId"] = rule_id
        return creator

    # ------------------------------------------------------------------ recovery points

    def add_point(self, point: RecoveryPoint) -> None:
        self.points.add(point)
        self._count(point.region, point.vault_name)

    def delete_point(self, point: RecoveryPoint) -> None:
        """DeleteRecoveryPoint: DELETING now, gone after the modeled deletion time."""
        if point.deleting_since is not None:
            return
        point.deleting_since = self.now()
        gone_at = point.deleting_since + timedelta(seconds=self.durations.delete)
        heapq.heappush(self._purges, (gone_at, next(self._seq), point.arn))

    def _purge(self, arn: str) -> None:
        point = self.points.remove(arn)
        if point is not None:
            self._count(point.region, point.vault_name)

    def _count(self, region: str, vault_name: str) -> None:
        vault = self.vault(region, vault_name)
        if vault is not None:  # ListBackupVaults reads the first name, moto's DescribeBackupVault the second
            count = self.points.count_in_vault(region, vault_name)
            vault.num_of_recovery_points = vault.number_of_recovery_points = count

    # ------------------------------------------------------------------ jobs

    def add_job(self, job: Job) -> None:
        """Keep ``job``; unless it is already terminal (seeded), schedule it to finish at ``finishes_at``."""
        if isinstance(job, BackupJob):
            self.backup_jobs_by_id[job.job_id] = job
        elif isinstance(job, CopyJob):
            self.copy_jobs_by_id[job.job_id] = job
        elif isinstance(job, RestoreJob):
            self.restore_jobs_by_id[job.job_id] = job
        if job.outcome is None:
            heapq.heappush(self._due, (job.finishes_at, next(self._seq), job))

    def take_failure(self, kind: str, *keys: str) -> str | None:
        """The message of the first ``fail_next_<kind>`` knob matching one of ``keys`` (and use it up)."""
        for index, (match, message) in enumerate(self.failures[kind]):
            if match in keys:
                del self.failures[kind][index]
                return message
        return None

    def _finish(self, job: Job) -> None:
        if job.planned_failure is not None:
            self._fail(job, job.planned_failure)
        elif isinstance(job, BackupJob):
            self._finish_backup(job)
        elif isinstance(job, CopyJob):
            self._finish_copy(job)
        elif isinstance(job, RestoreJob):
            self._finish_restore(job)

    @staticmethod
    def _fail(job: Job, message: str) -> None:
        job.outcome, job.status_message = "FAILED", message

    def _finish_backup(self, job: BackupJob) -> None:
        if self.vault(job.region, job.vault_name) is None:
            self._fail(job, f"Backup vault {job.vault_name} no longer exists in {job.region}")
            return
        try:
            snapshot = capture(parse_resource_arn(job.resource_arn), job.region, self.account_id)
        except SourceUnavailable as error:
            self._fail(job, str(error))
            return
        point = RecoveryPoint(
            arn=job.recovery_point_arn,
            region=job.region,
            account_id=self.account_id,
            vault_name=job.vault_name,
            vault_arn=job.vault_arn,
            resource_arn=job.resource_arn,
            resource_type=job.resource_type,
            resource_name=job.resource_name,
            created_at=job.created_at,
            completed_at=job.finishes_at,
            encryption_key_arn=job.encryption_key_arn,
            lifecycle=job.lifecycle,
            created_by=job.created_by,
            iam_role_arn=job.iam_role_arn,
            snapshot=snapshot,
            size_bytes=snapshot.size_bytes,
        )
        self.add_point(point)
        if job.tags:
            backup_backends[self.account_id][job.region].tag_resource(point.arn, job.tags)
        job.size_bytes, job.outcome = snapshot.size_bytes, "COMPLETED"

    def _finish_copy(self, job: CopyJob) -> None:
        source = self.points.get(job.source_recovery_point_arn)
        if source is None or source.deleting_since is not None:
            self._fail(job, f"Source recovery point {job.source_recovery_point_arn} no longer exists")
            return
        if self.vault(job.destination_region, job.destination_vault_name) is None:
            self._fail(job, f"Destination backup vault {job.destination_vault_arn} no longer exists")
            return
        copy = RecoveryPoint(
            arn=job.destination_recovery_point_arn,
            region=job.destination_region,
            account_id=self.account_id,
            vault_name=job.destination_vault_name,
            vault_arn=job.destination_vault_arn,
            resource_arn=source.resource_arn,
            resource_type=source.resource_type,
            resource_name=source.resource_name,
            created_at=job.created_at,
            completed_at=job.finishes_at,
            encryption_key_arn=job.destination_encryption_key_arn,
            lifecycle=job.lifecycle,
            created_by=job.created_by,
            iam_role_arn=job.iam_role_arn,
            source_vault_arn=source.vault_arn,
            snapshot=source.snapshot,
            size_bytes=source.size_bytes,
        )
        self.add_point(copy)
        job.size_bytes, job.outcome = source.size_bytes, "COMPLETED"

    def _finish_restore(self, job: RestoreJob) -> None:
        if job.snapshot is None:
            self._fail(
                job,
                f"Recovery point {job.recovery_point_arn} holds no data to restore: it was seeded without a "
                f"snapshot and its source {job.resource_arn} could not be read when the restore started",
            )
            return
        try:
            name = materialize(job.snapshot, job.metadata, job.region, self.account_id, job.recovery_point_arn)
        except RestoreFailed as error:
            self._fail(job, str(error))
            return
        job.created_resource_arn = restored_resource_arn(job.resource_type, job.region, self.account_id, name)
        job.outcome = "COMPLETED"
        point = self.points.get(job.recovery_point_arn)
        if point is not None:
            point.last_restore_time = job.finishes_at
