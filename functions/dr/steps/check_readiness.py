"""CheckAurora / CheckDynamoDB / CheckS3 / CheckEndpoints / CheckBackups: the read-only readiness checks
the workflows run in parallel before they decide. One handler per store, each over dr.readiness."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dr import readiness
from dr.inventory import Inventory, load_inventory
from dr.models import OperationRequest, parse
from dr.settings import Settings, get_settings
from dr.steps._handler import lambda_step

Read = Callable[[OperationRequest, Inventory, Settings], Any]


def _check(name: str, read: Read) -> Callable[[dict[str, Any], Any], Any]:
    """The Lambda handler of one check: validate the request, read, and answer in JSON."""

    def check(event: dict[str, Any]) -> dict[str, Any]:
        settings = get_settings()
        request = parse(OperationRequest, event.get("request"), "request")
        return readiness.as_json(read(request, load_inventory(settings), settings))

    check.__name__ = check.__qualname__ = name
    return lambda_step(check)


aurora = _check("aurora", lambda request, inv, settings: readiness.aurora(request, inv))
dynamodb = _check("dynamodb", lambda request, inv, settings: readiness.dynamodb(request, inv))
s3 = _check("s3", lambda request, inv, settings: readiness.s3(request, inv))
endpoints = _check("endpoints", readiness.endpoints)
backups = _check("backups", lambda request, inv, settings: readiness.backups(inv, settings))
