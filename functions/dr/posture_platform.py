"""The posture the platform's DR design promises, judged from what AWS answers (pure functions) and read in
the region that holds each thing (``readers``: the primary through ``dr.aws.source_client``, one brief
attempt, so an impaired primary region is "could not be checked" in seconds, never a stall).

What the design promises, and the check that says it is broken (docs/findings.md explains each one):
- Aurora, the primary cluster: ``AuroraPrimaryReaders`` readers beside the writer (``aurora-readers``),
  deletion protection (``deletion-protection-off``), 35 days of automated backups (``aurora-retention-short``,
  the backup verification's own rule), log exports to CloudWatch Logs (``log-exports-off``) and enhanced
  monitoring on every instance (``enhanced-monitoring-off``);
- Aurora, the secondary cluster in the recovery region: at least one instance to promote
  (``aurora-secondary-no-instance``), the global cluster's engine and major version
  (``aurora-engine-mismatch``), deletion protection;
- DynamoDB: point-in-time recovery on every protected table in both regions (``pitr-disabled``, the backup
  verification's rule: HIGH in the primary, MEDIUM on the recovery region's replica) with the full 35-day
  window (``pitr-period-short``);
- S3: versioning, an enabled replication rule with Replication Time Control (the backup verification's
  ``versioning-disabled``, ``replication-disabled``, ``replication-rtc-disabled``) and delete markers
  replicated (``delete-marker-replication-off``).
A resource the inventory names that does not exist where it should is ``resource-missing``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dr import backup_policy
from dr.backup_models import Finding, ProtectedResource, Severity

AURORA_READERS = "aurora-readers"
DELETION_PROTECTION_OFF = "deletion-protection-off"
LOG_EXPORTS_OFF = "log-exports-off"
ENHANCED_MONITORING_OFF = "enhanced-monitoring-off"
AURORA_SECONDARY_NO_INSTANCE = "aurora-secondary-no-instance"
AURORA_ENGINE_MISMATCH = "aurora-engine-mismatch"
PITR_PERIOD_SHORT = "pitr-period-short"
DELETE_MARKER_REPLICATION_OFF = "delete-marker-replication-off"
RESOURCE_MISSING = "resource-missing"

CHECKS = (
    AURORA_READERS,
    DELETION_PROTECTION_OFF,
    backup_policy.AURORA_RETENTION_SHORT,
    LOG_EXPORTS_OFF,
    ENHANCED_MONITORING_OFF,
    AURORA_SECONDARY_NO_INSTANCE,
    AURORA_ENGINE_MISMATCH,
    backup_policy.PITR_DISABLED,
    PITR_PERIOD_SHORT,
    backup_policy.VERSIONING_DISABLED,
    backup_policy.REPLICATION_DISABLED,
    backup_policy.REPLICATION_RTC_DISABLED,
    DELETE_MARKER_REPLICATION_OFF,
    RESOURCE_MISSING,
)


def finding(resource: ProtectedResource, check: str, severity: Severity, reason: str) -> Finding:
    return Finding(resource=resource.arn, resource_type=resource.type, check=check, severity=severity, reason=reason)


def missing(resource: ProtectedResource, code: str) -> Finding:
    return finding(
        resource,
        RESOURCE_MISSING,
        "HIGH",
        f"{resource.type} {resource.name} does not exist in {resource.region} ({code}): the DR design counts on it; "
        "restore it or correct the inventory (the stack's parameters)",
    )


# -- Aurora ----------------------------------------------------------------------------------------------
def primary_cluster(
    resource: ProtectedResource,
    cluster: Mapping[str, Any],
    instances: list[Mapping[str, Any]],
    readers: int,
    min_retention_days: int,
) -> list[Finding]:
    """The primary cluster (DescribeDBClusters) and its instances (DescribeDBInstances) against the design."""
    out: list[Finding] = []
    members = cluster.get("DBClusterMembers") or []
    found = sum(1 for m in members if not m.get("IsClusterWriter"))
    if found < readers:
        out.append(
            finding(
                resource,
                AURORA_READERS,
                "MEDIUM",
                f"Aurora cluster {resource.name} has {found} reader(s) beside its writer; the design asks for "
                f"{readers}: a writer failure now leaves fewer instances to fail over to inside the region",
            )
        )
    out += protection(resource, cluster)
    out += backup_policy.evaluate_cluster(resource, cluster, min_retention_days)
    if not cluster.get("EnabledCloudwatchLogsExports"):
        out.append(
            finding(
                resource,
                LOG_EXPORTS_OFF,
                "LOW",
                f"Aurora cluster {resource.name} exports no logs to CloudWatch Logs: after an incident its "
                "database logs are only on the instances",
            )
        )
    unmonitored = sorted(str(i["DBInstanceIdentifier"]) for i in instances if not i.get("MonitoringInterval"))
    if unmonitored:
        out.append(
            finding(
                resource,
                ENHANCED_MONITORING_OFF,
                "LOW",
                f"enhanced monitoring is off on {', '.join(unmonitored)} (MonitoringInterval 0): OS metrics of "
                "the instances are not collected",
            )
        )
    return out


def protection(resource: ProtectedResource, cluster: Mapping[str, Any]) -> list[Finding]:
    if cluster.get("DeletionProtection"):
        return []
    return [
        finding(
            resource,
            DELETION_PROTECTION_OFF,
            "HIGH",
            f"deletion protection of Aurora cluster {resource.name} is off: one DeleteDBCluster (a mistaken "
            "script, a stack teardown) removes it",
        )
    ]


def secondary_cluster(
    resource: ProtectedResource, cluster: Mapping[str, Any], global_cluster: Mapping[str, Any] | None
) -> list[Finding]:
    """The recovery region's cluster: something to promote, with the global cluster's engine."""
    out: list[Finding] = []
    if not cluster.get("DBClusterMembers"):
        out.append(
            finding(
                resource,
                AURORA_SECONDARY_NO_INSTANCE,
                "HIGH",
                f"Aurora cluster {resource.name} in {resource.region} has no DB instance: a promoted headless "
                "cluster serves nothing until an instance is created (tens of minutes of the RTO)",
            )
        )
    if global_cluster is not None:
        want_engine, want_version = str(global_cluster.get("Engine", "")), str(global_cluster.get("EngineVersion", ""))
        engine, version = str(cluster.get("Engine", "")), str(cluster.get("EngineVersion", ""))
        if engine != want_engine or _major(version) != _major(want_version):
            out.append(
                finding(
                    resource,
                    AURORA_ENGINE_MISMATCH,
                    "HIGH",
                    f"Aurora cluster {resource.name} runs {engine} {version}; its global cluster runs "
                    f"{want_engine} {want_version}: a secondary of another engine or major version cannot take over",
                )
            )
    return out + protection(resource, cluster)


def _major(version: str) -> str:
    return version.split(".", 1)[0]


# -- DynamoDB ---------------------------------------------------------------------------------------------
def table(
    resource: ProtectedResource, description: Mapping[str, Any], days: int, replica: bool = False
) -> list[Finding]:
    """DescribeContinuousBackups' ``ContinuousBackupsDescription``: PITR on, with the whole window. Off on
    the primary's table is the backup verification's HIGH; off on the replica (``replica``) is MEDIUM: a
    failover still works, but the tables that then take the writes cannot be restored to a point in time
    before someone turns it on (the failback's re-protection does, in both regions)."""
    out = [
        f.model_copy(
            update={
                "severity": "MEDIUM",
                "reason": f.reason + f" (the replica in {resource.region}: it matters once a failover makes it "
                "the table that takes the writes)",
            }
        )
        if replica
        else f
        for f in backup_policy.evaluate_table(resource, description)
    ]
    pitr = description.get("PointInTimeRecoveryDescription") or {}
    period = pitr.get("RecoveryPeriodInDays")
    if not out and period is not None and int(period) < days:
        out.append(
            finding(
                resource,
                PITR_PERIOD_SHORT,
                "MEDIUM",
                f"point-in-time recovery of table {resource.name} in {resource.region} keeps {period} days; the "
                f"design promises {days}",
            )
        )
    return out


# -- S3 -----------------------------------------------------------------------------------------------
def bucket(
    resource: ProtectedResource, versioning: Mapping[str, Any], replication: Mapping[str, Any] | None
) -> list[Finding]:
    """The source bucket's versioning and replication (RTC), and delete markers replicated."""
    out = backup_policy.evaluate_bucket(resource, versioning, replication)
    enabled = [r for r in (replication or {}).get("Rules", []) if r.get("Status") == "Enabled"]
    if enabled and not any((r.get("DeleteMarkerReplication") or {}).get("Status") == "Enabled" for r in enabled):
        out.append(
            finding(
                resource,
                DELETE_MARKER_REPLICATION_OFF,
                "MEDIUM",
                f"replication of bucket {resource.name} does not carry delete markers: objects deleted in the "
                "primary stay visible in the replica, which serves them after a failover",
            )
        )
    return out
