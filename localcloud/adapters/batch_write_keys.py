"""DynamoDB's BatchWriteItem refuses two requests for the same item: the same primary key in the same table.
moto compares whole items across all the tables of the request instead, so it refused a batch that puts one
identical item into two tables (AWS takes it: a heartbeat keyed the same way in every table) and took two
different puts of the same key into one table (AWS refuses it); and it took any number of requests, where AWS
takes 25. This adapter checks what AWS checks, by key and per table, then lets moto write the batch without
its own check.
"""

from __future__ import annotations

import json
from typing import Any

from moto.dynamodb.exceptions import MockValidationException, ResourceNotFoundException
from moto.dynamodb.responses import DynamoHandler

from localcloud.adapters.patching import PatchSet

DUPLICATES = "Provided list of item keys contains duplicates"
TOO_MANY = "Too many items requested for the BatchWriteItem call"
MAX_REQUESTS = 25


def duplicated_keys(handler: Any) -> bool:
    """Whether any table of the request is asked twice for one primary key (a put or a delete)."""
    for name, requests in (handler.body.get("RequestItems") or {}).items():
        try:
            table = handler.dynamodb_backend.get_table(name)
        except ResourceNotFoundException:
            return False  # moto's own batch_write_item answers a missing table as AWS does
        attributes = [a for a in (table.hash_key_attr, table.range_key_attr) if a]
        seen: set[str] = set()
        for request in requests:
            item = (request.get("PutRequest") or {}).get("Item") or (request.get("DeleteRequest") or {}).get("Key")
            key = json.dumps([(item or {}).get(a) for a in attributes], sort_keys=True)
            if key in seen:
                return True
            seen.add(key)
    return False


class BatchWriteKeysAdapter:
    name = "dynamodb-batch-write-keys"

    def __init__(self) -> None:
        self._patches = PatchSet()

    def install(self) -> None:
        original = DynamoHandler.batch_write_item

        def batch_write_item(handler: Any) -> Any:
            if sum(len(r) for r in (handler.body.get("RequestItems") or {}).values()) > MAX_REQUESTS:
                raise MockValidationException(TOO_MANY)
            if duplicated_keys(handler):
                raise MockValidationException(DUPLICATES)
            handler._contains_duplicates = lambda _keys: False  # this request's handler only (one per request)
            return original(handler)

        self._patches.add(DynamoHandler, "batch_write_item", batch_write_item)

    def uninstall(self) -> None:
        self._patches.undo_all()
