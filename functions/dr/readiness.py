"""Readiness of the region a workflow moves to, one store at a time. Read-only, and statically stable.

Everything a move decides on is read in the *target* region, through data planes where there is one:
- Aurora: the global cluster and the target cluster as the target region's RDS API sees them; the exposure
  from ``AuroraGlobalDBRPOLag``, which Aurora publishes for the secondary in the secondary's region;
- DynamoDB and S3: the replicas in the target region, and the source region's heartbeat as the replica
  holds it (dr.heartbeat): the exposure is the time since that heartbeat was written;
- endpoints: direct HTTP checks, the recovery region's probe metric, where DNS sends users (Route 53's data
  plane) or which ARC routing control is On (ARC's data plane), and the pin alarm in the recovery region.
Nothing here needs the source region to answer: on the day it is down, the checks still give an answer.

Every value carries its age (``Measure``); what cannot be read is *unknown* (None), never 0, and the
result says why. In the target region, throttling and 5xx raise TransientAwsError (the state machine
retries; when it gives up, the run ends NotReady with nothing changed); other errors (a missing permission)
become problems in the result. The backup check is informational and never raises.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from dr import heartbeat, probes
from dr.aws import client, error_code, is_transient, paginate, source_client
from dr.errors import TransientAwsError
from dr.inventory import Inventory
from dr.models import (
    AuroraReadiness,
    BackupReadiness,
    BucketReadiness,
    DynamoReadiness,
    EndpointReadiness,
    Measure,
    OperationRequest,
    S3Readiness,
    TableReadiness,
    Witness,
    worst,
)
from dr.settings import Settings

T = TypeVar("T")
PROBE_FRESH_SECONDS = 180  # the probe runs every minute: three missed runs and its last word is stale
_AWS_ERRORS = (ClientError, BotoCoreError)


def _why(err: Exception) -> str:
    code = error_code(err) if isinstance(err, ClientError) else type(err).__name__
    return f"{code}: {err}"


def _read(what: str, problems: list[str], read: Callable[[], T]) -> T | None:
    """One read in the target region: transient → TransientAwsError (retried), otherwise a problem."""
    try:
        return read()
    except _AWS_ERRORS as err:
        if is_transient(err):
            raise TransientAwsError(f"{what}: {err}") from err
        problems.append(f"{what} could not be read ({_why(err)})")
        return None


def unknown(source: str, note: str) -> Measure:
    return Measure(seconds=None, measured_at=None, source=source, note=note)


def aurora(request: OperationRequest, inv: Inventory) -> AuroraReadiness:
    target, target_id = request.target_region, inv.aurora_cluster_in(request.target_region)
    problems: list[str] = []
    try:
        cluster = _read(
            f"Aurora global cluster {inv.aurora.global_cluster_id} from {target}",
            problems,
            lambda: probes.global_cluster(inv, target),
        )
    except probes.NotFound as err:
        cluster = None
        problems.append(str(err))
    if cluster is None:
        return AuroraReadiness(
            global_cluster_id=inv.aurora.global_cluster_id,
            writer_region="unknown",
            target_cluster_id=target_id,
            target_is_member=False,
            target_status="unknown",
            operation_in_progress=False,
            rpo_lag_seconds=None,
            exposure=unknown("AuroraGlobalDBRPOLag", "the global cluster could not be read"),
            ready=False,
            problems=problems,
        )
    members = cluster.get("GlobalClusterMembers", [])
    member = next((m for m in members if str(m["DBClusterArn"]).endswith(f":cluster:{target_id}")), None)
    writer = probes.writer_region(cluster)
    in_progress = bool(cluster.get("FailoverState")) or cluster.get("Status") not in ("available", None)
    found = _read(
        f"Aurora cluster {target_id} in {target}",
        problems,
        lambda: client("rds", target).describe_db_clusters(DBClusterIdentifier=target_id)["DBClusters"],
    )
    status = "unknown" if found is None else (str(found[0]["Status"]) if found else "missing")
    lag_seconds: float | None = None
    if writer == target:
        exposure = Measure(seconds=0.0, measured_at=datetime.now(UTC), source="the writer is already in " + target)
    else:
        point = _read(
            f"metric AuroraGlobalDBRPOLag of {target_id} in {target}",
            problems,
            lambda: probes.latest_metric(target, "AWS/RDS", "AuroraGlobalDBRPOLag", {"DBClusterIdentifier": target_id}),
        )
        source = f"AuroraGlobalDBRPOLag of {target_id} in {target}"
        if point is None:
            exposure = unknown(source, f"no AuroraGlobalDBRPOLag datapoint for {target_id} in the last 10 minutes")
            problems.append(exposure.note + ": exposure unknown")
        else:
            lag_seconds = point.value / 1000.0
            exposure = Measure(seconds=lag_seconds, measured_at=point.at, source=source)
    if member is None:
        problems.append(
            f"cluster {target_id} in {target} is not a member of global cluster {inv.aurora.global_cluster_id}: "
            "re-protect before moving"
        )
    if status != "available":
        problems.append(f"cluster {target_id} is {status!r}, expected 'available'")
    if in_progress:
        problems.append(f"global cluster is {cluster.get('Status')!r} with a failover/switchover in progress")
    return AuroraReadiness(
        global_cluster_id=inv.aurora.global_cluster_id,
        writer_region=writer,
        target_cluster_id=target_id,
        target_is_member=member is not None,
        target_status=status,
        operation_in_progress=in_progress,
        rpo_lag_seconds=lag_seconds,
        exposure=exposure,
        ready=member is not None and status == "available" and not in_progress,
        problems=problems,
    )


def _heartbeat(request: OperationRequest, holder: str, seen: Callable[[], Any], problems: list[str]) -> Measure:
    """The newest heartbeat of the source region that ``holder`` (a replica in the target region) holds, read
    once: exposure 0 as of then, or unknown with why."""
    source = f"heartbeat of {request.source_region} in {holder}"
    written = _read(f"the heartbeat in {holder}", problems, seen)
    if written is None:
        return unknown(source, f"no heartbeat of {request.source_region} in {holder}")
    return Measure(seconds=0.0, measured_at=written, source=source)


def table_exposure(ddb: Any, name: str, request: OperationRequest, problems: list[str]) -> Measure:
    """The source region's newest heartbeat as this table's replica in the target region holds it."""
    seen = partial(heartbeat.item_seen, ddb, name, request.source_region)
    return _heartbeat(request, f"{name} ({request.target_region})", seen, problems)


def dynamodb(request: OperationRequest, inv: Inventory) -> DynamoReadiness:
    ddb = client("dynamodb", request.target_region)
    tables: list[TableReadiness] = []
    problems: list[str] = []
    for name in inv.tables:
        desc = _read(f"table {name} in {request.target_region}", problems, partial(ddb.describe_table, TableName=name))
        status = "unknown" if desc is None else str(desc["Table"]["TableStatus"])
        replicas = [] if desc is None else [str(r["RegionName"]) for r in desc["Table"].get("Replicas", [])]
        exposure = table_exposure(ddb, name, request, problems) if desc is not None else unknown("heartbeat", "")
        if not exposure.known and exposure.note:
            problems.append(exposure.note + ": exposure unknown")
        if status != "ACTIVE":
            problems.append(f"table {name} in {request.target_region} is {status!r}, expected 'ACTIVE'")
        elif request.source_region not in replicas:
            problems.append(
                f"table {name} in {request.target_region} has no replica in {request.source_region} "
                "(replication toward the other region is off)"
            )
        tables.append(TableReadiness(name=name, status=status, replica_regions=replicas, exposure=exposure))
    return DynamoReadiness(
        tables=tables,
        exposure=worst([t.exposure for t in tables], "DynamoDB heartbeats"),
        ready=all(t.status == "ACTIVE" for t in tables),
        problems=problems,
    )


def s3(request: OperationRequest, inv: Inventory) -> S3Readiness:
    s3_target = client("s3", request.target_region)
    buckets: list[BucketReadiness] = []
    problems: list[str] = []
    for pair in inv.buckets:
        source, replica = inv.bucket_in(pair, request.source_region), inv.bucket_in(pair, request.target_region)
        answer = _read(
            f"bucket {replica} in {request.target_region}",
            problems,
            partial(s3_target.get_bucket_versioning, Bucket=replica),
        )
        versioning = None if answer is None else str(answer.get("Status") or "off")
        if versioning is not None and versioning != "Enabled":
            problems.append(f"bucket {replica} has versioning {versioning}, expected Enabled")
        seen = partial(heartbeat.object_seen, s3_target, replica, request.source_region)
        exposure = _heartbeat(request, f"bucket {replica}", seen, problems)
        if not exposure.known:
            problems.append(exposure.note + ": exposure unknown")
        buckets.append(
            BucketReadiness(source=source, replica=replica, versioning=versioning or "unknown", exposure=exposure)
        )
    return S3Readiness(
        buckets=buckets,
        exposure=worst([b.exposure for b in buckets], "S3 heartbeats"),
        ready=all(b.versioning == "Enabled" for b in buckets),
        problems=problems,
    )


# -- the endpoints and the evidence that the source region is down ------------------------------------------
def probe_witness(request: OperationRequest, settings: Settings, problems: list[str]) -> Witness:
    """The recovery region's probe of the primary, through its newest datapoint when at most 3 minutes old.
    Its alarm adds nothing (it is computed from the same datapoints), and a silent probe is unknown: it is
    never taken as agreement."""
    if request.source_region != settings.primary_region:
        return Witness(says="unknown", basis=f"the probe watches {settings.primary_region} only")
    point = _read(
        "the probe metric PrimaryEndpointHealthy",
        problems,
        lambda: probes.latest_metric(
            settings.recovery_region,
            settings.metrics_namespace,
            "PrimaryEndpointHealthy",
            {"Endpoint": "primary", "service": settings.service_name},  # Powertools adds the service
            minutes=5,
            stat="Minimum",
        ),
    )
    if point is not None and point.age() <= PROBE_FRESH_SECONDS:
        says = "up" if point.value >= 1.0 else "down"
        return Witness(says=says, basis=f"probe datapoint {point.value:g} taken {point.age():.0f} s ago")
    age = "none in the last 5 minutes" if point is None else f"the newest is {point.age():.0f} s old"
    return Witness(says="unknown", basis=f"no fresh probe datapoint ({age})")


def pinned(inv: Inventory, settings: Settings, problems: list[str]) -> bool | None:
    """Whether traffic is pinned to the recovery region: the pin alarm (recovery region) in ALARM."""
    name = inv.routing.traffic_pin_alarm_name
    alarms = _read(
        f"the pin alarm {name}",
        problems,
        lambda: client("cloudwatch", settings.recovery_region).describe_alarms(AlarmNames=[name])["MetricAlarms"],
    )
    if alarms is None:
        return None
    if not alarms:
        problems.append(f"the pin alarm {name} does not exist in {settings.recovery_region}")
        return None
    return str(alarms[0]["StateValue"]) == "ALARM"


def route53_witness(request: OperationRequest, settings: Settings, dns_region: str, is_pinned: bool | None) -> Witness:
    """Route 53's health checkers: the failover record's DNS answer while traffic is not pinned (it follows
    the checkers), else the health alarm when that is what started the run, else unknown."""
    if is_pinned is False and dns_region == request.source_region:
        return Witness(says="up", basis=f"DNS answers the {dns_region} record: Route 53 sees it healthy")
    if is_pinned is False and dns_region == request.target_region:
        return Witness(
            says="down", basis=f"DNS answers the {dns_region} record: Route 53 sees {request.source_region} unhealthy"
        )
    if request.trigger == "alarm" and request.alarm_name == settings.primary_health_alarm_name:
        return Witness(says="down", basis=f"alarm {request.alarm_name} went to ALARM at {request.detected_at:%H:%M:%S}")
    why = "traffic is pinned" if is_pinned else f"DNS answer: {dns_region}"
    return Witness(says="unknown", basis=f"no view of Route 53's checkers ({why})")


def endpoints(request: OperationRequest, inv: Inventory, settings: Settings) -> EndpointReadiness:
    target_url, source_url = inv.endpoint_url(request.target_region), inv.endpoint_url(request.source_region)
    target = probes.http_check(target_url, settings.endpoint_timeout_seconds)
    source = probes.http_check(source_url, settings.endpoint_timeout_seconds)
    problems: list[str] = []
    try:
        traffic = probes.traffic_region(inv)
    except probes.TrafficUnknown as err:
        traffic = "unknown"
        problems.append(f"where users go could not be read: {err}")
    if inv.routing.uses_arc:
        dns, is_pinned = "n/a", None
    else:
        dns, is_pinned = traffic, pinned(inv, settings, problems)
    if not target.healthy:
        problems.append(f"{request.target_region} endpoint {target_url} is not healthy: {target.detail}")
    probe = probe_witness(request, settings, problems)
    return EndpointReadiness(
        target_url=target_url,
        target_healthy=target.healthy,
        target_detail=target.detail,
        source_url=source_url,
        source_healthy_direct=source.healthy,
        source_detail=source.detail,
        probe=probe,
        route53=route53_witness(request, settings, dns, is_pinned),
        dns_region=dns,
        pinned=is_pinned,
        traffic_region=traffic,
        ready=target.healthy,
        problems=problems,
    )


def _newest_completed(backup: Any, vault: str, **filters: Any) -> datetime | None:
    points = paginate(
        backup, "list_recovery_points_by_backup_vault", "RecoveryPoints", BackupVaultName=vault, **filters
    )
    return max((p["CreationDate"] for p in points if p.get("Status") == "COMPLETED"), default=None)


def backups(inv: Inventory, settings: Settings) -> BackupReadiness:
    """The newest completed recovery point: in the primary's vault when it answers (one brief attempt),
    else in the recovery vault (the copies). Informational: it never raises and never blocks a move.

    Only the points of the freshness window are listed (``ByCreatedAfter``): a vault keeps months of
    points for every resource, and this runs in every failover and every readiness evaluation (every
    30 minutes). The whole vault is listed only when the window holds no completed point, to say how old
    the newest one is."""
    problems: list[str] = []
    now = datetime.now(UTC)
    for vault, region, reader in (
        (inv.backup_vault, inv.primary_region, source_client),
        (inv.recovery_backup_vault, inv.recovery_region, client),
    ):
        if not vault:
            continue
        try:
            backup = reader("backup", region)
            window = now - timedelta(hours=settings.max_backup_age_hours)
            newest = _newest_completed(backup, vault, ByCreatedAfter=window) or _newest_completed(backup, vault)
        except _AWS_ERRORS as err:
            problems.append(f"backup vault {vault} in {region} could not be read ({_why(err)})")
            continue
        age = None if newest is None else (now - newest).total_seconds() / 3600
        fresh = age is not None and age <= settings.max_backup_age_hours
        if newest is None:
            problems.append(f"vault {vault} has no completed recovery point")
        elif not fresh:
            problems.append(
                f"newest recovery point is {age:.1f} h old, expected at most {settings.max_backup_age_hours} h"
            )
        return BackupReadiness(
            vault=vault,
            region=region,
            newest_recovery_point_at=newest,
            newest_age_hours=age,
            fresh=fresh,
            problems=problems,
        )
    return BackupReadiness(
        vault=inv.backup_vault,
        newest_recovery_point_at=None,
        newest_age_hours=None,
        fresh=None,
        problems=problems or ["no backup vault in the inventory"],
    )


def as_json(model: Any) -> dict[str, Any]:
    return dict(model.model_dump(mode="json"))
