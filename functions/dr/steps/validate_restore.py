"""ValidateRestore (one Map iteration): tag the restored resource, compare its data with the source, and
report the verdict to AWS Backup (PutRestoreValidationResult)."""

from __future__ import annotations

from typing import Any

from dr import restore_test
from dr.backup_models import BackupRequest, RestorePlanItem
from dr.inventory import load_inventory
from dr.models import parse
from dr.settings import get_settings
from dr.steps._handler import lambda_step


@lambda_step
def handler(event: dict[str, Any]) -> dict[str, Any]:
    request = parse(BackupRequest, event.get("request"), "request")
    item = parse(RestorePlanItem, event.get("item"), "plan item")
    settings = get_settings()
    result = restore_test.validate(request, item, event.get("job") or {}, load_inventory(settings), settings)
    return result.model_dump(mode="json")
