"""Replication setup of Aurora (global database), idempotently (dr.replication runs it with the other stores).

Aurora (global database): the cluster the inventory names in ``to_region`` is a secondary of the global
cluster with at least ``min_instances`` instances available, and replication is flowing (the
``AuroraGlobalDBReplicationLag`` metric of that cluster has a datapoint under the budget). If it was
detached from the global cluster (an unplanned failover that could not reach it, or a manual
detach-and-promote), AWS does not allow adding an existing cluster that holds data back to a global
database: the documented way is to delete it (or rename it) and add a new secondary cluster to the
global database. This module deletes it — its instances first, then the cluster with a *final
snapshot* named ``<cluster>-detached-<UTC time>``, so the writes it took that never reached the new
writer are kept for reconciliation — and then creates a new secondary cluster with the same identifier
(so the inventory stays true), with the global cluster's engine and version and the detached cluster's
network and encryption settings (tagged on the cluster, copied to the final snapshot, and read back from
it when the creation happens in a later run), then its instances with the writer's instance class.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from botocore.exceptions import ClientError

from dr.aws import aws_errors, client, paginate
from dr.errors import ReplicationNotConfigured
from dr.inventory import Inventory
from dr.replication_common import ClientFactory, SetupResult, SetupRun, missing

SNAPSHOT_TAGS = ("dr:db-subnet-group", "dr:vpc-security-groups", "dr:kms-key-id", "dr:port")


def setup_aurora(
    inv: Inventory,
    from_region: str,
    to_region: str,
    *,
    min_instances: int = 1,
    lag_budget_seconds: float = 5.0,
    dry_run: bool = False,
    clients: ClientFactory = client,
) -> SetupResult:
    run = SetupRun(dry_run)
    with aws_errors(f"set up Aurora replication {from_region} → {to_region}", ReplicationNotConfigured):
        flowing = _aurora(run, inv, from_region, to_region, min_instances, lag_budget_seconds, clients)
    return run.result("aurora", from_region, to_region, flowing)


def _global_cluster(rds: Any, gid: str) -> dict[str, Any]:
    try:
        found = rds.describe_global_clusters(GlobalClusterIdentifier=gid)["GlobalClusters"]
    except ClientError as err:
        if not missing(err, "GlobalClusterNotFoundFault"):
            raise
        found = []
    if not found:
        raise ReplicationNotConfigured(
            f"global cluster {gid} does not exist; expected the Aurora global database of the inventory "
            "(create it from the primary cluster first: see docs/setup-guide.md)"
        )
    return dict(found[0])


def _db_cluster(rds: Any, cluster_id: str) -> dict[str, Any] | None:
    try:
        return dict(rds.describe_db_clusters(DBClusterIdentifier=cluster_id)["DBClusters"][0])
    except ClientError as err:
        if missing(err, "DBClusterNotFoundFault"):
            return None
        raise


def _instances(rds: Any, cluster_id: str) -> list[dict[str, Any]]:
    return list(
        paginate(
            rds, "describe_db_instances", "DBInstances", Filters=[{"Name": "db-cluster-id", "Values": [cluster_id]}]
        )
    )


def _aurora(  # noqa: PLR0911 - each early return is a state the setup stops in until the next run
    run: SetupRun,
    inv: Inventory,
    from_region: str,
    to_region: str,
    min_instances: int,
    budget: float,
    clients: ClientFactory,
) -> bool | None:
    gid = inv.aurora.global_cluster_id
    target_id = inv.aurora_cluster_in(to_region)
    rds = clients("rds", to_region)
    cluster = _global_cluster(rds, gid)
    members = cluster.get("GlobalClusterMembers", [])
    writer = next((m for m in members if m.get("IsWriter")), None)
    writer_arn = str(writer["DBClusterArn"]) if writer else ""
    if writer_arn.split(":")[3:4] == [to_region]:
        run.found.append(f"the Aurora writer is in {to_region}: replication flows out of it; nothing to set up")
        return True
    if not writer:
        raise ReplicationNotConfigured(f"global cluster {gid} has no writer; expected a primary cluster")
    if cluster.get("FailoverState") or cluster.get("Status") not in ("available", None):
        run.pending.append(f"global cluster {gid} is {cluster.get('Status')} (a failover or switchover runs)")
        return None
    member = next(
        (
            m
            for m in members
            if str(m["DBClusterArn"]).endswith(f":cluster:{target_id}") and f":{to_region}:" in m["DBClusterArn"]
        ),
        None,
    )
    existing = _db_cluster(rds, target_id)
    if member is None:
        template = _replace_detached(run, rds, target_id, existing, to_region) if existing else None
        if existing and not run.dry_run and _db_cluster(rds, target_id) is not None:
            run.pending.append(f"the detached cluster {target_id} in {to_region} is being deleted")
            return None
        _create_secondary(run, rds, cluster, target_id, to_region, template or _template_from_snapshot(rds, target_id))
        if run.dry_run:
            run.changes.append(f"would create {min_instances} instance(s) in {target_id}")
            return None
    else:
        run.found.append(f"{target_id} in {to_region} is a secondary of {gid}")
    desc = _db_cluster(rds, target_id) or {}
    if desc.get("Status") != "available":
        run.pending.append(f"cluster {target_id} in {to_region} is {desc.get('Status', 'missing')}, expected available")
        return None
    _ensure_instances(run, rds, clients("rds", writer_arn.split(":")[3]), writer_arn, target_id, min_instances)
    if run.pending or run.dry_run:
        return None
    lag_ms = _latest_lag_ms(clients("cloudwatch", to_region), target_id)
    if lag_ms is None:
        run.found.append(f"no AuroraGlobalDBReplicationLag datapoint for {target_id} yet: replication not flowing")
        return False
    run.found.append(f"{target_id}: replication lag {lag_ms / 1000:.1f} s (budget {budget:g} s)")
    return lag_ms / 1000.0 <= budget


def _latest_lag_ms(cloudwatch: Any, cluster_id: str) -> float | None:
    """The newest AuroraGlobalDBReplicationLag datapoint of the last 5 minutes. The window reaches an hour
    ahead: a caller's clock may trail the service's (drctl against a localcloud server, whose clock is
    virtual); AWS has no datapoints in the future, so this changes nothing there."""
    now = datetime.now(UTC)
    out = cloudwatch.get_metric_data(
        MetricDataQueries=[
            {
                "Id": "lag",
                "MetricStat": {
                    "Metric": {
                        "Namespace": "AWS/RDS",
                        "MetricName": "AuroraGlobalDBReplicationLag",
                        "Dimensions": [{"Name": "DBClusterIdentifier", "Value": cluster_id}],
                    },
                    "Period": 60,
                    "Stat": "Maximum",
                },
            }
        ],
        StartTime=now - timedelta(minutes=5),
        EndTime=now + timedelta(hours=1),
        ScanBy="TimestampDescending",
    )
    values = (out.get("MetricDataResults") or [{}])[0].get("Values", [])
    return float(values[0]) if values else None


def _replace_detached(run: SetupRun, rds: Any, target_id: str, existing: dict[str, Any], region: str) -> dict[str, Any]:
    """Delete a cluster that left the global database (instances, then the cluster with a final snapshot),
    keeping its network and encryption settings for the new secondary (tags copied to the snapshot)."""
    template = {
        "dr:db-subnet-group": str(existing.get("DBSubnetGroup") or ""),
        "dr:vpc-security-groups": " ".join(g["VpcSecurityGroupId"] for g in existing.get("VpcSecurityGroups", [])),
        "dr:kms-key-id": str(existing.get("KmsKeyId") or ""),
        "dr:port": str(existing.get("Port") or ""),
    }
    run.found.append(
        f"{target_id} in {region} is not a member of the global database (detached, status {existing.get('Status')}): "
        "AWS cannot add a cluster holding data back; it is replaced by a new secondary"
    )
    if existing.get("Status") == "deleting":
        return template
    instances = _instances(rds, target_id)
    for instance in instances:
        if instance.get("DBInstanceStatus") != "deleting":
            instance_id = instance["DBInstanceIdentifier"]
            run.act(
                f"delete instance {instance_id} of the detached cluster {target_id}",
                partial(rds.delete_db_instance, DBInstanceIdentifier=instance_id),
            )
    if instances and not run.dry_run and _instances(rds, target_id):
        run.pending.append(f"instances of the detached cluster {target_id} are being deleted")
        return template
    arn = str(existing["DBClusterArn"])
    snapshot = f"{target_id}-detached-{datetime.now(UTC):%Y%m%d%H%M%S}"
    if existing.get("DeletionProtection"):
        run.act(
            f"turn off deletion protection of the detached cluster {target_id}",
            lambda: rds.modify_db_cluster(
                DBClusterIdentifier=target_id, DeletionProtection=False, ApplyImmediately=True
            ),
        )
    run.act(
        f"tag the detached cluster {target_id} with its settings (copied to its final snapshot)",
        lambda: (
            rds.add_tags_to_resource(ResourceName=arn, Tags=[{"Key": k, "Value": v} for k, v in template.items()]),
            rds.modify_db_cluster(DBClusterIdentifier=target_id, CopyTagsToSnapshot=True, ApplyImmediately=True),
        ),
    )
    run.act(
        f"delete the detached cluster {target_id} keeping final snapshot {snapshot} (the data it holds)",
        lambda: rds.delete_db_cluster(
            DBClusterIdentifier=target_id, SkipFinalSnapshot=False, FinalDBSnapshotIdentifier=snapshot
        ),
    )
    return template


def _template_from_snapshot(rds: Any, target_id: str) -> dict[str, str]:
    """The settings of a detached cluster deleted by an earlier run, from its newest final snapshot's tags."""
    try:
        snapshots = rds.describe_db_cluster_snapshots(DBClusterIdentifier=target_id, SnapshotType="manual")
    except ClientError:
        return {}
    finals = sorted(
        (s for s in snapshots.get("DBClusterSnapshots", []) if "-detached-" in s["DBClusterSnapshotIdentifier"]),
        key=lambda s: str(s["DBClusterSnapshotIdentifier"]),
    )
    if not finals:
        return {}
    return {t["Key"]: t["Value"] for t in finals[-1].get("TagList", []) if t["Key"] in SNAPSHOT_TAGS}


def _create_secondary(
    run: SetupRun, rds: Any, cluster: dict[str, Any], target_id: str, region: str, template: dict[str, str]
) -> None:
    params: dict[str, Any] = {
        "DBClusterIdentifier": target_id,
        "Engine": cluster["Engine"],
        "GlobalClusterIdentifier": cluster["GlobalClusterIdentifier"],
        "StorageEncrypted": bool(cluster.get("StorageEncrypted", True)),
        "BackupRetentionPeriod": 35,
        "CopyTagsToSnapshot": True,
    }
    if cluster.get("EngineVersion"):
        params["EngineVersion"] = cluster["EngineVersion"]
    if template.get("dr:db-subnet-group"):
        params["DBSubnetGroupName"] = template["dr:db-subnet-group"]
    if template.get("dr:vpc-security-groups"):
        params["VpcSecurityGroupIds"] = template["dr:vpc-security-groups"].split()
    if template.get("dr:kms-key-id", "").startswith("arn:"):
        params["KmsKeyId"] = template["dr:kms-key-id"]
    if template.get("dr:port", "").isdigit():
        params["Port"] = int(template["dr:port"])
    run.act(
        f"create {target_id} in {region} as a secondary of {cluster['GlobalClusterIdentifier']}",
        lambda: rds.create_db_cluster(**params),
    )


def _ensure_instances(run: SetupRun, rds: Any, writer_rds: Any, writer_arn: str, target_id: str, wanted: int) -> None:
    instances = [i for i in _instances(rds, target_id) if i.get("DBInstanceStatus") != "deleting"]
    if len(instances) < wanted:
        writer_id = writer_arn.rsplit(":", 1)[-1]
        classes = [i["DBInstanceClass"] for i in _instances(writer_rds, writer_id)]
        instance_class = classes[0] if classes else "db.r6g.large"
        engine = (_db_cluster(rds, target_id) or {}).get("Engine", "aurora-postgresql")
        taken = {i["DBInstanceIdentifier"] for i in instances}
        names = (f"{target_id}-{n}" for n in range(1, 100) if f"{target_id}-{n}" not in taken)
        for _ in range(wanted - len(instances)):
            name = next(names)
            run.act(
                f"create reader instance {name} ({instance_class}) in {target_id}",
                partial(
                    rds.create_db_instance,
                    DBInstanceIdentifier=name,
                    DBClusterIdentifier=target_id,
                    Engine=engine,
                    DBInstanceClass=instance_class,
                ),
            )
        instances = [i for i in _instances(rds, target_id) if i.get("DBInstanceStatus") != "deleting"]
    else:
        run.found.append(f"{target_id}: {len(instances)} instance(s), {wanted} wanted")
    waiting = [i["DBInstanceIdentifier"] for i in instances if i.get("DBInstanceStatus") != "available"]
    if waiting and not run.dry_run:
        run.pending.append(f"instances of {target_id} not available yet: {', '.join(waiting)}")
