"""BatchWriteItem refuses what DynamoDB refuses, and only that: the same key twice in one table, more than 25
requests; one item put into two tables is two items (moto refused it)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from localcloud.cloud import LocalCloud


@pytest.fixture
def ddb(cloud: LocalCloud) -> Any:
    client = cloud.client("dynamodb", "us-west-2")
    for name in ("users", "vendors"):
        client.create_table(
            TableName=name,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        )
    return client


def put(item: dict[str, Any]) -> dict[str, Any]:
    return {"PutRequest": {"Item": item}}


def refusal(ddb: Any, request: dict[str, Any]) -> str:
    with pytest.raises(ClientError) as caught:
        ddb.batch_write_item(RequestItems=request)
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    return str(caught.value.response["Error"]["Message"])


def test_one_item_into_two_tables_is_written_to_both(ddb: Any) -> None:
    item = {"id": {"S": "hb"}, "at": {"N": "1"}}
    out = ddb.batch_write_item(RequestItems={"users": [put(item)], "vendors": [put(item)]})
    assert out["UnprocessedItems"] == {}
    assert all(ddb.get_item(TableName=t, Key={"id": {"S": "hb"}})["Item"] == item for t in ("users", "vendors"))


def test_one_key_twice_in_one_table_is_refused_and_nothing_is_written(ddb: Any) -> None:
    request = {"users": [put({"id": {"S": "a"}, "v": {"N": "1"}}), put({"id": {"S": "a"}, "v": {"N": "2"}})]}
    assert refusal(ddb, request) == "Provided list of item keys contains duplicates"
    delete_and_put = {"users": [put({"id": {"S": "b"}}), {"DeleteRequest": {"Key": {"id": {"S": "b"}}}}]}
    assert refusal(ddb, delete_and_put) == "Provided list of item keys contains duplicates"
    assert ddb.scan(TableName="users")["Items"] == []


def test_more_than_25_requests_are_refused(ddb: Any) -> None:
    request = {
        "users": [put({"id": {"S": str(n)}}) for n in range(20)],
        "vendors": [put({"id": {"S": str(n)}}) for n in range(6)],
    }
    assert refusal(ddb, request) == "Too many items requested for the BatchWriteItem call"
    request["vendors"].pop()
    assert ddb.batch_write_item(RequestItems=request)["UnprocessedItems"] == {}
