"""CheckRestore (one poll of the Map iteration's bounded loop): the restore job's status and duration."""

from __future__ import annotations

from typing import Any

from dr import restore_test
from dr.backup_models import BackupRequest, RestorePlanItem
from dr.errors import InvalidInput
from dr.models import parse
from dr.settings import get_settings
from dr.steps._handler import lambda_step


@lambda_step
def handler(event: dict[str, Any]) -> dict[str, Any]:
    parse(BackupRequest, event.get("request"), "request")
    item = parse(RestorePlanItem, event.get("item"), "plan item")
    job_id = (event.get("job") or {}).get("restore_job_id")
    if not job_id:
        raise InvalidInput("job.restore_job_id is missing: expected the output of StartRestore")
    return restore_test.poll(item, str(job_id), get_settings().rto_seconds)
