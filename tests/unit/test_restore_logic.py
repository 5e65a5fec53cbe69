"""The restore test's pure logic: names, restore metadata, the lease rule, the report's verdict."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from dr import restore_test
from dr.backup_models import RestorePlanItem
from dr.settings import Settings
from dr.steps import check_restore_lease, handle_backup_failure, record_restore_test

EXECUTION = "arn:aws:states:us-west-2:123456789012:execution:roadcall-dr-restore-test:monthly-2026-03"
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def item(kind: str = "DynamoDB", name: str = "roadcall-users-prod") -> RestorePlanItem:
    return RestorePlanItem(
        resource_arn=f"arn:aws:x:::{name}",
        resource_type=kind,  # type: ignore[arg-type]
        resource_name=name,
        source_region="us-east-1",
        recovery_point_arn=f"arn:aws:backup:us-east-1:123456789012:recovery-point:{kind}",
        recovery_point_created_at=NOW - timedelta(hours=8),
        vault="roadcall-backup-vault",
        region="us-east-1",
        restore_name=restore_test.restore_name(kind, name, EXECUTION),
    )


# -- names -------------------------------------------------------------------------------------------------
def test_temporary_names_are_recognisable_unique_per_execution_and_legal() -> None:
    long_bucket = "roadcall-" + "x" * 60
    bucket = restore_test.restore_name("S3", long_bucket, EXECUTION)
    cluster = restore_test.restore_name("Aurora", "Roadcall--Aurora-Prod", EXECUTION)
    table = restore_test.restore_name("DynamoDB", "roadcall-users-prod", EXECUTION)
    prefix = restore_test.name_prefix(EXECUTION)
    assert re.fullmatch(r"drtest-[0-9a-f]{8}-", prefix)
    assert table == f"{prefix}roadcall-users-prod"
    assert len(bucket) <= 63 and re.fullmatch(r"[a-z0-9][a-z0-9.-]*[a-z0-9]", bucket)
    assert cluster == f"{prefix}roadcall-aurora-prod" and "--" not in cluster
    assert all(restore_test.ours(n, EXECUTION) for n in (bucket, cluster, table))
    assert restore_test.name_prefix(EXECUTION + "-other") != prefix
    assert not restore_test.ours("roadcall-users-prod", EXECUTION)


def test_each_month_restores_the_next_table_in_turn() -> None:
    tables = ["a", "b", "c"]
    months = [datetime(2026, m, 2, tzinfo=UTC) for m in (1, 2, 3, 4)]
    chosen = [restore_test.rotation(tables, m) for m in months]
    assert sorted(chosen[:3]) == tables  # every table within three months
    assert chosen[3] == chosen[0]
    assert [tables.index(c) for c in chosen[:3]] in ([0, 1, 2], [1, 2, 0], [2, 0, 1])  # in turn


@pytest.mark.parametrize(
    ("kind", "original", "expected"),
    [
        (
            "DynamoDB",
            {"targetTableName": "roadcall-users-prod", "encryptionType": "Default"},
            {"encryptionType": "Default"},
        ),
        ("S3", {"DestinationBucketName": "media", "NewBucket": "false"}, {"NewBucket": "true"}),
        (
            "Aurora",
            {"DBClusterIdentifier": "roadcall-aurora-prod", "Engine": "aurora-postgresql"},
            {"Engine": "aurora-postgresql"},
        ),
    ],
)
def test_the_restore_points_at_the_temporary_resource_never_the_original(
    kind: str, original: dict[str, str], expected: dict[str, str]
) -> None:
    plan = item(
        kind, "media" if kind == "S3" else "roadcall-aurora-prod" if kind == "Aurora" else "roadcall-users-prod"
    )
    metadata = restore_test.restore_metadata(plan, original)
    name_key = {"DynamoDB": "targetTableName", "S3": "DestinationBucketName", "Aurora": "DBClusterIdentifier"}[kind]
    assert metadata[name_key] == plan.restore_name != original[name_key]
    assert expected.items() <= metadata.items()


# -- the lease -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("lease", "refused"),
    [
        (None, False),
        ({"state": "RELEASED", "operation": "failover"}, False),
        (
            {"state": "HELD", "operation": "failover", "mode": "planned", "expires_at": "2026-03-02T12:00:00+00:00"},
            True,
        ),
        ({"state": "HELD", "operation": "failback", "expires_at": "2026-03-02T09:00:00+00:00"}, False),  # expired
        ({"state": "BLOCKED", "operation": "failover", "note": "a person must look"}, True),
    ],
    ids=["absent", "released", "failover running", "holder died", "blocked"],
)
def test_a_restore_test_waits_for_a_running_or_blocked_dr_operation(
    lease: dict[str, Any] | None, refused: bool
) -> None:
    assert (check_restore_lease.refuse_reason(lease, NOW) is not None) is refused


# -- the report's verdict -------------------------------------------------------------------------------------
def result(kind: str, status: str, **extra: Any) -> dict[str, Any]:
    plan = item(kind)
    return {
        "resource_arn": plan.resource_arn,
        "resource_type": kind,
        "recovery_point_arn": plan.recovery_point_arn,
        "status": status,
        **extra,
    }


def verdict(
    results: list[dict[str, Any]], leftover: int = 0, missing: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    request = {
        "workflow": "restore-test",
        "mode": "full",
        "trigger": "console",
        "execution": EXECUTION,
        "started_at": NOW.isoformat(),
        "reason": "",
        "requested_by": "t",
        "primary_region": "us-east-1",
        "recovery_region": "us-west-2",
        "vault": "roadcall-backup-vault",
        "recovery_vault": "roadcall-backup-vault-dr",
        "resource_types": ["DynamoDB", "Aurora", "S3"],
    }
    plan = [item(k).model_dump(mode="json") for k in ("DynamoDB", "Aurora", "S3")]
    event = {
        "request": request,
        "selection": {"plan": plan, "missing": missing or []},
        "results": results,
        "cleanup": {"leftover_resources": leftover, "leftover": ["S3 x in us-east-1"] * leftover, "deleted": []},
    }
    return record_restore_test.build(event, Settings(), NOW)


def test_all_validated_and_nothing_left_succeeds_with_the_slowest_restore_against_the_rto() -> None:
    out = verdict(
        [
            result("DynamoDB", "SUCCEEDED", restore_seconds=480.0),
            result("Aurora", "SUCCEEDED", restore_seconds=1200.0),
            result("S3", "SUCCEEDED", restore_seconds=300.0),
        ]
    )
    assert (out["status"], out["error"], out["leftover_resources"]) == ("SUCCEEDED", None, 0)
    assert out["restore_time"] == {"seconds": 1200.0, "objective_seconds": 3600, "met": True}


@pytest.mark.parametrize(
    ("statuses", "leftover", "error"),
    [
        (("VALIDATION_FAILED", "SUCCEEDED", "SUCCEEDED"), 0, "ValidationFailed"),
        (("RESTORE_TIMED_OUT", "VALIDATION_FAILED", "SUCCEEDED"), 0, "RestoreTimedOut"),
        (("RESTORE_FAILED", "RESTORE_TIMED_OUT", "VALIDATION_FAILED"), 0, "RestoreFailed"),
        (("ERROR", "SUCCEEDED", "SUCCEEDED"), 0, "RestoreFailed"),
        (("SUCCEEDED", "SUCCEEDED", "VALIDATION_FAILED"), 1, "CleanupIncomplete"),
    ],
)
def test_a_failed_test_names_its_most_urgent_error(statuses: tuple[str, ...], leftover: int, error: str) -> None:
    out = verdict([result(k, s) for k, s in zip(("DynamoDB", "Aurora", "S3"), statuses, strict=True)], leftover)
    assert (out["status"], out["error"]) == ("FAILED", error)


def test_a_lost_iteration_and_an_unplannable_type_are_failures_not_silences() -> None:
    missing = [{"resource_arn": "arn:aws:s3:::media", "resource_type": "S3", "message": "no completed recovery point"}]
    out = verdict([result("DynamoDB", "SUCCEEDED")], missing=missing)
    assert [(r["resource_type"], r["status"]) for r in out["results"]] == [
        ("DynamoDB", "SUCCEEDED"),
        ("Aurora", "ERROR"),
        ("S3", "ERROR"),
        ("S3", "NOT_RUN"),
    ]
    assert out["error"] == "RestoreFailed"


def test_the_failure_handlers_cause_comes_from_the_report_when_the_workflow_passes_none() -> None:
    report = {
        "results": [result("S3", "VALIDATION_FAILED", message="sampled-etags: 1 differs")],
        "leftover_resources": 0,
    }
    assert handle_backup_failure._cause("ValidationFailed", "see the report", report) == (
        "S3 VALIDATION_FAILED: sampled-etags: 1 differs"
    )
    assert handle_backup_failure.FAIL_STATES["CleanupIncomplete"] == "FailCleanup"
