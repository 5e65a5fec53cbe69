"""SelectRecoveryPoints: the newest completed recovery point of each tested resource (a table, the Aurora
cluster, a bucket, each in turn month by month), from the primary vault or the recovery region's copies,
and the name of the temporary resource each restores into. Read-only."""

from __future__ import annotations

from typing import Any

from dr import restore_test
from dr.backup_models import BackupRequest
from dr.inventory import load_inventory
from dr.models import parse
from dr.settings import get_settings
from dr.steps._handler import lambda_step


@lambda_step
def handler(event: dict[str, Any]) -> dict[str, Any]:
    request = parse(BackupRequest, event.get("request"), "request")
    plan, missing = restore_test.select(request, load_inventory(get_settings()))
    return {"plan": [item.model_dump(mode="json") for item in plan], "missing": missing}
