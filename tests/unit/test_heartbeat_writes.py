"""WriteHeartbeat's table writes: one BatchWriteItem per region for every table, and a table's own fault
(missing in a region, throttled, not answering) named for that table without blinding the others."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ConnectTimeoutError
from botocore.stub import Stubber
from dr import heartbeat

from localcloud.cloud import LocalCloud

REGION = "us-west-2"
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
TABLES = ["users", "incidents", "vendors"]


@pytest.fixture
def ddb(cloud: LocalCloud) -> Any:
    client = cloud.client("dynamodb", REGION)
    for name, key in (("users", "S"), ("incidents", "N"), ("vendors", "S")):
        client.create_table(
            TableName=name,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": key}],
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        )
    heartbeat._SCHEMAS.clear()  # a warm Lambda's cache: tables of an earlier test's embedded AWS
    yield client
    heartbeat._SCHEMAS.clear()


def seen(ddb: Any, table: str) -> datetime | None:
    return heartbeat.item_seen(ddb, table, REGION)


def test_every_table_gets_its_heartbeat_in_one_request(cloud: LocalCloud, ddb: Any) -> None:
    for table in TABLES:
        heartbeat._schema(ddb, table)  # a warm Lambda knows the key schemas
    before = dict(cloud.interceptor.calls)

    assert heartbeat.write_items(ddb, TABLES, REGION, NOW) == {}

    made = {op: n - before.get(op, 0) for op, n in cloud.interceptor.calls.items() if n != before.get(op, 0)}
    assert made == {("dynamodb", "BatchWriteItem"): 1}
    assert all(seen(ddb, table) == NOW for table in TABLES)


def test_a_table_missing_in_the_region_is_named_and_the_others_are_written(ddb: Any) -> None:
    heartbeat._SCHEMAS["gone"] = [("id", "S")]  # known from an earlier run: the table was deleted since
    failed = heartbeat.write_items(ddb, ["users", "gone", "vendors"], REGION, NOW)

    assert list(failed) == ["gone"] and failed["gone"].startswith("ResourceNotFoundException")
    assert seen(ddb, "users") == NOW and seen(ddb, "vendors") == NOW


def test_a_table_whose_schema_cannot_be_read_is_named_and_the_others_are_written(ddb: Any) -> None:
    failed = heartbeat.write_items(ddb, ["users", "never-created"], REGION, NOW)

    assert list(failed) == ["never-created"] and failed["never-created"].startswith("ResourceNotFoundException")
    assert seen(ddb, "users") == NOW


def _stubbed(ddb: Any, answers: list[dict[str, Any] | str]) -> Stubber:
    stub = Stubber(ddb)
    for answer in answers:
        if isinstance(answer, str):
            stub.add_client_error("batch_write_item", service_error_code=answer, http_status_code=400)
        else:
            stub.add_response("batch_write_item", answer)
    return stub


def _unprocessed(table: str) -> dict[str, Any]:
    item = heartbeat._item(None, table, REGION, NOW)
    return {"UnprocessedItems": {table: [{"PutRequest": {"Item": item}}]}}


def test_items_left_unprocessed_are_sent_once_more_then_named(ddb: Any) -> None:
    for table in TABLES:
        heartbeat._schema(ddb, table)
    with _stubbed(ddb, [_unprocessed("incidents"), {"UnprocessedItems": {}}]) as stub:
        assert heartbeat.write_items(ddb, TABLES, REGION, NOW) == {}
        stub.assert_no_pending_responses()
    with _stubbed(ddb, [_unprocessed("incidents"), _unprocessed("incidents")]):
        failed = heartbeat.write_items(ddb, TABLES, REGION, NOW)
    assert list(failed) == ["incidents"] and "UnprocessedItems" in failed["incidents"]


def test_a_batch_throttled_whole_is_sent_once_more(ddb: Any) -> None:
    for table in TABLES:
        heartbeat._schema(ddb, table)
    with _stubbed(ddb, ["ProvisionedThroughputExceededException", {"UnprocessedItems": {}}]) as stub:
        assert heartbeat.write_items(ddb, TABLES, REGION, NOW) == {}
        stub.assert_no_pending_responses()
    with _stubbed(ddb, ["ThrottlingException", "ThrottlingException"]):
        failed = heartbeat.write_items(ddb, TABLES, REGION, NOW)
    assert sorted(failed) == sorted(TABLES)
    assert all(why.startswith("ThrottlingException") and "twice" in why for why in failed.values())


def test_an_endpoint_that_stops_answering_table_by_table_names_the_rest_without_asking(ddb: Any) -> None:
    for table in ("users", "incidents", "vendors"):
        heartbeat._schema(ddb, table)
    asked: list[str] = []

    def put_item(TableName: str, **_: Any) -> None:  # botocore's parameter name
        asked.append(TableName)
        if TableName != "users":
            raise ConnectTimeoutError(endpoint_url="https://dynamodb.us-west-2.amazonaws.com")

    with _stubbed(ddb, ["AccessDeniedException"]):
        ddb.put_item = put_item
        failed = heartbeat.write_items(ddb, TABLES, REGION, NOW)

    assert asked == ["users", "incidents"]  # vendors not asked: it would wait out the same timeout
    assert sorted(failed) == ["incidents", "vendors"]
    assert all("Connect timeout" in why for why in failed.values())
