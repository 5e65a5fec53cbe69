"""CheckAurora / CheckDynamoDB / CheckS3 / CheckEndpoints / CheckBackups: the read-only readiness checks
the workflows run in parallel before they decide. One handler per store, each over dr.readiness."""

from __future__ import annotations

from typing import Any

from dr import readiness
from dr.inventory import load_inventory
from dr.models import OperationRequest, parse
from dr.settings import get_settings
from dr.steps._handler import lambda_step


def _inputs(event: dict[str, Any]) -> tuple[OperationRequest, Any, Any]:
    settings = get_settings()
    return parse(OperationRequest, event.get("request"), "request"), load_inventory(settings), settings


@lambda_step
def aurora(event: dict[str, Any]) -> dict[str, Any]:
    request, inv, _ = _inputs(event)
    return readiness.as_json(readiness.aurora(request, inv))


@lambda_step
def dynamodb(event: dict[str, Any]) -> dict[str, Any]:
    request, inv, _ = _inputs(event)
    return readiness.as_json(readiness.dynamodb(request, inv))


@lambda_step
def s3(event: dict[str, Any]) -> dict[str, Any]:
    request, inv, _ = _inputs(event)
    return readiness.as_json(readiness.s3(request, inv))


@lambda_step
def endpoints(event: dict[str, Any]) -> dict[str, Any]:
    request, inv, settings = _inputs(event)
    return readiness.as_json(readiness.endpoints(request, inv, settings))


@lambda_step
def backups(event: dict[str, Any]) -> dict[str, Any]:
    _, inv, settings = _inputs(event)
    return readiness.as_json(readiness.backups(inv, settings))
