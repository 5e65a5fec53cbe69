"""What a recovery point holds, read from moto when a backup completes and written back by a restore.

Modeled per resource type:

- DynamoDB: the table's key schema, attribute definitions, billing mode, secondary indexes and every item
  (the current version of each, in DynamoDB's wire format). A restore creates a new table with that
  schema (no streams, no TTL, no replicas: AWS restores neither) and puts the items back.
- S3: the bucket's current objects (key, ETag, body, metadata such as Content-Type); delete markers and
  non-current versions are not captured. A restore writes them into ``DestinationBucketName`` (a new bucket
  when ``NewBucket`` is ``"true"``), keeping each ETag; ``ItemsToRestore`` (a JSON list of key prefixes)
  narrows what is written.
- Aurora: the cluster's identifier, engine, version, port, database name, subnet group, security groups,
  encryption and size, and what its databases hold (``localcloud.services.rds_data.ClusterData``: tables,
  rows, users). A restore creates a new DB cluster (``available``, no instances, as AWS does) holding a
  copy of those rows and users, readable through the Data API once it has an instance.

moto's backends are read and written directly (not through the API), so a restore never meets an injected
fault or shows up in the interceptor's call counts.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import Any, ClassVar

from moto.core.exceptions import ServiceException
from moto.dynamodb.models import dynamodb_backends
from moto.rds.models import rds_backends
from moto.s3.models import FakeKey, s3_backends
from werkzeug.exceptions import HTTPException

from localcloud.services.backup.arns import AURORA, DYNAMODB, S3, ResourceRef, partition
from localcloud.services.backup.errors import invalid_parameter
from localcloud.services.rds_data import ClusterData, attach, cluster_data

_GIB = 1024**3
_PLACEHOLDER_PASSWORD = "restored-by-localcloud"


class SourceUnavailable(Exception):
    """The resource to back up cannot be read (it does not exist, or no longer does)."""


class RestoreFailed(Exception):
    """The restored resource cannot be created; the restore job ends FAILED with this message."""


@dataclass(frozen=True)
class DynamoTableSnapshot:
    table_name: str
    key_schema: list[dict[str, str]]
    attribute_definitions: list[dict[str, str]]
    items: list[dict[str, Any]] = field(default_factory=list)
    billing_mode: str = "PAY_PER_REQUEST"
    throughput: dict[str, int] | None = None
    global_indexes: list[dict[str, Any]] = field(default_factory=list)
    local_indexes: list[dict[str, Any]] = field(default_factory=list)
    resource_type: ClassVar[str] = DYNAMODB

    @property
    def size_bytes(self) -> int:
        return sum(len(json.dumps(item, sort_keys=True)) for item in self.items)


@dataclass(frozen=True)
class S3ObjectSnapshot:
    key: str
    etag: str  # as S3 answers it, in double quotes
    body: bytes
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class S3BucketSnapshot:
    bucket_name: str
    objects: list[S3ObjectSnapshot] = field(default_factory=list)
    resource_type: ClassVar[str] = S3

    @property
    def size_bytes(self) -> int:
        return sum(len(obj.body) for obj in self.objects)


@dataclass(frozen=True)
class AuroraClusterSnapshot:
    cluster_identifier: str
    engine: str = "aurora-postgresql"
    engine_version: str | None = None
    master_username: str = "admin"
    port: int | None = None
    database_name: str | None = None
    db_subnet_group_name: str | None = None
    vpc_security_group_ids: list[str] = field(default_factory=list)
    storage_encrypted: bool = True
    kms_key_id: str | None = None
    allocated_storage_gib: int = 1
    master_password: str | None = field(default=None, repr=False)
    data: ClusterData | None = field(default=None, repr=False)  # the rows and users, as backed up
    resource_type: ClassVar[str] = AURORA

    @property
    def size_bytes(self) -> int:
        return self.allocated_storage_gib * _GIB


Snapshot = DynamoTableSnapshot | S3BucketSnapshot | AuroraClusterSnapshot


# ---------------------------------------------------------------- capture (a backup job completes)


def capture(ref: ResourceRef, region: str, account_id: str) -> Snapshot:
    """The data of ``ref`` as it is now; SourceUnavailable when it cannot be read."""
    if ref.resource_type == DYNAMODB:
        return _capture_table(ref, region, account_id)
    if ref.resource_type == S3:
        return _capture_bucket(ref, region, account_id)
    return _capture_cluster(ref, region, account_id)


def _capture_table(ref: ResourceRef, region: str, account_id: str) -> DynamoTableSnapshot:
    table = dynamodb_backends[account_id][region].tables.get(ref.name)
    if table is None:
        raise SourceUnavailable(f"DynamoDB table {ref.name} does not exist in {region}; nothing to back up")
    billing = table.billing_mode or "PROVISIONED"
    throughput = None
    if billing == "PROVISIONED":
        throughput = {k: int(table.throughput[k]) for k in ("ReadCapacityUnits", "WriteCapacityUnits")}
    return DynamoTableSnapshot(
        table_name=ref.name,
        key_schema=copy.deepcopy(table.schema),
        attribute_definitions=copy.deepcopy(table.attr),
        items=[copy.deepcopy(item.to_json()["Attributes"]) for item in table.all_items()],
        billing_mode=billing,
        throughput=throughput,
        global_indexes=[_index(i.describe(), throughput) for i in table.global_indexes],
        local_indexes=[_index(i.describe(), None) for i in table.indexes],
    )


def _index(described: dict[str, Any], throughput: dict[str, int] | None) -> dict[str, Any]:
    index = {k: copy.deepcopy(described[k]) for k in ("IndexName", "KeySchema", "Projection")}
    if throughput is not None:
        index["ProvisionedThroughput"] = dict(throughput)
    return index


def _capture_bucket(ref: ResourceRef, region: str, account_id: str) -> S3BucketSnapshot:
    bucket = s3_backends[account_id][partition(region)].buckets.get(ref.name)
    if bucket is None:
        raise SourceUnavailable(f"S3 bucket {ref.name} does not exist; nothing to back up")
    objects = [
        S3ObjectSnapshot(key=key, etag=obj.etag, body=bytes(obj.value), metadata=dict(obj.metadata))
        for key, obj in sorted(bucket.keys.items())
        if isinstance(obj, FakeKey)  # the current version; a delete marker means the object is gone
    ]
    return S3BucketSnapshot(bucket_name=ref.name, objects=objects)


def _capture_cluster(ref: ResourceRef, region: str, account_id: str) -> AuroraClusterSnapshot:
    cluster = rds_backends[account_id][region].clusters.get(ref.name)
    if cluster is None:
        raise SourceUnavailable(f"Aurora DB cluster {ref.name} does not exist in {region}; nothing to back up")
    return AuroraClusterSnapshot(
        cluster_identifier=cluster.db_cluster_identifier,
        engine=cluster.engine,
        engine_version=cluster.engine_version,
        master_username=cluster.master_username or "admin",
        port=cluster.port,
        database_name=cluster.database_name,
        db_subnet_group_name=cluster.db_subnet_group_name,
        vpc_security_group_ids=list(cluster.vpc_security_group_ids or []),
        storage_encrypted=bool(cluster.storage_encrypted),
        kms_key_id=cluster.kms_key_id,
        allocated_storage_gib=int(cluster.allocated_storage or 1),
        master_password=getattr(cluster, "_master_user_password", None),
        data=held.copy() if (held := cluster_data(cluster)) is not None else None,
    )


# ---------------------------------------------------------------- restore metadata


def restore_metadata(resource_type: str, name: str, snapshot: Snapshot | None) -> dict[str, str]:
    """What GetRecoveryPointRestoreMetadata answers: the keys StartRestoreJob takes, set to the original."""
    if resource_type == DYNAMODB:
        return {"targetTableName": name, "encryptionType": "Default"}
    if resource_type == S3:
        return {"DestinationBucketName": name, "NewBucket": "false"}
    metadata = {"DBClusterIdentifier": name}
    if isinstance(snapshot, AuroraClusterSnapshot):
        metadata["Engine"] = snapshot.engine
        if snapshot.engine_version:
            metadata["EngineVersion"] = snapshot.engine_version
        if snapshot.port:
            metadata["Port"] = str(snapshot.port)
        if snapshot.db_subnet_group_name:
            metadata["DBSubnetGroupName"] = snapshot.db_subnet_group_name
        metadata["VpcSecurityGroupIds"] = json.dumps(snapshot.vpc_security_group_ids)
    return metadata


REQUIRED_METADATA = {DYNAMODB: "targetTableName", S3: "DestinationBucketName", AURORA: "DBClusterIdentifier"}


def check_restore_target(resource_type: str, metadata: dict[str, str], region: str, account_id: str) -> None:
    """Reject, before a job starts, metadata a restore could not use (InvalidParameterValueException)."""
    key = REQUIRED_METADATA[resource_type]
    target = metadata.get(key, "")
    if not target:
        raise invalid_parameter(
            f"Restore metadata for a {resource_type} recovery point must include '{key}' (the name of the "
            f"resource to create); the keys given were {sorted(metadata)}"
        )
    if resource_type == DYNAMODB:
        _check_table_target(target, metadata, region, account_id)
    elif resource_type == S3:
        _check_bucket_target(target, metadata, region, account_id)
    else:
        _check_cluster_target(target, metadata, region, account_id)


def _check_table_target(target: str, metadata: dict[str, str], region: str, account_id: str) -> None:
    if target in dynamodb_backends[account_id][region].tables:
        raise invalid_parameter(
            f"targetTableName '{target}' is already a table in {region}; a restore creates a new table"
        )
    encryption = metadata.get("encryptionType", "Default")
    if encryption not in ("Default", "KMS"):
        raise invalid_parameter(f"encryptionType must be 'Default' or 'KMS'; found '{encryption}'")
    if encryption == "KMS" and not metadata.get("kmsMasterKeyArn"):
        raise invalid_parameter("encryptionType 'KMS' needs 'kmsMasterKeyArn' in the restore metadata")


def _check_cluster_target(target: str, metadata: dict[str, str], region: str, account_id: str) -> None:
    if target.lower() in rds_backends[account_id][region].clusters:
        raise invalid_parameter(
            f"DBClusterIdentifier '{target}' is already a DB cluster in {region}; a restore creates a new cluster"
        )
    if "Port" in metadata and not metadata["Port"].isdigit():
        raise invalid_parameter(f"Port must be a number; found {metadata['Port']!r}")
    if "VpcSecurityGroupIds" in metadata:
        try:
            groups = json.loads(metadata["VpcSecurityGroupIds"])
        except json.JSONDecodeError:
            groups = None
        if not isinstance(groups, list):
            raise invalid_parameter(
                f"VpcSecurityGroupIds must be a JSON list of security group ids; found "
                f"{metadata['VpcSecurityGroupIds']!r}"
            )


def _check_bucket_target(target: str, metadata: dict[str, str], region: str, account_id: str) -> None:
    new_bucket = metadata.get("NewBucket", "false").lower()
    if new_bucket not in ("true", "false"):
        raise invalid_parameter(f"NewBucket must be 'true' or 'false'; found '{metadata['NewBucket']}'")
    exists = target in s3_backends[account_id][partition(region)].buckets
    if new_bucket == "true" and exists:
        raise invalid_parameter(f"DestinationBucketName '{target}' already exists but NewBucket is 'true'")
    if new_bucket == "false" and not exists:
        raise invalid_parameter(
            f"DestinationBucketName '{target}' does not exist; set NewBucket to 'true' to create it"
        )
    _prefixes(metadata)


def _prefixes(metadata: dict[str, str]) -> list[str] | None:
    raw = metadata.get("ItemsToRestore")
    if raw is None:
        return None
    try:
        prefixes = json.loads(raw)
    except json.JSONDecodeError:
        prefixes = None
    if not isinstance(prefixes, list) or not all(isinstance(p, str) for p in prefixes):
        raise invalid_parameter(f"ItemsToRestore must be a JSON list of object key prefixes; found {raw!r}")
    return prefixes


# ---------------------------------------------------------------- materialize (a restore job completes)


def materialize(
    snapshot: Snapshot, metadata: dict[str, str], region: str, account_id: str, recovery_point_arn: str = ""
) -> str:
    """Create the restored resource in moto; returns its name. RestoreFailed when it cannot be created."""
    try:
        if isinstance(snapshot, DynamoTableSnapshot):
            return _restore_table(snapshot, metadata, region, account_id)
        if isinstance(snapshot, S3BucketSnapshot):
            return _restore_bucket(snapshot, metadata, region, account_id)
        return _restore_cluster(snapshot, metadata, region, account_id, recovery_point_arn)
    except (HTTPException, ServiceException) as error:  # moto refused to create it, as the service would
        code = getattr(error, "error_type", None) or getattr(error, "code", None) or type(error).__name__
        detail = getattr(error, "message", None) or str(error)
        raise RestoreFailed(f"{code}: {detail}") from error


def _restore_table(snap: DynamoTableSnapshot, metadata: dict[str, str], region: str, account_id: str) -> str:
    backend = dynamodb_backends[account_id][region]
    name = metadata["targetTableName"]
    if name in backend.tables:
        raise RestoreFailed(f"Table already exists: {name} (in {region}); the restore did not overwrite it")
    sse = None
    if metadata.get("encryptionType") == "KMS":
        sse = {"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": metadata["kmsMasterKeyArn"]}
    table = backend.create_table(
        name,
        schema=copy.deepcopy(snap.key_schema),
        throughput=dict(snap.throughput) if snap.throughput else None,
        attr=copy.deepcopy(snap.attribute_definitions),
        global_indexes=copy.deepcopy(snap.global_indexes) or None,
        indexes=copy.deepcopy(snap.local_indexes) or None,
        streams=None,
        billing_mode=snap.billing_mode,
        sse_specification=sse,
        tags=[],
        deletion_protection_enabled=False,
        warm_throughput=None,
    )
    for item in snap.items:
        table.put_item(copy.deepcopy(item))
    return name


def _restore_bucket(snap: S3BucketSnapshot, metadata: dict[str, str], region: str, account_id: str) -> str:
    backend = s3_backends[account_id][partition(region)]
    name = metadata["DestinationBucketName"]
    if metadata.get("NewBucket", "false").lower() == "true":
        if name in backend.buckets:
            raise RestoreFailed(f"Bucket {name} already exists; NewBucket 'true' asked for a new one")
        backend.create_bucket(name, region)
    elif name not in backend.buckets:
        raise RestoreFailed(f"Bucket {name} does not exist and NewBucket is 'false'")
    prefixes = _prefixes(metadata)
    for obj in snap.objects:
        if prefixes is not None and not any(obj.key.startswith(p) for p in prefixes):
            continue
        key = backend.put_object(name, obj.key, obj.body, etag=obj.etag.strip('"'))
        key.set_metadata(dict(obj.metadata))
    return name


def _restore_cluster(
    snap: AuroraClusterSnapshot, metadata: dict[str, str], region: str, account_id: str, recovery_point_arn: str
) -> str:
    backend = rds_backends[account_id][region]
    name = metadata["DBClusterIdentifier"].lower()
    if name in backend.clusters:
        raise RestoreFailed(f"DBClusterAlreadyExistsFault: DB cluster {name} already exists in {region}")
    groups = json.loads(metadata["VpcSecurityGroupIds"]) if "VpcSecurityGroupIds" in metadata else None
    cluster = backend.create_db_cluster(
        {
            "db_cluster_identifier": name,
            "engine": metadata.get("Engine", snap.engine),
            "engine_version": metadata.get("EngineVersion", snap.engine_version),
            "master_username": snap.master_username,
            "master_user_password": snap.master_password or _PLACEHOLDER_PASSWORD,
            "port": int(metadata["Port"]) if "Port" in metadata else snap.port,
            "database_name": metadata.get("DatabaseName", snap.database_name),
            "db_subnet_group_name": metadata.get("DBSubnetGroupName", snap.db_subnet_group_name),
            "vpc_security_group_ids": groups if groups is not None else list(snap.vpc_security_group_ids),
            "storage_encrypted": snap.storage_encrypted,
            "kms_key_id": metadata.get("KmsKeyId", snap.kms_key_id),
            "allocated_storage": snap.allocated_storage_gib,
        }
    )
    cluster.status = "available"
    data = (
        snap.data.copy()
        if snap.data is not None
        else ClusterData(users={snap.master_username: snap.master_password or _PLACEHOLDER_PASSWORD})
    )
    data.restored_from = recovery_point_arn or "a recovery point"
    attach(cluster, data)
    return name
