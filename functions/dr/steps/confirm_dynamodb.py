"""ConfirmDynamoDB: prove every protected table takes writes in the target region (write, read back and
delete a canary item keyed by the execution), and record the exposure at promotion as the DynamoDB RPO:
the time since the source region's newest heartbeat that each replica holds (dr.heartbeat), worst table;
None when a table holds none. A table not ACTIVE yet is ReplicaNotReady (retried)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from dr import readiness as checks
from dr.aws import aws_errors, client
from dr.errors import PromotionFailed, ReplicaNotReady
from dr.inventory import load_inventory
from dr.models import OperationRequest, parse, worst
from dr.settings import get_settings
from dr.steps._handler import lambda_step

_CANARY: dict[str, str | bytes] = {"S": "__dr_canary__#{}", "N": "-4242424242", "B": b"__dr_canary__"}


def canary_key(description: dict[str, Any], execution: str) -> dict[str, Any]:
    types = {a["AttributeName"]: a["AttributeType"] for a in description["AttributeDefinitions"]}
    key: dict[str, Any] = {}
    for part in description["KeySchema"]:
        kind = types[part["AttributeName"]]
        value = _CANARY[kind]
        if isinstance(value, str) and kind == "S":
            value = value.format(execution.rsplit(":", 1)[-1])
        key[part["AttributeName"]] = {kind: value}
    return key


def confirm(request: OperationRequest) -> dict[str, Any]:
    inv = load_inventory(get_settings())
    ddb = client("dynamodb", request.target_region)
    confirmed = []
    exposures = []
    for name in inv.tables:
        with aws_errors(f"dynamodb canary write to {name} in {request.target_region}", PromotionFailed):
            desc = ddb.describe_table(TableName=name)["Table"]
            if desc["TableStatus"] != "ACTIVE":
                raise ReplicaNotReady(
                    f"table {name} in {request.target_region} is {desc['TableStatus']}, expected ACTIVE"
                )
            key = canary_key(desc, request.execution)
            ddb.put_item(TableName=name, Item={**key, "dr_canary": {"S": request.execution}})
            read = ddb.get_item(TableName=name, Key=key, ConsistentRead=True).get("Item")
            ddb.delete_item(TableName=name, Key=key)
        if not read:
            raise PromotionFailed(f"table {name} in {request.target_region} accepted a write but did not return it")
        confirmed.append(name)
        exposures.append(checks.table_exposure(ddb, name, request, []))
    exposure = worst(exposures, "DynamoDB heartbeats")
    return {
        "tables_confirmed": confirmed,
        "exposure": exposure.model_dump(mode="json"),
        "rpo_seconds": exposure.at(datetime.now(UTC)),
    }


@lambda_step
def handler(event: dict[str, Any]) -> dict[str, Any]:
    request = parse(OperationRequest, event.get("request"), "request")
    return confirm(request)
