"""DynamoDB global tables (version 2019.11.21) on top of moto, replicating on the virtual clock.

moto accepts ``UpdateTable`` with ``ReplicaUpdates`` but ignores it: no table appears in the other
Region and nothing is replicated. ``GlobalTablesSimulator`` adds both.

Modeled (DynamoDB Developer Guide, "Global tables - multi-active replication"; API reference of
``UpdateTable`` and ``DescribeTable``):
- ``UpdateTable`` with ``ReplicaUpdates``: ``Create`` makes the replica in Region R through moto's
  backend (same key schema, attribute definitions, GSIs, LSIs, billing mode, provisioned throughput
  or ``ProvisionedThroughputOverride``, stream specification, encryption) holding a copy of the
  caller's items; ``Delete`` deletes the replica table in R. The source needs a stream with
  ``NEW_AND_OLD_IMAGES`` (``ValidationException`` otherwise); other errors: a Region that is not a
  DynamoDB Region, the caller's own Region, a Region already a replica, a Region already holding a
  table of that name, deleting a Region that is not a replica (all ``ValidationException``), an
  unknown table (``ResourceNotFoundException``). Other parameters in the same request are applied
  by moto first. ``Update`` (per-replica settings) is accepted and has no effect.
- a new replica is ``CREATING`` for ``replica_creation_seconds`` (0 by default, so tests need not
  wait; ``set_replica_creation_seconds(60)`` for a realistic timeline): ``DescribeTable`` in R shows
  ``TableStatus`` CREATING, the other replicas show it with ``ReplicaStatus`` CREATING and their own
  ``TableStatus`` UPDATING; writes replicated to it wait until it is ACTIVE.
- ``DescribeTable`` (and ``UpdateTable``) of a global table: ``GlobalTableVersion`` "2019.11.21"
  and ``Replicas`` listing every replica except the one in the caller's Region, in the order they
  were added. Non-global tables are answered by moto untouched.
- replication: every successful write to any replica (PutItem, UpdateItem, DeleteItem,
  BatchWriteItem, TransactWriteItems, PartiQL) is read from that replica's DynamoDB stream in moto
  (as the service does: only writes that happened are replicated, each with the image it wrote) and
  applied to every other replica once ``written_at + latency(source, target)`` has passed on the
  virtual clock; latency 0.5 s by default, ``set_replication_latency`` per direction. Conflicts are
  resolved last writer wins by write time (ties by Region name), per item, deletes included. A
  replicated write appears in the receiving replica's stream too, and is not replicated again.
- nothing runs in the background: due writes are applied by a hook before every AWS call (any
  service) and by ``pump()``; knobs pump first, so what was due before a change has happened.
- outages: ``pause_replication(source_region)`` holds every write from that Region;
  ``resume_replication`` delivers them ``latency`` after the resume (and ends a slowdown);
  ``slow_replication(source_region, rate)`` makes the latency out of that Region grow by ``rate``
  seconds per second from now (a gray failure: replication slows down, lag grows).
- CloudWatch ``AWS/DynamoDB`` ``ReplicationLatency`` (Milliseconds; dimensions ``TableName``,
  ``ReceivingRegion``) in the source Region, one series per table and direction, through the
  ``MetricsSimulator`` when given: the configured latency, or the age of the oldest write not yet
  delivered in that direction when that is larger (a paused Region's growing backlog). Unlike
  DynamoDB, which reports it only while items are replicated, the series has a value every minute.
- replicas leave the global table when their table is deleted (``DeleteTable`` in that Region).

Not modeled: settings synchronisation across replicas after creation (GSI, billing, TTL, stream
changes made on one replica stay there), table classes, replica auto scaling, the provisioned
write-capacity/auto-scaling requirement, ``Disassociate``, MRSC (strong consistency) global tables,
version 2017.11.29 (``CreateGlobalTable``), writes being refused by a replica still CREATING, the
Lambda event-source mappings of a replica firing for replicated writes, replication of items written
before the table became global other than through the initial copy. Write times come from moto's
stream records; if a stream's records are dropped (moto clears them when a Lambda event-source
mapping consumes them) before a hook ran, those writes are not replicated.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache, partial
from typing import Any

import boto3
from moto.core import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import StreamRecord

from localcloud.clock import VirtualClock
from localcloud.interceptor import AwsError, Call, Interceptor, Response, serialize_error, serialize_result
from localcloud.services.metrics import MetricsSimulator
from localcloud.services.passthrough import moto_response
from localcloud.services.regional_replication import RegionalReplication

GLOBAL_TABLE_VERSION = "2019.11.21"
DEFAULT_REPLICATION_LATENCY_SECONDS = 0.5
REQUIRED_STREAM_VIEW = "NEW_AND_OLD_IMAGES"
# Marks the stream records this simulator wrote while applying a replicated write.
_REPLICATED_MARK = "_localcloud_replicated"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

Version = tuple[datetime, str]  # (write time, Region written in): the last-writer-wins order


@cache
def dynamodb_regions() -> frozenset[str]:
    """The Regions where botocore knows DynamoDB (all partitions)."""
    session = boto3.session.Session()
    regions: set[str] = set()
    for partition in session.get_available_partitions():
        regions.update(session.get_available_regions("dynamodb", partition_name=partition))
    return frozenset(regions)


def _backend(region: str) -> Any:
    return dynamodb_backends[DEFAULT_ACCOUNT_ID][region]


def _table_name(name_or_arn: str) -> str:
    return name_or_arn.split(":table/", 1)[1].split("/", 1)[0] if ":table/" in name_or_arn else name_or_arn


def _aware(moment: Any) -> datetime:
    """A stream record's ApproximateCreationDateTime (moto: naive UTC) as an aware UTC datetime."""
    if isinstance(moment, datetime):
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return datetime.fromtimestamp(float(moment), UTC)


@dataclass
class Replica:
    region: str
    table: Any  # moto's Table object: the replica is this object, not just a name
    active_at: datetime


@dataclass
class GlobalTable:
    name: str
    replicas: dict[str, Replica] = field(default_factory=dict)  # Region -> replica, in order added


@dataclass
class ReplicatedWrite:
    """One write read from a replica's stream, waiting to reach the other replicas."""

    table: str
    source_region: str
    key: str  # canonical JSON of the item's key
    keys: dict[str, Any]
    image: dict[str, Any] | None  # the item as written; None for a delete
    written_at: datetime
    targets: list[str]  # Regions not reached yet

    @property
    def version(self) -> Version:
        return (self.written_at, self.source_region)


@dataclass
class _Cursor:
    records: list[Any]  # the moto list being read (moto replaces it when a stream is recreated)
    position: int


class GlobalTablesSimulator(RegionalReplication):
    """Replicas in other Regions for moto's DynamoDB tables, replicated on the virtual clock."""

    def __init__(self, clock: VirtualClock, metrics: MetricsSimulator | None = None) -> None:
        super().__init__(clock)
        self.metrics = metrics
        self.replica_creation_seconds = 0.0
        self._latency_rules: list[tuple[str | None, str | None, float]] = [
            (None, None, DEFAULT_REPLICATION_LATENCY_SECONDS)
        ]
        self._tables: dict[str, GlobalTable] = {}
        self._pending: list[ReplicatedWrite] = []
        self._versions: dict[tuple[str, str], dict[str, Version]] = {}  # (table, Region) -> key -> version
        self._cursors: dict[tuple[str, str], _Cursor] = {}

    # -- knobs -------------------------------------------------------------------------------------
    def set_replication_latency(
        self, seconds: float, source_region: str | None = None, target_region: str | None = None
    ) -> None:
        """Latency of the writes from ``source_region`` to ``target_region`` (None: every Region).

        The latest call that covers a direction decides its latency; a call with neither Region
        resets every direction. Writes not delivered yet are due ``seconds`` after they were made.
        """
        if seconds < 0:
            raise ValueError(f"replication latency must be >= 0 seconds, got {seconds}")
        with self._lock:
            self._pump_locked()
            if source_region is None and target_region is None:
                self._latency_rules = []
            self._latency_rules.append((source_region, target_region, float(seconds)))

    def replication_latency(self, source_region: str, target_region: str) -> float:
        with self._lock:
            return self._latency(source_region, target_region)

    def set_replica_creation_seconds(self, seconds: float) -> None:
        """How long a replica created from now on stays CREATING."""
        if seconds < 0:
            raise ValueError(f"replica creation time must be >= 0 seconds, got {seconds}")
        with self._lock:
            self.replica_creation_seconds = float(seconds)

    def make_global(self, table_name: str, source_region: str, replica_regions: list[str]) -> None:
        """Add replicas of ``source_region``'s table, as ``UpdateTable`` ``ReplicaUpdates`` Create does."""
        with self._lock:
            self._pump_locked()
            try:
                self._apply_replica_updates(
                    table_name,
                    source_region,
                    [{"Create": {"RegionName": region}} for region in replica_regions],
                )
            except AwsError as error:
                raise ValueError(
                    f"make_global({table_name!r}, {source_region!r}, {replica_regions!r}): "
                    f"{error.code}: {error.message}"
                ) from error
        self._define_series()

    # -- views -------------------------------------------------------------------------------------
    def replicas(self, table: str) -> list[str]:
        """The Regions of ``table``'s replicas (all of them, in the order added); [] if not global."""
        with self._lock:
            self._refresh_membership()
            group = self._tables.get(_table_name(table))
            return list(group.replicas) if group else []

    def pending_writes(self, table: str | None = None, source_region: str | None = None) -> int:
        """Writes not yet delivered to every other replica."""
        with self._lock:
            self._pump_locked()
            return sum(
                1
                for write in self._pending
                if (table is None or write.table == _table_name(table))
                and (source_region is None or write.source_region == source_region)
            )

    # -- replication ---------------------------------------------------------------------------------
    def pump(self) -> int:
        """Apply every write that is due on the clock; return how many deliveries were made."""
        with self._lock:
            return self._pump_locked()

    def _pump_locked(self) -> int:
        self._refresh_membership()
        for group in list(self._tables.values()):
            for region in list(group.replicas):
                self._drain(group, region)
        now = self.clock.now()
        due: list[tuple[datetime, int, ReplicatedWrite, str]] = []
        for order, write in enumerate(self._pending):
            for target in write.targets:
                at = self._due_at(write, target)
                if at is not None and at <= now:
                    due.append((at, order, write, target))
        due.sort(key=lambda entry: (entry[0], entry[1]))
        for _, _, write, target in due:
            self._apply(write, target)
            write.targets.remove(target)
        self._pending = [write for write in self._pending if write.targets]
        return len(due)

    def _latency(self, source: str, target: str) -> float:
        growth = self._growth(source)
        for rule_source, rule_target, seconds in reversed(self._latency_rules):
            if rule_source in (None, source) and rule_target in (None, target):
                return seconds + growth
        return DEFAULT_REPLICATION_LATENCY_SECONDS + growth

    def _due_at(self, write: ReplicatedWrite, target: str) -> datetime | None:
        group = self._tables.get(write.table)
        replica = group.replicas.get(target) if group else None
        arrival = self._arrival(write.source_region, write.written_at, self._latency(write.source_region, target))
        return None if replica is None or arrival is None else max(arrival, replica.active_at)

    def _drain(self, group: GlobalTable, region: str) -> None:
        """Queue the writes found in ``region``'s stream since the last look."""
        shard = group.replicas[region].table.stream_shard
        if shard is None:
            return
        records = shard.items
        cursor = self._cursors.get((group.name, region))
        start = cursor.position if cursor is not None and cursor.records is records else 0
        end = len(records)
        self._cursors[(group.name, region)] = _Cursor(records, end)
        versions = self._versions.setdefault((group.name, region), {})
        targets = [other for other in group.replicas if other != region]
        for record in records[start:end]:
            if getattr(record, _REPLICATED_MARK, False):
                continue
            body = record.record
            change = body["dynamodb"]
            keys = copy.deepcopy(change["Keys"])
            write = ReplicatedWrite(
                table=group.name,
                source_region=region,
                key=json.dumps(keys, sort_keys=True),
                keys=keys,
                image=copy.deepcopy(change["NewImage"]) if body["eventName"] != "REMOVE" else None,
                written_at=_aware(change["ApproximateCreationDateTime"]),
                targets=list(targets),
            )
            versions[write.key] = write.version
            if targets:
                self._pending.append(write)

    def _apply(self, write: ReplicatedWrite, target: str) -> None:
        """Apply ``write`` to the replica in ``target`` unless it holds a later write of that item."""
        table = self._tables[write.table].replicas[target].table
        versions = self._versions.setdefault((write.table, target), {})
        current = versions.get(write.key)
        if current is not None and current > write.version:
            return  # last writer wins: the target's own value is newer
        versions[write.key] = write.version
        hash_key = DynamoType(write.keys[table.hash_key_attr])
        range_key = DynamoType(write.keys[table.range_key_attr]) if table.range_key_attr else None
        old = table.get_item(hash_key, range_key)
        new = Item(hash_key, range_key, copy.deepcopy(write.image)) if write.image is not None else None
        if new is not None and range_key is not None:
            table.items[hash_key][range_key] = new
        elif new is not None:
            table.items[hash_key] = new
        elif old is not None and range_key is not None:
            table.items[hash_key].pop(range_key, None)
        elif old is not None:
            table.items.pop(hash_key, None)
        self._record_in_stream(table, old, new)

    @staticmethod
    def _record_in_stream(table: Any, old: Any, new: Any) -> None:
        """Show a replicated write in the receiving replica's stream, marked so it is not re-replicated."""
        shard = table.stream_shard
        if shard is None or (old is None and new is None):
            return
        event = "INSERT" if old is None else "REMOVE" if new is None else "MODIFY"
        view = (table.stream_specification or {}).get("StreamViewType", REQUIRED_STREAM_VIEW)
        record = StreamRecord(table, view, event, old, new, len(shard.items) + shard.starting_sequence_number)
        setattr(record, _REPLICATED_MARK, True)
        shard.items.append(record)

    # -- membership ------------------------------------------------------------------------------------
    def _refresh_membership(self) -> None:
        """Drop replicas whose table is gone (deleted in their Region); dissolve single-replica groups."""
        for name, group in list(self._tables.items()):
            for region, replica in list(group.replicas.items()):
                if _backend(region).tables.get(name) is not replica.table:
                    self._forget_replica(group, region)
            if len(group.replicas) < 2:
                for region in list(group.replicas):
                    self._forget_replica(group, region)
                del self._tables[name]

    def _forget_replica(self, group: GlobalTable, region: str) -> None:
        group.replicas.pop(region, None)
        self._cursors.pop((group.name, region), None)
        self._versions.pop((group.name, region), None)
        for write in self._pending:
            if write.table != group.name:
                continue
            if write.source_region == region:
                write.targets.clear()
            elif region in write.targets:
                write.targets.remove(region)
        self._pending = [write for write in self._pending if write.targets]

    # -- replica updates -----------------------------------------------------------------------------
    def _existing_table(self, region: str, name: str) -> Any:
        table = _backend(region).tables.get(name)
        if table is None:
            raise AwsError("ResourceNotFoundException", f"Requested resource not found: Table: {name} not found")
        return table

    def _apply_replica_updates(
        self,
        name: str,
        region: str,
        updates: list[dict[str, Any]],
        stream_specification: dict[str, Any] | None = None,
    ) -> None:
        """Validate ``updates`` (raising ``AwsError``), then make and delete the replicas."""
        creates, deletes = self._check_replica_updates(name, region, updates, stream_specification)
        self._execute_replica_updates(name, region, creates, deletes)

    def _check_replica_updates(
        self,
        name: str,
        region: str,
        updates: list[dict[str, Any]],
        stream_specification: dict[str, Any] | None,
    ) -> tuple[list[dict[str, Any]], list[str]]:
        table = self._existing_table(region, name)
        group = self._tables.get(name)
        members = list(group.replicas) if group else [region]
        creates, deletes = self._validate_updates(name, region, members, updates)
        stream = stream_specification or table.stream_specification or {}
        if creates and (not stream.get("StreamEnabled") or stream.get("StreamViewType") != REQUIRED_STREAM_VIEW):
            raise AwsError(
                "ValidationException",
                f"Table {name} in {region} needs DynamoDB Streams enabled with StreamViewType "
                f"{REQUIRED_STREAM_VIEW} to add replicas (global tables version {GLOBAL_TABLE_VERSION}); "
                f"found StreamSpecification {stream or {'StreamEnabled': False}}.",
            )
        return creates, deletes

    def _execute_replica_updates(
        self, name: str, region: str, creates: list[dict[str, Any]], deletes: list[str]
    ) -> None:
        table = self._existing_table(region, name)
        group = self._tables.get(name)
        if group is None and creates:
            group = GlobalTable(name)
            group.replicas[region] = Replica(region, table, _EPOCH)
            self._tables[name] = group
            self._cursors[(name, region)] = self._cursor_at_end(table)
        for create in creates:
            assert group is not None
            self._create_replica(group, table, region, create)
        for target in deletes:
            try:
                _backend(target).delete_table(name)
            except Exception as error:  # moto's DeletionProtectedException and the like
                raise AwsError(
                    "ValidationException",
                    f"Replica of {name} in {target} can't be deleted: {getattr(error, 'message', error)}",
                ) from error
        self._refresh_membership()

    def _validate_updates(
        self, name: str, region: str, members: list[str], updates: list[dict[str, Any]]
    ) -> tuple[list[dict[str, Any]], list[str]]:
        creates: list[dict[str, Any]] = []
        deletes: list[str] = []
        seen: set[str] = set()
        for update in updates:
            actions = sorted(update)
            if len(actions) != 1:
                raise AwsError(
                    "ValidationException",
                    "Each ReplicaUpdates entry must hold exactly one of Create, Update, Delete, "
                    f"Disassociate; found {actions or 'none'}.",
                )
            action = actions[0]
            target = str(update[action].get("RegionName", ""))
            if target in seen:
                raise AwsError("ValidationException", f"Region {target} appears twice in ReplicaUpdates.")
            seen.add(target)
            if action == "Disassociate":
                raise AwsError(
                    "ValidationException",
                    "ReplicaUpdates Disassociate is not modeled by localcloud; use Delete to remove a replica.",
                )
            if action == "Create":
                self._validate_create(name, region, members, target)
                creates.append(update["Create"])
            elif action == "Delete":
                self._validate_delete(name, region, members, target)
                deletes.append(target)
            elif target not in members:
                raise AwsError(
                    "ValidationException",
                    f"Cannot update the replica of {name} in {target}: it is not a replica (replicas: {members}).",
                )
        return creates, deletes

    @staticmethod
    def _validate_create(name: str, region: str, members: list[str], target: str) -> None:
        if target not in dynamodb_regions():
            raise AwsError(
                "ValidationException",
                f"Cannot create a replica of {name} in {target!r}: expected a Region where DynamoDB is "
                "available (such as us-west-2).",
            )
        if target == region:
            raise AwsError(
                "ValidationException",
                f"Cannot create a replica of {name} in {target}: that is the Region of the table you called "
                "UpdateTable on.",
            )
        if target in members:
            raise AwsError(
                "ValidationException",
                f"Cannot create a replica of {name} in {target}: it already is a replica (replicas: {members}).",
            )
        if name in _backend(target).tables:
            raise AwsError(
                "ValidationException",
                f"Failed to create the new replica of table with name: '{name}' because one or more replicas "
                f"already existed as tables (a table {name} exists in {target} and is not a replica).",
            )

    @staticmethod
    def _validate_delete(name: str, region: str, members: list[str], target: str) -> None:
        if target not in members:
            raise AwsError(
                "ValidationException",
                f"Cannot delete the replica of {name} in {target}: it is not a replica (replicas: {members}).",
            )
        if target == region:
            others = [member for member in members if member != target]
            raise AwsError(
                "ValidationException",
                f"Cannot delete the replica of {name} in {target} from {target}: call UpdateTable from "
                f"another replica's Region ({others}) or DeleteTable in {target}.",
            )

    def _create_replica(self, group: GlobalTable, source: Any, region: str, create: dict[str, Any]) -> None:
        target = create["RegionName"]
        billing = source.billing_mode or "PROVISIONED"
        throughput = None
        if billing != "PAY_PER_REQUEST":
            throughput = {
                "ReadCapacityUnits": source.throughput["ReadCapacityUnits"],
                "WriteCapacityUnits": source.throughput["WriteCapacityUnits"],
            }
            override = create.get("ProvisionedThroughputOverride") or {}
            if "ReadCapacityUnits" in override:
                throughput["ReadCapacityUnits"] = override["ReadCapacityUnits"]
        sse = None
        if create.get("KMSMasterKeyId"):
            sse = {"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": create["KMSMasterKeyId"]}
        elif source.sse_specification:
            sse = {k: v for k, v in source.sse_specification.items() if k != "KMSMasterKeyId"}
        replica_table = _backend(target).create_table(
            name=group.name,
            schema=copy.deepcopy(source.schema),
            throughput=throughput,
            attr=copy.deepcopy(source.attr),
            global_indexes=[_gsi_spec(index) for index in source.global_indexes] or None,
            indexes=[_lsi_spec(index) for index in source.indexes] or None,
            streams=copy.deepcopy(source.stream_specification),
            billing_mode=source.billing_mode,
            sse_specification=sse,
            tags=[],
            deletion_protection_enabled=False,
            warm_throughput=None,
        )
        replica_table.items = copy.deepcopy(source.items)
        self._versions[(group.name, target)] = dict(self._versions.get((group.name, region), {}))
        self._cursors[(group.name, target)] = self._cursor_at_end(replica_table)
        active_at = self.clock.now() + timedelta(seconds=self.replica_creation_seconds)
        group.replicas[target] = Replica(target, replica_table, active_at)
        for write in self._pending:  # writes still travelling to the source must reach the copy too
            if write.table == group.name and write.source_region != region and region in write.targets:
                write.targets.append(target)

    @staticmethod
    def _cursor_at_end(table: Any) -> _Cursor:
        records = table.stream_shard.items if table.stream_shard is not None else []
        return _Cursor(records, len(records))

    # -- descriptions --------------------------------------------------------------------------------
    def _describe(self, name: str, region: str, base_key: str) -> dict[str, Any]:
        group = self._tables[name]
        now = self.clock.now()
        described: dict[str, Any] = group.replicas[region].table.describe(base_key=base_key)[base_key]
        creating = {r for r, replica in group.replicas.items() if replica.active_at > now}
        if region in creating:
            described["TableStatus"] = "CREATING"
        elif creating:
            described["TableStatus"] = "UPDATING"
        described["GlobalTableVersion"] = GLOBAL_TABLE_VERSION
        described["Replicas"] = [
            {"RegionName": other, "ReplicaStatus": "CREATING" if other in creating else "ACTIVE"}
            for other in group.replicas
            if other != region
        ]
        return described

    def _is_global_here(self, name: str, region: str) -> bool:
        group = self._tables.get(name)
        return group is not None and region in group.replicas

    # -- the API ---------------------------------------------------------------------------------------
    def _describe_table(self, call: Call) -> Response:
        name = _table_name(call.params["TableName"])
        with self._lock:
            self._refresh_membership()
            if not self._is_global_here(name, call.region):
                return moto_response(call)
            return serialize_result(call, {"Table": self._describe(name, call.region, "Table")})

    def _update_table(self, call: Call) -> Response:
        """Replica updates here; everything else by moto (the answer shows the replicas when global)."""
        params = call.params
        name = _table_name(params["TableName"])
        updates = params.get("ReplicaUpdates") or []
        others = [k for k in params if k not in ("TableName", "ReplicaUpdates")]
        stream = params.get("StreamSpecification")
        with self._lock:
            self._pump_locked()
            try:
                if self._is_global_here(name, call.region):
                    self._refuse_stream_change(name, stream)
                plan = self._check_replica_updates(name, call.region, updates, stream) if updates else None
                if others or plan is None:
                    response = moto_response(call)
                    if response[0] != 200 or (plan is None and not self._is_global_here(name, call.region)):
                        return response
                if plan is not None:
                    self._execute_replica_updates(name, call.region, *plan)
                if self._is_global_here(name, call.region):
                    result = {"TableDescription": self._describe(name, call.region, "TableDescription")}
                else:
                    result = self._existing_table(call.region, name).describe(base_key="TableDescription")
            except AwsError as error:
                return serialize_error(call, error.code, error.message, 400)
        self._define_series()
        return serialize_result(call, result)

    def _refuse_stream_change(self, name: str, stream: dict[str, Any] | None) -> None:
        if stream is not None and not stream.get("StreamEnabled", True):
            group = self._tables[name]
            raise AwsError(
                "ValidationException",
                f"Table {name} is a global table (version {GLOBAL_TABLE_VERSION}) with replicas in "
                f"{list(group.replicas)}; its stream can't be disabled while it has replicas.",
            )

    # -- metrics ---------------------------------------------------------------------------------------
    def _latency_ms(self, name: str, source: str, target: str) -> float | None:
        with self._lock:
            self._pump_locked()
            group = self._tables.get(name)
            if group is None or source not in group.replicas or target not in group.replicas:
                return None
            seconds = self._latency(source, target)
            oldest = min(
                (
                    write.written_at
                    for write in self._pending
                    if write.table == name and write.source_region == source and target in write.targets
                ),
                default=None,
            )
            if oldest is not None:
                seconds = max(seconds, (self.clock.now() - oldest).total_seconds())
            return seconds * 1000.0

    def _define_series(self) -> None:
        if self.metrics is None:
            return
        with self._lock:
            directions = [
                (group.name, source, target)
                for group in self._tables.values()
                for source in group.replicas
                for target in group.replicas
                if source != target
            ]
        for name, source, target in directions:
            self.metrics.define(
                source,
                "AWS/DynamoDB",
                "ReplicationLatency",
                {"TableName": name, "ReceivingRegion": target},
                partial(self._latency_ms, name, source, target),
                unit="Milliseconds",
            )

    # -- wiring ----------------------------------------------------------------------------------------
    def _before_call(self, call: Call) -> None:
        self.pump()

    def register(self, interceptor: Interceptor) -> None:
        interceptor.hook(self._before_call)
        interceptor.route("dynamodb", "UpdateTable", self._update_table)
        interceptor.route("dynamodb", "DescribeTable", self._describe_table)
        if self.metrics is not None:
            self.metrics.before_publish(self._define_series)


def _gsi_spec(index: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "IndexName": index.name,
        "KeySchema": copy.deepcopy(index.schema),
        "Projection": copy.deepcopy(index.projection),
        "ProvisionedThroughput": {
            "ReadCapacityUnits": index.throughput.get("ReadCapacityUnits", 0),
            "WriteCapacityUnits": index.throughput.get("WriteCapacityUnits", 0),
        },
    }
    warm = {k: v for k, v in (index.warm_throughput or {}).items() if k != "Status"}
    if warm:
        spec["WarmThroughput"] = warm
    return spec


def _lsi_spec(index: Any) -> dict[str, Any]:
    return {
        "IndexName": index.name,
        "KeySchema": copy.deepcopy(index.schema),
        "Projection": copy.deepcopy(index.projection),
    }
