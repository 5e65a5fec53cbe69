"""The writes the recovery region took while it served the platform, and whether they have reached home.

A failback must not lose them. This module counts, per store, what was written in ``from_region`` (the
recovery region) since the outage began and how much of it is not in ``to_region`` (the old primary) yet:

- when the outage began: the detection time of the newest successful failover in the audit records (the
  state table); without one, ``lookback_hours`` ago (and the report says so);
- DynamoDB: items whose change-time attribute (``ITEM_CHANGED_AT_ATTRIBUTE``, ``updated_at`` on this
  platform: an ISO-8601 string or epoch seconds/milliseconds) is at or after that time, read with one
  filtered Scan of the recovery replica; an item has arrived when the home replica holds it with the same
  or a newer change time. Items without the attribute are counted apart (their age cannot be told), and
  deletes are not visible here (DynamoDB replicates them like any write);
- S3: the newest version (or delete marker) of each key written in the recovery bucket at or after that
  time, not counting replicas that came from home; it has arrived when the home bucket holds that version
  (replication keeps version ids).
"""

from __future__ import annotations

import functools
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from dr import heartbeat
from dr.aws import client, paginate
from dr.inventory import Inventory
from dr.replication_common import ClientFactory
from dr.replication_s3 import object_versions

EXAMPLES = 5


@functools.cache
def _deserializer() -> Any:
    """boto3's DynamoDB type deserializer, imported at first use (importing boto3 is a cold start's largest share)."""
    from boto3.dynamodb.types import TypeDeserializer  # noqa: PLC0415

    return TypeDeserializer()


def outage_started_at(
    state_table: str, region: str, lookback_hours: float, clients: ClientFactory = client
) -> tuple[datetime, str]:
    """When the recovery region started taking writes: the newest successful failover's detection time."""
    ddb = clients("dynamodb", region)
    newest: tuple[str, dict[str, Any]] | None = None
    kwargs: dict[str, Any] = {
        "TableName": state_table,
        "FilterExpression": "begins_with(pk, :audit) AND workflow = :failover AND #status = :ok",
        "ExpressionAttributeNames": {"#status": "status"},
        "ExpressionAttributeValues": {
            ":audit": {"S": "audit#"},
            ":failover": {"S": "failover"},
            ":ok": {"S": "SUCCEEDED"},
        },
    }
    for item in paginate(ddb, "scan", "Items", **kwargs):
        finished = item.get("finished_at", {}).get("S", "")
        if newest is None or finished > newest[0]:
            newest = (finished, json.loads(item["report"]["S"]))
    if newest is not None and newest[1].get("detected_at"):
        report = newest[1]
        started = datetime.fromisoformat(str(report["detected_at"]))
        return started, f"detection time of failover {str(report.get('execution', '?')).rsplit(':', 1)[-1]}"
    started = datetime.now(UTC) - timedelta(hours=lookback_hours)
    return started, f"no successful failover on record: looked back {lookback_hours:g} h"


def changed_at(value: Any) -> datetime | None:
    """A change-time attribute as a UTC datetime (ISO string, or epoch seconds or milliseconds)."""
    try:
        if isinstance(value, str):
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        if isinstance(value, int | float) or hasattr(value, "as_tuple"):
            number = float(value)
            return datetime.fromtimestamp(number / 1000 if number > 1e11 else number, UTC)
    except (ValueError, OverflowError, OSError):
        return None
    return None


def _key_names(ddb: Any, table: str) -> list[str]:
    return [k["AttributeName"] for k in ddb.describe_table(TableName=table)["Table"]["KeySchema"]]


def _batch_get(ddb: Any, table: str, keys: list[dict[str, Any]], names: dict[str, str], projection: str) -> list[Any]:
    found: list[Any] = []
    for start in range(0, len(keys), 100):
        request: dict[str, Any] = {
            table: {
                "Keys": keys[start : start + 100],
                "ProjectionExpression": projection,
                "ExpressionAttributeNames": names,
            }
        }
        while request:
            out = ddb.batch_get_item(RequestItems=request)
            found.extend(out.get("Responses", {}).get(table, []))
            request = out.get("UnprocessedKeys") or {}
    return found


def dynamodb_writes(
    inv: Inventory,
    from_region: str,
    to_region: str,
    since: datetime,
    attribute: str,
    clients: ClientFactory = client,
) -> dict[str, Any]:
    src, dst = clients("dynamodb", from_region), clients("dynamodb", to_region)
    tables: dict[str, Any] = {}
    for table in inv.tables:
        key_names = _key_names(src, table)
        names = {f"#k{i}": k for i, k in enumerate(key_names)} | {"#c": attribute, "#h": heartbeat.WRITTEN_AT}
        projection = ", ".join(names)
        written: dict[str, tuple[dict[str, Any], datetime]] = {}
        undated = 0
        kwargs: dict[str, Any] = {
            "TableName": table,
            "ProjectionExpression": projection,
            "ExpressionAttributeNames": names,
        }
        for item in paginate(src, "scan", "Items", **kwargs):
            if heartbeat.is_heartbeat(item):
                continue  # the DR heartbeats are not the application's writes
            when = changed_at(_deserializer().deserialize(item[attribute])) if attribute in item else None
            if when is None:
                undated += 1
            elif when >= since:
                key = {k: item[k] for k in key_names}
                written[json.dumps(key, sort_keys=True)] = (key, when)
        home: dict[str, datetime | None] = {}
        for item in _batch_get(dst, table, [k for k, _ in written.values()], names, projection):
            home_key = json.dumps({k: item[k] for k in key_names}, sort_keys=True)
            home[home_key] = changed_at(_deserializer().deserialize(item[attribute])) if attribute in item else None
        missing = [
            key
            for key, (_, when) in written.items()
            if home.get(key) is None or home[key] < when  # type: ignore[operator]
        ]
        tables[table] = {
            "written": len(written),
            "still_to_arrive": len(missing),
            "without_change_time": undated,
            "examples": [json.loads(k) for k in sorted(missing)[:EXAMPLES]],
        }
    return {
        "attribute": attribute,
        "written": sum(t["written"] for t in tables.values()),
        "still_to_arrive": sum(t["still_to_arrive"] for t in tables.values()),
        "tables": tables,
    }


def s3_writes(
    inv: Inventory, from_region: str, to_region: str, since: datetime, clients: ClientFactory = client
) -> dict[str, Any]:
    src, dst = clients("s3", from_region), clients("s3", to_region)
    since = since.replace(microsecond=0)  # S3's LastModified has whole seconds
    buckets: dict[str, Any] = {}
    for pair in inv.buckets:
        source, destination = inv.bucket_in(pair, from_region), inv.bucket_in(pair, to_region)
        versions, markers = object_versions(src, source)
        there_versions, there_markers = object_versions(dst, destination)
        present = {str(v["VersionId"]) for v in there_versions + there_markers}
        written, missing = 0, []
        for entry, is_marker in [(v, False) for v in versions] + [(m, True) for m in markers]:
            if not entry.get("IsLatest") or entry["LastModified"] < since:
                continue
            if str(entry["Key"]).startswith(heartbeat.OBJECT_PREFIX):
                continue  # the DR heartbeats are not the application's writes
            version_id = str(entry["VersionId"])
            if not is_marker:
                try:
                    head = src.head_object(Bucket=source, Key=entry["Key"], VersionId=version_id)
                except ClientError:
                    head = {}
                if head.get("ReplicationStatus") == "REPLICA":
                    continue  # written at home and replicated here
            written += 1
            if version_id not in present:
                missing.append(str(entry["Key"]))
        buckets[source] = {
            "home_bucket": destination,
            "written": written,
            "still_to_arrive": len(missing),
            "examples": sorted(missing)[:EXAMPLES],
        }
    return {
        "written": sum(b["written"] for b in buckets.values()),
        "still_to_arrive": sum(b["still_to_arrive"] for b in buckets.values()),
        "buckets": buckets,
    }


def report(
    inv: Inventory,
    from_region: str,
    to_region: str,
    since: datetime,
    since_source: str,
    attribute: str,
    clients: ClientFactory = client,
) -> dict[str, Any]:
    dynamodb = dynamodb_writes(inv, from_region, to_region, since, attribute, clients)
    s3 = s3_writes(inv, from_region, to_region, since, clients)
    return {
        "since": since.isoformat(),
        "since_source": since_source,
        "from_region": from_region,
        "to_region": to_region,
        "checked_at": datetime.now(UTC).isoformat(),
        "items_written": dynamodb["written"],
        "items_still_to_arrive": dynamodb["still_to_arrive"],
        "objects_written": s3["written"],
        "objects_still_to_arrive": s3["still_to_arrive"],
        "dynamodb": dynamodb,
        "s3": s3,
    }
