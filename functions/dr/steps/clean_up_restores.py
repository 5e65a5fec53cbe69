"""CleanUpRestores: delete every temporary resource of this restore test (on success and on every failure
path), then look for anything of it still there. Called in a bounded loop until nothing is left: a
restore job still running, or a deletion in progress, means "look again"."""

from __future__ import annotations

from typing import Any

from dr import restore_test
from dr.backup_models import BackupRequest, RestorePlanItem
from dr.models import parse
from dr.steps._handler import lambda_step


@lambda_step
def handler(event: dict[str, Any]) -> dict[str, Any]:
    request = parse(BackupRequest, event.get("request"), "request")
    plan = [parse(RestorePlanItem, item, "plan item") for item in event.get("plan") or []]
    results = [r for r in event.get("results") or [] if isinstance(r, dict)]
    given = event.get("previous")
    previous: dict[str, Any] = given if isinstance(given, dict) else {}
    out = restore_test.clean_up(request, plan, results)
    out["deleted"] = sorted(set(previous.get("deleted") or []) | set(out["deleted"]))  # over every attempt
    out["attempts"] = int(previous.get("attempts") or 0) + 1
    return out
