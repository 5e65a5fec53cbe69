"""Scenario knobs for failback and re-protection, on top of ``scenario.Platform``.

- ``write_during_outage``: the platform serves from the recovery region: items and objects written there
  (items carry ``updated_at``, as the platform's items do);
- ``queue_writes_for_primary`` / ``deliver_queued_writes``: while the primary is down, what the recovery
  region writes cannot reach it (replication out of the recovery region waits), until it is back;
- ``missing_at_home``: which of those writes are not in the primary region (empty: nothing lost);
- ``half_configured``: replication half set up, the state a first setup or an interrupted re-protection
  leaves (a table without its replica, PITR off, versioning off on a replica bucket, a bucket without its
  rule, the Aurora secondary detached from the global database and without instances).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from localcloud.scenario import Platform


@dataclass
class OutageWrites:
    items: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (table, item)
    objects: list[tuple[str, str, bytes]] = field(default_factory=list)  # (recovery bucket, key, body)


def write_during_outage(platform: Platform, items_per_table: int = 2, objects_per_bucket: int = 2) -> OutageWrites:
    """Writes the recovery region takes while it serves the platform."""
    d = platform.design
    ddb = platform.cloud.client("dynamodb", d.recovery_region)
    s3 = platform.cloud.client("s3", d.recovery_region)
    written = OutageWrites()
    now = platform.cloud.clock.now().isoformat()
    for table in d.tables:
        for n in range(items_per_table):
            item = {"pk": {"S": f"{table}#outage-{n:03d}"}, "sk": {"S": "v1"}, "updated_at": {"S": now}}
            ddb.put_item(TableName=table, Item=item)
            written.items.append((table, item))
    for bucket in d.replicas:
        for n in range(objects_per_bucket):
            key, body = f"outage/{n:03d}.bin", f"{bucket} written in {d.recovery_region} during the outage {n}".encode()
            s3.put_object(Bucket=bucket, Key=key, Body=body)
            written.objects.append((bucket, key, body))
    return written


def queue_writes_for_primary(platform: Platform) -> None:
    """The primary cannot receive: replication out of the recovery region waits (DynamoDB and S3)."""
    platform.tables.pause_replication(platform.design.recovery_region)
    platform.s3.pause_replication(platform.design.recovery_region)


def deliver_queued_writes(platform: Platform) -> None:
    platform.tables.resume_replication(platform.design.recovery_region)
    platform.s3.resume_replication(platform.design.recovery_region)


def home_bucket(platform: Platform, replica: str) -> str:
    return platform.design.buckets[platform.design.replicas.index(replica)]


def missing_at_home(platform: Platform, written: OutageWrites) -> list[str]:
    """What of ``written`` the primary region does not hold (as written), in plain words."""
    d = platform.design
    ddb = platform.cloud.client("dynamodb", d.primary_region)
    s3 = platform.cloud.client("s3", d.primary_region)
    missing = []
    for table, item in written.items:
        key = {"pk": item["pk"], "sk": item["sk"]}
        if ddb.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item") != item:
            missing.append(f"item {item['pk']['S']} of {table}")
    for replica, name, body in written.objects:
        bucket = home_bucket(platform, replica)
        try:
            found = s3.get_object(Bucket=bucket, Key=name)["Body"].read()
        except s3.exceptions.NoSuchKey:
            found = None
        if found != body:
            missing.append(f"object {bucket}/{name}")
    return missing


def half_configured(platform: Platform) -> list[str]:
    """Break replication setup in one way per store and return what was broken."""
    d = platform.design
    east, west = d.primary_region, d.recovery_region
    broken = []
    table = d.tables[1]
    platform.cloud.client("dynamodb", east).update_table(
        TableName=table, ReplicaUpdates=[{"Delete": {"RegionName": west}}]
    )
    broken.append(f"table {table} has no replica in {west}")
    platform.cloud.client("dynamodb", east).update_continuous_backups(
        TableName=d.tables[2], PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False}
    )
    broken.append(f"table {d.tables[2]} has PITR off in {east}")
    platform.cloud.client("s3", west).put_bucket_versioning(
        Bucket=d.replicas[0], VersioningConfiguration={"Status": "Suspended"}
    )
    broken.append(f"bucket {d.replicas[0]} has versioning suspended")
    platform.replication_off(d.buckets[1])
    broken.append(f"bucket {d.buckets[1]} has no replication rule")
    rds = platform.cloud.client("rds", west)
    arn = rds.describe_db_clusters(DBClusterIdentifier=d.secondary_cluster_id)["DBClusters"][0]["DBClusterArn"]
    rds.remove_from_global_cluster(GlobalClusterIdentifier=d.global_cluster_id, DbClusterIdentifier=arn)
    for instance in rds.describe_db_instances(Filters=[{"Name": "db-cluster-id", "Values": [d.secondary_cluster_id]}])[
        "DBInstances"
    ]:
        rds.delete_db_instance(DBInstanceIdentifier=instance["DBInstanceIdentifier"])
    broken.append(f"cluster {d.secondary_cluster_id} detached from {d.global_cluster_id}, without instances")
    return broken
