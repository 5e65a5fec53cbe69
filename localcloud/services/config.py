"""AWS Config's recorded configuration of DynamoDB tables, S3 buckets and RDS DB clusters, answered by
``SelectResourceConfig`` (the advanced query) from moto's live state.

moto keeps the configuration recorder (PutConfigurationRecorder, PutDeliveryChannel,
Start/StopConfigurationRecorder, DescribeConfigurationRecorderStatus: answered by moto) but answers
``SelectResourceConfig`` with canned results and records nothing. This simulator records, per Region, a
configuration item for each resource of a type the Region's recorder records (``allSupported`` or the
type in ``resourceTypes``), from moto's state, in the item shape of the AWS Config resource schema
(awslabs/aws-config-resource-schema):

- ``AWS::DynamoDB::Table``: ``resourceId`` and ``resourceName`` the table name; ``configuration``
  (``tableName``, ``tableArn``, ``tableStatus``, ``creationDateTime``); ``supplementaryConfiguration.
  ContinuousBackupsDescription`` (``continuousBackupsStatus``, ``pointInTimeRecoveryDescription.
  pointInTimeRecoveryStatus``), DescribeContinuousBackups' answer with AWS Config's lower camel case.
- ``AWS::S3::Bucket`` (recorded in the bucket's Region): ``resourceId`` the bucket name; ``configuration``
  (``name``, ``creationDate``); ``supplementaryConfiguration.BucketVersioningConfiguration`` (``status``
  ``Off`` / ``Enabled`` / ``Suspended``, ``isMfaDeleteEnabled``) and, when the bucket has one,
  ``BucketReplicationConfiguration`` (``roleARN``; ``rules``, a map of rule id to the rule: ``status``,
  ``priority``, ``prefix``, ``deleteMarkerReplication``, ``destinationConfig`` with ``bucketARN``,
  ``storageClass``, ``replicationTime`` and ``metrics``: the S3 rule with AWS Config's names).
- ``AWS::RDS::DBCluster``: ``resourceId`` the cluster's resource id (``cluster-…``), ``resourceName`` its
  identifier; ``configuration`` (``dBClusterIdentifier``, ``dbClusterResourceId``, ``status``,
  ``backupRetentionPeriod``).

Recording (continuous): while the recorder is recording, a new or changed resource gets a new item whose
``configurationItemCaptureTime`` is the virtual time AWS Config first looks after the change (the next
SelectResourceConfig in that Region: AWS records within minutes, so an item here is never older than
AWS's); an unchanged resource keeps its item and its capture time; a deleted resource's item goes. While
the recorder is stopped (or absent) nothing is recorded: the items keep what they were, however the
resources change, and age on the clock.

``SelectResourceConfig``: the query language's ``SELECT <properties> WHERE resourceType = '<type>'`` or
``WHERE resourceType IN ('<type>', ...)``, recorded up to the query's first page (its later pages page
through the same items), properties dotted paths into the item (a path to an object
returns the object); each result a JSON document of the selected paths (``Results``), ``QueryInfo.
SelectFields`` the paths; ``Limit`` 0 to 100 (0 or absent: 100) and an opaque ``NextToken``
(``InvalidNextTokenException`` for one this query did not issue). Any other expression is answered
``InvalidExpressionException`` naming this limit: it is localcloud's, not AWS's.

Not modeled: other resource types, other query forms (functions, ``ORDER BY``, other ``WHERE``
conditions), aggregators, ``BatchGetResourceConfig`` / ``GetResourceConfigHistory``, periodic (daily)
recording, the delivery channel's snapshots, relationships and tags.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from moto.config.models import config_backends
from moto.core import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import dynamodb_backends
from moto.rds.models import rds_backends
from moto.s3.models import s3_backends

from localcloud.clock import VirtualClock
from localcloud.interceptor import Call, Interceptor, Response, serialize_error, serialize_result
from localcloud.services.s3_replication import replication_of

TABLE, BUCKET, CLUSTER = "AWS::DynamoDB::Table", "AWS::S3::Bucket", "AWS::RDS::DBCluster"
MODELED = (TABLE, BUCKET, CLUSTER)
MAX_LIMIT = 100
_QUERY = re.compile(
    r"^\s*SELECT\s+(?P<fields>.+?)\s+WHERE\s+resourceType\s*(?:=\s*(?P<one>'[^']*')|IN\s*\((?P<many>[^)]*)\))\s*;?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_PATH = re.compile(r"^[A-Za-z][A-Za-z0-9]*(?:\.[A-Za-z][A-Za-z0-9]*)*$")


class ConfigError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


@dataclass
class Item:
    """One recorded configuration item: what was seen, and when AWS Config captured it."""

    body: dict[str, Any]  # every field but the capture time
    captured_at: datetime

    def document(self) -> dict[str, Any]:
        return {**self.body, "configurationItemCaptureTime": self.captured_at.isoformat()}


def _camel(value: Any) -> Any:
    """An API answer with AWS Config's names: lower camel case keys, times as ISO 8601."""
    if isinstance(value, dict):
        return {k[:1].lower() + k[1:]: _camel(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_camel(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _rule(rule: dict[str, Any]) -> dict[str, Any]:
    destination = dict(rule.get("Destination") or {})
    config_destination = {"bucketARN": destination.pop("Bucket", None), **_camel(destination)}
    flt = rule.get("Filter") or {}
    return {
        "status": rule.get("Status"),
        "priority": rule.get("Priority"),
        "prefix": rule.get("Prefix", flt.get("Prefix")),
        "filter": _camel(flt) or None,
        "deleteMarkerReplication": _camel(rule.get("DeleteMarkerReplication")),
        "destinationConfig": config_destination,
    }


def _base(resource_type: str, resource_id: str, name: str, arn: str, region: str, created: Any) -> dict[str, Any]:
    return {
        "version": "1.3",
        "accountId": DEFAULT_ACCOUNT_ID,
        "configurationItemStatus": "OK",
        "resourceType": resource_type,
        "resourceId": resource_id,
        "resourceName": name,
        "arn": arn,
        "awsRegion": region,
        "resourceCreationTime": created.isoformat() if isinstance(created, datetime) else created,
    }


def tables(region: str) -> dict[str, dict[str, Any]]:
    out = {}
    for name, table in dynamodb_backends[DEFAULT_ACCOUNT_ID][region].tables.items():
        body = _base(TABLE, name, name, table.table_arn, region, table.created_at)
        body["configuration"] = {
            "tableName": name,
            "tableArn": table.table_arn,
            "tableStatus": "ACTIVE",  # moto describes every table ACTIVE
            "creationDateTime": table.created_at.isoformat(),
        }
        body["supplementaryConfiguration"] = {"ContinuousBackupsDescription": _camel(table.continuous_backups)}
        out[table.table_arn] = body
    return out


def buckets(region: str) -> dict[str, dict[str, Any]]:
    out = {}
    for name, bucket in s3_backends[DEFAULT_ACCOUNT_ID]["aws"].buckets.items():
        if bucket.region_name != region:
            continue
        arn = f"arn:aws:s3:::{name}"
        body = _base(BUCKET, name, name, arn, region, bucket.creation_date)
        body["configuration"] = {"name": name, "creationDate": bucket.creation_date.isoformat()}
        supplementary: dict[str, Any] = {
            "BucketVersioningConfiguration": {"status": bucket.versioning_status or "Off", "isMfaDeleteEnabled": None}
        }
        replication = replication_of(bucket)
        if replication:
            supplementary["BucketReplicationConfiguration"] = {
                "roleARN": replication.get("Role"),
                "rules": {str(r.get("ID") or f"rule-{n}"): _rule(r) for n, r in enumerate(replication["Rules"])},
            }
        body["supplementaryConfiguration"] = supplementary
        out[arn] = body
    return out


def clusters(region: str) -> dict[str, dict[str, Any]]:
    out = {}
    for identifier, cluster in rds_backends[DEFAULT_ACCOUNT_ID][region].clusters.items():
        resource_id = cluster.db_cluster_resource_id
        body = _base(CLUSTER, resource_id, identifier, cluster.arn, region, cluster.cluster_create_time)
        body["configuration"] = {
            "dBClusterIdentifier": identifier,
            "dbClusterResourceId": resource_id,
            "status": cluster.status,
            "backupRetentionPeriod": int(cluster.backup_retention_period or 0),
        }
        out[cluster.arn] = body
    return out


READERS = {TABLE: tables, BUCKET: buckets, CLUSTER: clusters}


def _project(document: dict[str, Any], path: str) -> tuple[bool, Any]:
    value: Any = document
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return False, None
        value = value[part]
    return True, value


def _put(out: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for part in parents:
        out = out.setdefault(part, {})
    out[last] = value


def parse_query(expression: str) -> tuple[list[str], list[str]]:
    """(the selected paths, the resource types) of the one query form modeled."""
    match = _QUERY.match(expression)
    if match is None:
        raise ConfigError(
            "InvalidExpressionException",
            "localcloud's AWS Config answers only SELECT <properties> WHERE resourceType = '<type>' or "
            f"WHERE resourceType IN ('<type>', ...); got {expression!r}",
        )
    fields = [f.strip() for f in match["fields"].split(",")]
    if not all(_PATH.match(f) for f in fields):
        raise ConfigError("InvalidExpressionException", f"invalid property in SELECT: {match['fields']!r}")
    quoted = [match["one"]] if match["one"] else [t.strip() for t in match["many"].split(",")]
    if not all(len(t) > 1 and t[0] == t[-1] == "'" for t in quoted):
        raise ConfigError("InvalidExpressionException", f"resource types must be quoted strings: {quoted}")
    return fields, [t[1:-1] for t in quoted]


class ConfigSimulator:
    def __init__(self, clock: VirtualClock) -> None:
        self.clock = clock
        self._items: dict[str, dict[str, Item]] = {}  # region -> arn -> item
        self._queries: dict[str, list[dict[str, Any]]] = {}  # query id -> the items its pages go through
        self._lock = threading.RLock()

    # -- the recorder (moto's) ------------------------------------------------------------------------
    @staticmethod
    def recorded_types(region: str) -> set[str]:
        """The modeled types the Region's recorder records while it is recording (empty: not recording)."""
        out: set[str] = set()
        for recorder in config_backends[DEFAULT_ACCOUNT_ID][region].recorders.values():
            group = recorder.recording_group
            if not recorder.status.recording or group is None:
                continue
            out |= set(MODELED) if group.all_supported else set(group.resource_types or []) & set(MODELED)
        return out

    def record(self, region: str) -> None:
        """Bring the Region's items up to moto's state, for the types being recorded now."""
        with self._lock:
            now, items = self.clock.now(), self._items.setdefault(region, {})
            for resource_type in self.recorded_types(region):
                live = READERS[resource_type](region)
                for arn in [a for a, i in items.items() if i.body["resourceType"] == resource_type and a not in live]:
                    del items[arn]
                for arn, body in live.items():
                    if arn not in items or items[arn].body != body:
                        items[arn] = Item(body, now)

    def items(self, region: str) -> list[dict[str, Any]]:
        """The Region's configuration items as AWS Config would return them (recorded up to now)."""
        self.record(region)
        with self._lock:
            return [self._items[region][arn].document() for arn in sorted(self._items.get(region, {}))]

    def age_items(self, region: str, captured_at: datetime) -> None:
        """Knob: every item of the Region captured at ``captured_at`` (a recorder that stopped long ago)."""
        with self._lock:
            for item in self._items.get(region, {}).values():
                item.captured_at = captured_at

    # -- SelectResourceConfig -------------------------------------------------------------------------
    def select(self, region: str, expression: str, limit: int | None, token: str | None) -> dict[str, Any]:
        fields, types = parse_query(expression)
        if limit is not None and not 0 <= limit <= MAX_LIMIT:
            raise ConfigError("InvalidLimitException", f"Limit must be between 0 and {MAX_LIMIT}, got {limit}")
        size = limit or MAX_LIMIT
        # a query's later pages page through the items its first page saw (recorded once per query)
        if token:
            query, start = self._offset(token, expression)
            with self._lock:
                matching = self._queries.get(query, [])
        else:
            query, start = uuid.uuid4().hex, 0
            matching = [d for d in self.items(region) if d["resourceType"] in types]
        results = []
        for document in matching[start : start + size]:
            row: dict[str, Any] = {}
            for path in fields:
                found, value = _project(document, path)
                if found:
                    _put(row, path, value)
            results.append(json.dumps(row))
        out: dict[str, Any] = {"Results": results, "QueryInfo": {"SelectFields": [{"Name": f} for f in fields]}}
        with self._lock:
            if start + size < len(matching):
                self._queries[query] = matching
                raw = json.dumps({"query": query, "offset": start + size, "expression": expression}).encode()
                out["NextToken"] = base64.urlsafe_b64encode(raw).decode()
            else:
                self._queries.pop(query, None)
        return out

    def _offset(self, token: str, expression: str) -> tuple[str, int]:
        try:
            decoded = json.loads(base64.urlsafe_b64decode(token.encode()))
            with self._lock:
                if decoded["expression"] == expression and decoded["query"] in self._queries:
                    return str(decoded["query"]), int(decoded["offset"])
        except (ValueError, KeyError, TypeError, binascii.Error):
            pass
        raise ConfigError("InvalidNextTokenException", "The nextToken provided is invalid")

    def _select_resource_config(self, call: Call) -> Response:
        params = call.params
        try:
            result = self.select(call.region, params["Expression"], params.get("Limit"), params.get("NextToken"))
        except ConfigError as error:
            return serialize_error(call, error.code, error.message, 400)
        return serialize_result(call, result)

    def _before_call(self, call: Call) -> None:
        if call.service == "config" and call.operation == "StopConfigurationRecorder":
            self.record(call.region)  # what changed until the recorder stops is recorded

    def register(self, interceptor: Interceptor) -> None:
        interceptor.hook(self._before_call)
        interceptor.route("config", "SelectResourceConfig", self._select_resource_config)
