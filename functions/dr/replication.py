"""Replication setup as code: make the platform replicate from one region toward the other, idempotently.

Used for the first setup of the platform (primary → recovery) and for re-protection after a failover
(recovery → old primary), by ``drctl setup replication`` (with the operator's credentials) and by the
failback workflow's Reprotect* steps. Each ``setup_*`` function looks at what is there, changes only what
is missing or wrong, and returns a ``SetupResult``: the changes it made (empty when there was nothing to
do), what it found, and what is still converging (``pending``: a replica CREATING, a cluster being
created). Run it again until nothing is pending; a run on a complete platform changes nothing. With
``dry_run`` nothing is changed and ``changes`` lists what would be done.

What "replicating toward ``to_region``" means per store:

- DynamoDB (global tables, version 2019.11.21): each protected table in ``from_region`` has a stream with
  NEW_AND_OLD_IMAGES (global tables need it), a replica in ``to_region`` (``UpdateTable`` with
  ``ReplicaUpdates`` Create) that is ACTIVE, and point-in-time recovery on in both regions (35 days).
- Aurora (global database): the cluster the inventory names in ``to_region`` is a secondary of the global
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
- S3: versioning Enabled on both buckets of each pair, a replication rule (the inventory's rule id) on the
  ``from_region`` bucket toward the ``to_region`` bucket with Replication Time Control (15 minutes),
  replication metrics and delete-marker replication, using an IAM role that S3 can assume with a
  least-privilege inline policy on the protected buckets only (created or corrected when needed). A rule
  replicates only what is written after it exists; objects already in the bucket that never reached the
  other side (written while the rule was missing, or FAILED) are copied onto themselves so the rule carries
  them: the "copy in place" way of replicating existing objects. For buckets of millions of objects, S3
  Batch Replication does the same at scale; this function handles ``backfill_limit`` objects per run.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, Literal
from urllib.parse import unquote

from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict, Field

from dr import heartbeat
from dr.aws import aws_errors, client, error_code, paginate
from dr.errors import ReplicationNotConfigured
from dr.inventory import Inventory
from dr.settings import EnvSettings

ClientFactory = Callable[[str, str], Any]  # (service, region) -> a boto3 client

STREAM_VIEW = "NEW_AND_OLD_IMAGES"
PITR_DAYS = 35
RTC_MINUTES = 15
ROLE_POLICY_NAME = "dr-s3-replication"
MAX_COPY_BYTES = 5 * 1024**3  # CopyObject's limit; bigger objects need Batch Replication
SNAPSHOT_TAGS = ("dr:db-subnet-group", "dr:vpc-security-groups", "dr:kms-key-id", "dr:port")


class ReplicationSettings(EnvSettings):
    """What replication setup needs beyond the inventory (environment, set in template.yaml)."""

    rule_id: str = Field(default="dr-replication", alias="REPLICATION_RULE_ID")
    role_name: str = Field(default="roadcall-s3-replication", alias="REPLICATION_ROLE_NAME")
    aurora_primary_readers: int = Field(default=2, alias="AURORA_PRIMARY_READERS", ge=0)
    lag_budget_seconds: float = Field(default=5, alias="REPLICATION_LATENCY_BUDGET_SECONDS", gt=0)
    s3_budget_seconds: float = Field(default=900, alias="S3_REPLICATION_BUDGET_SECONDS", gt=0)
    wait_seconds: int = Field(default=1800, alias="REPLICATION_WAIT_SECONDS", gt=0)
    backfill_limit: int = Field(default=10000, alias="S3_BACKFILL_LIMIT", gt=0)
    changed_at_attribute: str = Field(default="updated_at", alias="ITEM_CHANGED_AT_ATTRIBUTE")
    outage_lookback_hours: float = Field(default=24, alias="OUTAGE_LOOKBACK_HOURS", gt=0)

    def aurora_instances(self, inv: Inventory, region: str) -> int:
        """The primary region's cluster carries the writer and its readers; the recovery region's at least one."""
        return 1 + self.aurora_primary_readers if region == inv.primary_region else 1


class SetupResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    store: Literal["dynamodb", "aurora", "s3"]
    from_region: str
    to_region: str
    dry_run: bool
    changes: list[str]
    found: list[str]
    pending: list[str]
    flowing: bool | None = None  # Aurora: the lag metric has a datapoint under the budget

    @property
    def configured(self) -> bool:
        return not self.pending


class _Run:
    """Collects one setup run's changes, findings and pending items; ``act`` changes only when not dry."""

    def __init__(self, dry_run: bool) -> None:
        self.dry_run = dry_run
        self.changes: list[str] = []
        self.found: list[str] = []
        self.pending: list[str] = []

    def act(self, what: str, call: Callable[[], Any]) -> None:
        if self.dry_run:
            self.changes.append(f"would {what}")
            return
        call()
        self.changes.append(what)

    def result(
        self, store: Literal["dynamodb", "aurora", "s3"], from_region: str, to_region: str, flowing: bool | None = None
    ) -> SetupResult:
        return SetupResult(
            store=store,
            from_region=from_region,
            to_region=to_region,
            dry_run=self.dry_run,
            changes=self.changes,
            found=self.found,
            pending=self.pending,
            flowing=flowing,
        )


def _missing(err: ClientError, *codes: str) -> bool:
    return error_code(err) in codes


def partition(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


# -- DynamoDB -------------------------------------------------------------------------------------------
def setup_dynamodb(
    inv: Inventory, from_region: str, to_region: str, *, dry_run: bool = False, clients: ClientFactory = client
) -> SetupResult:
    run = _Run(dry_run)
    for name in inv.tables:
        with aws_errors(f"set up DynamoDB replication of {name} {from_region} → {to_region}", ReplicationNotConfigured):
            _table(run, name, clients("dynamodb", from_region), clients("dynamodb", to_region), from_region, to_region)
    return run.result("dynamodb", from_region, to_region)


def _describe_table(ddb: Any, name: str) -> dict[str, Any] | None:
    try:
        return dict(ddb.describe_table(TableName=name)["Table"])
    except ClientError as err:
        if _missing(err, "ResourceNotFoundException"):
            return None
        raise


def _table(run: _Run, name: str, src: Any, dst: Any, from_region: str, to_region: str) -> None:
    desc = _describe_table(src, name)
    if desc is None:
        raise ReplicationNotConfigured(
            f"table {name} does not exist in {from_region}; expected the protected table there "
            "(create or restore it first, then set up replication)"
        )
    if desc["TableStatus"] != "ACTIVE":
        run.pending.append(f"table {name} in {from_region} is {desc['TableStatus']}, expected ACTIVE")
        return
    replicas = {str(r["RegionName"]): str(r.get("ReplicaStatus", "?")) for r in desc.get("Replicas", [])}
    if not _stream(run, src, name, desc, from_region, bool(replicas)):
        return
    replica_active = True
    if to_region in replicas:
        run.found.append(f"{name}: replica in {to_region} {replicas[to_region]}")
        replica_active = replicas[to_region] == "ACTIVE"
    else:
        run.act(
            f"create the replica of {name} in {to_region}",
            lambda: src.update_table(TableName=name, ReplicaUpdates=[{"Create": {"RegionName": to_region}}]),
        )
        if not run.dry_run:
            replica = _describe_table(dst, name)
            replica_active = bool(replica) and replica.get("TableStatus") == "ACTIVE"  # type: ignore[union-attr]
    if not replica_active and not run.dry_run:
        run.pending.append(f"replica of {name} in {to_region} is not ACTIVE yet")
    for region, ddb in ((from_region, src), (to_region, dst)):
        if region == to_region and not replica_active:
            continue  # PITR of a replica is set once it is ACTIVE (a later run)
        _pitr(run, ddb, name, region)


def _stream(run: _Run, src: Any, name: str, desc: dict[str, Any], region: str, is_global: bool) -> bool:
    """The table's stream is NEW_AND_OLD_IMAGES (global tables need it); False while that is converging."""
    stream = desc.get("StreamSpecification") or {}
    if stream.get("StreamEnabled") and stream.get("StreamViewType") == STREAM_VIEW:
        run.found.append(f"{name}: stream {STREAM_VIEW} in {region}")
        return True
    if stream.get("StreamEnabled"):
        if is_global:
            raise ReplicationNotConfigured(
                f"table {name} is a global table with a {stream.get('StreamViewType')} stream; expected "
                f"{STREAM_VIEW}, and the view type of a global table's stream cannot be changed"
            )
        run.act(
            f"turn off the {stream.get('StreamViewType')} stream of {name} in {region} (to turn on {STREAM_VIEW})",
            lambda: src.update_table(TableName=name, StreamSpecification={"StreamEnabled": False}),
        )
        run.pending.append(f"table {name} in {region}: stream being replaced by {STREAM_VIEW}")
        return False
    run.act(
        f"turn on the stream ({STREAM_VIEW}) of {name} in {region}",
        lambda: src.update_table(
            TableName=name, StreamSpecification={"StreamEnabled": True, "StreamViewType": STREAM_VIEW}
        ),
    )
    if not run.dry_run and (_describe_table(src, name) or {}).get("TableStatus") != "ACTIVE":
        run.pending.append(f"table {name} in {region} is UPDATING (stream turned on)")
        return False
    return True


def _pitr(run: _Run, ddb: Any, name: str, region: str) -> None:
    if run.dry_run and _describe_table(ddb, name) is None:
        run.changes.append(f"would turn on point-in-time recovery ({PITR_DAYS} days) of {name} in {region}")
        return
    described = ddb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
    pitr = described.get("PointInTimeRecoveryDescription") or {}
    if pitr.get("PointInTimeRecoveryStatus") == "ENABLED":
        run.found.append(f"{name}: PITR on in {region}")
        return
    run.act(
        f"turn on point-in-time recovery ({PITR_DAYS} days) of {name} in {region}",
        lambda: ddb.update_continuous_backups(
            TableName=name,
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True, "RecoveryPeriodInDays": PITR_DAYS},
        ),
    )


# -- Aurora ---------------------------------------------------------------------------------------------
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
    run = _Run(dry_run)
    with aws_errors(f"set up Aurora replication {from_region} → {to_region}", ReplicationNotConfigured):
        flowing = _aurora(run, inv, from_region, to_region, min_instances, lag_budget_seconds, clients)
    return run.result("aurora", from_region, to_region, flowing)


def _global_cluster(rds: Any, gid: str) -> dict[str, Any]:
    try:
        found = rds.describe_global_clusters(GlobalClusterIdentifier=gid)["GlobalClusters"]
    except ClientError as err:
        if not _missing(err, "GlobalClusterNotFoundFault"):
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
        if _missing(err, "DBClusterNotFoundFault"):
            return None
        raise


def _instances(rds: Any, cluster_id: str) -> list[dict[str, Any]]:
    return list(
        paginate(
            rds.describe_db_instances,
            "DBInstances",
            token_in="Marker",
            token_out="Marker",
            Filters=[{"Name": "db-cluster-id", "Values": [cluster_id]}],
        )
    )


def _aurora(  # noqa: PLR0911 - each early return is a state the setup stops in until the next run
    run: _Run,
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


def _replace_detached(run: _Run, rds: Any, target_id: str, existing: dict[str, Any], region: str) -> dict[str, Any]:
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
    run: _Run, rds: Any, cluster: dict[str, Any], target_id: str, region: str, template: dict[str, str]
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


def _ensure_instances(run: _Run, rds: Any, writer_rds: Any, writer_arn: str, target_id: str, wanted: int) -> None:
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


# -- S3 -------------------------------------------------------------------------------------------------
def replication_rule(rule_id: str, destination_bucket: str, region: str, priority: int = 1) -> dict[str, Any]:
    """The rule the DR design asks for: every object, RTC 15 minutes, metrics, delete markers."""
    return {
        "ID": rule_id,
        "Priority": priority,
        "Status": "Enabled",
        "Filter": {"Prefix": ""},
        "DeleteMarkerReplication": {"Status": "Enabled"},
        "Destination": {
            "Bucket": f"arn:{partition(region)}:s3:::{destination_bucket}",
            "ReplicationTime": {"Status": "Enabled", "Time": {"Minutes": RTC_MINUTES}},
            "Metrics": {"Status": "Enabled", "EventThreshold": {"Minutes": RTC_MINUTES}},
        },
    }


def rule_differences(rule: dict[str, Any] | None, destination_bucket: str) -> list[str]:
    """What keeps ``rule`` from being the rule the DR design asks for (empty when it is)."""
    if rule is None:
        return ["missing"]
    out = []
    destination = rule.get("Destination") or {}
    if rule.get("Status") != "Enabled":
        out.append(f"status {rule.get('Status')}")
    if not str(destination.get("Bucket", "")).endswith(f":::{destination_bucket}"):
        out.append(f"destination {destination.get('Bucket')}")
    flt = rule.get("Filter")
    every_object = flt == {} or (flt is not None and flt.get("Prefix") == "" and set(flt) == {"Prefix"})
    if not every_object and not (flt is None and rule.get("Prefix") == ""):
        out.append("does not cover every object")
    if (rule.get("DeleteMarkerReplication") or {}).get("Status") != "Enabled":
        out.append("no delete-marker replication")
    rtc = destination.get("ReplicationTime") or {}
    if rtc.get("Status") != "Enabled" or (rtc.get("Time") or {}).get("Minutes") != RTC_MINUTES:
        out.append("no Replication Time Control (15 min)")
    if (destination.get("Metrics") or {}).get("Status") != "Enabled":
        out.append("no replication metrics")
    return out


def role_policy(buckets: list[str], region: str) -> dict[str, Any]:
    """Least privilege for S3 replication between the protected buckets, and nothing else."""
    arns = [f"arn:{partition(region)}:s3:::{b}" for b in sorted(buckets)]
    objects = [f"{a}/*" for a in arns]
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadReplicationConfiguration",
                "Effect": "Allow",
                "Action": ["s3:GetReplicationConfiguration", "s3:ListBucket"],
                "Resource": arns,
            },
            {
                "Sid": "ReadSourceVersions",
                "Effect": "Allow",
                "Action": [
                    "s3:GetObjectVersionForReplication",
                    "s3:GetObjectVersionAcl",
                    "s3:GetObjectVersionTagging",
                ],
                "Resource": objects,
            },
            {
                "Sid": "WriteReplicas",
                "Effect": "Allow",
                "Action": ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"],
                "Resource": objects,
            },
        ],
    }


TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


def _document(raw: Any) -> dict[str, Any]:
    if isinstance(raw, str):
        return dict(json.loads(unquote(raw)))
    return dict(raw or {})


def _trusts_s3(document: dict[str, Any]) -> bool:
    for statement in document.get("Statement", []):
        principal = (statement.get("Principal") or {}).get("Service")
        services = principal if isinstance(principal, list) else [principal]
        if statement.get("Effect") == "Allow" and "s3.amazonaws.com" in services:
            return True
    return False


def ensure_role(run: _Run, iam: Any, role_name: str, buckets: list[str], region: str) -> str:
    """The role S3 replicates with: trusted by S3, with exactly the least-privilege inline policy."""
    try:
        role = iam.get_role(RoleName=role_name)["Role"]
        arn = str(role["Arn"])
        if _trusts_s3(_document(role.get("AssumeRolePolicyDocument"))):
            run.found.append(f"role {role_name} exists and S3 may assume it")
        else:
            run.act(
                f"let S3 assume role {role_name}",
                lambda: iam.update_assume_role_policy(RoleName=role_name, PolicyDocument=json.dumps(TRUST)),
            )
    except ClientError as err:
        if not _missing(err, "NoSuchEntity"):
            raise
        arn = f"arn:{partition(region)}:iam::ACCOUNT:role/{role_name}"
        if run.dry_run:
            run.changes.append(f"would create role {role_name} for S3 replication")
        else:
            arn = str(
                iam.create_role(
                    RoleName=role_name,
                    AssumeRolePolicyDocument=json.dumps(TRUST),
                    Description="S3 replication between the DR-protected buckets (drctl setup replication)",
                )["Role"]["Arn"]
            )
            run.changes.append(f"create role {role_name} for S3 replication")
    wanted = role_policy(buckets, region)
    try:
        current = _document(iam.get_role_policy(RoleName=role_name, PolicyName=ROLE_POLICY_NAME)["PolicyDocument"])
    except ClientError as err:
        if not _missing(err, "NoSuchEntity"):
            raise
        current = {}
    if current == wanted:
        run.found.append(f"role {role_name} has the least-privilege replication policy")
    else:
        run.act(
            f"{'correct' if current else 'attach'} the least-privilege replication policy {ROLE_POLICY_NAME} "
            f"of role {role_name} ({len(buckets)} buckets)",
            lambda: iam.put_role_policy(
                RoleName=role_name, PolicyName=ROLE_POLICY_NAME, PolicyDocument=json.dumps(wanted)
            ),
        )
    return arn


def setup_s3(
    inv: Inventory,
    from_region: str,
    to_region: str,
    *,
    rule_id: str,
    role_name: str,
    dry_run: bool = False,
    backfill_limit: int = 10000,
    clients: ClientFactory = client,
) -> SetupResult:
    run = _Run(dry_run)
    buckets = [b for pair in inv.buckets for b in (pair.source, pair.replica)]
    with aws_errors(f"set up S3 replication {from_region} → {to_region}", ReplicationNotConfigured):
        role_arn = ensure_role(run, clients("iam", from_region), role_name, buckets, from_region)
        for pair in inv.buckets:
            source, destination = inv.bucket_in(pair, from_region), inv.bucket_in(pair, to_region)
            src, dst = clients("s3", from_region), clients("s3", to_region)
            for s3, bucket, region in ((src, source, from_region), (dst, destination, to_region)):
                _versioning(run, s3, bucket, region)
            _rule(run, src, source, destination, from_region, rule_id, role_arn)
            _backfill(run, src, dst, source, destination, backfill_limit)
    return run.result("s3", from_region, to_region)


def _versioning(run: _Run, s3: Any, bucket: str, region: str) -> None:
    try:
        status = s3.get_bucket_versioning(Bucket=bucket).get("Status")
    except ClientError as err:
        if _missing(err, "NoSuchBucket"):
            raise ReplicationNotConfigured(
                f"bucket {bucket} does not exist in {region}; expected it (create it first: docs/setup-guide.md)"
            ) from err
        raise
    if status == "Enabled":
        run.found.append(f"{bucket}: versioning Enabled")
        return
    run.act(
        f"enable versioning of {bucket} in {region} (was {status or 'off'})",
        lambda: s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"}),
    )


def _rule(run: _Run, src: Any, source: str, destination: str, region: str, rule_id: str, role_arn: str) -> None:
    try:
        config = src.get_bucket_replication(Bucket=source)["ReplicationConfiguration"]
    except ClientError as err:
        if not _missing(err, "ReplicationConfigurationNotFoundError"):
            raise
        config = {"Rules": []}
    rules = list(config.get("Rules", []))
    ours = next((r for r in rules if r.get("ID") == rule_id), None)
    problems = rule_differences(ours, destination)
    if not problems:
        run.found.append(f"{source}: rule {rule_id} → {destination} with RTC, metrics and delete markers")
        return
    others = [r for r in rules if r.get("ID") != rule_id]
    priority = (ours or {}).get("Priority") or max([int(r.get("Priority") or 0) for r in others] + [0]) + 1
    # One role serves every rule of a bucket: keep the one other rules already use, else ours.
    wanted = {
        "Role": config.get("Role") if others and config.get("Role") else role_arn,
        "Rules": [*others, replication_rule(rule_id, destination, region, priority)],
    }
    run.act(
        f"{'put' if ours is None else 'correct'} replication rule {rule_id} of {source} → {destination} "
        f"({', '.join(problems)})",
        lambda: src.put_bucket_replication(Bucket=source, ReplicationConfiguration=wanted),
    )


def object_versions(s3: Any, bucket: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    versions: list[dict[str, Any]] = []
    markers: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"Bucket": bucket}
    while True:
        page = s3.list_object_versions(**kwargs)
        versions.extend(page.get("Versions", []))
        markers.extend(page.get("DeleteMarkers", []))
        if not page.get("IsTruncated"):
            return versions, markers
        kwargs.update(KeyMarker=page["NextKeyMarker"], VersionIdMarker=page.get("NextVersionIdMarker"))


def _backfill(run: _Run, src: Any, dst: Any, source: str, destination: str, limit: int) -> None:
    """Objects the rule will never carry (written before it existed, or FAILED): copy them onto themselves."""
    versions, markers = object_versions(src, source)
    there_versions, there_markers = object_versions(dst, destination)
    present = {str(v["VersionId"]) for v in there_versions + there_markers}
    live_there = {str(v["Key"]) for v in there_versions if v.get("IsLatest")}
    copied = in_flight = 0
    # The DR heartbeat is not copied: it is rewritten every minute, and the next one replicates with the rule.
    candidates = (
        v
        for v in versions
        if v.get("IsLatest")
        and str(v["VersionId"]) not in present
        and not str(v["Key"]).startswith(heartbeat.OBJECT_PREFIX)
    )
    for version in candidates:
        key, version_id = str(version["Key"]), str(version["VersionId"])
        head = src.head_object(Bucket=source, Key=key, VersionId=version_id)
        status = head.get("ReplicationStatus")
        if status == "REPLICA":
            continue  # it came from the other side; replicas are never replicated back
        if status in ("PENDING", "COMPLETED"):
            in_flight += 1
            continue
        if copied >= limit:
            run.pending.append(
                f"{source}: more than {limit} objects to backfill; run again (or use S3 Batch Replication)"
            )
            break
        if int(head.get("ContentLength") or 0) > MAX_COPY_BYTES:
            run.pending.append(f"{source}/{key} is over 5 GB: replicate it with S3 Batch Replication")
            continue
        copied += 1
        extra: dict[str, Any] = {"Metadata": head.get("Metadata") or {}, "MetadataDirective": "REPLACE"}
        if head.get("ContentType"):
            extra["ContentType"] = head["ContentType"]
        if not run.dry_run:
            src.copy_object(
                Bucket=source,
                Key=key,
                CopySource={"Bucket": source, "Key": key, "VersionId": version_id},
                TaggingDirective="COPY",
                **extra,
            )
    replayed = _replay_deletes(run, src, source, markers, present, live_there)
    if copied:
        run.changes.append(
            f"{'would copy' if run.dry_run else 'copied'} {copied} object(s) of {source} onto themselves so that "
            f"replication carries them to {destination} (written before the rule existed, or FAILED)"
        )
    if replayed:
        run.changes.append(
            f"{'would replay' if run.dry_run else 'replayed'} {replayed} delete(s) in {source} "
            f"so that they reach {destination}"
        )
    if in_flight:
        run.found.append(f"{source}: {in_flight} object(s) on their way to {destination}")
    if not (copied or replayed or in_flight):
        run.found.append(f"{source}: every object is in {destination}")


def _replay_deletes(
    run: _Run, src: Any, source: str, markers: list[dict[str, Any]], present: set[str], live_there: set[str]
) -> int:
    """Deletes made before the rule existed: delete again, so the new delete marker is replicated."""
    replayed = 0
    for marker in (m for m in markers if m.get("IsLatest") and str(m["VersionId"]) not in present):
        if str(marker["Key"]) in live_there:
            replayed += 1
            if not run.dry_run:
                src.delete_object(Bucket=source, Key=str(marker["Key"]))
    return replayed


# -- everything -----------------------------------------------------------------------------------------
def setup_all(
    inv: Inventory,
    from_region: str,
    to_region: str,
    settings: ReplicationSettings,
    *,
    dry_run: bool = False,
    clients: ClientFactory = client,
) -> list[SetupResult]:
    """One pass over the three stores (what ``drctl setup replication`` runs until nothing is pending)."""
    for region in (from_region, to_region):
        if region not in (inv.primary_region, inv.recovery_region):
            raise ReplicationNotConfigured(
                f"region {region} is neither the primary {inv.primary_region} nor the recovery {inv.recovery_region}"
            )
    if from_region == to_region:
        raise ReplicationNotConfigured(f"--from and --to are both {from_region}; expected two regions")
    return [
        setup_dynamodb(inv, from_region, to_region, dry_run=dry_run, clients=clients),
        setup_aurora(
            inv,
            from_region,
            to_region,
            min_instances=settings.aurora_instances(inv, to_region),
            lag_budget_seconds=settings.lag_budget_seconds,
            dry_run=dry_run,
            clients=clients,
        ),
        setup_s3(
            inv,
            from_region,
            to_region,
            rule_id=settings.rule_id,
            role_name=settings.role_name,
            dry_run=dry_run,
            backfill_limit=settings.backfill_limit,
            clients=clients,
        ),
    ]
