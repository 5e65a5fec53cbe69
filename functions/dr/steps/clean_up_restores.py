"""CleanUpRestores: delete every temporary resource of this restore test (on success and on every failure
path), each on its own, and say per resource what was deleted, what is left and why. Called in a bounded
loop until the cleanup is settled: a restore job still running, a deletion in progress or an error that
may pass means "look again"; a refusal (access denied) is reported and does not keep the test waiting."""

from __future__ import annotations

from typing import Any

from dr import restore_cleanup
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
    return restore_cleanup.clean_up(request, plan, results, previous)
