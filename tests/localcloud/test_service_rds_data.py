"""Fidelity of the simulated RDS Data API: rows a cluster holds, read page by page; the checks AWS makes
before it runs a statement, each with its own error; EnableHttpEndpoint; a backed-up cluster's rows in the
restored cluster, readable once the instance the restore test adds has been created.

Every call goes through a real boto3 client, so each answer is also proven to parse with botocore's model.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from localcloud.clock import VirtualClock
from localcloud.faults import Faults
from localcloud.interceptor import Interceptor
from localcloud.services.backup import BackupSimulator
from localcloud.services.rds_data import RdsDataSimulator

EAST, WEST = "us-east-1", "us-west-2"
ACCOUNT = "123456789012"
CLUSTER = "roadcall-aurora-prod"
ARN = f"arn:aws:rds:{EAST}:{ACCOUNT}:cluster:{CLUSTER}"
WRITTEN = datetime(2025, 1, 1, tzinfo=UTC)
PAGE = (
    "SELECT t.id::text AS k, md5(t::text) AS h, extract(epoch from t.updated_at)::text AS c "
    "FROM public.incidents AS t WHERE t.id::text > :after ORDER BY 1 LIMIT {limit}"
)


@pytest.fixture
def env() -> Iterator[tuple[VirtualClock, RdsDataSimulator, BackupSimulator, Faults]]:
    clock = VirtualClock()
    clock.install()
    with mock_aws():
        interceptor = Interceptor()
        interceptor.install()
        faults = Faults()
        interceptor.set_fault_source(faults.answer)
        data = RdsDataSimulator(clock)
        data.register(interceptor)
        backup = BackupSimulator(clock)
        backup.register(interceptor)
        yield clock, data, backup, faults
        interceptor.uninstall()
    clock.uninstall()


def _client(service: str, region: str = EAST) -> Any:
    return boto3.client(service, region_name=region)


def _code(error: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    response = error.value.response
    return str(response["Error"]["Code"]), int(response["ResponseMetadata"]["HTTPStatusCode"])


def _cluster(data: RdsDataSimulator, rows: int = 5, instance: bool = True, http: bool = True) -> str:
    """The source cluster with ``rows`` rows in roadcall.public.incidents, a reader user and its secret."""
    rds = _client("rds")
    rds.create_db_cluster(
        DBClusterIdentifier=CLUSTER, Engine="aurora-postgresql", MasterUsername="dradmin", MasterUserPassword="pw-1234!"
    )
    if instance:
        rds.create_db_instance(
            DBInstanceIdentifier=f"{CLUSTER}-1",
            DBClusterIdentifier=CLUSTER,
            Engine="aurora-postgresql",
            DBInstanceClass="db.r6g.large",
        )
    if http:
        rds.enable_http_endpoint(ResourceArn=ARN)
    data.load_table(
        EAST,
        CLUSTER,
        "roadcall",
        "public.incidents",
        ["id", "body", "updated_at"],
        "id",
        [{"id": n, "body": f"incident {n}", "updated_at": WRITTEN} for n in range(1, rows + 1)],
    )
    data.add_user(EAST, CLUSTER, "reader", "reader-password")
    return str(
        _client("secretsmanager").create_secret(
            Name="restore-validation",
            SecretString=json.dumps({"username": "reader", "password": "reader-password"}),
            AddReplicaRegions=[{"Region": WEST}],
        )["ARN"]
    )


def _page(secret: str, after: str = "", limit: int = 1000, arn: str = ARN, region: str = EAST, **kw: Any) -> Any:
    return _client("rds-data", region).execute_statement(
        resourceArn=arn,
        secretArn=secret,
        database=kw.pop("database", "roadcall"),
        sql=kw.pop("sql", PAGE.format(limit=limit)),
        parameters=[{"name": "after", "value": {"stringValue": after}}],
        **kw,
    )


def test_a_page_of_rows_is_their_keys_digests_and_change_times_in_key_order(env: Any) -> None:
    _, data, _, _ = env
    secret = _cluster(data, rows=12)

    first = _page(secret, limit=5, includeResultMetadata=True)
    rest = _page(secret, after=first["records"][-1][0]["stringValue"], limit=100)

    keys = [r[0]["stringValue"] for r in first["records"] + rest["records"]]
    assert keys == sorted(str(n) for n in range(1, 13))  # text order, every row once across pages
    assert len(first["records"]) == 5 and [c["name"] for c in first["columnMetadata"]] == ["k", "h", "c"]
    row = next(r for r in first["records"] if r[0]["stringValue"] == "1")
    text = f"(1,incident 1,{WRITTEN.strftime('%Y-%m-%d %H:%M:%S')}+00)"
    assert row[1]["stringValue"] == hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()
    assert float(row[2]["stringValue"]) == WRITTEN.timestamp()
    assert data.statements[-1]["sql"].startswith("SELECT t.id::text AS k")


def test_a_null_change_time_is_null_and_a_changed_row_has_another_digest(env: Any) -> None:
    _, data, _, _ = env
    secret = _cluster(data, rows=2)
    before = {r[0]["stringValue"]: r[1]["stringValue"] for r in _page(secret)["records"]}
    data.load_table(
        EAST,
        CLUSTER,
        "roadcall",
        "incidents",
        ["id", "body", "updated_at"],
        "id",
        [{"id": 1, "body": "incident 1", "updated_at": WRITTEN}, {"id": 2, "body": "edited", "updated_at": None}],
    )

    after = {r[0]["stringValue"]: (r[1]["stringValue"], r[2]) for r in _page(secret)["records"]}

    assert after["1"][0] == before["1"]
    assert after["2"][0] != before["2"]
    assert after["2"][1] == {"isNull": True}


@pytest.mark.parametrize(
    ("setup", "call", "expected"),
    [
        ({"http": False}, {}, ("HttpEndpointNotEnabledException", 400)),
        ({"instance": False}, {}, ("DatabaseNotFoundException", 404)),
        (
            {},
            {"secret": "arn:aws:secretsmanager:us-east-1:123456789012:secret:nope-AbCdEf"},
            ("SecretsErrorException", 400),
        ),
        ({}, {"database": "nope"}, ("DatabaseErrorException", 400)),
        ({}, {"sql": PAGE.format(limit=5).replace("public.incidents", "public.nope")}, ("DatabaseErrorException", 400)),
        ({}, {"sql": PAGE.format(limit=5).replace("updated_at", "changed_on")}, ("DatabaseErrorException", 400)),
        ({}, {"sql": "SELECT count(*) FROM public.incidents"}, ("BadRequestException", 400)),
        ({}, {"arn": ARN.replace(CLUSTER, "unknown")}, ("BadRequestException", 400)),
        ({}, {"region": WEST}, ("BadRequestException", 400)),  # the cluster is in us-east-1
    ],
)
def test_what_the_data_api_checks_before_it_runs_a_statement(
    env: Any, setup: dict[str, bool], call: dict[str, Any], expected: tuple[str, int]
) -> None:
    _, data, _, _ = env
    secret = _cluster(data, **setup)
    kwargs = {k: v for k, v in call.items() if k in ("database", "sql", "arn", "region")}

    with pytest.raises(ClientError) as error:
        _page(call.get("secret", secret), **kwargs)

    assert _code(error) == expected


def test_a_secret_must_hold_a_users_credentials(env: Any) -> None:
    _, data, _, _ = env
    _cluster(data)
    sm = _client("secretsmanager")
    wrong = sm.create_secret(Name="wrong", SecretString=json.dumps({"username": "reader", "password": "x"}))["ARN"]
    garbled = sm.create_secret(Name="garbled", SecretString="reader:reader-password")["ARN"]

    with pytest.raises(ClientError) as refused:
        _page(wrong)
    with pytest.raises(ClientError) as invalid:
        _page(garbled)

    assert _code(refused) == ("DatabaseErrorException", 400)
    assert 'password authentication failed for user "reader"' in refused.value.response["Error"]["Message"]
    assert _code(invalid) == ("InvalidSecretException", 400)


def test_enable_http_endpoint_shows_in_describe_and_knows_only_clusters(env: Any) -> None:
    _, data, _, _ = env
    _cluster(data, http=False)
    rds = _client("rds")
    assert rds.describe_db_clusters(DBClusterIdentifier=CLUSTER)["DBClusters"][0]["HttpEndpointEnabled"] is False

    answer = rds.enable_http_endpoint(ResourceArn=ARN)

    assert (answer["ResourceArn"], answer["HttpEndpointEnabled"]) == (ARN, True)
    assert rds.describe_db_clusters(DBClusterIdentifier=CLUSTER)["DBClusters"][0]["HttpEndpointEnabled"] is True
    with pytest.raises(ClientError) as missing:
        rds.enable_http_endpoint(ResourceArn=ARN.replace(CLUSTER, "unknown"))
    assert _code(missing) == ("ResourceNotFoundFault", 404)
    assert rds.disable_http_endpoint(ResourceArn=ARN)["HttpEndpointEnabled"] is False


def test_a_restored_cluster_holds_the_rows_of_the_backup_readable_once_its_new_instance_is_available(
    env: Any,
) -> None:
    # Given a cluster with 8 rows, backed up, and then changed
    clock, data, backup_sim, _ = env
    secret = _cluster(data, rows=8)
    backed_up = {r[0]["stringValue"]: r[1]["stringValue"] for r in _page(secret)["records"]}
    _client("backup").create_backup_vault(BackupVaultName="vault")
    job = _client("backup").start_backup_job(
        BackupVaultName="vault", ResourceArn=ARN, IamRoleArn=f"arn:aws:iam::{ACCOUNT}:role/backup"
    )
    clock.advance(backup_sim.durations.backup)
    assert _client("backup").describe_backup_job(BackupJobId=job["BackupJobId"])["State"] == "COMPLETED"
    data.load_table(EAST, CLUSTER, "roadcall", "incidents", ["id", "body", "updated_at"], "id", [])

    # When it is restored into a new cluster, which gets an instance
    restore_id = _client("backup").start_restore_job(
        RecoveryPointArn=job["RecoveryPointArn"], Metadata={"DBClusterIdentifier": "drtest-restored"}
    )["RestoreJobId"]
    clock.advance(backup_sim.durations.restore["Aurora"])
    assert _client("backup").describe_restore_job(RestoreJobId=restore_id)["Status"] == "COMPLETED"
    restored_arn = ARN.replace(CLUSTER, "drtest-restored")
    rds = _client("rds")
    rds.enable_http_endpoint(ResourceArn=restored_arn)
    with pytest.raises(ClientError) as no_instance:
        _page(secret, arn=restored_arn)
    created = rds.create_db_instance(
        DBInstanceIdentifier="drtest-restored-validator",
        DBClusterIdentifier="drtest-restored",
        Engine="aurora-postgresql",
        DBInstanceClass="db.r6g.large",
    )["DBInstance"]

    # Then the instance is creating for its modeled time, and the Data API says the database is unavailable
    assert _code(no_instance) == ("DatabaseNotFoundException", 404)
    assert created["DBInstanceStatus"] == "creating"
    clock.advance(data.instance_create_seconds - 1)
    assert (
        rds.describe_db_instances(DBInstanceIdentifier="drtest-restored-validator")["DBInstances"][0][
            "DBInstanceStatus"
        ]
        == "creating"
    )
    with pytest.raises(ClientError) as creating:
        _page(secret, arn=restored_arn)
    assert _code(creating) == ("DatabaseUnavailableException", 504)
    # and once it is available, the restored rows are the backed-up ones, not the source's now
    clock.advance(1)
    assert (
        rds.describe_db_instances(DBInstanceIdentifier="drtest-restored-validator")["DBInstances"][0][
            "DBInstanceStatus"
        ]
        == "available"
    )
    restored = {r[0]["stringValue"]: r[1]["stringValue"] for r in _page(secret, arn=restored_arn)["records"]}
    assert restored == backed_up and len(restored) == 8
    assert _page(secret)["records"] == []
    # and an instance added to a cluster that was not restored is available at once (moto's behaviour)
    other = rds.create_db_instance(
        DBInstanceIdentifier=f"{CLUSTER}-2",
        DBClusterIdentifier=CLUSTER,
        Engine="aurora-postgresql",
        DBInstanceClass="db.r6g.large",
    )["DBInstance"]
    assert other["DBInstanceStatus"] == "available"


def test_a_replicated_secret_answers_in_the_replicas_region(env: Any) -> None:
    # Given the source cluster's rows copied into a restored cluster in us-west-2 (restore from a copy)
    _, data, _, _ = env
    secret = _cluster(data, rows=3)
    rds_west = _client("rds", WEST)
    rds_west.create_db_cluster(
        DBClusterIdentifier="drtest-west",
        Engine="aurora-postgresql",
        MasterUsername="dradmin",
        MasterUserPassword="pw-1234!",
    )
    rds_west.create_db_instance(
        DBInstanceIdentifier="drtest-west-1",
        DBClusterIdentifier="drtest-west",
        Engine="aurora-postgresql",
        DBInstanceClass="db.r6g.large",
    )
    west_arn = f"arn:aws:rds:{WEST}:{ACCOUNT}:cluster:drtest-west"
    rds_west.enable_http_endpoint(ResourceArn=west_arn)
    data.load_table(WEST, "drtest-west", "roadcall", "incidents", ["id", "body", "updated_at"], "id", [])
    data.add_user(WEST, "drtest-west", "reader", "reader-password")

    # When it is read with the replica of the secret (same ARN, the replica's region)
    replica = secret.replace(EAST, WEST)
    answer = _page(replica, arn=west_arn, region=WEST)

    # Then the Data API reads it there; the primary's ARN does not exist in us-west-2's view of the region
    assert answer["records"] == []
    with pytest.raises(ClientError) as wrong_region_secret:
        _client("rds-data", WEST).execute_statement(
            resourceArn=west_arn,
            secretArn="arn:aws:secretsmanager:us-west-2:123456789012:secret:x-AbCdEf",
            database="roadcall",
            sql="SELECT 1",
        )
    assert _code(wrong_region_secret) == ("SecretsErrorException", 400)


def test_an_injected_fault_reaches_the_caller_in_the_data_apis_protocol(env: Any) -> None:
    _, data, _, faults = env
    secret = _cluster(data)
    faults.inject("rds-data", "ExecuteStatement", "5xx", times=None)

    with pytest.raises(ClientError) as failed:
        _client("rds-data").execute_statement(
            resourceArn=ARN,
            secretArn=secret,
            database="roadcall",
            sql="SELECT 1",
        )

    assert _code(failed) == ("InternalFailure", 500)
    faults.clear()
    assert _page(secret)["records"]  # once the fault is gone, the call is answered
