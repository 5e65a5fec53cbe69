"""ReprotectAurora / ReprotectDynamoDB / ReprotectS3: run the replication setup from the region the
platform runs in toward the old primary, one store per handler (dr.replication does the work).

Each run changes only what is missing and returns what it changed, what it found and what is still
converging (``configured`` false); the state machine runs it again after a wait until it is configured,
a bounded number of times. In dry-run mode nothing is changed and ``changes`` says what would be.
"""

from __future__ import annotations

from typing import Any

from dr import replication
from dr.inventory import Inventory, load_inventory
from dr.models import OperationRequest, parse
from dr.replication import ReplicationSettings, SetupResult
from dr.settings import get_settings
from dr.steps._handler import lambda_step


def _inputs(event: dict[str, Any]) -> tuple[OperationRequest, Inventory, ReplicationSettings]:
    request = parse(OperationRequest, event.get("request"), "request")
    return request, load_inventory(get_settings()), ReplicationSettings()


def _out(result: SetupResult) -> dict[str, Any]:
    return {**result.model_dump(mode="json"), "configured": result.configured}


@lambda_step
def aurora(event: dict[str, Any]) -> dict[str, Any]:
    request, inv, settings = _inputs(event)
    return _out(
        replication.setup_aurora(
            inv,
            request.source_region,
            request.target_region,
            min_instances=settings.aurora_instances(inv, request.target_region),
            lag_budget_seconds=settings.lag_budget_seconds,
            dry_run=request.mode == "dry-run",
        )
    )


@lambda_step
def dynamodb(event: dict[str, Any]) -> dict[str, Any]:
    request, inv, _ = _inputs(event)
    return _out(
        replication.setup_dynamodb(inv, request.source_region, request.target_region, dry_run=request.mode == "dry-run")
    )


@lambda_step
def s3(event: dict[str, Any]) -> dict[str, Any]:
    request, inv, settings = _inputs(event)
    return _out(
        replication.setup_s3(
            inv,
            request.source_region,
            request.target_region,
            rule_id=settings.rule_id,
            role_name=settings.role_name,
            dry_run=request.mode == "dry-run",
            backfill_limit=settings.backfill_limit,
        )
    )
