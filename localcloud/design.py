"""The protected platform's names and shape, as its DR design gives them (``PlatformDesign``).

A frozen value shared by the scenario (``localcloud.scenario.Platform`` seeds it) and the modules that work
on a seeded platform without building one (``localcloud.scenario_backups``, the AWS Config simulator).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PlatformDesign:
    """Names and shape of the platform, as its DR design gives them."""

    stack_name: str = "roadcall-dr"
    primary_region: str = "us-east-1"
    recovery_region: str = "us-west-2"
    tables: tuple[str, ...] = (
        "roadcall-users-prod",
        "roadcall-incidents-prod",
        "roadcall-vendors-prod",
        "roadcall-tracking-sessions-prod",
        "roadcall-call-records-prod",
    )
    global_cluster_id: str = "roadcall-aurora-global"
    primary_cluster_id: str = "roadcall-aurora-prod"
    secondary_cluster_id: str = "roadcall-aurora-prod-dr"
    buckets: tuple[str, ...] = (
        "roadcall-call-recordings-prod",
        "roadcall-kb-documents-prod",
        "roadcall-incident-media-prod",
    )
    replica_suffix: str = "-dr"
    replication_rule_id: str = "dr-replication"
    backup_vault: str = "roadcall-backup-vault"
    recovery_backup_vault: str = "roadcall-backup-vault-dr"
    items_per_table: int = 20
    objects_per_bucket: int = 10
    database: str = "roadcall"
    sql_tables: tuple[str, ...] = ("public.incidents", "public.call_records")
    rows_per_table: int = 20
    validation_user: str = "restore_validator"
    use_arc: bool = False
    evaluate_alarms: bool = False  # CloudWatch alarms evaluated every virtual minute (AlarmEvaluator)
    hosted_zone: str = "roadcall.example."
    traffic_name: str = "api.roadcall.example"
    primary_answer: str = "127.0.1.1"
    recovery_answer: str = "127.0.2.1"

    @property
    def replicas(self) -> tuple[str, ...]:
        return tuple(b + self.replica_suffix for b in self.buckets)
