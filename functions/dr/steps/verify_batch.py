"""VerifyBatch (one Map iteration): each resource of one batch judged from its slice of the vaults (read
from the reports bucket, where ListProtectedResources wrote it), plus its own protection (PITR, Aurora
retention, S3 versioning and replication) from the batch's AWS Config items, or read from its service when
Config has no usable item for it; the results are written back to the
bucket and the state gets a small summary. No vault is listed here."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from dr.backup_models import BackupRequest
from dr.backup_verification import check_batch
from dr.errors import InvalidInput
from dr.models import parse
from dr.settings import get_settings
from dr.steps._handler import lambda_step


@lambda_step
def handler(event: dict[str, Any]) -> dict[str, Any]:
    request = parse(BackupRequest, event.get("request"), "request")
    batch = event.get("batch")
    if not isinstance(batch, int) or batch < 0:
        raise InvalidInput(f"batch must be a batch number (an integer >= 0), got {batch!r}")
    return check_batch(request, batch, get_settings(), datetime.now(UTC))
