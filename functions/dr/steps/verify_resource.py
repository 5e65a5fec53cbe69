"""VerifyResource (one Map iteration): the recovery points, copies and own protection of one resource."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from dr.backup_models import BackupRequest, ProtectedResource
from dr.backup_verification import check_resource
from dr.models import parse
from dr.settings import get_settings
from dr.steps._handler import lambda_step


@lambda_step
def handler(event: dict[str, Any]) -> dict[str, Any]:
    request = parse(BackupRequest, event.get("request"), "request")
    resource = parse(ProtectedResource, event.get("resource"), "resource")
    return check_resource(request, resource, get_settings(), datetime.now(UTC)).model_dump(mode="json")
