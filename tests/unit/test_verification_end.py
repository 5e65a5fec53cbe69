"""The end of a backup verification that ran (WriteVerificationReport.end): a report that cannot be stored
is a warning, and the audit record and the notification are still written; a clean run is recorded and
not notified."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from dr import backup_policy as policy
from dr.backup_models import BackupRequest, Finding
from dr.settings import Settings
from dr.steps.write_verification_report import end

from localcloud.cloud import LocalCloud

REGION = "us-west-2"
EXECUTION = "arn:aws:states:us-west-2:123456789012:execution:roadcall-dr-backup-verification:run-1"
REQUEST = BackupRequest(
    workflow="backup-verification",
    mode="verify",
    trigger="schedule",
    execution=EXECUTION,
    started_at=datetime(2026, 3, 1, 8, 0, tzinfo=UTC),
    reason="daily",
    requested_by="schedule:daily",
    primary_region="us-east-1",
    recovery_region=REGION,
    vault="vault",
    recovery_vault="vault-dr",
)
FINDING = {
    "resource": "arn:aws:dynamodb:us-east-1:123456789012:table/users",
    "resource_type": "DynamoDB",
    "check": "pitr-disabled",
    "severity": "HIGH",
    "reason": "point-in-time recovery of table users is DISABLED",
    "rule": None,
    "recovery_point": None,
}


def report(findings: list[dict[str, object]]) -> dict[str, object]:
    parsed = [Finding.model_validate(f) for f in findings]
    return {
        "workflow": "backup-verification",
        "status": "FINDINGS" if findings else "SUCCEEDED",
        "passed": not findings,
        **REQUEST.model_dump(mode="json", exclude={"started_at"}),
        "started_at": REQUEST.started_at.isoformat(),
        "finished_at": "2026-03-01T08:05:00+00:00",
        "resources_checked": 9,
        "recovery_points_checked": 441,
        "copies_checked": 108,
        "jobs": {"backup_jobs": 27, "copy_jobs": 0, "lookback_hours": 24},
        "findings": findings,
        "summary": policy.summarize(parsed),
        "resources": [],
    }


@pytest.fixture
def settings_no_bucket(settings: Settings) -> Settings:
    """The state table and the topic (tests/unit/conftest.py), and a reports bucket that does not exist."""
    return settings.model_copy(update={"reports_bucket": "no-such-reports-bucket"})


def audit_record(cloud: LocalCloud) -> dict[str, object]:
    item = cloud.client("dynamodb", REGION).get_item(TableName="dr-state", Key={"pk": {"S": f"audit#{EXECUTION}"}})
    return dict(json.loads(item["Item"]["report"]["S"]))


def inbox(cloud: LocalCloud) -> list[str]:
    sqs = cloud.client("sqs", REGION)
    url = sqs.get_queue_url(QueueName="inbox")["QueueUrl"]
    return [m["Body"] for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])]


def test_a_report_that_cannot_be_stored_is_a_warning_and_the_rest_is_still_done(
    cloud: LocalCloud, settings_no_bucket: Settings
) -> None:
    # Given a verification with one finding, and a reports bucket that does not exist
    out = end(report([FINDING]), REQUEST, settings_no_bucket)

    # Then the report's loss is a warning; the audit record (with the warning) and the notification exist
    assert [w.split(" (")[0] for w in out["warnings"]] == ["the report was not stored in the reports bucket"]
    assert (out["status"], out["bookkeeping"]["audited"], out["bookkeeping"]["notified"]) == ("FINDINGS", True, True)
    recorded = audit_record(cloud)
    assert recorded["status"] == "FINDINGS" and recorded["warnings"] == out["warnings"][:1]
    [message] = inbox(cloud)
    assert f"Report: drctl report {EXECUTION}" in message  # where the report is, since the bucket has none


def test_a_clean_verification_is_recorded_and_not_notified(cloud: LocalCloud, settings_no_bucket: Settings) -> None:
    out = end(report([]), REQUEST, settings_no_bucket)

    assert (out["bookkeeping"]["audited"], out["bookkeeping"]["notified"]) == (True, None)
    assert audit_record(cloud)["status"] == "SUCCEEDED"
    assert inbox(cloud) == []
