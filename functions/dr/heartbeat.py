"""Heartbeats: how far behind a store's replica is, measured from the replica's own region.

Every minute ``WriteHeartbeat`` (scheduled in the recovery region) writes, in each region, one heartbeat
into every protected table (an item keyed through the table's own key schema, ``__dr_heartbeat__#REGION``)
and every protected bucket (``_dr/heartbeat/REGION.json`` with its write time in the object's metadata).
Replication carries each one to the other region like any other write.

Read in region T, the heartbeat written in region S tells the newest moment whose writes have (very
likely) reached T. The data-loss exposure of moving from S to T is therefore bounded by ``now - written_at``
of the newest heartbeat of S that T holds. What the bound is, and is not:
- it is an upper bound in the normal case: writes between the heartbeat and now may have arrived too (the
  bound includes up to one heartbeat interval, 60 s, on top of the real lag);
- DynamoDB global tables and S3 replication do not promise order across items/objects: a write older than
  the heartbeat that is stuck (a hot partition, a large object) is not seen by this measure;
- during an outage the bound keeps growing with the clock, whether or not the source still took writes:
  it is what can be *known* from the recovery region, not the loss itself;
- no heartbeat of S in T (never replicated, or replication toward T is off) is "unknown", never 0.

Cost to the application: one item write per table per region per minute (about 43,800 writes a month per
table in each region, each replicated; all the tables of a region in one BatchWriteItem request), visible to
stream consumers of the production tables: they must skip items whose key starts with ``__dr_heartbeat__``
(or carry ``dr_heartbeat_at``); one small object per bucket per region per minute, replicated (S3 PUT and
replication charges, and an event for any bucket notification on the ``_dr/`` prefix).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from dr.aws import error_code

INTERVAL_SECONDS = 60  # WriteHeartbeat's schedule: rate(1 minute)
BATCH = 25  # BatchWriteItem's limit of items per request
# a batch refused whole for these is sent again as it was; for any other code, table by table
BATCH_TRANSIENT = frozenset({"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"})
MARKER = "__dr_heartbeat__"
WRITTEN_AT = "dr_heartbeat_at"
OBJECT_PREFIX = "_dr/heartbeat/"
_SCHEMAS: dict[str, list[tuple[str, str]]] = {}  # table -> [(key attribute, type)]: a warm Lambda reads it once


def object_key(region: str) -> str:
    return f"{OBJECT_PREFIX}{region}.json"


def _schema(ddb: Any, table: str) -> list[tuple[str, str]]:
    if table not in _SCHEMAS:
        description = ddb.describe_table(TableName=table)["Table"]
        types = {a["AttributeName"]: a["AttributeType"] for a in description["AttributeDefinitions"]}
        _SCHEMAS[table] = [(k["AttributeName"], types[k["AttributeName"]]) for k in description["KeySchema"]]
    return _SCHEMAS[table]


def item_key(schema: list[tuple[str, str]], region: str) -> dict[str, Any]:
    """The heartbeat's key in a table with this key schema (S, N or B attributes), one per region."""
    label = f"{MARKER}#{region}"
    number = -int(hashlib.sha256(label.encode()).hexdigest()[:12], 16)  # stable, negative, never a real id
    values = {"S": {"S": label}, "N": {"N": str(number)}, "B": {"B": label.encode()}}
    return {name: values[kind] for name, kind in schema}


def is_heartbeat(item: dict[str, Any]) -> bool:
    """Whether a DynamoDB item (low-level shape) is a heartbeat: by its key or its marker attribute."""
    if WRITTEN_AT in item:
        return True
    return any(str(value.get("S", "")).startswith(MARKER) for value in item.values() if isinstance(value, dict))


def _item(ddb: Any, table: str, region: str, now: datetime) -> dict[str, Any]:
    key = item_key(_schema(ddb, table), region)
    return {**key, WRITTEN_AT: {"N": f"{now.timestamp():.3f}"}, "dr_heartbeat_region": {"S": region}}


def write_items(ddb: Any, tables: Sequence[str], region: str, now: datetime) -> dict[str, str]:
    """This region's heartbeat in every table, in as few requests as DynamoDB takes (``BatchWriteItem``, 25
    items each: one request for a platform's tables, where one ``PutItem`` per table made the heartbeat most of
    the schedule's calls). Returns ``{table: why}`` for each table not written:

    - a batch refused as a whole (one table missing in this region, not allowed, a validation error) is written
      again table by table (``PutItem``), so one table's fault does not blind the RPO of the others;
    - the items DynamoDB leaves unprocessed (throttled) are sent once more, then reported;
    - no answer at all (no connection, a timeout) is raised: the caller knows the endpoint is silent.
    """
    failed: dict[str, str] = {}
    for start in range(0, len(tables), BATCH):
        items: dict[str, dict[str, Any]] = {}
        for table in tables[start : start + BATCH]:
            try:
                items[table] = _item(ddb, table, region, now)  # the key schema: DescribeTable, once per warm Lambda
            except ClientError as err:
                failed[table] = failure(err)
        failed |= _write_batch(ddb, items)
    return failed


def _write_batch(ddb: Any, items: dict[str, dict[str, Any]]) -> dict[str, str]:
    pending = {table: [{"PutRequest": {"Item": item}}] for table, item in items.items()}
    why = ""
    for _attempt in range(2):
        if not pending:
            return {}
        try:
            pending = ddb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
            why = "UnprocessedItems: DynamoDB left it unwritten (throttled), twice"
        except ClientError as err:
            if error_code(err) not in BATCH_TRANSIENT:
                return _write_each(ddb, {table: items[table] for table in pending})
            why = f"{failure(err)} (the batch, twice)"  # throttled whole: once more, as for unprocessed items
    return dict.fromkeys(pending, why)


def _write_each(ddb: Any, items: dict[str, dict[str, Any]]) -> dict[str, str]:
    failed: dict[str, str] = {}
    tables = list(items)
    for n, table in enumerate(tables):
        try:
            ddb.put_item(TableName=table, Item=items[table])
        except ClientError as err:
            failed[table] = failure(err)
        except BotoCoreError as err:  # the endpoint stopped answering: the rest would each wait it out
            return failed | {rest: failure(err) for rest in tables[n:]}
    return failed


def write_object(s3: Any, bucket: str, region: str, now: datetime) -> None:
    s3.put_object(
        Bucket=bucket,
        Key=object_key(region),
        Body=f'{{"region": "{region}", "written_at": "{now.isoformat()}"}}'.encode(),
        ContentType="application/json",
        Metadata={"written-at": f"{now.timestamp():.3f}"},
    )


def item_seen(ddb: Any, table: str, of_region: str) -> datetime | None:
    """When the newest heartbeat of ``of_region`` that this table replica holds was written; None when it
    holds none."""
    item = ddb.get_item(TableName=table, Key=item_key(_schema(ddb, table), of_region), ConsistentRead=True).get("Item")
    if not item or WRITTEN_AT not in item:
        return None
    return datetime.fromtimestamp(float(item[WRITTEN_AT]["N"]), UTC)


def object_seen(s3: Any, bucket: str, of_region: str) -> datetime | None:
    """When the heartbeat object of ``of_region`` that this bucket holds was written; None when it has none."""
    try:
        head = s3.head_object(Bucket=bucket, Key=object_key(of_region))
    except ClientError as err:
        if error_code(err) in ("404", "NoSuchKey", "NotFound"):
            return None
        raise
    written = (head.get("Metadata") or {}).get("written-at")
    return datetime.fromtimestamp(float(written), UTC) if written else None


def failure(err: Exception) -> str:
    code = error_code(err) if isinstance(err, ClientError) else type(err).__name__
    return f"{code}: {err}"


WRITE_ERRORS = (ClientError, BotoCoreError)
