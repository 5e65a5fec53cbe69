"""The backup verification with AWS Config recording the resources (dr.recorded_config): the settings'
findings are the same as from the direct reads, made with one query per Region instead of a read per
resource; a stopped recorder's old items and the types it does not record are read directly, and the
report says where each resource's settings came from and how old the item was."""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta

from dr.recorded_config import NOT_RECORDED, STALE

from localcloud.scenario import Platform
from localcloud.services.config import TABLE
from tests.workflows.test_backup_verification import findings, stored, verify

DIRECT_READS = (
    ("dynamodb", "DescribeContinuousBackups"),
    ("rds", "DescribeDBClusters"),
    ("s3", "GetBucketVersioning"),
    ("s3", "GetBucketReplication"),
)


def verify_counting(platform: Platform) -> tuple[dict[str, object], Counter[tuple[str, str]]]:
    before = Counter(platform.cloud.interceptor.calls)
    result, report = verify(platform)
    assert result["status"] == "SUCCEEDED"
    calls = Counter(platform.cloud.interceptor.calls)
    calls.subtract(before)
    return report, calls


def test_recorded_settings_yield_the_same_findings_with_one_query_and_no_direct_read(backups: Platform) -> None:
    # Given AWS Config records the primary region, and three settings broken on three resources
    p, d = backups, backups.design
    p.record_configuration()
    p.pitr_off(d.tables[2])
    p.aurora_backup_retention(7)
    p.replication_off(d.buckets[1])

    # When the verification runs
    report, calls = verify_counting(p)

    # Then each broken setting is its finding, as from the direct reads
    assert sorted(findings(report), key=str) == sorted(
        [
            ("pitr-disabled", "HIGH", p.table_arn(d.tables[2]), None),
            ("aurora-retention-short", "HIGH", p.cluster_arn(), None),
            ("replication-disabled", "HIGH", p.bucket_arn(d.buckets[1]), None),
        ],
        key=str,
    ), report["findings"]
    # read with one status call and one page of the query, and no resource read directly
    assert calls[("config", "DescribeConfigurationRecorderStatus")] == 1
    assert calls[("config", "SelectResourceConfig")] == 1
    assert [calls[c] for c in DIRECT_READS] == [0, 0, 0, 0]
    # and the report says so, with each item's age
    summary = report["configuration"]
    assert (summary["from_aws_config"], summary["read_directly"]) == (len(d.tables) + 1 + len(d.buckets), {})
    resources = json.loads(stored(p, report["report_location"]["json"]))["resources"]
    assert all(r["configuration"]["source"] == "aws-config" for r in resources)
    assert all(0 <= r["configuration"]["age_hours"] <= summary["oldest_item_hours"] for r in resources)
    assert "- settings: 9 from AWS Config (oldest item " in stored(p, report["report_location"]["markdown"])


def test_a_stopped_recorders_old_items_are_stale_and_read_directly(backups: Platform) -> None:
    # Given the recorder recorded everything, then stopped 30 hours ago; PITR turned off since (unrecorded)
    p, d = backups, backups.design
    p.record_configuration()
    verify(p)
    p.stop_recording_configuration()
    p.config.age_items(d.primary_region, p.cloud.clock.now() - timedelta(hours=30))
    p.pitr_off(d.tables[0])

    # When the verification runs
    report, calls = verify_counting(p)

    # Then every resource was read directly, so the change Config missed is found
    assert ("pitr-disabled", "HIGH", p.table_arn(d.tables[0]), None) in findings(report)
    assert [calls[c] for c in DIRECT_READS] == [len(d.tables), 1, len(d.buckets), len(d.buckets)]
    # and the report flags each item as stale, with its age
    resources = len(d.tables) + 1 + len(d.buckets)
    assert report["configuration"]["read_directly"] == {STALE: resources}
    assert report["configuration"]["from_aws_config"] == 0
    stored_report = json.loads(stored(p, report["report_location"]["json"]))
    assert all(r["configuration"]["age_hours"] >= 30 for r in stored_report["resources"])
    assert report["configuration"]["stale_limit_hours"] == 24


def test_types_the_recorder_leaves_out_are_read_directly(backups: Platform) -> None:
    # Given AWS Config records only the DynamoDB tables
    p, d = backups, backups.design
    p.record_configuration((TABLE,))

    # When the verification runs
    report, calls = verify_counting(p)

    # Then the tables come from Config, the cluster and the buckets from their services
    assert report["findings"] == []
    assert [calls[c] for c in DIRECT_READS] == [0, 1, len(d.buckets), len(d.buckets)]
    assert report["configuration"]["from_aws_config"] == len(d.tables)
    assert report["configuration"]["read_directly"] == {NOT_RECORDED: 1 + len(d.buckets)}
