"""Backup verification: read what AWS Backup and the protected resources answer, judge it with
``dr.backup_policy``. Read-only.

A resource that cannot be read (access denied, gone, a bad name) is a ``resource-unreadable`` finding, never
a crash; throttling and 5xx raise TransientAwsError, which the state machine retries (and, when the retries
run out, turns into the same finding for that one resource). Every list call follows its NextToken.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from functools import lru_cache, partial
from typing import Any, TypeVar

from botocore.exceptions import ClientError

from dr import backup_policy as policy
from dr.aws import aws_errors, client, error_code, is_transient, paginate
from dr.backup_models import BackupRequest, Finding, ProtectedResource, ResourceCheck
from dr.errors import TransientAwsError
from dr.inventory import Inventory
from dr.settings import Settings

T = TypeVar("T")
PAGE_SIZE = 100  # recovery points and jobs per page: bounded pages, whatever the vault holds


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
    backup = client("backup", request.primary_region)
    try:
        found = read(
            f"backup:ListProtectedResourcesByBackupVault {request.vault}",
            lambda: list(
                paginate(
                    backup.list_protected_resources_by_backup_vault,
                    "Results",
                    BackupVaultName=request.vault,
                    MaxResults=1000,
                )
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


# -- one resource ----------------------------------------------------------------------------------------
def _points(region: str, vault: str, resource_arn: str) -> list[dict[str, Any]]:
    backup = client("backup", region)
    return list(
        paginate(
            backup.list_recovery_points_by_backup_vault,
            "RecoveryPoints",
            BackupVaultName=vault,
            ByResourceArn=resource_arn,
            MaxResults=PAGE_SIZE,
        )
    )


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
    request: BackupRequest, resource: ProtectedResource, settings: Settings, now: datetime
) -> ResourceCheck:
    findings: list[Finding] = []
    points: list[dict[str, Any]] | None = None
    copies: list[dict[str, Any]] | None = None
    try:
        points = read(
            f"backup:ListRecoveryPointsByBackupVault {request.vault}",
            lambda: _points(request.primary_region, request.vault, resource.arn),
        )
    except Unreadable as err:
        findings.append(
            policy.unreadable(resource, f"the recovery points in vault {request.vault}", err.code, err.message)
        )
    try:
        copies = read(
            f"backup:ListRecoveryPointsByBackupVault {request.recovery_vault}",
            lambda: _points(request.recovery_region, request.recovery_vault, resource.arn),
        )
    except Unreadable as err:
        findings.append(
            policy.unreadable(
                resource, f"the copies in the recovery vault {request.recovery_vault}", err.code, err.message
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
            rule_names_by_id=rule_names(request.primary_region, points),
            plan_name=settings.backup_plan_name,
        )
        findings += judged
    try:
        findings += _config(resource, settings)
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
    )


def _copied_from(copy: dict[str, Any], vault: str) -> bool:
    source = str(copy.get("SourceBackupVaultArn") or "")
    return not source or source.endswith(f":backup-vault:{vault}")


# -- jobs of the vault -----------------------------------------------------------------------------------
def _jobs(call: Callable[..., dict[str, Any]], key: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
    yield from paginate(call, key, MaxResults=PAGE_SIZE, **kwargs)


def check_jobs(
    request: BackupRequest, settings: Settings, now: datetime, partition: str, account: str
) -> dict[str, Any]:
    """Backup jobs into the vault and copy jobs out of it that went wrong in the lookback window."""
    since = now - timedelta(hours=settings.job_lookback_hours)
    backup = client("backup", request.primary_region)
    try:
        backup_jobs = read(
            "backup:ListBackupJobs",
            lambda: list(
                _jobs(backup.list_backup_jobs, "BackupJobs", ByBackupVaultName=request.vault, ByCreatedAfter=since)
            ),
        )
        copy_jobs = [
            job
            for job in read(
                "backup:ListCopyJobs", lambda: list(_jobs(backup.list_copy_jobs, "CopyJobs", ByCreatedAfter=since))
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


def store_batches(request: BackupRequest, resources: list[ProtectedResource], settings: Settings) -> list[int]:
    """Write the resources in batches of ``verify_batch_size``; returns the batch numbers."""
    size = settings.verify_batch_size
    batches = [resources[start : start + size] for start in range(0, len(resources), size)]
    for number, batch in enumerate(batches):
        _put(settings, batch_key(request, "resources", number), [r.model_dump(mode="json") for r in batch])
    return list(range(len(batches)))


def load_batch(request: BackupRequest, batch: int, settings: Settings) -> list[ProtectedResource]:
    return [ProtectedResource.model_validate(r) for r in _get(settings, batch_key(request, "resources", batch))]


RESOURCE_ATTEMPTS = 3  # per resource, each with the SDK's own retries and back-off


def check_with_retries(
    request: BackupRequest, resource: ProtectedResource, settings: Settings, now: datetime
) -> ResourceCheck:
    """One resource's check, tried again on throttling or 5xx; still failing, a ``resource-unreadable``
    finding for that resource alone (the rest of its batch is not checked again)."""
    last: TransientAwsError | None = None
    for _ in range(RESOURCE_ATTEMPTS):
        try:
            return check_resource(request, resource, settings, now)
        except TransientAwsError as err:
            last = err
    finding = policy.unreadable(
        resource,
        "the backup state",
        "TransientAwsError",
        f"the check kept failing after its retries ({RESOURCE_ATTEMPTS} attempts): {last}",
    )
    return ResourceCheck(resource=resource.arn, resource_type=resource.type, findings=[finding])


def check_batch(request: BackupRequest, batch: int, settings: Settings, now: datetime) -> dict[str, Any]:
    """Check every resource of one batch, store the results, return the batch's small summary."""
    resources = load_batch(request, batch, settings)
    checks = [check_with_retries(request, resource, settings, now) for resource in resources]
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
        for r in load_batch(request, batch, settings)
    ]
