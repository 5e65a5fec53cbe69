"""The readiness check of backups (dr.readiness.backups): the newest completed recovery point, read from the
freshness window of the vault when it holds one, from the whole vault only to say how old a stale one is."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber
from dr import readiness
from dr.inventory import AuroraInventory, Inventory, RoutingInventory
from dr.settings import Settings

VAULT = "roadcall-backup-vault"
SETTINGS = Settings(STATE_TABLE="dr-state", TOPIC_ARN="arn:aws:sns:us-west-2:1:t", MAX_BACKUP_AGE_HOURS=26)
INVENTORY = Inventory(
    primary_region="us-east-1",
    recovery_region="us-west-2",
    tables=[],
    aurora=AuroraInventory(global_cluster_id="g", primary_cluster_id="a", secondary_cluster_id="b"),
    buckets=[],
    routing=RoutingInventory(
        primary_health_check_id="hc",
        primary_endpoint_url="http://p",
        recovery_endpoint_url="http://r",
        traffic_dns_name="api.example",
        traffic_dns_answers={"us-east-1": "127.0.1.1", "us-west-2": "127.0.2.1"},
        traffic_pin_alarm_name="pin",
    ),
    backup_vault=VAULT,
)


def point(hours_ago: float, status: str = "COMPLETED") -> dict[str, Any]:
    return {
        "RecoveryPointArn": f"arn:aws:backup:us-east-1:123456789012:recovery-point:{hours_ago}",
        "CreationDate": datetime.now(UTC) - timedelta(hours=hours_ago),
        "Status": status,
    }


@pytest.fixture
def vault(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stubber]:
    """The primary's vault, answering through botocore's Stubber: each expected call checks its parameters."""
    backup = boto3.client("backup", region_name="us-east-1")
    stubber = Stubber(backup)
    monkeypatch.setattr(readiness, "source_client", lambda _service, _region: backup)
    stubber.activate()
    yield stubber
    stubber.deactivate()


def test_a_fresh_point_is_found_by_listing_only_the_freshness_window(vault: Stubber) -> None:
    vault.add_response(
        "list_recovery_points_by_backup_vault",
        {"RecoveryPoints": [point(30, "PARTIAL"), point(2), point(20)]},
        {"BackupVaultName": VAULT, "ByCreatedAfter": ANY},
    )

    found = readiness.backups(INVENTORY, SETTINGS)

    vault.assert_no_pending_responses()  # one call: the whole vault was never listed
    assert found.fresh is True
    assert found.problems == []
    assert 1.9 < found.newest_age_hours < 2.1  # type: ignore[operator]


def test_the_window_starts_max_backup_age_hours_ago(vault: Stubber) -> None:
    asked: dict[str, Any] = {}
    vault.add_response("list_recovery_points_by_backup_vault", {"RecoveryPoints": [point(1)]}, None)
    vault.client.meta.events.register(
        "provide-client-params.backup.ListRecoveryPointsByBackupVault", lambda params, **_: asked.update(params)
    )

    readiness.backups(INVENTORY, SETTINGS)

    expected = datetime.now(UTC) - timedelta(hours=26)
    assert abs((asked["ByCreatedAfter"] - expected).total_seconds()) < 60


def test_a_stale_vault_is_listed_whole_to_say_how_old_its_newest_point_is(vault: Stubber) -> None:
    vault.add_response(
        "list_recovery_points_by_backup_vault",
        {"RecoveryPoints": [point(3, "RUNNING")]},  # nothing completed in the window
        {"BackupVaultName": VAULT, "ByCreatedAfter": ANY},
    )
    vault.add_response(
        "list_recovery_points_by_backup_vault",
        {"RecoveryPoints": [point(30), point(50)]},
        {"BackupVaultName": VAULT},
    )

    found = readiness.backups(INVENTORY, SETTINGS)

    vault.assert_no_pending_responses()
    assert found.fresh is False
    assert found.problems == [f"newest recovery point is {found.newest_age_hours:.1f} h old, expected at most 26 h"]
    assert 29.9 < found.newest_age_hours < 30.1  # type: ignore[operator]


def test_an_empty_vault_says_so(vault: Stubber) -> None:
    vault.add_response("list_recovery_points_by_backup_vault", {"RecoveryPoints": []}, None)
    vault.add_response("list_recovery_points_by_backup_vault", {"RecoveryPoints": []}, {"BackupVaultName": VAULT})

    found = readiness.backups(INVENTORY, SETTINGS)

    assert (found.fresh, found.newest_recovery_point_at) == (False, None)
    assert found.problems == [f"vault {VAULT} has no completed recovery point"]
