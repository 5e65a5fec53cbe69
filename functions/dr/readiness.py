"""Readiness of the region a workflow moves to, one store at a time. Read-only.

Every check returns a result with ``ready`` and plain-language ``problems``; an AWS call that fails in a
way retrying will not fix (the other region is down, a permission is missing) becomes a problem in the
result, so a readiness report is never lost to one unreadable service. Throttling and 5xx raise
TransientAwsError and are retried by the state machine.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from dr import probes
from dr.aws import client, error_code, is_transient, paginate
from dr.errors import TransientAwsError
from dr.inventory import Inventory
from dr.models import (
    AuroraReadiness,
    BackupReadiness,
    BucketReadiness,
    DynamoReadiness,
    EndpointReadiness,
    OperationRequest,
    S3Readiness,
    TableReadiness,
)
from dr.settings import Settings


def _unreadable(what: str, err: Exception) -> str:
    if is_transient(err):
        raise TransientAwsError(f"{what}: {err}") from err
    code = error_code(err) if isinstance(err, ClientError) else type(err).__name__
    return f"{what} could not be read ({code}): {err}"


def aurora(request: OperationRequest, inv: Inventory) -> AuroraReadiness:
    target_id = inv.aurora_cluster_in(request.target_region)
    problems: list[str] = []
    try:
        cluster = probes.global_cluster(inv, request.target_region)
    except (ClientError, RuntimeError) as err:
        return AuroraReadiness(
            global_cluster_id=inv.aurora.global_cluster_id,
            writer_region="unknown",
            target_cluster_id=target_id,
            target_is_member=False,
            target_status="unknown",
            operation_in_progress=False,
            rpo_lag_seconds=None,
            ready=False,
            problems=[_unreadable(f"Aurora global cluster {inv.aurora.global_cluster_id}", err)],
        )
    members = cluster.get("GlobalClusterMembers", [])
    target_member = next((m for m in members if str(m["DBClusterArn"]).endswith(f":cluster:{target_id}")), None)
    writer = probes.writer_region(cluster)
    in_progress = bool(cluster.get("FailoverState")) or cluster.get("Status") not in ("available", None)
    status = "unknown"
    try:
        found = client("rds", request.target_region).describe_db_clusters(DBClusterIdentifier=target_id)["DBClusters"]
        status = str(found[0]["Status"]) if found else "missing"
    except ClientError as err:
        problems.append(_unreadable(f"Aurora cluster {target_id} in {request.target_region}", err))
    lag_ms = None
    if writer != request.target_region:
        try:
            lag_ms = probes.latest_metric(
                request.target_region, "AWS/RDS", "AuroraGlobalDBRPOLag", {"DBClusterIdentifier": target_id}
            )
        except ClientError as err:
            problems.append(_unreadable("metric AuroraGlobalDBRPOLag", err))
        if lag_ms is None:
            problems.append(
                f"no AuroraGlobalDBRPOLag datapoint for {target_id} in the last 10 minutes: exposure unknown"
            )
    else:
        lag_ms = 0.0
    if target_member is None:
        problems.append(
            f"cluster {target_id} in {request.target_region} is not a member of global cluster "
            f"{inv.aurora.global_cluster_id}: re-protect before moving"
        )
    if status != "available":
        problems.append(f"cluster {target_id} is {status!r}, expected 'available'")
    if in_progress:
        problems.append(f"global cluster is {cluster.get('Status')!r} with a failover/switchover in progress")
    ready = target_member is not None and status == "available" and not in_progress
    return AuroraReadiness(
        global_cluster_id=inv.aurora.global_cluster_id,
        writer_region=writer,
        target_cluster_id=target_id,
        target_is_member=target_member is not None,
        target_status=status,
        operation_in_progress=in_progress,
        rpo_lag_seconds=None if lag_ms is None else lag_ms / 1000.0,
        ready=ready,
        problems=problems,
    )


def dynamodb(request: OperationRequest, inv: Inventory, settings: Settings) -> DynamoReadiness:
    tables: list[TableReadiness] = []
    problems: list[str] = []
    worst = 0.0
    for name in inv.tables:
        status, replicas = "unknown", []
        try:
            desc = client("dynamodb", request.target_region).describe_table(TableName=name)["Table"]
            status = str(desc["TableStatus"])
            replicas = [str(r["RegionName"]) for r in desc.get("Replicas", [])]
        except ClientError as err:
            problems.append(_unreadable(f"table {name} in {request.target_region}", err))
        latency = None
        try:
            ms = probes.latest_metric(
                request.source_region,
                "AWS/DynamoDB",
                "ReplicationLatency",
                {"TableName": name, "ReceivingRegion": request.target_region},
                stat="Average",
            )
            latency = None if ms is None else ms / 1000.0
        except ClientError as err:
            problems.append(_unreadable(f"ReplicationLatency of {name}", err))
        if latency is None:
            problems.append(f"no ReplicationLatency datapoint for {name} → {request.target_region}: exposure unknown")
        else:
            worst = max(worst, latency)
        if status != "ACTIVE":
            problems.append(f"table {name} in {request.target_region} is {status!r}, expected 'ACTIVE'")
        if request.source_region not in replicas and status == "ACTIVE":
            problems.append(
                f"table {name} in {request.target_region} has no replica in {request.source_region} "
                "(replication toward the other region is off)"
            )
        tables.append(
            TableReadiness(name=name, status=status, replica_regions=replicas, replication_latency_seconds=latency)
        )
    ready = all(t.status == "ACTIVE" for t in tables)
    return DynamoReadiness(tables=tables, max_latency_seconds=worst, ready=ready, problems=problems)


def s3(request: OperationRequest, inv: Inventory) -> S3Readiness:
    buckets: list[BucketReadiness] = []
    problems: list[str] = []
    worst, pending_total = 0.0, 0.0
    for pair in inv.buckets:
        source, replica = (
            inv.bucket_in(pair, request.source_region),
            inv.bucket_in(pair, request.target_region),
        )
        replicating, rule_id = False, ""
        try:
            rules = client("s3", request.source_region).get_bucket_replication(Bucket=source)
            for rule in rules["ReplicationConfiguration"]["Rules"]:
                if rule.get("Status") == "Enabled" and str(rule["Destination"]["Bucket"]).endswith(f":::{replica}"):
                    replicating, rule_id = True, str(rule.get("ID", ""))
        except ClientError as err:
            problems.append(_unreadable(f"replication rules of {source}", err))
        try:
            versioning = client("s3", request.target_region).get_bucket_versioning(Bucket=replica).get("Status")
            if versioning != "Enabled":
                problems.append(f"bucket {replica} has versioning {versioning or 'off'}, expected Enabled")
        except ClientError as err:
            problems.append(_unreadable(f"bucket {replica} in {request.target_region}", err))
        dims = {"SourceBucket": source, "DestinationBucket": replica, "RuleId": rule_id}
        latency = pending = None
        try:
            if rule_id:  # without a rule there is no metric to read (a failback before re-protection)
                latency = probes.latest_metric(request.source_region, "AWS/S3", "ReplicationLatency", dims)
                pending = probes.latest_metric(request.source_region, "AWS/S3", "OperationsPendingReplication", dims)
        except ClientError as err:
            problems.append(_unreadable(f"replication metrics of {source}", err))
        if not replicating:
            problems.append(f"bucket {source} has no enabled replication rule to {replica}")
        if latency is None:
            problems.append(f"no ReplicationLatency datapoint for {source} → {replica}: exposure unknown")
        worst = max(worst, latency or 0.0)
        pending_total += pending or 0.0
        buckets.append(
            BucketReadiness(
                source=source,
                replica=replica,
                pending_operations=pending,
                latency_seconds=latency,
                replicating=replicating,
            )
        )
    ready = all(not p.endswith("expected Enabled") for p in problems)
    return S3Readiness(
        buckets=buckets,
        max_latency_seconds=worst,
        pending_operations=pending_total,
        ready=ready,
        problems=problems,
    )


def endpoints(request: OperationRequest, inv: Inventory, settings: Settings) -> EndpointReadiness:
    target_url, source_url = inv.endpoint_url(request.target_region), inv.endpoint_url(request.source_region)
    target = probes.http_check(target_url, settings.endpoint_timeout_seconds)
    source = probes.http_check(source_url, settings.endpoint_timeout_seconds)
    problems: list[str] = []
    probe: float | None = None
    try:
        probe = probes.latest_metric(
            settings.recovery_region,
            settings.metrics_namespace,
            "PrimaryEndpointHealthy",
            {"Endpoint": "primary", "service": settings.service_name},  # Powertools adds the service
            minutes=5,
            stat="Minimum",
        )
    except ClientError as err:
        problems.append(_unreadable("the probe metric PrimaryEndpointHealthy", err))
    try:
        traffic = probes.traffic_region(inv)
    except (ClientError, RuntimeError) as err:
        traffic = "unknown"
        problems.append(_unreadable("the traffic routing state", err))
    if not target.healthy:
        problems.append(f"{request.target_region} endpoint {target_url} is not healthy: {target.detail}")
    return EndpointReadiness(
        target_url=target_url,
        target_healthy=target.healthy,
        target_detail=target.detail,
        source_url=source_url,
        source_healthy_direct=source.healthy,
        source_detail=source.detail,
        source_probe_healthy=None if probe is None else probe >= 1.0,
        traffic_region=traffic,
        ready=target.healthy,
        problems=problems,
    )


def backups(request: OperationRequest, inv: Inventory, settings: Settings) -> BackupReadiness:
    """The newest completed recovery point in the primary's vault (read from wherever it answers)."""
    vault = inv.backup_vault
    newest: datetime | None = None
    problems: list[str] = []
    if not vault:
        return BackupReadiness(
            vault="",
            newest_recovery_point_at=None,
            newest_age_hours=None,
            fresh=False,
            problems=["no backup vault in the inventory"],
        )
    try:
        backup = client("backup", inv.primary_region)
        for point in paginate(backup.list_recovery_points_by_backup_vault, "RecoveryPoints", BackupVaultName=vault):
            if point.get("Status") == "COMPLETED":
                created = point["CreationDate"]
                newest = created if newest is None or created > newest else newest
    except ClientError as err:
        problems.append(_unreadable(f"backup vault {vault}", err))
    age = None if newest is None else (datetime.now(UTC) - newest).total_seconds() / 3600
    fresh = age is not None and age <= settings.max_backup_age_hours
    if age is None and not problems:
        problems.append(f"vault {vault} has no completed recovery point")
    elif age is not None and not fresh:
        problems.append(f"newest recovery point is {age:.1f} h old, expected at most {settings.max_backup_age_hours} h")
    return BackupReadiness(
        vault=vault, newest_recovery_point_at=newest, newest_age_hours=age, fresh=fresh, problems=problems
    )


def as_json(model: Any) -> dict[str, Any]:
    return dict(model.model_dump(mode="json"))
