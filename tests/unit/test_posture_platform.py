"""The posture the DR design promises (dr.posture_platform), judged from AWS's answers (pure logic)."""

from __future__ import annotations

from typing import Any

from dr import posture_platform as promised
from dr.backup_models import ProtectedResource

PRIMARY = ProtectedResource(
    arn="arn:aws:rds:us-east-1:123456789012:cluster:db", type="Aurora", name="db", region="us-east-1"
)
SECONDARY = ProtectedResource(
    arn="arn:aws:rds:us-west-2:123456789012:cluster:db-dr", type="Aurora", name="db-dr", region="us-west-2"
)
TABLE = ProtectedResource(
    arn="arn:aws:dynamodb:us-west-2:123456789012:table/users", type="DynamoDB", name="users", region="us-west-2"
)
BUCKET = ProtectedResource(arn="arn:aws:s3:::media", type="S3", name="media", region="us-east-1")


def cluster(readers: int = 2, **overrides: Any) -> dict[str, Any]:
    members = [{"DBInstanceIdentifier": "db-1", "IsClusterWriter": True}] + [
        {"DBInstanceIdentifier": f"db-{n + 2}", "IsClusterWriter": False} for n in range(readers)
    ]
    return {
        "DBClusterMembers": members,
        "DeletionProtection": True,
        "BackupRetentionPeriod": 35,
        "EnabledCloudwatchLogsExports": ["postgresql"],
        "Engine": "aurora-postgresql",
        "EngineVersion": "16.4",
        **overrides,
    }


def instances(*monitoring: int) -> list[dict[str, Any]]:
    return [{"DBInstanceIdentifier": f"db-{n + 1}", "MonitoringInterval": m} for n, m in enumerate(monitoring)]


def checks(found: list[Any]) -> list[tuple[str, str]]:
    return sorted((f.check, f.severity) for f in found)


def test_a_primary_cluster_as_designed_has_no_finding() -> None:
    assert promised.primary_cluster(PRIMARY, cluster(), instances(60, 60, 60), readers=2, min_retention_days=35) == []


def test_each_broken_promise_of_the_primary_cluster_is_its_own_finding() -> None:
    broken = cluster(readers=1, DeletionProtection=False, BackupRetentionPeriod=7, EnabledCloudwatchLogsExports=[])
    found = promised.primary_cluster(PRIMARY, broken, instances(60, 0), readers=2, min_retention_days=35)
    assert checks(found) == [
        ("aurora-readers", "MEDIUM"),
        ("aurora-retention-short", "HIGH"),
        ("deletion-protection-off", "HIGH"),
        ("enhanced-monitoring-off", "LOW"),
        ("log-exports-off", "LOW"),
    ]
    by_check = {f.check: f for f in found}
    assert "has 1 reader(s) beside its writer; the design asks for 2" in by_check["aurora-readers"].reason
    assert (
        "db-2" in by_check["enhanced-monitoring-off"].reason
        and "db-1" not in by_check["enhanced-monitoring-off"].reason
    )
    assert all(f.resource == PRIMARY.arn for f in found)


def test_a_secondary_without_an_instance_or_with_another_engine_cannot_take_over() -> None:
    global_cluster = {"Engine": "aurora-postgresql", "EngineVersion": "16.4"}
    assert promised.secondary_cluster(SECONDARY, cluster(), global_cluster) == []
    headless = cluster(DBClusterMembers=[])
    assert checks(promised.secondary_cluster(SECONDARY, headless, global_cluster)) == [
        ("aurora-secondary-no-instance", "HIGH")
    ]
    other = cluster(EngineVersion="15.7")
    [finding] = promised.secondary_cluster(SECONDARY, other, global_cluster)
    assert (finding.check, finding.severity) == ("aurora-engine-mismatch", "HIGH")
    assert "runs aurora-postgresql 15.7; its global cluster runs aurora-postgresql 16.4" in finding.reason


def test_a_minor_version_difference_is_compatible_and_an_unknown_global_cluster_is_not_judged() -> None:
    assert (
        promised.secondary_cluster(
            SECONDARY, cluster(EngineVersion="16.2"), {"Engine": "aurora-postgresql", "EngineVersion": "16.4"}
        )
        == []
    )
    assert promised.secondary_cluster(SECONDARY, cluster(EngineVersion="9.6"), None) == []


def test_pitr_must_be_on_with_the_whole_window() -> None:
    on = {"PointInTimeRecoveryDescription": {"PointInTimeRecoveryStatus": "ENABLED", "RecoveryPeriodInDays": 35}}
    short = {"PointInTimeRecoveryDescription": {"PointInTimeRecoveryStatus": "ENABLED", "RecoveryPeriodInDays": 7}}
    off = {"PointInTimeRecoveryDescription": {"PointInTimeRecoveryStatus": "DISABLED"}}
    assert promised.table(TABLE, on, days=35) == []
    assert checks(promised.table(TABLE, short, days=35)) == [("pitr-period-short", "MEDIUM")]
    assert checks(promised.table(TABLE, off, days=35)) == [("pitr-disabled", "HIGH")]


def test_pitr_off_on_the_recovery_replica_is_medium_and_says_why_it_matters() -> None:
    off = {"PointInTimeRecoveryDescription": {"PointInTimeRecoveryStatus": "DISABLED"}}
    [finding] = promised.table(TABLE, off, days=35, replica=True)
    assert (finding.check, finding.severity) == ("pitr-disabled", "MEDIUM")
    assert "once a failover makes it the table that takes the writes" in finding.reason


def replication(rtc: bool = True, delete_markers: bool = True, status: str = "Enabled") -> dict[str, Any]:
    destination: dict[str, Any] = {"Bucket": "arn:aws:s3:::media-dr"}
    if rtc:
        destination["ReplicationTime"] = {"Status": "Enabled", "Time": {"Minutes": 15}}
    return {
        "Rules": [
            {
                "ID": "dr",
                "Status": status,
                "Destination": destination,
                "DeleteMarkerReplication": {"Status": "Enabled" if delete_markers else "Disabled"},
            }
        ]
    }


def test_a_bucket_replicates_with_rtc_and_delete_markers() -> None:
    versioned = {"Status": "Enabled"}
    assert promised.bucket(BUCKET, versioned, replication()) == []
    assert checks(promised.bucket(BUCKET, versioned, replication(rtc=False))) == [
        ("replication-rtc-disabled", "MEDIUM")
    ]
    assert checks(promised.bucket(BUCKET, versioned, replication(delete_markers=False))) == [
        ("delete-marker-replication-off", "MEDIUM")
    ]
    assert checks(promised.bucket(BUCKET, {"Status": "Suspended"}, None)) == [
        ("replication-disabled", "HIGH"),
        ("versioning-disabled", "HIGH"),
    ]


def test_a_missing_resource_says_where_it_was_looked_for() -> None:
    finding = promised.missing(TABLE, "TableNotFoundException")
    assert (finding.check, finding.severity, finding.resource) == ("resource-missing", "HIGH", TABLE.arn)
    assert "does not exist in us-west-2 (TableNotFoundException)" in finding.reason


def test_every_readiness_check_is_explained_with_its_fix_in_docs_findings() -> None:
    import re
    from pathlib import Path

    from dr import posture

    text = (Path(__file__).resolve().parents[2] / "docs" / "findings.md").read_text()
    explained = set(re.findall(r"^### ([a-z-]+) \(", text, flags=re.M))
    assert len(set(posture.CHECKS)) > 25
    assert sorted(set(posture.CHECKS) - explained) == []
    for check in posture.CHECKS:
        section = text.split(f"### {check} (", 1)[1].split("\n### ", 1)[0]
        assert "**Means**" in section and "**Fix**" in section, check
