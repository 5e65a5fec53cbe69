"""StartRestore (one Map iteration): start the restore job of one plan item into its temporary resource
(idempotent: the token is derived from the execution and the recovery point)."""

from __future__ import annotations

from typing import Any

from dr import restore_test
from dr.backup_models import BackupRequest, RestorePlanItem
from dr.models import parse
from dr.settings import get_settings
from dr.steps._handler import lambda_step


@lambda_step
def handler(event: dict[str, Any]) -> dict[str, Any]:
    request = parse(BackupRequest, event.get("request"), "request")
    item = parse(RestorePlanItem, event.get("item"), "plan item")
    return restore_test.start(request, item, get_settings())
