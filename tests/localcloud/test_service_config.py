"""Fidelity of the simulated AWS Config (localcloud.services.config): what the recorder records of DynamoDB
tables, S3 buckets and RDS clusters, in AWS Config's item shape; capture times that move only when a
resource changes while the recorder records; SelectResourceConfig's paging and its errors.

Every call goes through a real boto3 client, so each answer is also proven to parse with botocore's model.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from localcloud.clock import VirtualClock
from localcloud.interceptor import Interceptor
from localcloud.services.config import BUCKET, CLUSTER, MODELED, TABLE, ConfigSimulator

EAST = "us-east-1"
ACCOUNT = "123456789012"
FIELDS = (
    "resourceType, resourceId, resourceName, arn, configurationItemCaptureTime, configuration.backupRetentionPeriod, "
    "supplementaryConfiguration.ContinuousBackupsDescription, "
    "supplementaryConfiguration.BucketVersioningConfiguration, "
    "supplementaryConfiguration.BucketReplicationConfiguration"
)
QUERY = f"SELECT {FIELDS} WHERE resourceType IN ('{TABLE}', '{BUCKET}', '{CLUSTER}')"


@pytest.fixture
def clock() -> Iterator[VirtualClock]:
    clock = VirtualClock()
    clock.install()
    with mock_aws():
        interceptor = Interceptor()
        interceptor.install()
        ConfigSimulator(clock).register(interceptor)
        yield clock
        interceptor.uninstall()
    clock.uninstall()


def client(service: str) -> Any:
    return boto3.client(service, region_name=EAST)


def record(types: tuple[str, ...] = MODELED) -> None:
    config = client("config")
    config.put_configuration_recorder(
        ConfigurationRecorder={
            "name": "default",
            "roleARN": f"arn:aws:iam::{ACCOUNT}:role/config",
            "recordingGroup": {"allSupported": False, "resourceTypes": list(types)},
        }
    )
    config.put_delivery_channel(DeliveryChannel={"name": "default", "s3BucketName": "config-bucket"})
    config.start_configuration_recorder(ConfigurationRecorderName="default")


def table(name: str, pitr: bool = True) -> None:
    ddb = client("dynamodb")
    ddb.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
    )
    ddb.update_continuous_backups(TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": pitr})


def select(expression: str = QUERY, **kwargs: Any) -> dict[str, Any]:
    return dict(client("config").select_resource_config(Expression=expression, **kwargs))


def items(expression: str = QUERY) -> dict[str, dict[str, Any]]:
    return {json.loads(r)["resourceName"]: json.loads(r) for r in select(expression)["Results"]}


def test_nothing_is_recorded_without_a_recording_recorder(clock: VirtualClock) -> None:
    # Given a table and no recorder
    table("orders")

    # When the advanced query asks, then nothing is recorded; a recorder that is not started records nothing
    assert select()["Results"] == []
    client("config").put_configuration_recorder(
        ConfigurationRecorder={"name": "default", "roleARN": "arn:aws:iam::123456789012:role/c"}
    )
    assert select()["Results"] == []


def test_each_type_is_recorded_in_aws_configs_shape(clock: VirtualClock) -> None:
    # Given a table without PITR, a versioned bucket replicating with RTC, an unversioned bucket, a cluster
    record()
    table("orders", pitr=False)
    s3 = client("s3")
    for name in ("recordings", "recordings-dr", "scratch"):
        s3.create_bucket(Bucket=name)
    for name in ("recordings", "recordings-dr"):
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    rule = {
        "ID": "dr",
        "Priority": 1,
        "Status": "Enabled",
        "Filter": {"Prefix": ""},
        "DeleteMarkerReplication": {"Status": "Enabled"},
        "Destination": {
            "Bucket": "arn:aws:s3:::recordings-dr",
            "ReplicationTime": {"Status": "Enabled", "Time": {"Minutes": 15}},
            "Metrics": {"Status": "Enabled", "EventThreshold": {"Minutes": 15}},
        },
    }
    role = f"arn:aws:iam::{ACCOUNT}:role/replication"
    s3.put_bucket_replication(Bucket="recordings", ReplicationConfiguration={"Role": role, "Rules": [rule]})
    client("rds").create_db_cluster(
        DBClusterIdentifier="aurora",
        Engine="aurora-postgresql",
        MasterUsername="admin",
        MasterUserPassword="password-1",
        BackupRetentionPeriod=7,
    )

    # When the advanced query asks for the settings
    answer = select()
    found = {json.loads(r)["resourceName"]: json.loads(r) for r in answer["Results"]}

    # Then each item carries its settings where AWS Config puts them
    assert [f["Name"] for f in answer["QueryInfo"]["SelectFields"]] == [f.strip() for f in FIELDS.split(",")]
    orders = found["orders"]
    assert (orders["resourceType"], orders["resourceId"]) == (TABLE, "orders")
    assert orders["arn"] == f"arn:aws:dynamodb:{EAST}:{ACCOUNT}:table/orders"
    pitr = orders["supplementaryConfiguration"]["ContinuousBackupsDescription"]["pointInTimeRecoveryDescription"]
    assert pitr["pointInTimeRecoveryStatus"] == "DISABLED"
    assert "configuration" not in orders  # a table has no backupRetentionPeriod: the path selects nothing
    recordings = found["recordings"]["supplementaryConfiguration"]
    assert recordings["BucketVersioningConfiguration"]["status"] == "Enabled"
    replication = recordings["BucketReplicationConfiguration"]
    assert replication["roleARN"] == role
    assert replication["rules"]["dr"]["status"] == "Enabled"
    destination = replication["rules"]["dr"]["destinationConfig"]
    assert destination["bucketARN"] == "arn:aws:s3:::recordings-dr"
    assert destination["replicationTime"] == {"status": "Enabled", "time": {"minutes": 15}}
    scratch = found["scratch"]["supplementaryConfiguration"]
    assert scratch["BucketVersioningConfiguration"]["status"] == "Off"
    assert "BucketReplicationConfiguration" not in scratch
    aurora = found["aurora"]
    assert aurora["resourceType"] == CLUSTER and aurora["resourceId"].startswith("cluster-")
    assert aurora["configuration"] == {"backupRetentionPeriod": 7}


def test_an_item_is_captured_again_only_when_its_resource_changes_while_recording(clock: VirtualClock) -> None:
    # Given two tables recorded at t0
    record((TABLE,))
    table("orders")
    table("users")
    first = items()
    t0 = first["orders"]["configurationItemCaptureTime"]

    # When an hour later one table's PITR is turned off
    clock.advance(3600)
    client("dynamodb").update_continuous_backups(
        TableName="orders", PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False}
    )
    second = items()

    # Then that table has a new item, captured an hour later; the other keeps its item and its time
    captured = datetime.fromisoformat(second["orders"]["configurationItemCaptureTime"])
    assert datetime.fromisoformat(t0) + timedelta(hours=1) <= captured <= clock.now()
    assert second["users"]["configurationItemCaptureTime"] == t0
    status = second["orders"]["supplementaryConfiguration"]["ContinuousBackupsDescription"]
    assert status["pointInTimeRecoveryDescription"]["pointInTimeRecoveryStatus"] == "DISABLED"

    # And once the recorder stops, a change is not recorded: the item keeps what it was, and ages
    client("config").stop_configuration_recorder(ConfigurationRecorderName="default")
    client("dynamodb").update_continuous_backups(
        TableName="users", PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False}
    )
    clock.advance(timedelta(days=2).total_seconds())
    third = items()
    status = third["users"]["supplementaryConfiguration"]["ContinuousBackupsDescription"]
    assert status["pointInTimeRecoveryDescription"]["pointInTimeRecoveryStatus"] == "ENABLED"
    assert third["users"]["configurationItemCaptureTime"] == t0


def test_types_the_recorder_leaves_out_are_not_recorded(clock: VirtualClock) -> None:
    record((BUCKET,))
    table("orders")
    client("s3").create_bucket(Bucket="recordings")

    assert set(items()) == {"recordings"}


def test_the_query_pages_by_at_most_100_with_a_token_of_its_own(clock: VirtualClock) -> None:
    # Given 230 recorded tables
    record((TABLE,))
    for n in range(230):
        table(f"t{n:03d}")
    query = f"SELECT resourceName WHERE resourceType = '{TABLE}'"

    # When the query is read page by page (the SDK's paginator, Limit 100)
    pages = list(client("config").get_paginator("select_resource_config").paginate(Expression=query, Limit=100))

    # Then three pages hold every table once
    names = [json.loads(r)["resourceName"] for page in pages for r in page["Results"]]
    assert [len(p["Results"]) for p in pages] == [100, 100, 30]
    assert sorted(names) == [f"t{n:03d}" for n in range(230)]

    # And a token of another query, a limit over 100 and another query form are refused as AWS refuses them
    token = pages[0]["NextToken"]
    for kwargs, code in (
        (
            {"Expression": f"SELECT resourceId WHERE resourceType = '{TABLE}'", "NextToken": token},
            "InvalidNextTokenException",
        ),
        ({"Expression": query, "Limit": 101}, "InvalidLimitException"),
        ({"Expression": "SELECT resourceId WHERE resourceName = 't001'"}, "InvalidExpressionException"),
    ):
        with pytest.raises(ClientError) as error:
            client("config").select_resource_config(**kwargs)
        assert error.value.response["Error"]["Code"] == code
