"""Restore test: restore the newest recovery points into temporary resources, prove the data is there,
tell AWS Backup, delete everything that was restored and prove nothing is left.

Temporary resources are named ``drtest-<8 hex of the execution>-<source name>`` (recognisable, unique per
execution) and tagged ``dr:purpose=restore-test``, ``dr:execution``, ``dr:source``. Cleanup deletes only
names that carry this execution's prefix: whatever else exists in the account is never touched.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from dr.aws import aws_errors, client, error_code
from dr.backup_models import BackupRequest, RestorePlanItem, RestoreResult
from dr.backup_verification import arn_parts, inventory_resources, read
from dr.errors import CleanupIncomplete, RestoreFailed, TransientAwsError
from dr.inventory import Inventory
from dr.settings import Settings

PREFIX = "drtest"
PURPOSE_TAG = "dr:purpose"
PURPOSE = "restore-test"
RUNNING_STATES = ("PENDING", "RUNNING", "CREATED")
_GONE_CODES = {"ResourceNotFoundException", "NoSuchBucket", "404", "NotFound", "DBClusterNotFoundFault"}


# -- names -----------------------------------------------------------------------------------------------
def short_id(execution: str) -> str:
    return hashlib.sha256(execution.encode()).hexdigest()[:8]


def name_prefix(execution: str) -> str:
    return f"{PREFIX}-{short_id(execution)}-"


def restore_name(resource_type: str, source_name: str, execution: str) -> str:
    """A legal, recognisable name for the temporary resource restored from ``source_name``."""
    name = name_prefix(execution) + source_name
    if resource_type == "DynamoDB":
        return re.sub(r"[^A-Za-z0-9_.-]", "-", name)[:255]
    if resource_type == "S3":
        name = re.sub(r"[^a-z0-9.-]", "-", name.lower())[:63]
        return name.rstrip(".-")
    name = re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9-]", "-", name.lower()))[:63]
    return name.rstrip("-")


def ours(name: str, execution: str) -> bool:
    """Whether ``name`` is one this execution gave a temporary resource (the prefix is lower case)."""
    return name.startswith(name_prefix(execution))


# -- selection -------------------------------------------------------------------------------------------
def rotation(items: list[str], when: datetime) -> str:
    """One of ``items`` per month, in turn, so every table and bucket is restored over the months."""
    return items[(when.year * 12 + when.month) % len(items)]


def newest_point(region: str, vault: str, resource_arn: str) -> dict[str, Any] | None:
    pages = client("backup", region).get_paginator("list_recovery_points_by_backup_vault")
    points = read(
        f"backup:ListRecoveryPointsByBackupVault {vault}",
        lambda: [
            point
            for page in pages.paginate(BackupVaultName=vault, ByResourceArn=resource_arn)
            for point in page.get("RecoveryPoints", [])
        ],
    )
    completed = [p for p in points if p.get("Status") == "COMPLETED"]
    return max(completed, key=lambda p: p["CreationDate"]) if completed else None


def select(request: BackupRequest, inv: Inventory) -> tuple[list[RestorePlanItem], list[dict[str, Any]]]:
    """The plan (one item per tested resource type) and what could not be planned, with why."""
    partition, account = arn_parts(request.execution)
    resources = inventory_resources(inv, partition, account)
    vault, region = (
        (request.recovery_vault, request.recovery_region)
        if request.from_copies
        else (request.vault, request.primary_region)
    )
    plan: list[RestorePlanItem] = []
    missing: list[dict[str, Any]] = []
    for kind in request.resource_types:
        candidates = [r for r in resources if r.type == kind]
        if not candidates:
            missing.append(
                {"resource_arn": "", "resource_type": kind, "message": f"the inventory has no {kind} resource"}
            )
            continue
        chosen_name = rotation([r.name for r in candidates], request.started_at)
        resource = next(r for r in candidates if r.name == chosen_name)
        try:
            point = newest_point(region, vault, resource.arn)
        except Exception as err:
            if isinstance(err, TransientAwsError):
                raise
            missing.append(
                {
                    "resource_arn": resource.arn,
                    "resource_type": kind,
                    "message": f"vault {vault} could not be read: {err}",
                }
            )
            continue
        if point is None:
            missing.append(
                {
                    "resource_arn": resource.arn,
                    "resource_type": kind,
                    "message": f"vault {vault} in {region} holds no completed recovery point of {resource.name}",
                }
            )
            continue
        plan.append(
            RestorePlanItem(
                resource_arn=resource.arn,
                resource_type=kind,
                resource_name=resource.name,
                source_region=resource.region,
                recovery_point_arn=str(point["RecoveryPointArn"]),
                recovery_point_created_at=point["CreationDate"],
                vault=vault,
                region=region,
                restore_name=restore_name(kind, resource.name, request.execution),
            )
        )
    return plan, missing


# -- restore ---------------------------------------------------------------------------------------------
def restore_metadata(item: RestorePlanItem, original: dict[str, str]) -> dict[str, str]:
    """The recovery point's restore metadata, pointed at the temporary resource instead of the original."""
    metadata = dict(original)
    if item.resource_type == "DynamoDB":
        metadata["targetTableName"] = item.restore_name
    elif item.resource_type == "S3":
        metadata.update(DestinationBucketName=item.restore_name, NewBucket="true")
    else:
        metadata["DBClusterIdentifier"] = item.restore_name
    return metadata


def start(request: BackupRequest, item: RestorePlanItem, settings: Settings) -> dict[str, Any]:
    backup = client("backup", item.region)
    with aws_errors(f"backup:GetRecoveryPointRestoreMetadata {item.recovery_point_arn}", RestoreFailed):
        original = backup.get_recovery_point_restore_metadata(
            BackupVaultName=item.vault, RecoveryPointArn=item.recovery_point_arn
        ).get("RestoreMetadata", {})
    token = hashlib.sha256(f"{request.execution}|{item.recovery_point_arn}".encode()).hexdigest()[:32]
    kwargs: dict[str, Any] = {
        "RecoveryPointArn": item.recovery_point_arn,
        "Metadata": restore_metadata(item, original),
        "IdempotencyToken": token,
        "ResourceType": item.resource_type,
    }
    if settings.restore_role_arn:
        kwargs["IamRoleArn"] = settings.restore_role_arn
    with aws_errors(f"backup:StartRestoreJob {item.recovery_point_arn}", RestoreFailed):
        job_id = str(backup.start_restore_job(**kwargs)["RestoreJobId"])
    return {"restore_job_id": job_id, "started_at": datetime.now(UTC).isoformat()}


def poll(item: RestorePlanItem, job_id: str, rto_seconds: int) -> dict[str, Any]:
    """One look at the restore job: its status and, once it ended, how long it took."""
    backup = client("backup", item.region)
    with aws_errors(f"backup:DescribeRestoreJob {job_id}", RestoreFailed):
        job = backup.describe_restore_job(RestoreJobId=job_id)
    seconds = None
    if job.get("CompletionDate") and job.get("CreationDate"):
        seconds = round((job["CompletionDate"] - job["CreationDate"]).total_seconds(), 3)
    return {
        "restore_job_id": job_id,
        "status": str(job.get("Status", "")),
        "message": str(job.get("StatusMessage") or ""),
        "created_resource_arn": job.get("CreatedResourceArn"),
        "restore_seconds": seconds,
        "within_rto": None if seconds is None else seconds <= rto_seconds,
    }


# -- validation ------------------------------------------------------------------------------------------
def _check(name: str, ok: bool, detail: str) -> dict[str, Any]:
    return {"check": name, "ok": bool(ok), "detail": detail}


def _within(restored: int, source: int, tolerance_percent: float) -> bool:
    return abs(restored - source) <= source * tolerance_percent / 100


def _changed_since(item: dict[str, Any] | None, attribute: str, moment: datetime) -> bool:
    value = ((item or {}).get(attribute) or {}).get("S")
    if not value:
        return False
    try:
        changed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return False
    return (changed if changed.tzinfo else changed.replace(tzinfo=UTC)) > moment


def _key(schema: list[dict[str, str]]) -> str:
    return ", ".join(f"{k['AttributeName']} {k['KeyType']}" for k in schema)


def validate_table(item: RestorePlanItem, settings: Settings) -> list[dict[str, Any]]:
    """ACTIVE, the source's key schema, its item count, and sampled items equal to the source's."""
    restored_ddb, source_ddb = client("dynamodb", item.region), client("dynamodb", item.source_region)
    table = restored_ddb.describe_table(TableName=item.restore_name)["Table"]
    source = source_ddb.describe_table(TableName=item.resource_name)["Table"]
    checks = [
        _check("table-active", table["TableStatus"] == "ACTIVE", f"restored table is {table['TableStatus']}"),
        _check(
            "key-schema",
            table["KeySchema"] == source["KeySchema"],
            f"key {_key(table['KeySchema'])} (source {_key(source['KeySchema'])})",
        ),
    ]
    restored_count = sum(
        page.get("Count", 0)
        for page in restored_ddb.get_paginator("scan").paginate(TableName=item.restore_name, Select="COUNT")
    )
    source_count = int(source.get("ItemCount", 0))
    checks.append(
        _check(
            "item-count",
            _within(restored_count, source_count, settings.restore_count_tolerance_percent),
            f"{restored_count} items restored; the source holds {source_count} "
            f"(tolerance {settings.restore_count_tolerance_percent:g}%)",
        )
    )
    keys = [k["AttributeName"] for k in table["KeySchema"]]
    sample = restored_ddb.scan(TableName=item.restore_name, Limit=settings.restore_sample_size).get("Items", [])
    mismatched, changed = [], 0
    for restored_item in sample:
        key = {k: restored_item[k] for k in keys}
        current = source_ddb.get_item(TableName=item.resource_name, Key=key, ConsistentRead=True).get("Item")
        if current == restored_item:
            continue
        if _changed_since(current, settings.restore_changed_at_attribute, item.recovery_point_created_at):
            changed += 1
            continue
        mismatched.append(json.dumps(key, sort_keys=True))
    checks.append(
        _check(
            "sampled-items",
            bool(sample or source_count == 0) and not mismatched,
            f"{len(sample)} sampled items, {len(mismatched)} differ from the source"
            + (f" ({', '.join(mismatched[:3])})" if mismatched else "")
            + (f", {changed} changed since the recovery point" if changed else ""),
        )
    )
    return checks


def _objects(s3: Any, bucket: str) -> list[dict[str, Any]]:
    return [o for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket) for o in page.get("Contents", [])]


def validate_bucket(item: RestorePlanItem, inv: Inventory, settings: Settings) -> list[dict[str, Any]]:
    """The restored bucket's object count and sampled ETags equal the source's."""
    s3 = client("s3", item.region)
    source_s3 = client("s3", item.source_region)
    restored = _objects(s3, item.restore_name)
    source = {o["Key"]: o for o in _objects(source_s3, item.resource_name)}
    checks = [
        _check(
            "object-count",
            _within(len(restored), len(source), settings.restore_count_tolerance_percent),
            f"{len(restored)} objects restored; the source holds {len(source)} "
            f"(tolerance {settings.restore_count_tolerance_percent:g}%)",
        )
    ]
    step = max(1, len(restored) // settings.restore_sample_size)
    sample = restored[::step][: settings.restore_sample_size]
    mismatched, changed = [], 0
    for obj in sample:
        head = s3.head_object(Bucket=item.restore_name, Key=obj["Key"])
        original = source.get(obj["Key"])
        if original is not None and original["ETag"] == head["ETag"]:
            continue
        if original is not None and original["LastModified"] > item.recovery_point_created_at:
            changed += 1
            continue
        mismatched.append(obj["Key"])
    checks.append(
        _check(
            "sampled-etags",
            bool(sample or not source) and not mismatched,
            f"{len(sample)} sampled objects, {len(mismatched)} differ from the source"
            + (f" ({', '.join(mismatched[:3])})" if mismatched else "")
            + (f", {changed} changed since the recovery point" if changed else ""),
        )
    )
    return checks


def validate_cluster(item: RestorePlanItem) -> list[dict[str, Any]]:
    """The restored cluster is available, answers with an endpoint, and runs the source's engine."""
    rds = client("rds", item.region)
    cluster = rds.describe_db_clusters(DBClusterIdentifier=item.restore_name)["DBClusters"][0]
    source = client("rds", item.source_region).describe_db_clusters(DBClusterIdentifier=item.resource_name)[
        "DBClusters"
    ][0]
    return [
        _check(
            "cluster-available", cluster.get("Status") == "available", f"restored cluster is {cluster.get('Status')}"
        ),
        _check("cluster-endpoint", bool(cluster.get("Endpoint")), f"endpoint {cluster.get('Endpoint') or 'missing'}"),
        _check(
            "cluster-engine",
            cluster.get("Engine") == source.get("Engine"),
            f"engine {cluster.get('Engine')} (source {source.get('Engine')})",
        ),
    ]


def tag(item: RestorePlanItem, request: BackupRequest, resource_arn: str) -> None:
    tags = {
        PURPOSE_TAG: PURPOSE,
        "dr:execution": request.execution_name,
        "dr:source": item.resource_arn,
        "dr:delete-after": (request.started_at + timedelta(days=1)).isoformat(),
    }
    if item.resource_type == "DynamoDB":
        client("dynamodb", item.region).tag_resource(
            ResourceArn=resource_arn, Tags=[{"Key": k, "Value": v} for k, v in tags.items()]
        )
    elif item.resource_type == "S3":
        client("s3", item.region).put_bucket_tagging(
            Bucket=item.restore_name, Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]}
        )
    else:
        client("rds", item.region).add_tags_to_resource(
            ResourceName=resource_arn, Tags=[{"Key": k, "Value": v} for k, v in tags.items()]
        )


def validate(
    request: BackupRequest, item: RestorePlanItem, job: dict[str, Any], inv: Inventory, settings: Settings
) -> RestoreResult:
    """Tag the restored resource, validate its data, report the verdict to AWS Backup."""
    created = str(job.get("created_resource_arn") or "")
    with aws_errors(f"validate the restored {item.resource_type} {item.restore_name}", RestoreFailed):
        tag(item, request, created)
        if item.resource_type == "DynamoDB":
            checks = validate_table(item, settings)
        elif item.resource_type == "S3":
            checks = validate_bucket(item, inv, settings)
        else:
            checks = validate_cluster(item)
    validated = all(c["ok"] for c in checks)
    failed = [f"{c['check']}: {c['detail']}" for c in checks if not c["ok"]]
    message = "; ".join(failed) if failed else "; ".join(c["detail"] for c in checks)
    report_validation(item, str(job["restore_job_id"]), validated, message)
    return RestoreResult(
        resource_arn=item.resource_arn,
        resource_type=item.resource_type,
        recovery_point_arn=item.recovery_point_arn,
        status="SUCCEEDED" if validated else "VALIDATION_FAILED",
        restore_job_id=str(job["restore_job_id"]),
        restored_resource=created or item.restore_name,
        restore_seconds=job.get("restore_seconds"),
        within_rto=job.get("within_rto"),
        validated=validated,
        validation_reported=True,
        checks=checks,
        message=message[:1000],
    )


def report_validation(item: RestorePlanItem, job_id: str, validated: bool, message: str) -> bool:
    """PutRestoreValidationResult; False when AWS Backup refused it (the job did not complete)."""
    backup = client("backup", item.region)
    try:
        with aws_errors(f"backup:PutRestoreValidationResult {job_id}", RestoreFailed):
            backup.put_restore_validation_result(
                RestoreJobId=job_id,
                ValidationStatus="SUCCESSFUL" if validated else "FAILED",
                ValidationStatusMessage=message[:1000] or ("validated" if validated else "failed"),
            )
    except RestoreFailed:
        return False
    return True


# -- cleanup ---------------------------------------------------------------------------------------------
def _gone(err: ClientError) -> bool:
    return error_code(err) in _GONE_CODES


def _delete_table(region: str, name: str) -> str:
    ddb = client("dynamodb", region)
    try:
        status = ddb.describe_table(TableName=name)["Table"]["TableStatus"]
        if status != "DELETING":
            ddb.delete_table(TableName=name)
    except ClientError as err:
        if _gone(err):
            return "gone"
        raise
    return "deleting"


def _delete_bucket(region: str, name: str) -> str:
    s3 = client("s3", region)
    try:
        s3.head_bucket(Bucket=name)
    except ClientError as err:
        if _gone(err):
            return "gone"
        raise
    versions = [
        {"Key": entry["Key"], "VersionId": entry["VersionId"]}
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=name)
        for entry in page.get("Versions", []) + page.get("DeleteMarkers", [])
    ]
    for start in range(0, len(versions), 1000):
        s3.delete_objects(Bucket=name, Delete={"Objects": versions[start : start + 1000], "Quiet": True})
    s3.delete_bucket(Bucket=name)
    return "deleting"


def _delete_cluster(region: str, name: str) -> str:
    rds = client("rds", region)
    try:
        cluster = rds.describe_db_clusters(DBClusterIdentifier=name)["DBClusters"][0]
    except ClientError as err:
        if _gone(err):
            return "gone"
        raise
    for member in cluster.get("DBClusterMembers", []):
        try:
            rds.delete_db_instance(DBInstanceIdentifier=member["DBInstanceIdentifier"], SkipFinalSnapshot=True)
        except ClientError as err:
            if error_code(err) not in ("DBInstanceNotFound", "InvalidDBInstanceState"):
                raise
    if cluster.get("Status") != "deleting":
        rds.delete_db_cluster(DBClusterIdentifier=name, SkipFinalSnapshot=True)
    return "deleting"


DELETERS: dict[str, Callable[[str, str], str]] = {
    "DynamoDB": _delete_table,
    "S3": _delete_bucket,
    "Aurora": _delete_cluster,
}


def existing(region: str, prefix: str) -> list[tuple[str, str]]:
    """(type, name) of every table, bucket and DB cluster in ``region`` whose name starts with ``prefix``."""
    found: list[tuple[str, str]] = []
    ddb = client("dynamodb", region)
    for page in ddb.get_paginator("list_tables").paginate():
        found += [("DynamoDB", t) for t in page.get("TableNames", []) if t.startswith(prefix)]
    buckets = client("s3", region).list_buckets().get("Buckets", [])
    found += [("S3", b["Name"]) for b in buckets if b["Name"].startswith(prefix.lower())]
    rds = client("rds", region)
    for page in rds.get_paginator("describe_db_clusters").paginate():
        found += [
            ("Aurora", str(c["DBClusterIdentifier"]))
            for c in page.get("DBClusters", [])
            if str(c["DBClusterIdentifier"]).startswith(prefix.lower())
        ]
    return found


def running_jobs(request: BackupRequest, item: RestorePlanItem, known: list[str]) -> list[str]:
    """Restore jobs of this test still running: what they restore does not exist yet, so cannot be deleted."""
    backup = client("backup", item.region)
    since = request.started_at - timedelta(minutes=5)
    pages = backup.get_paginator("list_restore_jobs").paginate(ByCreatedAfter=since)
    jobs = [job for page in pages for job in page.get("RestoreJobs", [])]
    ours_ = [j for j in jobs if j.get("RecoveryPointArn") == item.recovery_point_arn or j.get("RestoreJobId") in known]
    return [str(j["RestoreJobId"]) for j in ours_ if j.get("Status") in RUNNING_STATES]


def clean_up(request: BackupRequest, plan: list[RestorePlanItem], results: list[dict[str, Any]]) -> dict[str, Any]:
    """Delete every temporary resource of this test, then look for anything of it that is still there."""
    known_jobs: dict[str, list[str]] = {}  # recovery point -> the restore jobs this test started from it
    for result in results:
        if result.get("restore_job_id"):
            known_jobs.setdefault(str(result.get("recovery_point_arn")), []).append(str(result["restore_job_id"]))
    deleted: list[str] = []
    pending: list[str] = []
    prefix = name_prefix(request.execution)
    with aws_errors("clean up the restored resources", CleanupIncomplete):
        for item in plan:
            if not ours(item.restore_name, request.execution):  # never delete anything this test did not name
                continue
            running = running_jobs(request, item, known_jobs.get(item.recovery_point_arn, []))
            if running:
                pending.append(f"{item.resource_type} restore job {', '.join(running)} still running")
            state = DELETERS[item.resource_type](item.region, item.restore_name)
            if state == "deleting":
                deleted.append(f"{item.resource_type} {item.restore_name} in {item.region}")
        regions = sorted({item.region for item in plan})
        for region in regions:  # anything else of this test's that exists (a restore nobody recorded)
            for kind, name in existing(region, prefix):
                if ours(name, request.execution) and DELETERS[kind](region, name) == "deleting":
                    deleted.append(f"{kind} {name} in {region}")
        leftover = [f"{kind} {name} in {region}" for region in regions for kind, name in existing(region, prefix)]
    return {
        "deleted": sorted(set(deleted)),
        "pending": pending,
        "leftover": leftover,
        "leftover_resources": len(leftover),
        "done": not pending and not leftover,
    }
