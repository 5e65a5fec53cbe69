"""Recovery points, protected resources, backup selections, and DeleteBackupVault.

Modeled: the recovery points of each vault and of each resource (newest first, filtered, paginated),
DescribeRecoveryPoint (status, encryption, lifecycle and the dates it implies, storage class, creator,
source vault of a copy, size), the restore metadata of a recovery point, DeleteRecoveryPoint (DELETING,
then gone after ``Durations.delete`` seconds), protected resources (every resource with at least one
recovery point in a vault of the Region), selections on the plans moto holds, and DeleteBackupVault
refusing a vault that still holds recovery points (moto would drop them).
Not modeled: lifecycle enforcement (a recovery point past its DeleteAt stays until deleted), legal holds,
vault lock retention checks, composite (parent) recovery points, indexes and malware scans, and
selections actually assigning resources to scheduled plan runs (no scheduler runs plans).
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from moto.backup.models import backup_backends

from localcloud.interceptor import Call
from localcloud.services.backup.api_common import Handler, listing, page_answer, when
from localcloud.services.backup.errors import invalid_request, not_found
from localcloud.services.backup.records import RecoveryPoint, Selection
from localcloud.services.backup.snapshots import restore_metadata
from localcloud.services.backup.store import paginate, point_key

if TYPE_CHECKING:
    from localcloud.services.backup.engine import BackupEngine


def _point_in_vault(engine: BackupEngine, call: Call) -> RecoveryPoint:
    vault_name, arn = call.params["BackupVaultName"], call.params["RecoveryPointArn"]
    engine.require_vault(call.region, vault_name)
    point = engine.points.get(arn)
    if point is None or point.region != call.region or point.vault_name != vault_name:
        raise not_found(f"Recovery point {arn} is not in backup vault '{vault_name}' in {call.region}")
    return point


# ---------------------------------------------------------------- recovery points


def _vault_point_matches(point: RecoveryPoint, params: dict[str, Any]) -> bool:
    """Whether ``point`` passes every By* filter of ListRecoveryPointsByBackupVault that was given."""
    after, before = when(params.get("ByCreatedAfter")), when(params.get("ByCreatedBefore"))
    plan_id = (point.created_by or {}).get("BackupPlanId")
    return not (
        params.get("ByResourceArn") not in (None, point.resource_arn)
        or params.get("ByResourceType") not in (None, point.resource_type)
        or params.get("ByBackupPlanId") not in (None, plan_id)
        or params.get("ByParentRecoveryPointArn") is not None  # no composite (parent) recovery points
        or (after is not None and point.created_at <= after)
        or (before is not None and point.created_at >= before)
    )


def list_recovery_points_by_backup_vault(engine: BackupEngine, call: Call) -> dict[str, Any]:
    params = call.params
    engine.require_vault(call.region, params["BackupVaultName"])
    if params.get("ByResourceArn"):  # the resource's own index (same order), not a scan of the whole vault
        vault_name = params["BackupVaultName"]
        of_resource = engine.points.of_resource(call.region, params["ByResourceArn"])
        points = [p for p in of_resource if p.vault_name == vault_name]
    else:
        points = engine.points.in_vault(call.region, params["BackupVaultName"])
    if any(key.startswith("By") for key in params):
        points = [p for p in points if _vault_point_matches(p, params)]
    page, token = paginate(points, point_key, params.get("MaxResults"), params.get("NextToken"))
    return page_answer("RecoveryPoints", [p.vault_entry() for p in page], token)


def list_recovery_points_by_resource(engine: BackupEngine, call: Call) -> dict[str, Any]:
    points = engine.points.of_resource(call.region, call.params["ResourceArn"])
    page, token = paginate(points, point_key, call.params.get("MaxResults"), call.params.get("NextToken"))
    return page_answer("RecoveryPoints", [p.resource_entry() for p in page], token)


def describe_recovery_point(engine: BackupEngine, call: Call) -> dict[str, Any]:
    return _point_in_vault(engine, call).describe(engine.now())


def get_recovery_point_restore_metadata(engine: BackupEngine, call: Call) -> dict[str, Any]:
    point = _point_in_vault(engine, call)
    return {
        "BackupVaultArn": point.vault_arn,
        "RecoveryPointArn": point.arn,
        "RestoreMetadata": restore_metadata(point.resource_type, point.resource_name, point.snapshot),
        "ResourceType": point.resource_type,
    }


def delete_recovery_point(engine: BackupEngine, call: Call) -> dict[str, Any]:
    engine.delete_point(_point_in_vault(engine, call))
    return {}


# ---------------------------------------------------------------- protected resources


def _protected(latest: dict[str, RecoveryPoint]) -> list[dict[str, Any]]:
    return [
        {
            "ResourceArn": arn,
            "ResourceType": point.resource_type,
            "ResourceName": point.resource_name,
            "LastBackupTime": point.created_at,
            "LastBackupVaultArn": point.vault_arn,
            "LastRecoveryPointArn": point.arn,
        }
        for arn, point in sorted(latest.items())
    ]


def _resource_page(entries: list[dict[str, Any]], params: dict[str, Any]) -> dict[str, Any]:
    page, token = paginate(
        entries, lambda e: (0.0, e["ResourceArn"]), params.get("MaxResults"), params.get("NextToken")
    )
    return page_answer("Results", page, token)


def list_protected_resources(engine: BackupEngine, call: Call) -> dict[str, Any]:
    latest = {arn: engine.points.of_resource(call.region, arn)[0] for arn in engine.points.resources(call.region)}
    return _resource_page(_protected(latest), call.params)


def list_protected_resources_by_backup_vault(engine: BackupEngine, call: Call) -> dict[str, Any]:
    name = call.params["BackupVaultName"]
    engine.require_vault(call.region, name)
    latest: dict[str, RecoveryPoint] = {}
    for point in engine.points.in_vault(call.region, name):  # newest first: the first seen is the latest
        latest.setdefault(point.resource_arn, point)
    return _resource_page(_protected(latest), call.params)


# ---------------------------------------------------------------- vaults


def delete_backup_vault(engine: BackupEngine, call: Call) -> dict[str, Any]:
    name = call.params["BackupVaultName"]
    engine.require_vault(call.region, name)
    count = engine.points.count_in_vault(call.region, name)
    if count:
        raise invalid_request(
            f"Backup vault '{name}' cannot be deleted: it still contains {count} recovery points; delete them first"
        )
    backup_backends[engine.account_id][call.region].delete_backup_vault(name)
    return {}


# ---------------------------------------------------------------- selections


def _plan_selections(engine: BackupEngine, call: Call) -> dict[str, Selection]:
    plan_id = call.params["BackupPlanId"]
    if engine.plan(call.region, plan_id) is None:
        raise not_found(f"Backup plan '{plan_id}' does not exist in {call.region}")
    return engine.selections.setdefault((call.region, plan_id), {})


def _selection(engine: BackupEngine, call: Call) -> Selection:
    selection = _plan_selections(engine, call).get(call.params["SelectionId"])
    if selection is None:
        selection_id, plan_id = call.params["SelectionId"], call.params["BackupPlanId"]
        raise not_found(f"Backup selection '{selection_id}' does not exist in plan '{plan_id}'")
    return selection


def create_backup_selection(engine: BackupEngine, call: Call) -> dict[str, Any]:
    selections = _plan_selections(engine, call)
    request_id = call.params.get("CreatorRequestId")
    existing = [s for s in selections.values() if request_id and s.creator_request_id == request_id]
    if existing:
        selection = existing[0]
    else:
        selection = Selection(
            selection_id=str(uuid.uuid4()),
            plan_id=call.params["BackupPlanId"],
            region=call.region,
            created_at=engine.now(),
            body=dict(call.params["BackupSelection"]),
            creator_request_id=request_id,
        )
        selections[selection.selection_id] = selection
    return {
        "SelectionId": selection.selection_id,
        "BackupPlanId": selection.plan_id,
        "CreationDate": selection.created_at,
    }


def get_backup_selection(engine: BackupEngine, call: Call) -> dict[str, Any]:
    return _selection(engine, call).to_get()


def list_backup_selections(engine: BackupEngine, call: Call) -> dict[str, Any]:
    entries = [s.to_list() for s in _plan_selections(engine, call).values()]
    return listing(entries, call.params, {}, "SelectionId", "BackupSelectionsList")


def delete_backup_selection(engine: BackupEngine, call: Call) -> dict[str, Any]:
    selection = _selection(engine, call)
    del engine.selections[(call.region, selection.plan_id)][selection.selection_id]
    return {}


HANDLERS: dict[str, Handler] = {
    "ListRecoveryPointsByBackupVault": list_recovery_points_by_backup_vault,
    "ListRecoveryPointsByResource": list_recovery_points_by_resource,
    "DescribeRecoveryPoint": describe_recovery_point,
    "GetRecoveryPointRestoreMetadata": get_recovery_point_restore_metadata,
    "DeleteRecoveryPoint": delete_recovery_point,
    "ListProtectedResources": list_protected_resources,
    "ListProtectedResourcesByBackupVault": list_protected_resources_by_backup_vault,
    "DeleteBackupVault": delete_backup_vault,
    "CreateBackupSelection": create_backup_selection,
    "GetBackupSelection": get_backup_selection,
    "ListBackupSelections": list_backup_selections,
    "DeleteBackupSelection": delete_backup_selection,
}
