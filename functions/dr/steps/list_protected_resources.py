"""ListProtectedResources: the resources the verification checks (the inventory's tables, Aurora cluster
and buckets, then every other resource with a recovery point in the vault) and what both vaults hold of
them, each vault listed once for the whole run, and what AWS Config recorded of their settings (one query per
Region: dr.recorded_config). Written to the reports bucket in batches, each with its
resources' slice of recovery points and copies (one Map iteration each); the state carries only the batch
numbers."""

from __future__ import annotations

from typing import Any

from dr.backup_models import BackupRequest
from dr.backup_verification import arn_parts, list_resources, read_vaults, store_batches
from dr.inventory import load_inventory
from dr.models import parse
from dr.recorded_config import ConfigSettings, read_recorded
from dr.settings import get_settings
from dr.steps._handler import lambda_step


@lambda_step
def handler(event: dict[str, Any]) -> dict[str, Any]:
    request = parse(BackupRequest, event.get("request"), "request")
    settings = get_settings()
    partition, account = arn_parts(request.execution)
    resources, findings = list_resources(request, load_inventory(settings), account, partition)
    recordings = read_recorded(resources, ConfigSettings())
    return {
        "count": len(resources),
        "batches": store_batches(request, resources, read_vaults(request), settings, recordings),
        "findings": [f.model_dump(mode="json") for f in findings],
    }
