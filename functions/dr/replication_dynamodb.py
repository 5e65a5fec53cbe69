"""Replication setup of DynamoDB (global tables), idempotently (dr.replication runs it with the other stores).

DynamoDB (global tables, version 2019.11.21): each protected table in ``from_region`` has a stream with
NEW_AND_OLD_IMAGES (global tables need it), a replica in ``to_region`` (``UpdateTable`` with
``ReplicaUpdates`` Create) that is ACTIVE, and point-in-time recovery on in both regions (35 days).
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from dr.aws import aws_errors, client
from dr.errors import ReplicationNotConfigured
from dr.inventory import Inventory
from dr.replication_common import ClientFactory, SetupResult, SetupRun, missing

STREAM_VIEW = "NEW_AND_OLD_IMAGES"
PITR_DAYS = 35


def setup_dynamodb(
    inv: Inventory, from_region: str, to_region: str, *, dry_run: bool = False, clients: ClientFactory = client
) -> SetupResult:
    run = SetupRun(dry_run)
    for name in inv.tables:
        with aws_errors(f"set up DynamoDB replication of {name} {from_region} → {to_region}", ReplicationNotConfigured):
            _table(run, name, clients("dynamodb", from_region), clients("dynamodb", to_region), from_region, to_region)
    return run.result("dynamodb", from_region, to_region)


def _describe_table(ddb: Any, name: str) -> dict[str, Any] | None:
    try:
        return dict(ddb.describe_table(TableName=name)["Table"])
    except ClientError as err:
        if missing(err, "ResourceNotFoundException"):
            return None
        raise


def _table(run: SetupRun, name: str, src: Any, dst: Any, from_region: str, to_region: str) -> None:
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


def _stream(run: SetupRun, src: Any, name: str, desc: dict[str, Any], region: str, is_global: bool) -> bool:
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


def _pitr(run: SetupRun, ddb: Any, name: str, region: str) -> None:
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
