"""Fidelity of the simulated DynamoDB global tables (version 2019.11.21)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.core import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import dynamodb_backends

from localcloud.clock import VirtualClock
from localcloud.services.global_tables import GlobalTablesSimulator
from tests.localcloud.conftest import Bare, latest_metric

TABLE = "roadcall-incidents-prod"
EAST, WEST = "us-east-1", "us-west-2"
STREAM = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}


@pytest.fixture
def env(bare: Bare) -> tuple[VirtualClock, GlobalTablesSimulator]:
    return bare.clock, bare.register(GlobalTablesSimulator(bare.clock, bare.metrics()))


def _ddb(region: str = EAST) -> Any:
    return boto3.client("dynamodb", region_name=region)


def _create_table(region: str = EAST, stream: dict[str, Any] | None = STREAM, name: str = TABLE) -> None:
    extra: dict[str, Any] = {"StreamSpecification": stream} if stream else {}
    _ddb(region).create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
            {"AttributeName": "status", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by-status",
                "KeySchema": [{"AttributeName": "status", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
        **extra,
    )


def _global_table() -> None:
    _create_table()
    _ddb(EAST).update_table(TableName=TABLE, ReplicaUpdates=[{"Create": {"RegionName": WEST}}])


def _key(pk: str, sk: str = "v1") -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def _put(region: str, pk: str, **attrs: str) -> None:
    item = _key(pk) | {name: {"S": value} for name, value in attrs.items()}
    _ddb(region).put_item(TableName=TABLE, Item=item)


def _get(region: str, pk: str) -> dict[str, Any] | None:
    item = _ddb(region).get_item(TableName=TABLE, Key=_key(pk), ConsistentRead=True).get("Item")
    return dict(item) if item is not None else None


def _error(info: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    error = info.value.response["Error"]
    return str(error["Code"]), str(error["Message"])


def _latest_latency_ms(clock: VirtualClock, receiving: str = WEST) -> float:
    dimensions = {"ReceivingRegion": receiving, "TableName": TABLE}
    return latest_metric(clock, "AWS/DynamoDB", "ReplicationLatency", dimensions)


# -- replica creation and DescribeTable ----------------------------------------------------------------
def test_update_table_creates_the_replica_with_the_same_shape_and_items(env: Any) -> None:
    # Given a table with streams and an item in us-east-1
    _clock, sim = env
    _create_table()
    _put(EAST, "inc-1", status="open")

    # When a replica in us-west-2 is added through UpdateTable
    response = _ddb(EAST).update_table(TableName=TABLE, ReplicaUpdates=[{"Create": {"RegionName": WEST}}])

    # Then the answer shows the global table, and the replica exists with the same shape and items
    assert response["TableDescription"]["GlobalTableVersion"] == "2019.11.21"
    assert response["TableDescription"]["Replicas"] == [{"RegionName": WEST, "ReplicaStatus": "ACTIVE"}]
    west = _ddb(WEST).describe_table(TableName=TABLE)["Table"]
    east = _ddb(EAST).describe_table(TableName=TABLE)["Table"]
    for field in ("KeySchema", "AttributeDefinitions", "BillingModeSummary", "StreamSpecification"):
        assert west[field] == east[field]
    assert [i["IndexName"] for i in west["GlobalSecondaryIndexes"]] == ["by-status"]
    assert west["TableArn"] == f"arn:aws:dynamodb:{WEST}:123456789012:table/{TABLE}"
    assert _get(WEST, "inc-1") == _key("inc-1") | {"status": {"S": "open"}}
    assert sim.replicas(TABLE) == [EAST, WEST]


def test_describe_table_lists_the_other_replicas_from_each_region(env: Any) -> None:
    # Given a global table in us-east-1 and us-west-2
    _global_table()

    # When it is described in each Region
    east = _ddb(EAST).describe_table(TableName=TABLE)["Table"]
    west = _ddb(WEST).describe_table(TableName=TABLE)["Table"]

    # Then each lists the replicas in the other Regions, and both are global tables version 2019.11.21
    assert east["Replicas"] == [{"RegionName": WEST, "ReplicaStatus": "ACTIVE"}]
    assert west["Replicas"] == [{"RegionName": EAST, "ReplicaStatus": "ACTIVE"}]
    assert (east["GlobalTableVersion"], west["GlobalTableVersion"]) == ("2019.11.21", "2019.11.21")
    assert (east["TableStatus"], west["TableStatus"]) == ("ACTIVE", "ACTIVE")


def test_a_non_global_table_is_described_by_moto_untouched(env: Any) -> None:
    # Given a table without replicas
    _create_table()

    # When it is described
    described = _ddb(EAST).describe_table(TableName=TABLE)["Table"]

    # Then it carries no global-table fields
    assert "Replicas" not in described
    assert "GlobalTableVersion" not in described


def test_replica_is_creating_for_the_modeled_delay(env: Any) -> None:
    # Given replicas that take 60 s to create
    clock, sim = env
    sim.set_replica_creation_seconds(60)
    _create_table()

    # When a replica is added and described at once
    _ddb(EAST).update_table(TableName=TABLE, ReplicaUpdates=[{"Create": {"RegionName": WEST}}])
    west_now = _ddb(WEST).describe_table(TableName=TABLE)["Table"]
    east_now = _ddb(EAST).describe_table(TableName=TABLE)["Table"]
    _put(EAST, "during-creation")
    clock.advance(30)
    not_yet = _get(WEST, "during-creation")
    clock.advance(31)
    west_later = _ddb(WEST).describe_table(TableName=TABLE)["Table"]
    east_later = _ddb(EAST).describe_table(TableName=TABLE)["Table"]

    # Then the replica is CREATING (the source UPDATING) until the delay has passed, then ACTIVE,
    # and a write made meanwhile reaches it once it is ACTIVE
    assert not_yet is None
    assert _get(WEST, "during-creation") is not None
    assert west_now["TableStatus"] == "CREATING"
    assert east_now["TableStatus"] == "UPDATING"
    assert east_now["Replicas"] == [{"RegionName": WEST, "ReplicaStatus": "CREATING"}]
    assert west_later["TableStatus"] == "ACTIVE"
    assert east_later["TableStatus"] == "ACTIVE"
    assert east_later["Replicas"] == [{"RegionName": WEST, "ReplicaStatus": "ACTIVE"}]


def test_adding_a_replica_requires_new_and_old_images_streams(env: Any) -> None:
    # Given a table without a stream
    _create_table(stream=None)

    # When a replica is requested
    with pytest.raises(ClientError) as info:
        _ddb(EAST).update_table(TableName=TABLE, ReplicaUpdates=[{"Create": {"RegionName": WEST}}])

    # Then it is refused with a message naming what is needed and what was found, and nothing is created
    code, message = _error(info)
    assert code == "ValidationException"
    assert "StreamViewType NEW_AND_OLD_IMAGES" in message
    assert "found StreamSpecification {'StreamEnabled': False}" in message
    assert _ddb(WEST).list_tables()["TableNames"] == []


def test_streams_enabled_in_the_same_request_allow_the_replica(env: Any) -> None:
    # Given a table without a stream
    _create_table(stream=None)

    # When the stream and the replica are requested together
    response = _ddb(EAST).update_table(
        TableName=TABLE, StreamSpecification=STREAM, ReplicaUpdates=[{"Create": {"RegionName": WEST}}]
    )

    # Then both happen
    assert response["TableDescription"]["StreamSpecification"] == STREAM
    assert response["TableDescription"]["Replicas"] == [{"RegionName": WEST, "ReplicaStatus": "ACTIVE"}]


def test_invalid_replica_updates_are_refused(env: Any) -> None:
    # Given a global table, and a separate table of the same name in eu-west-1
    _global_table()
    _create_table(region="eu-west-1")

    # When impossible replica updates are requested
    cases = {
        "own region": [{"Create": {"RegionName": EAST}}],
        "already a replica": [{"Create": {"RegionName": WEST}}],
        "existing table": [{"Create": {"RegionName": "eu-west-1"}}],
        "no such region": [{"Create": {"RegionName": "mars-north-1"}}],
        "delete non-replica": [{"Delete": {"RegionName": "ap-south-1"}}],
    }
    messages = {}
    for case, updates in cases.items():
        with pytest.raises(ClientError) as info:
            _ddb(EAST).update_table(TableName=TABLE, ReplicaUpdates=updates)
        code, messages[case] = _error(info)
        assert code == "ValidationException", case

    # Then each says what was wrong
    assert "that is the Region of the table you called UpdateTable on" in messages["own region"]
    assert "it already is a replica (replicas: ['us-east-1', 'us-west-2'])" in messages["already a replica"]
    assert "one or more replicas already existed as tables" in messages["existing table"]
    assert "expected a Region where DynamoDB is available" in messages["no such region"]
    assert "it is not a replica (replicas: ['us-east-1', 'us-west-2'])" in messages["delete non-replica"]


def test_unknown_table_is_resource_not_found(env: Any) -> None:
    # Given no table
    # When a replica of it is requested
    with pytest.raises(ClientError) as info:
        _ddb(EAST).update_table(TableName="missing", ReplicaUpdates=[{"Create": {"RegionName": WEST}}])

    # Then the table is not found
    assert _error(info) == ("ResourceNotFoundException", "Requested resource not found: Table: missing not found")


def test_delete_replica_removes_the_table_and_the_global_fields(env: Any) -> None:
    # Given a global table
    _clock, sim = env
    _global_table()

    # When the us-west-2 replica is deleted from us-east-1
    response = _ddb(EAST).update_table(TableName=TABLE, ReplicaUpdates=[{"Delete": {"RegionName": WEST}}])

    # Then the table in us-west-2 is gone and us-east-1 is a plain table again
    assert _ddb(WEST).list_tables()["TableNames"] == []
    assert "Replicas" not in response["TableDescription"]
    assert "Replicas" not in _ddb(EAST).describe_table(TableName=TABLE)["Table"]
    assert sim.replicas(TABLE) == []


def test_other_table_updates_are_still_answered_by_moto(env: Any) -> None:
    # Given a global table
    _global_table()

    # When a setting other than replicas changes
    response = _ddb(EAST).update_table(TableName=TABLE, DeletionProtectionEnabled=True)

    # Then moto applied it and the answer still shows the replicas
    assert response["TableDescription"]["DeletionProtectionEnabled"] is True
    assert response["TableDescription"]["Replicas"] == [{"RegionName": WEST, "ReplicaStatus": "ACTIVE"}]


def test_the_stream_of_a_global_table_cannot_be_disabled(env: Any) -> None:
    # Given a global table
    _global_table()

    # When its stream is disabled
    with pytest.raises(ClientError) as info:
        _ddb(EAST).update_table(TableName=TABLE, StreamSpecification={"StreamEnabled": False})

    # Then it is refused
    code, message = _error(info)
    assert code == "ValidationException"
    assert "its stream can't be disabled while it has replicas" in message


# -- replication -------------------------------------------------------------------------------------
def test_write_reaches_the_other_region_after_the_latency(env: Any) -> None:
    # Given a global table with the default latency (0.5 s)
    clock, sim = env
    _global_table()

    # When an item is written in us-east-1
    _put(EAST, "inc-1", status="open")
    before = _get(WEST, "inc-1")
    pending = sim.pending_writes(TABLE, EAST)
    clock.advance(1)
    after = _get(WEST, "inc-1")

    # Then us-west-2 has it only once the latency has passed
    assert before is None
    assert pending == 1
    assert after == _key("inc-1") | {"status": {"S": "open"}}
    assert sim.pending_writes() == 0


def test_deletes_replicate(env: Any) -> None:
    # Given an item present in both Regions
    clock, _sim = env
    _global_table()
    _put(EAST, "inc-1", status="open")
    clock.advance(1)
    assert _get(WEST, "inc-1") is not None

    # When it is deleted in us-east-1
    _ddb(EAST).delete_item(TableName=TABLE, Key=_key("inc-1"))
    still_there = _get(WEST, "inc-1")
    clock.advance(1)

    # Then it disappears from us-west-2 after the latency
    assert still_there is not None
    assert _get(WEST, "inc-1") is None


def test_writes_in_the_recovery_region_replicate_back(env: Any) -> None:
    # Given a global table
    clock, _sim = env
    _global_table()

    # When an item is written in us-west-2 (after a failover)
    _put(WEST, "inc-9", status="dispatched")
    clock.advance(1)

    # Then us-east-1 has it
    assert _get(EAST, "inc-9") == _key("inc-9") | {"status": {"S": "dispatched"}}


def test_every_write_api_replicates(env: Any) -> None:
    # Given a global table with an item to update and one to delete
    clock, _sim = env
    _global_table()
    _put(EAST, "upd", status="open")
    _put(EAST, "gone", status="open")
    _put(EAST, "tx-gone", status="open")

    # When items change through UpdateItem, BatchWriteItem and TransactWriteItems
    east = _ddb(EAST)
    east.update_item(
        TableName=TABLE,
        Key=_key("upd"),
        UpdateExpression="SET #s = :s",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":s": {"S": "closed"}},
    )
    east.batch_write_item(
        RequestItems={
            TABLE: [
                {"PutRequest": {"Item": _key("batch") | {"status": {"S": "new"}}}},
                {"DeleteRequest": {"Key": _key("gone")}},
            ]
        }
    )
    east.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": TABLE, "Item": _key("tx") | {"status": {"S": "tx"}}}},
            {"Delete": {"TableName": TABLE, "Key": _key("tx-gone")}},
        ]
    )
    clock.advance(1)

    # Then us-west-2 shows every change
    assert _get(WEST, "upd") == _key("upd") | {"status": {"S": "closed"}}
    assert _get(WEST, "batch") == _key("batch") | {"status": {"S": "new"}}
    assert _get(WEST, "gone") is None
    assert _get(WEST, "tx") == _key("tx") | {"status": {"S": "tx"}}
    assert _get(WEST, "tx-gone") is None


def test_a_failed_conditional_write_is_not_replicated(env: Any) -> None:
    # Given an item written in us-west-2 that has not reached us-east-1 yet
    clock, sim = env
    _global_table()
    _put(WEST, "inc-1", status="west")

    # When a conditional write in us-east-1 fails
    with pytest.raises(ClientError):
        _ddb(EAST).put_item(
            TableName=TABLE,
            Item=_key("inc-1") | {"status": {"S": "east"}},
            ConditionExpression="attribute_exists(pk)",
        )
    failed_pending = sim.pending_writes(source_region=EAST)
    clock.advance(1)

    # Then nothing travels from us-east-1 and both Regions converge on us-west-2's write
    assert failed_pending == 0
    assert _get(EAST, "inc-1") == _key("inc-1") | {"status": {"S": "west"}}
    assert _get(WEST, "inc-1") == _key("inc-1") | {"status": {"S": "west"}}


def test_concurrent_writes_resolve_last_writer_wins(env: Any) -> None:
    # Given a global table
    clock, _sim = env
    _global_table()

    # When both Regions write the same item within the latency, us-west-2 last
    _put(EAST, "inc-1", status="east")
    clock.advance(0.2)
    _put(WEST, "inc-1", status="west")
    clock.advance(1)

    # Then both Regions hold the later write
    assert _get(EAST, "inc-1") == _key("inc-1") | {"status": {"S": "west"}}
    assert _get(WEST, "inc-1") == _key("inc-1") | {"status": {"S": "west"}}


def test_each_write_arrives_with_its_own_value(env: Any) -> None:
    # Given a latency of 10 s
    clock, sim = env
    _global_table()
    sim.set_replication_latency(10)

    # When an item is written twice, 5 s apart
    _put(EAST, "inc-1", status="first")
    clock.advance(5)
    _put(EAST, "inc-1", status="second")
    clock.advance(5.5)
    between = _get(WEST, "inc-1")
    clock.advance(5)

    # Then the replica shows the first value after 10 s and the second after 15 s
    assert between == _key("inc-1") | {"status": {"S": "first"}}
    assert _get(WEST, "inc-1") == _key("inc-1") | {"status": {"S": "second"}}


def test_latency_is_set_per_direction(env: Any) -> None:
    # Given us-east-1 -> us-west-2 slow (30 s) and the other direction at the default
    clock, sim = env
    _global_table()
    sim.set_replication_latency(30, source_region=EAST, target_region=WEST)

    # When both Regions write
    _put(EAST, "from-east")
    _put(WEST, "from-west")
    clock.advance(1)
    east_has_west = _get(EAST, "from-west") is not None
    west_has_east_early = _get(WEST, "from-east") is not None
    clock.advance(30)

    # Then each direction takes its own latency
    assert (sim.replication_latency(EAST, WEST), sim.replication_latency(WEST, EAST)) == (30.0, 0.5)
    assert east_has_west is True
    assert west_has_east_early is False
    assert _get(WEST, "from-east") is not None


def test_replicated_writes_show_in_the_receiving_stream(env: Any) -> None:
    # Given a global table
    clock, sim = env
    _global_table()

    # When an item written in us-east-1 has replicated
    _put(EAST, "inc-1", status="open")
    clock.advance(1)
    sim.pump()

    # Then us-west-2's stream shows the INSERT with the new image (read from moto's backend: with
    # botocore 1.44, moto 5.2.5 answers the dynamodbstreams API with 404 "Not yet implemented")
    shard = dynamodb_backends[DEFAULT_ACCOUNT_ID][WEST].tables[TABLE].stream_shard
    records = [record.to_json() for record in shard.items]
    assert [(r["eventName"], r["dynamodb"]["NewImage"]["status"]) for r in records] == [("INSERT", {"S": "open"})]


def test_deleting_a_replica_table_directly_leaves_the_global_table(env: Any) -> None:
    # Given a global table
    _clock, sim = env
    _global_table()

    # When the us-west-2 table is deleted with DeleteTable
    _ddb(WEST).delete_table(TableName=TABLE)

    # Then us-east-1 is no longer global
    assert sim.replicas(TABLE) == []
    assert "Replicas" not in _ddb(EAST).describe_table(TableName=TABLE)["Table"]


def test_concurrent_writers_from_many_threads_all_replicate(env: Any) -> None:
    # Given a global table
    clock, sim = env
    _global_table()

    # When eight threads write 20 items each in us-east-1 while others read us-west-2
    def write(worker: int) -> None:
        client = _ddb(EAST)
        for n in range(20):
            client.put_item(TableName=TABLE, Item=_key(f"w{worker}-{n}"))

    def read(_: int) -> None:
        client = _ddb(WEST)
        for _n in range(20):
            client.scan(TableName=TABLE, Select="COUNT")

    with ThreadPoolExecutor(max_workers=12) as pool:
        futures = [pool.submit(write, w) for w in range(8)] + [pool.submit(read, r) for r in range(4)]
        for future in futures:
            future.result()
    clock.advance(1)

    # Then every write reached us-west-2
    assert _ddb(WEST).scan(TableName=TABLE, Select="COUNT")["Count"] == 160
    assert sim.pending_writes() == 0


# -- outages and metrics -----------------------------------------------------------------------------
def test_paused_replication_queues_writes_and_resume_delivers_them(env: Any) -> None:
    # Given replication from us-east-1 paused
    clock, sim = env
    _global_table()
    sim.pause_replication(EAST)

    # When writes are made and time passes
    _put(EAST, "inc-1", status="open")
    _put(EAST, "inc-2", status="open")
    clock.advance(300)
    queued = sim.pending_writes(TABLE, EAST)
    absent = _get(WEST, "inc-1")
    sim.resume_replication(EAST)
    just_resumed = _get(WEST, "inc-1")
    clock.advance(1)

    # Then they wait while paused and arrive the latency after the resume
    assert queued == 2
    assert absent is None
    assert just_resumed is None
    assert _get(WEST, "inc-1") is not None
    assert _get(WEST, "inc-2") is not None
    assert sim.pending_writes() == 0


def test_pausing_one_region_keeps_the_other_direction_flowing(env: Any) -> None:
    # Given replication from us-east-1 paused
    clock, sim = env
    _global_table()
    sim.pause_replication(EAST)

    # When us-west-2 writes
    _put(WEST, "inc-1")
    clock.advance(1)

    # Then its write reaches us-east-1
    assert _get(EAST, "inc-1") is not None
    assert sim.paused_regions() == [EAST]


def _latency_and_age(clock: Any, written: datetime) -> tuple[float, float, float]:
    """The latency metric, the backlog's age read right after it, and the real milliseconds in between."""
    began = time.monotonic()
    latency = _latest_latency_ms(clock)
    age = (clock.now() - written).total_seconds() * 1000
    return latency, age, (time.monotonic() - began) * 1000


def test_replication_latency_metric_shows_the_latency_then_the_backlog_age(env: Any) -> None:
    # Given a global table with the default latency
    clock, sim = env
    _global_table()
    normal = _latest_latency_ms(clock)

    # When replication from us-east-1 is paused with a write waiting for 120 s, then 300 s
    sim.pause_replication(EAST)
    before = clock.now()
    _put(EAST, "inc-1")
    written = clock.now()
    put_ms = (written - before).total_seconds() * 1000  # the write happened inside it (the clock ticks)
    clock.advance(120)
    after_two_minutes, age_two_minutes, real_two = _latency_and_age(clock, written)
    clock.advance(180)
    after_five_minutes, age_five_minutes, real_five = _latency_and_age(clock, written)
    sim.resume_replication(EAST)
    clock.advance(61)
    recovered = _latest_latency_ms(clock)

    # Then the metric is the latency, grows with the backlog's age, and falls back once delivered (the
    # virtual clock ticks with real time: the age is read up to the real milliseconds the read took later,
    # and counted from the end of the PutItem, up to its real milliseconds after the write)
    assert normal == 500.0
    assert age_two_minutes - 1000 - real_two <= after_two_minutes <= age_two_minutes + put_ms
    assert age_five_minutes - 1000 - real_five <= after_five_minutes <= age_five_minutes + put_ms
    assert after_two_minutes >= 120_000
    assert after_five_minutes >= 300_000
    assert recovered == 500.0


def test_metric_series_exist_for_each_direction_in_the_source_region(env: Any) -> None:
    # Given a global table
    _global_table()

    # When the metrics of each Region are listed
    def listed(region: str) -> list[dict[str, str]]:
        metrics = boto3.client("cloudwatch", region_name=region).list_metrics(
            Namespace="AWS/DynamoDB", MetricName="ReplicationLatency"
        )["Metrics"]
        return [{d["Name"]: d["Value"] for d in m["Dimensions"]} for m in metrics]

    # Then each Region publishes the latency toward the other
    assert listed(EAST) == [{"TableName": TABLE, "ReceivingRegion": WEST}]
    assert listed(WEST) == [{"TableName": TABLE, "ReceivingRegion": EAST}]


def test_make_global_is_the_same_as_update_table(env: Any) -> None:
    # Given a table with an item
    clock, sim = env
    _create_table()
    _put(EAST, "seed", status="open")

    # When a scenario makes it global directly
    sim.make_global(TABLE, EAST, [WEST])
    _put(EAST, "after")
    clock.advance(1)

    # Then the replica exists, holds the seed, and receives new writes
    assert _ddb(WEST).describe_table(TableName=TABLE)["Table"]["Replicas"] == [
        {"RegionName": EAST, "ReplicaStatus": "ACTIVE"}
    ]
    assert _get(WEST, "seed") is not None
    assert _get(WEST, "after") is not None


def test_make_global_reports_what_is_wrong(env: Any) -> None:
    # Given a table without a stream
    _clock, sim = env
    _create_table(stream=None)

    # When a scenario makes it global
    with pytest.raises(ValueError, match="ValidationException: Table roadcall-incidents-prod in us-east-1 needs"):
        sim.make_global(TABLE, EAST, [WEST])


def test_knobs_validate_their_arguments(env: Any) -> None:
    # Given the simulator
    _clock, sim = env

    # When negative durations are given
    # Then they are refused
    with pytest.raises(ValueError, match="replication latency must be >= 0 seconds, got -1"):
        sim.set_replication_latency(-1)
    with pytest.raises(ValueError, match="replica creation time must be >= 0 seconds, got -5"):
        sim.set_replica_creation_seconds(-5)


def test_write_times_come_from_the_virtual_clock(env: Any) -> None:
    # Given a global table and a 2 s latency
    clock, sim = env
    _global_table()
    sim.set_replication_latency(2)

    # When an item is written and 1.5 s of virtual time pass
    _put(EAST, "inc-1")
    clock.advance(1.5)
    early = _get(WEST, "inc-1")
    clock.advance(1)

    # Then it arrives only after 2 s of virtual time
    assert early is None
    assert _get(WEST, "inc-1") is not None
