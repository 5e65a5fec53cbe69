"""Simulated AWS Backup for localcloud: the recovery points and jobs moto's backup backend lacks.

Modeled, for DynamoDB tables, Aurora DB clusters and S3 buckets, with the request and response shapes of
botocore's model (every answer parses with boto3):

- backup selections on the plans moto holds (Create/Get/List/DeleteBackupSelection);
- backup jobs (StartBackupJob, DescribeBackupJob, ListBackupJobs): CREATED -> RUNNING -> COMPLETED (or
  FAILED) after a modeled duration on the virtual clock; on completion the source's data is read from moto
  (table items, bucket objects with ETags and bodies, cluster settings) into a new recovery point — the
  data as it is at completion, as first observed by any AWS call after the modeled completion time;
- recovery points (ListRecoveryPointsByBackupVault/ByResource, DescribeRecoveryPoint,
  GetRecoveryPointRestoreMetadata, DeleteRecoveryPoint) and protected resources
  (ListProtectedResources, ListProtectedResourcesByBackupVault), with ARNs shaped as AWS shapes them;
- copy jobs (StartCopyJob, DescribeCopyJob, ListCopyJobs), also across Regions: the copy appears in the
  destination vault with SourceBackupVaultArn and the same data (its CreationDate is the copy job's, its
  lifecycle the StartCopyJob one, else the source's);
- restore jobs (StartRestoreJob, DescribeRestoreJob, ListRestoreJobs): PENDING -> RUNNING -> COMPLETED, and
  only then does the restored table, bucket or cluster exist in moto; PutRestoreValidationResult;
- DeleteBackupVault refusing a vault that still holds recovery points;
- knobs for tests and scenarios: ``seed_recovery_point``, ``seed_backup_job``, ``seed_copy_job``,
  ``fail_next_restore`` / ``fail_next_backup`` / ``fail_next_copy``, ``set_durations``, ``snapshot_of``,
  and the accessors ``backup_jobs``, ``copy_jobs``, ``restore_jobs``, ``recovery_points``.

Not modeled: scheduled plan runs (selections are stored, no scheduler starts jobs), lifecycle
enforcement (retention is reported, not applied), continuous backups / point-in-time restore through
Backup, other resource types' data (they can be seeded, not backed up or restored), cross-account
copies, legal holds, vault lock checks, composite jobs, restore testing plans, Backup audit/reports.
"""

from localcloud.services.backup.simulator import BackupSimulator
from localcloud.services.backup.snapshots import (
    AuroraClusterSnapshot,
    DynamoTableSnapshot,
    S3BucketSnapshot,
    S3ObjectSnapshot,
    Snapshot,
)

__all__ = [
    "AuroraClusterSnapshot",
    "BackupSimulator",
    "DynamoTableSnapshot",
    "S3BucketSnapshot",
    "S3ObjectSnapshot",
    "Snapshot",
]
