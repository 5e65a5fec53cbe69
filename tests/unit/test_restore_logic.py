"""The restore test's pure logic: names, restore metadata, the lease rule, what the validation compares and
how it decides, the report's verdict, and what the failure handler says is left."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from dr import restore_test
from dr import restore_validation as rv
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
    results: list[dict[str, Any]],
    leftover: int = 0,
    missing: list[dict[str, Any]] | None = None,
    cleanup: dict[str, Any] | None = None,
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
        "cleanup": cleanup
        if cleanup is not None
        else {"leftover_resources": leftover, "leftover": ["S3 x in us-east-1"] * leftover, "deleted": []},
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
        (("VALIDATION_ERROR", "SUCCEEDED", "SUCCEEDED"), 0, "ValidationNotCompleted"),
        (("VALIDATION_ERROR", "VALIDATION_FAILED", "SUCCEEDED"), 0, "ValidationFailed"),
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


def test_a_cleanup_that_could_not_look_everywhere_fails_the_test_with_a_number_and_a_flag() -> None:
    passed = [result(k, "SUCCEEDED") for k in ("DynamoDB", "Aurora", "S3")]
    unknown = {"leftover_resources": 0, "leftover_known": False, "leftover_unchecked": ["DB clusters in us-east-1: x"]}

    out = verdict(passed, cleanup=unknown)
    silent = verdict(passed, cleanup={})

    assert (out["status"], out["error"], out["leftover_resources"], out["leftover_known"]) == (
        "FAILED",
        "CleanupIncomplete",
        0,
        False,
    )
    assert (silent["error"], silent["leftover_resources"], silent["leftover_known"]) == ("CleanupIncomplete", 0, False)
    assert silent["leftover_unchecked"] == ["the cleanup did not report: look for this execution's drtest-* resources"]


def test_the_failure_handlers_cause_comes_from_the_report_when_the_workflow_passes_none() -> None:
    report = {
        "results": [result("S3", "VALIDATION_FAILED", message="objects: 1 differ")],
        "leftover_resources": 0,
    }
    assert handle_backup_failure._cause("ValidationFailed", "see the report", report) == (
        "S3 VALIDATION_FAILED: objects: 1 differ"
    )
    assert handle_backup_failure.FAIL_STATES["CleanupIncomplete"] == "FailCleanup"
    assert handle_backup_failure.FAIL_STATES["ValidationNotCompleted"] == "FailValidationNotCompleted"


@pytest.mark.parametrize(
    ("report", "cleanup", "phase", "expected"),
    [
        ({"leftover_resources": 2, "leftover_known": True}, {}, "RecordOutcome", (2, True)),
        ({}, {"leftover_resources": 1, "leftover_known": False}, "RecordOutcome", (1, False)),
        ({}, {}, "CheckLease", (0, True)),  # nothing was restored yet
        ({}, {}, "RecordOutcome", (0, False)),  # restores may have run; no cleanup reported
    ],
    ids=["from the report", "from the cleanup", "nothing restored yet", "unknown"],
)
def test_the_failure_record_always_counts_what_is_left_and_says_when_that_is_not_all(
    report: dict[str, Any], cleanup: dict[str, Any], phase: str, expected: tuple[int, bool]
) -> None:
    out = handle_backup_failure._leftover(report, cleanup, phase, EXECUTION)
    assert (out["leftover_resources"], out["leftover_known"]) == expected
    if not expected[1] and not cleanup:
        assert restore_test.name_prefix(EXECUTION) in out["leftover_unchecked"][0]


# -- what the validation compares ------------------------------------------------------------------------------
def test_equal_records_match_with_equal_checksums() -> None:
    same = {"a": "1", "b": "2"}

    comparison = rv.Comparison("items", dict(same), dict(same))

    assert (comparison.matched, comparison.differences) == (True, 0)
    assert comparison.data_checked()["checksum"] == comparison.data_checked()["source_checksum"]
    assert comparison.data_checked() | {"checksum": "", "source_checksum": ""} == {
        "kind": "items",
        "count": 2,
        "matched": True,
        "source_count": 2,
        "changed_since": 0,
        "differences": 0,
        "checksum": "",
        "source_checksum": "",
    }


def test_each_kind_of_difference_is_counted_and_named() -> None:
    restored = {"same": "1", "differs": "old", "extra": "x"}
    expected = {"same": "1", "differs": "new", "missing": "y"}

    comparison = rv.Comparison("rows", restored, expected)

    assert (comparison.differing, comparison.missing, comparison.extra) == (["differs"], ["missing"], ["extra"])
    assert (comparison.differences, comparison.matched) == (3, False)
    assert "1 differ (differs)" in comparison.detail() and "checksums differ" in comparison.detail()


def test_records_changed_since_the_recovery_point_are_left_out_on_both_sides() -> None:
    restored = {"a": "1", "b": "old b"}  # b was changed after the backup, c written after it
    expected = {"a": "1", "b": "new b", "c": "3"}

    comparison = rv.Comparison("items", restored, expected, frozenset({"b", "c"}))

    assert (comparison.matched, comparison.excluded) == (True, 2)
    assert comparison.data_checked()["checksum"] == comparison.data_checked()["source_checksum"]


@pytest.mark.parametrize(("records", "differences", "matched"), [(100, 1, True), (100, 2, False), (20, 1, False)])
def test_the_tolerance_allows_a_share_of_the_compared_records_rounded_down(
    records: int, differences: int, matched: bool
) -> None:
    expected = {str(n): "v" for n in range(records)}
    restored = {k: ("changed" if int(k) < differences else v) for k, v in expected.items()}

    assert rv.Comparison("items", restored, expected, tolerance_percent=1.0).matched is matched


def test_a_combined_comparison_matches_only_if_every_part_does() -> None:
    good = rv.Comparison("rows", {"1": "a"}, {"1": "a"})
    bad = rv.Comparison("rows", {"1": "a"}, {"1": "b"})

    both = rv.combined("rows", {"public.t1": good, "public.t2": bad}, 100.0)

    assert both.data_checked()["count"] == 2
    assert both.matched is False  # the 100 % tolerance of the whole cannot hide a table that differs


@pytest.mark.parametrize(
    ("value", "after"),
    [
        ({"S": "2026-03-02T09:00:00Z"}, True),
        ({"S": "2026-03-01T09:00:00+00:00"}, False),
        ({"N": str(datetime(2026, 3, 2, 3, tzinfo=UTC).timestamp())}, True),
        ("1772330400.5", False),  # 2026-03-01 02:00:00.5 UTC
        (None, False),
        ({"S": "not a time"}, False),
    ],
)
def test_a_change_time_is_read_from_iso_text_or_epoch_seconds(value: Any, after: bool) -> None:
    assert rv.changed_after(value, NOW - timedelta(hours=8)) is after


def versions(objects: list[tuple[str, datetime, str]], markers: list[tuple[str, datetime]]) -> Any:
    """A real S3 client whose ListObjectVersions answers this page (botocore's Stubber checks it is one)."""
    s3 = boto3.client("s3", region_name="us-east-1")
    stubber = Stubber(s3)
    page = {
        "Versions": [{"Key": k, "LastModified": t, "ETag": e, "VersionId": f"{k}{e}"} for k, t, e in objects],
        "DeleteMarkers": [{"Key": k, "LastModified": t, "VersionId": f"{k}-dm"} for k, t in markers],
        "IsTruncated": False,
    }
    stubber.add_response("list_object_versions", page, {"Bucket": "b"})
    stubber.activate()
    return s3


def test_a_versioned_bucket_is_known_exactly_as_it_was_when_the_backup_started() -> None:
    created, completed = NOW - timedelta(hours=8), NOW - timedelta(hours=7)
    old, during, later = created - timedelta(days=1), created + timedelta(minutes=5), NOW
    s3 = versions(
        [
            ("kept", old, '"k1"'),
            ("rewritten", old, '"r1"'),
            ("rewritten", later, '"r2"'),  # the backup holds r1
            ("deleted-later", old, '"d1"'),
            ("deleted-before", old - timedelta(days=1), '"x1"'),
            ("new", later, '"n1"'),  # not in the backup
            ("racy", old, '"y1"'),
            ("racy", during, '"y2"'),  # written while the backup ran: either may be in it
        ],
        [("deleted-later", later), ("deleted-before", old)],
    )

    expected, during_backup = rv.bucket_at(s3, "b", created, completed)

    assert expected == {"kept": '"k1"', "rewritten": '"r1"', "deleted-later": '"d1"', "racy": '"y1"'}
    assert during_backup == frozenset({"racy"})


@pytest.mark.parametrize(
    ("tables", "expected"),
    [
        ("", []),
        ("public.incidents, call_records:record_id", [("public.incidents", "id"), ("call_records", "record_id")]),
    ],
)
def test_the_aurora_tables_to_compare_come_from_the_template_parameter(
    tables: str, expected: list[tuple[str, str]]
) -> None:
    assert rv.validation_tables(Settings(RESTORE_VALIDATION_TABLES=tables)) == expected


@pytest.mark.parametrize("entry", ["public.incidents; DROP TABLE x", "a.b.c", "t:key-with-dash"])
def test_a_table_entry_that_is_not_an_identifier_is_refused_before_any_sql(entry: str) -> None:
    with pytest.raises(rv.NotValidatable, match=r"is not schema\.table"):
        rv.validation_tables(Settings(RESTORE_VALIDATION_TABLES=entry))


def test_a_replicated_secret_is_addressed_in_each_region() -> None:
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:roadcall-dr/restore-validation-AbCdEf"
    assert rv.secret_in(arn, "us-west-2") == arn.replace("us-east-1", "us-west-2")
    assert rv.secret_in(arn, "us-east-1") == arn


@pytest.mark.parametrize(
    ("region", "subnet_group", "security_groups"),
    [
        ("us-east-1", "primary-db", '["sg-0a", "sg-0b"]'),  # the primary region's parameters
        ("us-west-2", "recovery-db", '["sg-1a"]'),  # the recovery region's, never the primary's
    ],
)
def test_an_aurora_restore_gets_the_network_configured_for_its_region(
    region: str, subnet_group: str, security_groups: str
) -> None:
    settings = Settings(
        RESTORE_PRIMARY_SUBNET_GROUP="primary-db",
        RESTORE_PRIMARY_SECURITY_GROUP_IDS="sg-0a,sg-0b",
        RESTORE_RECOVERY_SUBNET_GROUP="recovery-db",
        RESTORE_RECOVERY_SECURITY_GROUP_IDS="sg-1a",
    )
    plan = item("Aurora", "roadcall-aurora-prod").model_copy(update={"region": region})
    original = {"DBClusterIdentifier": "roadcall-aurora-prod", "DBSubnetGroupName": "src", "VpcSecurityGroupIds": "[]"}

    metadata = restore_test.restore_metadata(plan, original, settings)

    assert (metadata["DBSubnetGroupName"], metadata["VpcSecurityGroupIds"]) == (subnet_group, security_groups)


def test_an_unconfigured_restore_in_the_other_region_leaves_out_the_sources_security_groups() -> None:
    original = {
        "DBClusterIdentifier": "roadcall-aurora-prod",
        "DBSubnetGroupName": "db",
        "VpcSecurityGroupIds": '["sg-9"]',
    }
    here = item("Aurora", "roadcall-aurora-prod")
    there = here.model_copy(update={"region": "us-west-2"})

    assert restore_test.restore_metadata(here, original, Settings())["VpcSecurityGroupIds"] == '["sg-9"]'
    moved = restore_test.restore_metadata(there, original, Settings())
    assert "VpcSecurityGroupIds" not in moved and moved["DBSubnetGroupName"] == "db"
