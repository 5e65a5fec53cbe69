"""ReprotectAurora / ReprotectDynamoDB / ReprotectS3: run the replication setup from the region the
platform runs in toward the old primary, one store per handler (dr.replication does the work).

Each run changes only what is missing and returns what it changed, what it found and what is still
converging (``configured`` false); the state machine runs it again after a wait until it is configured,
a bounded number of times. In dry-run mode nothing is changed and ``changes`` says what would be.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dr import replication
from dr.inventory import Inventory, load_inventory
from dr.models import OperationRequest, parse
from dr.replication import ReplicationSettings, SetupResult
from dr.settings import get_settings
from dr.steps._handler import lambda_step

SETUPS: dict[str, Callable[..., SetupResult]] = {
    "aurora": replication.setup_aurora,
    "dynamodb": replication.setup_dynamodb,
    "s3": replication.setup_s3,
}


def _options(store: str, inv: Inventory, request: OperationRequest, settings: ReplicationSettings) -> dict[str, Any]:
    """What one store's setup needs beyond the regions and the mode."""
    if store == "aurora":
        instances = settings.aurora_instances(inv, request.target_region)
        return {"min_instances": instances, "lag_budget_seconds": settings.lag_budget_seconds}
    if store == "s3":
        return {"rule_id": settings.rule_id, "role_name": settings.role_name, "backfill_limit": settings.backfill_limit}
    return {}


def _setup(event: dict[str, Any], store: str) -> dict[str, Any]:
    """Run one store's setup from the request's source region toward its target."""
    request = parse(OperationRequest, event.get("request"), "request")
    inv, settings = load_inventory(get_settings()), ReplicationSettings()
    options = _options(store, inv, request, settings)
    dry_run = request.mode == "dry-run"
    result = SETUPS[store](inv, request.source_region, request.target_region, dry_run=dry_run, **options)
    return {**result.model_dump(mode="json"), "configured": result.configured}


@lambda_step
def aurora(event: dict[str, Any]) -> dict[str, Any]:
    return _setup(event, "aurora")


@lambda_step
def dynamodb(event: dict[str, Any]) -> dict[str, Any]:
    return _setup(event, "dynamodb")


@lambda_step
def s3(event: dict[str, Any]) -> dict[str, Any]:
    return _setup(event, "s3")
