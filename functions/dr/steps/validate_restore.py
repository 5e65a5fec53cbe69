"""ValidateRestore (one Map iteration): tag the restored resource, compare every record of it with its
source's at the recovery point, and report the verdict to AWS Backup (PutRestoreValidationResult).

A restored Aurora cluster first gets a DB instance and its Data API endpoint: until the instance is
available the step raises ReplicaNotReady, which the state machine retries a minute later. An AWS error
that may pass raises TransientAwsError (retried); one that will not, or a check that cannot run as
configured, ends the iteration with VALIDATION_ERROR and tells AWS Backup nothing."""

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
    request = parse(BackupRequest, event.get("request"), "request")
    item = parse(RestorePlanItem, event.get("item"), "plan item")
    job = event.get("job") or {}
    if not job.get("restore_job_id"):
        raise InvalidInput("job.restore_job_id is missing: expected the output of CheckRestore")
    return restore_test.validate(request, item, job, get_settings()).model_dump(mode="json")
