"""The RDS Data API (``rds-data`` ExecuteStatement) over the rows an Aurora cluster holds, and the cluster
settings the Data API needs (``EnableHttpEndpoint``, an available DB instance).

moto's rds-data answers every statement with a canned result and runs no SQL; moto's RDS has no
``EnableHttpEndpoint`` and makes every DB instance ``available`` the moment it is created. This simulator
gives a cluster data and answers what AWS answers, from the Data API reference (errors of botocore's
model) and the Aurora User Guide ("Using RDS Data API"):

- What a cluster holds: ``ClusterData`` (databases of tables — columns, a primary key, rows — and the
  database users with their passwords), attached to moto's DB cluster object. Scenarios load it with
  ``load_table`` / ``add_user``. AWS Backup's Aurora recovery point copies it, and a restore gives the
  copy to the restored cluster (``localcloud.services.backup.snapshots``): a restored cluster holds the
  source's rows as they were when the backup was taken, and the source's users and passwords.
- ``ExecuteStatement`` checks, in this order: the ``resourceArn`` names a DB cluster of the call's Region
  (``BadRequestException``); its HTTP endpoint is enabled (``HttpEndpointNotEnabledException``); it has a
  DB instance (``DatabaseNotFoundException``: "The DB cluster doesn't have a DB instance") that is
  ``available`` (``DatabaseUnavailableException``, HTTP 504); the ``secretArn`` is a Secrets Manager
  secret of that Region (``SecretsErrorException``) holding JSON with ``username`` and ``password``
  (``InvalidSecretException``) that are a database user's (``DatabaseErrorException``: password
  authentication failed); the ``database`` exists (``DatabaseErrorException``).
- The SQL it runs (PostgreSQL's answers, values as ``stringValue`` / ``isNull``): ``SELECT 1``, and the
  restore validator's keyset page of row digests,
  ``SELECT t.<key>::text AS k, md5(t::text) AS h, extract(epoch from t.<column>)::text AS c FROM <table>
  AS t WHERE t.<key>::text > :after ORDER BY 1 LIMIT <n>`` (an unknown table or column is
  ``DatabaseErrorException`` with PostgreSQL's message). Any other statement is answered
  ``BadRequestException`` naming this limit: it is localcloud's, not AWS's.
- ``EnableHttpEndpoint`` / ``DisableHttpEndpoint`` (RDS; for provisioned and Serverless v2 clusters):
  ``ResourceNotFoundFault`` for an unknown cluster ARN, ``InvalidResourceStateFault`` unless the cluster
  is ``available``; ``DescribeDBClusters`` then shows ``HttpEndpointEnabled``.
- ``CreateDBInstance`` into a cluster restored from a recovery point: the instance is ``creating`` for
  ``instance_create_seconds`` (600 s) on the virtual clock, then ``available``, as AWS takes minutes to
  create one. Instances of other clusters keep moto's behaviour (available at once), which the failover
  and failback scenarios were written against.

Not modeled: transactions, ``BatchExecuteStatement``, ``ExecuteSql``, JSON-formatted results, result
metadata beyond column names, MySQL engines (statements are answered as Aurora PostgreSQL would), IAM
database authentication, Serverless v1 pausing, the 1 MB response limit.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from moto.core import DEFAULT_ACCOUNT_ID
from moto.rds.models import rds_backends
from moto.secretsmanager.models import secretsmanager_backends

from localcloud.clock import VirtualClock
from localcloud.interceptor import Call, Interceptor, Response, serialize_error, serialize_result
from localcloud.services.passthrough import moto_response, parse_response

_DATA_ATTRIBUTE = "localcloud_data"  # set on moto's DBCluster objects
_CLUSTER_ARN = re.compile(r"^arn:aws[\w-]*:rds:([a-z0-9-]+):(\d{12}):cluster:([A-Za-z][A-Za-z0-9-]{0,62})$")
_IDENTIFIER = r"[A-Za-z_][A-Za-z0-9_]*"
_PAGE = re.compile(  # a pattern that recognises the statement (S608 sees SQL in it)
    rf"^SELECT t\.(?P<key>{_IDENTIFIER})::text AS k, md5\(t::text\) AS h, "  # noqa: S608
    rf"extract\(epoch from t\.(?P<changed>{_IDENTIFIER})\)::text AS c "
    rf"FROM (?P<table>{_IDENTIFIER}(?:\.{_IDENTIFIER})?) AS t "
    rf"WHERE t\.(?P=key)::text > :after ORDER BY 1 LIMIT (?P<limit>\d+)$",
    re.IGNORECASE,
)
_SELECT_ONE = re.compile(r"^SELECT 1;?$", re.IGNORECASE)


# ---------------------------------------------------------------------------------------- what a cluster holds
@dataclass
class Table:
    """Rows of one table: each row a dict of column -> value (str, int, float, bool, datetime or None)."""

    columns: list[str]
    key: str
    rows: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class ClusterData:
    """The databases (name -> "schema.table" -> Table) and users (name -> password) of a cluster."""

    databases: dict[str, dict[str, Table]] = field(default_factory=dict)
    users: dict[str, str] = field(default_factory=dict)
    restored_from: str | None = None  # the recovery point this cluster was restored from

    def copy(self) -> ClusterData:
        return copy.deepcopy(self)


def cluster_data(cluster: Any) -> ClusterData | None:
    """The data moto's DB cluster object holds (None: nothing was loaded into it)."""
    data = getattr(cluster, _DATA_ATTRIBUTE, None)
    return data if isinstance(data, ClusterData) else None


def attach(cluster: Any, data: ClusterData) -> None:
    setattr(cluster, _DATA_ATTRIBUTE, data)


def qualified(table: str) -> str:
    """``schema.table`` (PostgreSQL's default schema is ``public``)."""
    return table if "." in table else f"public.{table}"


def pg_text(value: Any) -> str:
    """A value as PostgreSQL's ``::text`` writes it (timestamps with time zone in UTC)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f").rstrip("0").rstrip(".") + "+00"
    return str(value)


def row_digest(table: Table, row: dict[str, Any]) -> str:
    """``md5(t::text)``: the digest of the row's text form, columns in the table's order."""
    text = "(" + ",".join(pg_text(row.get(c)) for c in table.columns) + ")"
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


class DataApiError(Exception):
    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(f"{code}: {message}")
        self.code, self.message, self.status = code, message, status


# ---------------------------------------------------------------------------------------- the simulator
class RdsDataSimulator:
    """``RdsDataSimulator(clock, account_id=DEFAULT_ACCOUNT_ID)``; see the module docstring."""

    def __init__(self, clock: VirtualClock, account_id: str = DEFAULT_ACCOUNT_ID) -> None:
        self.clock = clock
        self.account_id = account_id
        self.instance_create_seconds = 600.0
        self._creating: dict[tuple[str, str], datetime] = {}  # (region, instance id) -> available at
        self._lock = threading.RLock()
        self.statements: list[dict[str, str]] = []  # every statement answered: cluster ARN, database, sql

    def register(self, interceptor: Interceptor) -> None:
        interceptor.hook(self._before_call)
        interceptor.route("rds-data", "ExecuteStatement", self._answer(self._execute_statement))
        interceptor.route("rds", "EnableHttpEndpoint", self._answer(lambda call: self._http_endpoint(call, True)))
        interceptor.route("rds", "DisableHttpEndpoint", self._answer(lambda call: self._http_endpoint(call, False)))
        interceptor.route("rds", "CreateDBInstance", self._create_db_instance)

    # -- knobs for scenarios and tests -------------------------------------------------------------------
    def load_table(
        self,
        region: str,
        cluster_id: str,
        database: str,
        table: str,
        columns: list[str],
        key: str,
        rows: list[dict[str, Any]],
    ) -> None:
        """Put ``rows`` into ``database``.``table`` of the cluster (replacing what the table held)."""
        if key not in columns:
            raise ValueError(f"the key column {key!r} must be one of the columns {columns}")
        with self._lock:
            data = self._data_for(region, cluster_id)
            data.databases.setdefault(database, {})[qualified(table)] = Table(
                list(columns), key, [dict(r) for r in rows]
            )

    def add_user(self, region: str, cluster_id: str, username: str, password: str) -> None:
        with self._lock:
            self._data_for(region, cluster_id).users[username] = password

    def rows(self, region: str, cluster_id: str, database: str, table: str) -> list[dict[str, Any]]:
        data = cluster_data(self._cluster(region, cluster_id))
        if data is None or qualified(table) not in data.databases.get(database, {}):
            return []
        return [dict(r) for r in data.databases[database][qualified(table)].rows]

    def _data_for(self, region: str, cluster_id: str) -> ClusterData:
        cluster = self._cluster(region, cluster_id)
        if cluster is None:
            raise ValueError(f"DB cluster {cluster_id} does not exist in {region}")
        data = cluster_data(cluster)
        if data is None:
            password = vars(cluster).get("_master_user_password")  # moto's property refuses to answer it
            data = ClusterData(users={str(cluster.master_username): str(password or "")})
            attach(cluster, data)
        return data

    def _cluster(self, region: str, cluster_id: str) -> Any:
        return rds_backends[self.account_id][region].clusters.get(cluster_id.lower())

    # -- progress on the clock ---------------------------------------------------------------------------
    def _before_call(self, call: Call) -> None:
        if call.service not in ("rds", "rds-data"):
            return
        now = self.clock.now()
        with self._lock:
            for (region, instance_id), ready_at in list(self._creating.items()):
                if ready_at > now:
                    continue
                del self._creating[(region, instance_id)]
                instance = rds_backends[self.account_id][region].databases.get(instance_id)
                if instance is not None and instance.status == "creating":
                    instance.status = "available"

    def _answer(self, handler: Any) -> Any:
        def answer(call: Call) -> Response:
            try:
                with self._lock:
                    result = handler(call)
            except DataApiError as error:
                return serialize_error(call, error.code, error.message, error.status)
            return serialize_result(call, result)

        return answer

    # -- CreateDBInstance: a restored cluster's instance takes minutes ---------------------------------------
    def _create_db_instance(self, call: Call) -> Response:
        response = moto_response(call)
        if response[0] != 200:
            return response
        params = call.params
        cluster = self._cluster(call.region, str(params.get("DBClusterIdentifier") or ""))
        data = cluster_data(cluster) if cluster is not None else None
        if data is None or data.restored_from is None:
            return response
        instance_id = str(params["DBInstanceIdentifier"]).lower()
        instance = rds_backends[self.account_id][call.region].databases.get(instance_id)
        if instance is None:
            return response
        with self._lock:
            instance.status = "creating"
            ready_at = self.clock.now() + timedelta(seconds=self.instance_create_seconds)
            self._creating[(call.region, instance_id)] = ready_at
        described = parse_response(call, response)
        described.pop("ResponseMetadata", None)
        described["DBInstance"]["DBInstanceStatus"] = "creating"
        return serialize_result(call, described)

    # -- EnableHttpEndpoint / DisableHttpEndpoint -----------------------------------------------------------
    def _http_endpoint(self, call: Call, enabled: bool) -> dict[str, Any]:
        arn = str(call.params["ResourceArn"])
        match = _CLUSTER_ARN.match(arn)
        cluster = self._cluster(match.group(1), match.group(3)) if match and match.group(1) == call.region else None
        if cluster is None:
            raise DataApiError("ResourceNotFoundFault", f"The resource {arn} could not be found.", 404)
        if cluster.status != "available":
            raise DataApiError(
                "InvalidResourceStateFault",
                f"DB cluster {cluster.db_cluster_identifier} is {cluster.status}; the HTTP endpoint can be "
                "changed only while the cluster is available.",
            )
        cluster._enable_http_endpoint = enabled  # what DescribeDBClusters reads as HttpEndpointEnabled
        return {"ResourceArn": arn, "HttpEndpointEnabled": enabled}

    # -- ExecuteStatement ----------------------------------------------------------------------------------
    def _execute_statement(self, call: Call) -> dict[str, Any]:
        params = call.params
        arn = str(params.get("resourceArn") or "")
        cluster = self._reachable_cluster(arn, call.region)
        data = cluster_data(cluster) or ClusterData()
        self._authenticate(str(params.get("secretArn") or ""), call.region, data)
        database = str(params.get("database") or "postgres")
        if database not in data.databases and database != "postgres":
            raise DataApiError("DatabaseErrorException", f'FATAL: database "{database}" does not exist')
        sql = " ".join(str(params.get("sql") or "").split())
        self.statements.append({"cluster": arn, "database": database, "sql": sql})
        if _SELECT_ONE.match(sql):
            return self._result([[{"longValue": 1}]], ["?column?"], params)
        page = _PAGE.match(sql)
        if page is None:
            raise DataApiError(
                "BadRequestException",
                "localcloud's Data API runs only SELECT 1 and the restore validator's page of row digests "
                f"(see localcloud/services/rds_data.py); it does not run: {sql[:200]}",
            )
        table = data.databases.get(database, {}).get(qualified(page["table"]))
        if table is None:
            raise DataApiError("DatabaseErrorException", f'ERROR: relation "{page["table"]}" does not exist')
        for column in (page["key"], page["changed"]):
            if column not in table.columns:
                raise DataApiError("DatabaseErrorException", f"ERROR: column t.{column} does not exist")
        after = _parameter(params, "after")
        chosen = sorted(
            (r for r in table.rows if pg_text(r.get(page["key"])) > after), key=lambda r: pg_text(r.get(page["key"]))
        )[: int(page["limit"])]
        records = [
            [
                {"stringValue": pg_text(r.get(page["key"]))},
                {"stringValue": row_digest(table, r)},
                _epoch_field(r.get(page["changed"])),
            ]
            for r in chosen
        ]
        return self._result(records, ["k", "h", "c"], params)

    def _reachable_cluster(self, arn: str, region: str) -> Any:
        match = _CLUSTER_ARN.match(arn)
        if match is None or match.group(1) != region:
            raise DataApiError("BadRequestException", f"Invalid cluster arn: {arn} (expected a DB cluster in {region})")
        cluster = self._cluster(region, match.group(3))
        if cluster is None:
            raise DataApiError("BadRequestException", f"Invalid cluster arn: {arn} (no such DB cluster in {region})")
        if not cluster.http_endpoint_enabled:
            raise DataApiError(
                "HttpEndpointNotEnabledException", f"HTTP endpoint is not enabled for {cluster.db_cluster_arn}"
            )
        instances = [
            i
            for i in rds_backends[self.account_id][region].databases.values()
            if getattr(i, "db_cluster_identifier", None) == cluster.db_cluster_identifier
        ]
        if not instances:
            raise DataApiError("DatabaseNotFoundException", "The DB cluster doesn't have a DB instance.", 404)
        if not any(i.status == "available" for i in instances):
            raise DataApiError(
                "DatabaseUnavailableException",
                f"The writer instance in DB cluster {cluster.db_cluster_identifier} isn't available "
                f"({', '.join(sorted(str(i.status) for i in instances))}).",
                504,
            )
        return cluster

    def _authenticate(self, secret_arn: str, region: str, data: ClusterData) -> None:
        backend = secretsmanager_backends[self.account_id][region]
        try:
            value = backend.get_secret_value(secret_arn, None, None)
        except Exception as error:  # moto's ResourceNotFound and friends: the Data API wraps them
            raise DataApiError(
                "SecretsErrorException", f"Error fetching secret {secret_arn} in {region}: {error}"
            ) from error
        try:
            credentials = json.loads(value.get("SecretString") or "")
            username, password = str(credentials["username"]), str(credentials["password"])
        except (ValueError, KeyError, TypeError) as error:
            raise DataApiError(
                "InvalidSecretException",
                f"Secret {secret_arn} must hold JSON with 'username' and 'password' for the Data API",
            ) from error
        if data.users.get(username) != password:
            raise DataApiError("DatabaseErrorException", f'FATAL: password authentication failed for user "{username}"')

    @staticmethod
    def _result(records: list[list[dict[str, Any]]], names: list[str], params: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {"records": records, "numberOfRecordsUpdated": 0}
        if params.get("includeResultMetadata"):
            out["columnMetadata"] = [{"name": n, "label": n, "typeName": "text"} for n in names]
        return out


def _parameter(params: dict[str, Any], name: str) -> str:
    for parameter in params.get("parameters") or []:
        if parameter.get("name") == name:
            value = parameter.get("value") or {}
            if "stringValue" in value:
                return str(value["stringValue"])
            raise DataApiError("DatabaseErrorException", f"ERROR: parameter :{name} must be a string here")
    raise DataApiError("DatabaseErrorException", f"ERROR: no value given for parameter :{name}")


def _epoch_field(value: Any) -> dict[str, Any]:
    if value is None:
        return {"isNull": True}
    if not isinstance(value, datetime):
        raise DataApiError("DatabaseErrorException", f"ERROR: function extract(epoch from {type(value).__name__})")
    moment = value if value.tzinfo else value.replace(tzinfo=UTC)
    return {"stringValue": f"{moment.timestamp():.6f}".rstrip("0").rstrip(".")}
