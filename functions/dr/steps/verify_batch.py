"""VerifyBatch (one Map iteration): the recovery points, copies and own protection of each resource of
one batch (its list read from, its results written to, the reports bucket); returns a small summary."""

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
