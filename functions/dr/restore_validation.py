"""What a restore test proves about the data it restored: every record of the restored table, bucket or
database tables, compared with what its source held when the recovery point was taken.

The rule, the same for DynamoDB items, S3 objects and Aurora rows:

- Every record of the restored resource is read (a full Scan; ListObjectsV2; the configured Aurora tables
  page by page through the RDS Data API), and every record of the source.
- The source *as of the recovery point* is reconstructed from the source now. S3 is exact: the source
  bucket is versioned, so the version (or delete marker) current at the recovery point's creation time is
  known for every key; keys written while the backup ran (creation to completion) are left out. DynamoDB
  items and Aurora rows carry a change time (the ``updated_at`` attribute or column:
  ``RESTORE_CHANGED_AT_ATTRIBUTE``, ISO 8601 or epoch seconds); a record changed after the recovery point
  was taken is left out on both sides, since its backed-up value is older by design.
- Differences are: records whose content differs, records the source held that were not restored, and
  records restored that the source no longer holds (deleted since, leaving no change time behind). The data
  **matched** when the differences are within ``RESTORE_COUNT_TOLERANCE_PERCENT`` of the compared records
  (rounded down: none for small tables). Each side's checksum is SHA-256 over its sorted (key, digest)
  pairs; the two are equal exactly when the compared records are identical.

An AWS error while reading is not a verdict: it propagates (the caller reports "could not validate").
``NotValidatable`` says why a check cannot run at all (e.g. no Aurora tables configured).
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from dr import heartbeat
from dr.aws import client, paginate
from dr.backup_models import BackupRequest, RestorePlanItem
from dr.errors import ReplicaNotReady
from dr.settings import Settings

ROWS_PER_PAGE = 1000  # a Data API answer holds at most 1 MB: 1,000 (key, md5, epoch) rows are ~80 KB
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")


class NotValidatable(Exception):
    """The data cannot be read at all as configured (not an AWS error, not a verdict)."""


def check(name: str, ok: bool, detail: str) -> dict[str, Any]:
    return {"check": name, "ok": bool(ok), "detail": detail}


# -- the comparison ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Comparison:
    """The restored records against the source's at the recovery point (key -> digest on each side)."""

    kind: str  # rows | items | objects
    restored: dict[str, str]
    expected: dict[str, str]
    changed_since: frozenset[str] = frozenset()
    tolerance_percent: float = 0.0
    names: list[str] = field(default_factory=list)  # what was compared (Aurora: the tables)
    parts_matched: bool = True  # a combined comparison matched only if each of its parts did

    @property
    def _restored(self) -> dict[str, str]:
        return {k: v for k, v in self.restored.items() if k not in self.changed_since}

    @property
    def _expected(self) -> dict[str, str]:
        return {k: v for k, v in self.expected.items() if k not in self.changed_since}

    @property
    def differing(self) -> list[str]:
        restored, expected = self._restored, self._expected
        return sorted(k for k in restored.keys() & expected.keys() if restored[k] != expected[k])

    @property
    def missing(self) -> list[str]:
        return sorted(self._expected.keys() - self._restored.keys())

    @property
    def extra(self) -> list[str]:
        return sorted(self._restored.keys() - self._expected.keys())

    @property
    def differences(self) -> int:
        return len(self.differing) + len(self.missing) + len(self.extra)

    @property
    def allowed(self) -> int:
        return math.floor(max(len(self._expected), len(self._restored)) * self.tolerance_percent / 100)

    @property
    def matched(self) -> bool:
        return self.parts_matched and self.differences <= self.allowed

    @property
    def excluded(self) -> int:
        return len(self.changed_since & (self.restored.keys() | self.expected.keys()))

    @staticmethod
    def checksum(records: dict[str, str]) -> str:
        lines = "\n".join(f"{k}\t{v}" for k, v in sorted(records.items()))
        return hashlib.sha256(lines.encode()).hexdigest()

    def detail(self) -> str:
        parts = [
            f"{len(self.restored)} {self.kind} restored, {len(self._expected)} in the source at the recovery point"
            f" ({self.excluded} changed since, left out)",
            "checksums " + ("equal" if self.checksum(self._restored) == self.checksum(self._expected) else "differ"),
        ]
        for label, keys in (("differ", self.differing), ("missing", self.missing), ("not in the source", self.extra)):
            if keys:
                parts.append(f"{len(keys)} {label} ({', '.join(keys[:3])}{', ...' if len(keys) > 3 else ''})")
        if self.differences:
            parts.append(f"{self.differences} difference(s), {self.allowed} allowed")
        return "; ".join(parts)

    def data_checked(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "count": len(self.restored),
            "matched": self.matched,
            "source_count": len(self._expected),
            "changed_since": self.excluded,
            "differences": self.differences,
            "checksum": self.checksum(self._restored),
            "source_checksum": self.checksum(self._expected),
        }


def combined(kind: str, parts: dict[str, Comparison], tolerance_percent: float) -> Comparison:
    """One comparison of several (Aurora's tables), keys prefixed with the part's name."""
    restored: dict[str, str] = {}
    expected: dict[str, str] = {}
    changed: set[str] = set()
    for name, part in parts.items():
        restored.update({f"{name}:{k}": v for k, v in part.restored.items()})
        expected.update({f"{name}:{k}": v for k, v in part.expected.items()})
        changed |= {f"{name}:{k}" for k in part.changed_since}
    matched = all(part.matched for part in parts.values())
    return Comparison(kind, restored, expected, frozenset(changed), tolerance_percent, list(parts), matched)


def compare(
    kind: str,
    restored: Mapping[str, tuple[str, Any]],
    current: Mapping[str, tuple[str, Any]],
    changed_at: Callable[[Any], Any],
    since: datetime,
    tolerance_percent: float,
) -> Comparison:
    """The restored records (key -> (digest, record)) against the source's now; a source record whose
    ``changed_at(record)`` is after ``since`` (the recovery point) changed since and is left out."""
    changed = frozenset(k for k, (_, record) in current.items() if changed_after(changed_at(record), since))
    digests = {k: digest for k, (digest, _) in restored.items()}
    return Comparison(kind, digests, {k: digest for k, (digest, _) in current.items()}, changed, tolerance_percent)


def changed_after(value: Any, moment: datetime) -> bool:
    """Whether a change time (ISO 8601 text, epoch seconds, or a DynamoDB S/N attribute) is after ``moment``."""
    if isinstance(value, dict):
        value = value.get("S", value.get("N"))
    if value is None or value == "":
        return False
    try:
        changed = datetime.fromtimestamp(float(value), UTC)
    except (TypeError, ValueError):
        try:
            changed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return False
    return utc(changed) > utc(moment)


# -- DynamoDB ------------------------------------------------------------------------------------------------
def _canonical(value: Any) -> Any:
    """A DynamoDB attribute value in one canonical form (set members sorted, binaries as base64)."""
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, dict):
        out = {k: _canonical(v) for k, v in value.items()}
        for set_type in ("SS", "NS", "BS"):
            if set_type in out:
                out[set_type] = sorted(out[set_type])
        return out
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    return value


def _scan(ddb: Any, table: str, consistent: bool) -> Iterator[dict[str, Any]]:
    return paginate(ddb, "scan", "Items", TableName=table, ConsistentRead=consistent)


def table_records(ddb: Any, table: str, keys: list[str], consistent: bool = False) -> dict[str, tuple[str, Any]]:
    """key -> (digest of the item, the item) of every item of ``table``."""
    out = {}
    for item in _scan(ddb, table, consistent):
        if heartbeat.is_heartbeat(item):
            continue  # the DR heartbeat is rewritten every minute: not the application's data
        key = json.dumps({k: _canonical(item.get(k)) for k in keys}, sort_keys=True)
        digest = hashlib.sha256(json.dumps(_canonical(item), sort_keys=True).encode()).hexdigest()
        out[key] = (digest, item)
    return out


def _key(schema: list[dict[str, str]]) -> str:
    return ", ".join(f"{k['AttributeName']} {k['KeyType']}" for k in schema)


def validate_table(item: RestorePlanItem, settings: Settings) -> tuple[list[dict[str, Any]], Comparison]:
    """ACTIVE, the source's key schema, and every item against the source's at the recovery point."""
    restored_ddb, source_ddb = client("dynamodb", item.region), client("dynamodb", item.source_region)
    table = restored_ddb.describe_table(TableName=item.restore_name)["Table"]
    source = source_ddb.describe_table(TableName=item.resource_name)["Table"]
    checks = [
        check("table-active", table["TableStatus"] == "ACTIVE", f"restored table is {table['TableStatus']}"),
        check(
            "key-schema",
            table["KeySchema"] == source["KeySchema"],
            f"key {_key(table['KeySchema'])} (source {_key(source['KeySchema'])})",
        ),
    ]
    keys = [k["AttributeName"] for k in source["KeySchema"]]
    restored = table_records(restored_ddb, item.restore_name, keys)
    current = table_records(source_ddb, item.resource_name, keys, consistent=True)
    attribute = settings.restore_changed_at_attribute
    since, tolerance = item.recovery_point_created_at, settings.restore_count_tolerance_percent
    comparison = compare("items", restored, current, lambda record: record.get(attribute), since, tolerance)
    checks.append(check("items", comparison.matched, comparison.detail()))
    return checks, comparison


# -- S3 --------------------------------------------------------------------------------------------------------
def bucket_objects(s3: Any, bucket: str) -> dict[str, str]:
    """key -> ETag of every object of ``bucket`` (its current versions)."""
    objects = paginate(s3, "list_objects_v2", "Contents", Bucket=bucket)
    return {str(o["Key"]): str(o["ETag"]) for o in objects if not str(o["Key"]).startswith(heartbeat.OBJECT_PREFIX)}


def _history(s3: Any, bucket: str) -> Iterator[tuple[str, datetime, str | None]]:
    """(key, LastModified, ETag or None for a delete marker) of every version of every object."""
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        for version in page.get("Versions", []):
            yield str(version["Key"]), version["LastModified"], str(version["ETag"])
        for marker in page.get("DeleteMarkers", []):
            yield str(marker["Key"]), marker["LastModified"], None


def utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def bucket_at(s3: Any, bucket: str, created: datetime, completed: datetime) -> tuple[dict[str, str], frozenset[str]]:
    """The bucket as it was at ``created`` (key -> ETag), and the keys written while the backup ran."""
    newest: dict[str, tuple[datetime, str | None]] = {}
    during: set[str] = set()
    created, completed = utc(created), utc(completed)
    for key, when, etag in _history(s3, bucket):
        if key.startswith(heartbeat.OBJECT_PREFIX):
            continue  # the DR heartbeat is rewritten every minute: not the application's data
        modified = utc(when)
        if modified <= created:
            if key not in newest or modified >= newest[key][0]:
                newest[key] = (modified, etag)
        elif modified <= completed:
            during.add(key)
    return {k: etag for k, (_, etag) in newest.items() if etag is not None}, frozenset(during)


def validate_bucket(item: RestorePlanItem, settings: Settings) -> tuple[list[dict[str, Any]], Comparison]:
    """Every restored object's ETag against the source's version current when the recovery point was taken."""
    restored = bucket_objects(client("s3", item.region), item.restore_name)
    completed = item.recovery_point_completed_at or item.recovery_point_created_at
    expected, during = bucket_at(
        client("s3", item.source_region), item.resource_name, item.recovery_point_created_at, completed
    )
    comparison = Comparison("objects", restored, expected, during, settings.restore_count_tolerance_percent)
    return [check("objects", comparison.matched, comparison.detail())], comparison


# -- Aurora ------------------------------------------------------------------------------------------------------
def validation_tables(settings: Settings) -> list[tuple[str, str]]:
    """(table, key column) of each configured table: ``schema.table`` or ``schema.table:key``."""
    out = []
    for entry in (e.strip() for e in settings.restore_validation_tables.split(",")):
        if not entry:
            continue
        table, _, key = entry.partition(":")
        key = key or settings.restore_validation_key_column
        if not _TABLE.match(table) or not _IDENTIFIER.match(key):
            raise NotValidatable(
                f"RestoreValidationTables entry {entry!r} is not schema.table or schema.table:key_column"
            )
        out.append((table, key))
    return out


def secret_in(secret_arn: str, region: str) -> str:
    """The ARN of the secret's replica in ``region`` (a replicated secret keeps its ARN but the Region)."""
    parts = secret_arn.split(":")
    return ":".join([*parts[:3], region, *parts[4:]]) if len(parts) > 4 else secret_arn


def page_sql(table: str, key: str, changed: str) -> str:
    """The keyset page of (key, md5 of the row, change time as epoch seconds), PostgreSQL. The identifiers
    were checked against _TABLE / _IDENTIFIER; the only value (:after) is a bound parameter."""
    return (
        f"SELECT t.{key}::text AS k, md5(t::text) AS h, extract(epoch from t.{changed})::text AS c "  # noqa: S608
        f"FROM {table} AS t WHERE t.{key}::text > :after ORDER BY 1 LIMIT {ROWS_PER_PAGE}"
    )


def _value(field_: dict[str, Any]) -> str | None:
    return None if field_.get("isNull") else str(next(iter(field_.values())))


def table_rows(
    region: str, cluster_arn: str, secret_arn: str, database: str, table: str, key: str, changed: str
) -> dict[str, tuple[str, str | None]]:
    """key -> (md5 of the row, change time) of every row, read through the Data API a page at a time."""
    data = client("rds-data", region)
    rows: dict[str, tuple[str, str | None]] = {}
    after = ""
    while True:
        records = data.execute_statement(
            resourceArn=cluster_arn,
            secretArn=secret_in(secret_arn, region),
            database=database,
            sql=page_sql(table, key, changed),
            parameters=[{"name": "after", "value": {"stringValue": after}}],
        ).get("records", [])
        for record in records:
            row_key, digest, changed_at = (_value(f) for f in record)
            rows[str(row_key)] = (str(digest), changed_at)
        if len(records) < ROWS_PER_PAGE:
            return rows
        after = str(_value(records[-1][0]))


def ensure_instance(item: RestorePlanItem, request: BackupRequest, settings: Settings) -> dict[str, Any]:
    """The restored cluster, with an available DB instance and the HTTP endpoint (Data API) enabled.
    Creates what is missing; ReplicaNotReady while the cluster or its instance is not available yet."""
    rds = client("rds", item.region)
    cluster = rds.describe_db_clusters(DBClusterIdentifier=item.restore_name)["DBClusters"][0]
    if cluster.get("Status") != "available":
        raise ReplicaNotReady(f"restored cluster {item.restore_name} is {cluster.get('Status')}, not available yet")
    members = [m["DBInstanceIdentifier"] for m in cluster.get("DBClusterMembers", [])]
    if not members:
        name = f"{item.restore_name}-validator"[:63].rstrip("-")
        rds.create_db_instance(
            DBInstanceIdentifier=name,
            DBClusterIdentifier=item.restore_name,
            Engine=str(cluster["Engine"]),
            DBInstanceClass=settings.restore_instance_class,
            Tags=[
                {"Key": "dr:purpose", "Value": "restore-test"},
                {"Key": "dr:execution", "Value": request.execution_name},
                {"Key": "dr:source", "Value": item.resource_arn},
            ],
        )
        raise ReplicaNotReady(f"created DB instance {name} in {item.restore_name}; waiting for it to be available")
    instances = rds.describe_db_instances(
        Filters=[{"Name": "db-cluster-id", "Values": [str(cluster["DBClusterIdentifier"])]}]
    ).get("DBInstances", [])
    if not any(i.get("DBInstanceStatus") == "available" for i in instances):
        states = ", ".join(f"{i['DBInstanceIdentifier']} {i.get('DBInstanceStatus')}" for i in instances) or "none"
        raise ReplicaNotReady(f"no DB instance of {item.restore_name} is available yet ({states})")
    if not cluster.get("HttpEndpointEnabled"):
        rds.enable_http_endpoint(ResourceArn=cluster["DBClusterArn"])
    return dict(cluster)


def validate_cluster(
    item: RestorePlanItem, request: BackupRequest, settings: Settings
) -> tuple[list[dict[str, Any]], Comparison]:
    """The restored cluster runs the source's engine, and the rows of each configured table, read through
    the Data API, match the source's rows at the recovery point."""
    tables = validation_tables(settings)
    if not tables:
        raise NotValidatable(
            "no Aurora table to read: set the template parameter RestoreValidationTables (schema.table, ...) "
            "so the restore test can compare rows; without it the restored cluster proves nothing about the data"
        )
    if not settings.restore_validation_secret_arn:
        raise NotValidatable(
            "no database secret: set RestoreValidationSecretArn to a Secrets Manager secret (username and "
            "password of a user that can read the tables), replicated to the recovery region"
        )
    cluster = ensure_instance(item, request, settings)
    source = client("rds", item.source_region).describe_db_clusters(DBClusterIdentifier=item.resource_name)[
        "DBClusters"
    ][0]
    checks = [
        check(
            "cluster-engine",
            cluster.get("Engine") == source.get("Engine"),
            f"engine {cluster.get('Engine')} (source {source.get('Engine')})",
        )
    ]
    changed_column = settings.restore_changed_at_attribute
    if not _IDENTIFIER.match(changed_column):
        raise NotValidatable(f"RESTORE_CHANGED_AT_ATTRIBUTE {changed_column!r} is not a column name")
    secret, database = settings.restore_validation_secret_arn, settings.restore_validation_database
    parts: dict[str, Comparison] = {}
    for table, key in tables:
        restored = table_rows(item.region, str(cluster["DBClusterArn"]), secret, database, table, key, changed_column)
        current = table_rows(
            item.source_region, str(source["DBClusterArn"]), secret, database, table, key, changed_column
        )
        since, tolerance = item.recovery_point_created_at, settings.restore_count_tolerance_percent
        part = compare("rows", restored, current, lambda changed_at: changed_at, since, tolerance)
        parts[table] = part
        checks.append(check(f"rows {table}", part.matched, part.detail()))
    return checks, combined("rows", parts, settings.restore_count_tolerance_percent)
