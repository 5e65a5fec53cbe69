"""Backup verification: read what AWS Backup and the protected resources answer, judge it with
``dr.backup_policy``. Read-only.

The rule for the calls: each vault is listed once per run (boto3 paginators, 1,000 recovery points a page,
the API's maximum), never once per resource: ListProtectedResources reads the protected resources, both
vaults and the plan's rule names, and writes each batch of resources with its own slice of recovery
points and copies to the reports bucket. A Map iteration (VerifyBatch) then judges its batch from that
slice and judges each resource's own protection (PITR, Aurora retention, S3 versioning and replication)
from what AWS Config recorded of it, read in ListProtectedResources with one query per Region
(dr.recorded_config); only a resource Config has no usable item for is read directly, once per run. At
1,000 resources with 30 recovery points each that is 34 Backup calls instead of 2,000, and 11 AWS Config
calls instead of 1,000 reads (docs/performance.md).

A resource that cannot be read (access denied, gone, a bad name) is a ``resource-unreadable`` finding, never
a crash; throttling and 5xx are retried (a vault listing in the step, a resource's reads per resource) and,
when the retries run out, become the same finding, for that one resource or for every resource of an
unreadable vault.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import lru_cache, partial
from typing import Any, TypeVar

from botocore.exceptions import ClientError
from pydantic import Field

from dr import backup_policy as policy
from dr.aws import aws_errors, client, error_code, is_transient
from dr.backup_models import BackupRequest, Finding, ProtectedResource, ResourceCheck
from dr.errors import TransientAwsError
from dr.inventory import Inventory
from dr.models import Strict
from dr.recorded_config import ConfigSettings, Recording, usable
from dr.settings import Settings

T = TypeVar("T")
PAGE = {"PageSize": 1000}  # MaxResults' maximum in the Backup model: the fewest calls per listing
ATTEMPTS = 3  # per vault listing and per resource, each with the SDK's own retries and back-off


class Unreadable(Exception):
    """A read that retrying will not fix; carries the AWS error code and message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code, self.message = code, message


def read(what: str, call: Callable[[], T]) -> T:
    """Run one read: transient → TransientAwsError (retried), anything else AWS says → Unreadable."""
    try:
        return call()
    except ClientError as err:
        if is_transient(err):
            raise TransientAwsError(f"{what}: {err}") from err
        message = str(err.response.get("Error", {}).get("Message") or err)
        raise Unreadable(error_code(err), message) from err
    except Exception as err:
        if is_transient(err):
            raise TransientAwsError(f"{what}: {err}") from err
        raise


def _every(region: str, operation: str, key: str, **kwargs: Any) -> list[dict[str, Any]]:
    """Every item of a paginated Backup listing, through the SDK's paginator."""
    paginator = client("backup", region).get_paginator(operation)
    return [item for page in paginator.paginate(**kwargs, PaginationConfig=PAGE) for item in page.get(key, [])]


def arn_parts(execution: str) -> tuple[str, str]:
    """(partition, account id) from an ARN (the execution's: the stack's account)."""
    parts = execution.split(":")
    return (parts[1] or "aws", parts[4]) if len(parts) > 4 else ("aws", "")


def inventory_resources(inv: Inventory, partition: str, account: str) -> list[ProtectedResource]:
    """The protected resources the inventory names, as AWS Backup identifies them (in the primary region)."""
    region = inv.primary_region
    out = [
        ProtectedResource(
            arn=f"arn:{partition}:dynamodb:{region}:{account}:table/{table}", type="DynamoDB", name=table, region=region
        )
        for table in inv.tables
    ]
    if inv.aurora.primary_cluster_id:
        cluster = inv.aurora.primary_cluster_id
        out.append(
            ProtectedResource(
                arn=f"arn:{partition}:rds:{region}:{account}:cluster:{cluster}",
                type="Aurora",
                name=cluster,
                region=region,
            )
        )
    out += [
        ProtectedResource(arn=f"arn:{partition}:s3:::{pair.source}", type="S3", name=pair.source, region=region)
        for pair in inv.buckets
    ]
    return out


def _region_of(arn: str, default: str) -> str:
    parts = arn.split(":")
    return parts[3] if len(parts) > 3 and parts[3] else default


def list_resources(
    request: BackupRequest, inv: Inventory, account: str, partition: str
) -> tuple[list[ProtectedResource], list[Finding]]:
    """The inventory's resources, then every other resource with a recovery point in the vault."""
    resources = inventory_resources(inv, partition, account)
    known = {r.arn for r in resources}
    findings: list[Finding] = []
    try:
        found = read(
            f"backup:ListProtectedResourcesByBackupVault {request.vault}",
            partial(
                _every,
                request.primary_region,
                "list_protected_resources_by_backup_vault",
                "Results",
                BackupVaultName=request.vault,
            ),
        )
    except Unreadable as err:
        findings.append(vault_unreadable(request, partition, account, err))
        found = []
    for entry in found:
        arn = str(entry["ResourceArn"])
        if arn in known:
            continue
        known.add(arn)
        resources.append(
            ProtectedResource(
                arn=arn,
                type=str(entry.get("ResourceType", "unknown")),
                name=str(entry.get("ResourceName") or arn.rsplit(":", 1)[-1].rsplit("/", 1)[-1]),
                region=_region_of(arn, request.primary_region),
                in_inventory=False,
            )
        )
    return resources, findings


def vault_unreadable(request: BackupRequest, partition: str, account: str, err: Unreadable) -> Finding:
    arn = f"arn:{partition}:backup:{request.primary_region}:{account}:backup-vault:{request.vault}"
    return Finding(
        resource=arn,
        resource_type="BackupVault",
        check=policy.VAULT_UNREADABLE,
        severity="HIGH",
        reason=f"backup vault {request.vault} in {request.primary_region} could not be read ({err.code}): "
        f"{err.message}. Resources only the vault knows about were not verified.",
    )


# -- the vaults, each listed once per run --------------------------------------------------------------
# What the policy reads of a recovery point (the rest of the listing is dropped: at 10,000 resources a vault
# holds 300,000 recovery points, and every byte kept is carried to the batches).
_KEPT = ("RecoveryPointArn", "Status", "StatusMessage", "IsEncrypted", "EncryptionKeyArn", "SourceBackupVaultArn")
_KEPT_CREATOR = ("BackupPlanId", "BackupPlanName", "BackupPlanVersion", "BackupRuleId", "BackupRuleName")


def slim(point: dict[str, Any]) -> dict[str, Any]:
    """A listed recovery point reduced to what ``dr.backup_policy`` judges, JSON-ready."""
    out: dict[str, Any] = {k: point[k] for k in _KEPT if point.get(k) is not None}
    created = point["CreationDate"]
    out["CreationDate"] = created.isoformat() if isinstance(created, datetime) else str(created)
    if "Lifecycle" in point:
        days = (point["Lifecycle"] or {}).get("DeleteAfterDays")
        out["Lifecycle"] = {} if days is None else {"DeleteAfterDays": days}
    creator = point.get("CreatedBy") or {}
    if creator:
        out["CreatedBy"] = {k: creator[k] for k in _KEPT_CREATOR if creator.get(k) is not None}
    return out


class ListingError(Strict):
    """Why a vault could not be listed; ``transient`` when it kept throttling or failing after its retries."""

    code: str
    message: str
    transient: bool


@dataclasses.dataclass
class Listing:
    """One vault's recovery points by resource ARN, or why they could not be read."""

    points: dict[str, list[dict[str, Any]]]
    error: ListingError | None = None


def _points_by_resource(region: str, vault: str) -> dict[str, list[dict[str, Any]]]:
    by_resource: dict[str, list[dict[str, Any]]] = {}
    for point in _every(region, "list_recovery_points_by_backup_vault", "RecoveryPoints", BackupVaultName=vault):
        by_resource.setdefault(str(point.get("ResourceArn", "")), []).append(slim(point))
    return by_resource


def list_vault(region: str, vault: str) -> Listing:
    """The whole vault, in pages of 1,000, tried ``ATTEMPTS`` times on throttling or 5xx."""
    what = f"backup:ListRecoveryPointsByBackupVault {vault} ({region})"
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return Listing(read(what, partial(_points_by_resource, region, vault)))
        except Unreadable as err:
            return Listing({}, ListingError(code=err.code, message=err.message, transient=False))
        except TransientAwsError as err:
            if attempt == ATTEMPTS:
                return Listing({}, ListingError(code="TransientAwsError", message=str(err), transient=True))
    raise AssertionError("unreachable: the last attempt returns")


@lru_cache(maxsize=32)
def _plan_rules(region: str, plan_id: str, version: str) -> tuple[tuple[str, str], ...]:
    kwargs = {"BackupPlanId": plan_id} | ({"VersionId": version} if version else {})
    plan = client("backup", region).get_backup_plan(**kwargs)["BackupPlan"]
    return tuple((str(r.get("RuleId", "")), str(r["RuleName"])) for r in plan.get("Rules", []))


def rule_names(region: str, points: list[dict[str, Any]]) -> dict[str, str]:
    """Rule id -> rule name for the points whose creator does not name its rule (read from their plan)."""
    names: dict[str, str] = {}
    for point in points:
        creator = point.get("CreatedBy") or {}
        if creator.get("BackupRuleName") or not creator.get("BackupPlanId") or creator.get("BackupRuleId") in names:
            continue
        plan_id, version = str(creator["BackupPlanId"]), str(creator.get("BackupPlanVersion", ""))
        try:
            names.update(dict(read(f"backup:GetBackupPlan {plan_id}", partial(_plan_rules, region, plan_id, version))))
        except Unreadable:
            continue  # an unknown plan's point is judged by no rule
    return names


# -- one resource ----------------------------------------------------------------------------------------
class Batch(Strict):
    """One Map iteration's input, stored in the reports bucket: its resources and their slices of the vaults."""

    resources: list[ProtectedResource]
    points: dict[str, list[dict[str, Any]]] = Field(default_factory=dict)  # resource ARN -> recovery points
    copies: dict[str, list[dict[str, Any]]] = Field(default_factory=dict)  # resource ARN -> copies
    points_error: ListingError | None = None
    copies_error: ListingError | None = None
    rule_names: dict[str, str] = Field(default_factory=dict)
    recordings: dict[str, Recording] = Field(default_factory=dict)  # Region -> AWS Config's items of the batch


def _recorded(resource: ProtectedResource, recorded: dict[str, Any], settings: Settings) -> list[Finding]:
    """The resource's own protection judged from what AWS Config recorded (in the direct reads' shapes)."""
    if resource.type == "DynamoDB":
        return policy.evaluate_table(resource, recorded["ContinuousBackupsDescription"])
    if resource.type == "Aurora":
        return policy.evaluate_cluster(resource, recorded["DBCluster"], settings.min_aurora_retention_days)
    return policy.evaluate_bucket(resource, recorded["Versioning"], recorded["ReplicationConfiguration"])


def _config(resource: ProtectedResource, settings: Settings) -> list[Finding]:
    """The resource's own protection: PITR, Aurora backup retention, S3 versioning and replication."""
    if resource.type == "DynamoDB":
        ddb = client("dynamodb", resource.region)
        description = read(
            f"dynamodb:DescribeContinuousBackups {resource.name}",
            lambda: ddb.describe_continuous_backups(TableName=resource.name)["ContinuousBackupsDescription"],
        )
        return policy.evaluate_table(resource, description)
    if resource.type == "Aurora":
        rds = client("rds", resource.region)
        clusters = read(
            f"rds:DescribeDBClusters {resource.name}",
            lambda: rds.describe_db_clusters(DBClusterIdentifier=resource.name)["DBClusters"],
        )
        if not clusters:
            raise Unreadable("DBClusterNotFoundFault", f"DB cluster {resource.name} was not found")
        return policy.evaluate_cluster(resource, clusters[0], settings.min_aurora_retention_days)
    if resource.type == "S3":
        s3 = client("s3", resource.region)
        versioning = read(
            f"s3:GetBucketVersioning {resource.name}", lambda: s3.get_bucket_versioning(Bucket=resource.name)
        )
        try:
            replication: dict[str, Any] | None = read(
                f"s3:GetBucketReplication {resource.name}",
                lambda: s3.get_bucket_replication(Bucket=resource.name)["ReplicationConfiguration"],
            )
        except Unreadable as err:
            if err.code != "ReplicationConfigurationNotFoundError":
                raise
            replication = None
        return policy.evaluate_bucket(resource, versioning, replication)
    return []  # another resource type AWS Backup protects: its recovery points are still judged


_CONFIG_WHAT = {
    "DynamoDB": "the point-in-time recovery setting",
    "Aurora": "the backup retention setting",
    "S3": "the versioning and replication settings",
}


def check_resource(
    request: BackupRequest, resource: ProtectedResource, batch: Batch, settings: Settings, now: datetime
) -> ResourceCheck:
    """One resource judged from its slice of the vaults, and its own protection read from its service."""
    findings: list[Finding] = []
    points = None if batch.points_error else batch.points.get(resource.arn, [])
    copies = None if batch.copies_error else batch.copies.get(resource.arn, [])
    if batch.points_error:
        error = batch.points_error
        findings.append(
            policy.unreadable(resource, f"the recovery points in vault {request.vault}", error.code, error.message)
        )
    if batch.copies_error:
        error = batch.copies_error
        findings.append(
            policy.unreadable(
                resource, f"the copies in the recovery vault {request.recovery_vault}", error.code, error.message
            )
        )
    newest: dict[str, str | None] = {}
    if points is not None:
        rules = policy.rules(settings)
        if copies is None:  # unreadable copies are one finding above, not one per monthly point
            rules = tuple(dataclasses.replace(r, copy_required=False) for r in rules)
        judged, newest = policy.evaluate_recovery_points(
            resource,
            points,
            [c for c in copies or [] if _copied_from(c, request.vault)],
            rules,
            now,
            vault=request.vault,
            recovery_vault=request.recovery_vault,
            copy_grace_hours=settings.copy_grace_hours,
            rule_names_by_id=batch.rule_names,
            plan_name=settings.backup_plan_name,
        )
        findings += judged
    recorded, provenance = usable(resource, batch.recordings, now, ConfigSettings().max_age_hours)
    try:
        findings += _config(resource, settings) if recorded is None else _recorded(resource, recorded, settings)
    except Unreadable as err:
        what = _CONFIG_WHAT.get(resource.type, "the configuration")
        findings.append(policy.unreadable(resource, what, err.code, err.message))
    return ResourceCheck(
        resource=resource.arn,
        resource_type=resource.type,
        recovery_points=len(points or []),
        copies=len(copies or []),
        newest=newest,
        findings=policy.sort_findings(findings),
        configuration=None if provenance is None else provenance.model_dump(mode="json", exclude_none=True),
    )


def _copied_from(copy: dict[str, Any], vault: str) -> bool:
    source = str(copy.get("SourceBackupVaultArn") or "")
    return not source or source.endswith(f":backup-vault:{vault}")


def _kept_failing(resource: ProtectedResource, last: object) -> ResourceCheck:
    finding = policy.unreadable(
        resource,
        "the backup state",
        "TransientAwsError",
        f"the check kept failing after its retries ({ATTEMPTS} attempts): {last}",
    )
    return ResourceCheck(resource=resource.arn, resource_type=resource.type, findings=[finding])


def check_with_retries(
    request: BackupRequest, resource: ProtectedResource, batch: Batch, settings: Settings, now: datetime
) -> ResourceCheck:
    """One resource's check, tried again on throttling or 5xx; still failing (or its vault listing still
    failing after the listing's own retries), a single ``resource-unreadable`` finding for that resource."""
    transient = [e for e in (batch.points_error, batch.copies_error) if e is not None and e.transient]
    if transient:
        return _kept_failing(resource, transient[0].message)
    last: TransientAwsError | None = None
    for _ in range(ATTEMPTS):
        try:
            return check_resource(request, resource, batch, settings, now)
        except TransientAwsError as err:
            last = err
    return _kept_failing(resource, last)


# -- jobs of the vault -----------------------------------------------------------------------------------
def check_jobs(
    request: BackupRequest, settings: Settings, now: datetime, partition: str, account: str
) -> dict[str, Any]:
    """Backup jobs into the vault and copy jobs out of it that went wrong in the lookback window."""
    since = now - timedelta(hours=settings.job_lookback_hours)
    region = request.primary_region
    try:
        backup_jobs = read(
            "backup:ListBackupJobs",
            partial(
                _every, region, "list_backup_jobs", "BackupJobs", ByBackupVaultName=request.vault, ByCreatedAfter=since
            ),
        )
        copy_jobs = [
            job
            for job in read(
                "backup:ListCopyJobs", partial(_every, region, "list_copy_jobs", "CopyJobs", ByCreatedAfter=since)
            )
            if str(job.get("SourceBackupVaultArn", "")).endswith(f":backup-vault:{request.vault}")
        ]
    except Unreadable as err:
        return {
            "backup_jobs": 0,
            "copy_jobs": 0,
            "findings": [vault_unreadable(request, partition, account, err).model_dump(mode="json")],
        }
    findings = policy.evaluate_jobs(backup_jobs, copy_jobs, {}, request.primary_region, settings.job_lookback_hours)
    return {
        "backup_jobs": len(backup_jobs),
        "copy_jobs": len(copy_jobs),
        "findings": [f.model_dump(mode="json") for f in policy.sort_findings(findings)],
    }


# -- batches: the Map iterates over batches whose resources and results live in the reports bucket ---------
# Step Functions keeps at most 256 KB in a state: a Map whose items or results are the resources themselves
# stops fitting at about a thousand of them. The state carries batch numbers and small summaries instead.
def batch_key(request: BackupRequest, kind: str, batch: int) -> str:
    """``backup-verification/YYYY/MM/DD/<execution>/<kind>/<batch>.json`` in the reports bucket."""
    return f"backup-verification/{request.started_at:%Y/%m/%d}/{request.execution_name}/{kind}/{batch:05d}.json"


def _put(settings: Settings, key: str, body: Any) -> None:
    s3 = client("s3", settings.recovery_region)
    with aws_errors(f"s3:PutObject {settings.reports_bucket}/{key}", TransientAwsError):
        s3.put_object(
            Bucket=settings.reports_bucket, Key=key, Body=json.dumps(body).encode(), ContentType="application/json"
        )


def _get(settings: Settings, key: str) -> Any:
    s3 = client("s3", settings.recovery_region)
    with aws_errors(f"s3:GetObject {settings.reports_bucket}/{key}", TransientAwsError):
        return json.loads(s3.get_object(Bucket=settings.reports_bucket, Key=key)["Body"].read())


def read_vaults(request: BackupRequest) -> tuple[Listing, Listing, dict[str, str]]:
    """(the vault's recovery points, the recovery vault's copies, the plan's rule names by id): one listing
    of each vault for the whole run."""
    points = list_vault(request.primary_region, request.vault)
    copies = list_vault(request.recovery_region, request.recovery_vault)
    every = [p for listed in points.points.values() for p in listed]
    return points, copies, rule_names(request.primary_region, every)


def store_batches(
    request: BackupRequest,
    resources: list[ProtectedResource],
    vaults: tuple[Listing, Listing, dict[str, str]],
    settings: Settings,
    recordings: dict[str, Recording] | None = None,
) -> list[int]:
    """Write the resources in batches of ``verify_batch_size``, each with its slice of the vaults and of
    AWS Config's items; returns the batch numbers."""
    points, copies, names = vaults
    size = settings.verify_batch_size
    numbers = []
    for number, start in enumerate(range(0, len(resources), size)):
        chunk = resources[start : start + size]
        batch = Batch(
            resources=chunk,
            points={r.arn: points.points[r.arn] for r in chunk if r.arn in points.points},
            copies={r.arn: copies.points[r.arn] for r in chunk if r.arn in copies.points},
            points_error=points.error,
            copies_error=copies.error,
            rule_names=names,
            recordings={
                region: recording.model_copy(
                    update={"items": {r.arn: recording.items[r.arn] for r in chunk if r.arn in recording.items}}
                )
                for region, recording in (recordings or {}).items()
            },
        )
        _put(settings, batch_key(request, "resources", number), batch.model_dump(mode="json"))
        numbers.append(number)
    return numbers


def load_batch(request: BackupRequest, batch: int, settings: Settings) -> Batch:
    return Batch.model_validate(_get(settings, batch_key(request, "resources", batch)))


def check_batch(request: BackupRequest, batch: int, settings: Settings, now: datetime) -> dict[str, Any]:
    """Check every resource of one batch, store the results, return the batch's small summary."""
    loaded = load_batch(request, batch, settings)
    checks = [check_with_retries(request, resource, loaded, settings, now) for resource in loaded.resources]
    _put(settings, batch_key(request, "checks", batch), [c.model_dump(mode="json") for c in checks])
    return {
        "batch": batch,
        "resources": len(checks),
        "recovery_points": sum(c.recovery_points for c in checks),
        "copies": sum(c.copies for c in checks),
        "findings": sum(len(c.findings) for c in checks),
    }


def load_checks(request: BackupRequest, summary: dict[str, Any], settings: Settings) -> list[ResourceCheck]:
    """A batch's results; for a batch whose iteration failed after its retries, one failed check per
    resource (the report turns each into a ``resource-unreadable`` finding)."""
    batch = int(summary["batch"])
    if summary.get("error") is None:
        return [ResourceCheck.model_validate(c) for c in _get(settings, batch_key(request, "checks", batch))]
    return [
        ResourceCheck(resource=r.arn, resource_type=r.type, error=summary["error"])
        for r in load_batch(request, batch, settings).resources
    ]
