"""AWS Config items turned into the direct reads' answers (dr.recorded_config.settings_of) are judged by
dr.backup_policy exactly as those answers are; and which item is used, which resource is read directly."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from dr import backup_policy as policy
from dr.backup_models import ProtectedResource
from dr.recorded_config import NOT_RECORDED, STALE, Recorded, Recording, settings_of, usable

NOW = datetime(2026, 11, 28, 6, 0, tzinfo=UTC)
BUCKET = ProtectedResource(arn="arn:aws:s3:::media", type="S3", name="media", region="us-east-1")
TABLE = ProtectedResource(
    arn="arn:aws:dynamodb:us-east-1:123456789012:table/users", type="DynamoDB", name="users", region="us-east-1"
)


def bucket_item(versioning: str, rules: dict[str, Any] | None, as_text: bool = False) -> dict[str, Any]:
    supplementary: dict[str, Any] = {"BucketVersioningConfiguration": {"status": versioning}}
    if rules is not None:
        supplementary["BucketReplicationConfiguration"] = {"roleARN": "arn:aws:iam::1:role/r", "rules": rules}
    if as_text:  # BatchGetResourceConfig's items carry supplementary values as JSON text
        supplementary = {k: json.dumps(v) for k, v in supplementary.items()}
    return {"resourceType": "AWS::S3::Bucket", "supplementaryConfiguration": supplementary}


def rule(status: str, rtc: str | None) -> dict[str, Any]:
    destination: dict[str, Any] = {"bucketARN": "arn:aws:s3:::media-dr"}
    if rtc:
        destination["replicationTime"] = {"status": rtc, "time": {"minutes": 15}}
    return {"status": status, "destinationConfig": destination}


@pytest.mark.parametrize(
    ("item", "checks"),
    [
        (bucket_item("Enabled", {"dr": rule("Enabled", "Enabled")}), []),
        (bucket_item("Enabled", {"dr": rule("Enabled", "Enabled")}, as_text=True), []),
        (bucket_item("Enabled", {"dr": rule("Enabled", None)}), [policy.REPLICATION_RTC_DISABLED]),
        (bucket_item("Enabled", {"dr": rule("Disabled", "Enabled")}), [policy.REPLICATION_DISABLED]),
        (bucket_item("Suspended", None), [policy.VERSIONING_DISABLED, policy.REPLICATION_DISABLED]),
        (bucket_item("Off", None), [policy.VERSIONING_DISABLED, policy.REPLICATION_DISABLED]),
    ],
)
def test_a_recorded_bucket_is_judged_as_its_direct_reads_are(item: dict[str, Any], checks: list[str]) -> None:
    settings = settings_of(item)
    assert settings is not None

    found = policy.evaluate_bucket(BUCKET, settings["Versioning"], settings["ReplicationConfiguration"])

    assert [f.check for f in found] == checks


def test_an_off_bucket_reads_never_enabled_as_a_direct_read_says_it() -> None:
    settings = settings_of(bucket_item("Off", None))
    assert settings is not None
    [versioning, _] = policy.evaluate_bucket(BUCKET, settings["Versioning"], None)
    assert "is never enabled" in versioning.reason


def test_a_recorded_table_and_cluster_are_judged_from_their_settings() -> None:
    table = {
        "resourceType": "AWS::DynamoDB::Table",
        "supplementaryConfiguration": {
            "ContinuousBackupsDescription": {
                "continuousBackupsStatus": "ENABLED",
                "pointInTimeRecoveryDescription": {"pointInTimeRecoveryStatus": "DISABLED"},
            }
        },
    }
    cluster = {"resourceType": "AWS::RDS::DBCluster", "configuration": {"backupRetentionPeriod": 7}}
    table_settings, cluster_settings = settings_of(table), settings_of(cluster)
    assert table_settings is not None and cluster_settings is not None

    assert [f.check for f in policy.evaluate_table(TABLE, table_settings["ContinuousBackupsDescription"])] == [
        policy.PITR_DISABLED
    ]
    aurora = ProtectedResource(arn="arn:aws:rds:us-east-1:1:cluster:c", type="Aurora", name="c", region="us-east-1")
    assert [f.check for f in policy.evaluate_cluster(aurora, cluster_settings["DBCluster"], 35)] == [
        policy.AURORA_RETENTION_SHORT
    ]
    # an item without the setting the policy reads is no answer: the resource is read directly
    assert settings_of({"resourceType": "AWS::RDS::DBCluster", "configuration": {}}) is None


@pytest.mark.parametrize(
    ("recording", "age_hours", "used", "note"),
    [
        (True, 24 * 90, True, None),  # a recording recorder's unchanged item is current however old
        (False, 23, True, None),
        (False, 25, False, STALE),
    ],
)
def test_an_item_is_used_while_the_recorder_records_or_while_it_is_recent(
    recording: bool, age_hours: float, used: bool, note: str | None
) -> None:
    item = Recorded(captured_at=NOW - timedelta(hours=age_hours), settings={"x": 1})
    recordings = {"us-east-1": Recording(recording=recording, items={TABLE.arn: item})}

    settings, provenance = usable(TABLE, recordings, NOW, max_age_hours=24)

    assert (settings is not None) == used
    assert provenance is not None
    assert (provenance.source, provenance.note, provenance.age_hours) == (
        "aws-config" if used else "direct",
        note,
        age_hours,
    )


def test_a_resource_config_does_not_know_is_read_directly_and_says_why() -> None:
    settings, provenance = usable(TABLE, {"us-east-1": Recording(recording=True)}, NOW, 24)
    assert settings is None and provenance is not None and provenance.note == NOT_RECORDED
    assert usable(TABLE, {}, NOW, 24) == (None, None)  # AWS Config not used: nothing to report
