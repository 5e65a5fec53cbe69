"""CheckBackupJobs: backup jobs into the vault and copy jobs out of it that failed, were aborted, expired
or ended partial in the lookback window (24 h), as findings."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from dr.backup_models import BackupRequest
from dr.backup_verification import arn_parts, check_jobs
from dr.models import parse
from dr.settings import get_settings
from dr.steps._handler import lambda_step


@lambda_step
def handler(event: dict[str, Any]) -> dict[str, Any]:
    request = parse(BackupRequest, event.get("request"), "request")
    settings = get_settings()
    partition, account = arn_parts(request.execution)
    out = check_jobs(request, settings, datetime.now(UTC), partition, account)
    out["lookback_hours"] = settings.job_lookback_hours
    return out
