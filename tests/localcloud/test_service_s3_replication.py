"""Fidelity of the simulated S3 cross-Region replication."""

from __future__ import annotations

import time
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from localcloud.clock import VirtualClock
from localcloud.interceptor import Interceptor
from localcloud.services.metrics import MetricsSimulator
from localcloud.services.s3_replication import RTC_SLA_SECONDS, S3ReplicationSimulator
from tests.localcloud.conftest import Bare, latest_metric

SOURCE, REPLICA = "roadcall-call-recordings-prod", "roadcall-call-recordings-prod-usw2"
EAST, WEST = "us-east-1", "us-west-2"
ROLE = "arn:aws:iam::123456789012:role/roadcall-s3-replication"
RULE_ID = "crr-to-us-west-2"


@pytest.fixture
def env(bare: Bare) -> tuple[VirtualClock, S3ReplicationSimulator]:
    return bare.clock, bare.register(S3ReplicationSimulator(bare.clock, bare.metrics()))


def _s3(region: str = EAST) -> Any:
    return boto3.client("s3", region_name=region)


def _rule(**overrides: Any) -> dict[str, Any]:
    rule: dict[str, Any] = {
        "ID": RULE_ID,
        "Priority": 1,
        "Status": "Enabled",
        "Filter": {},
        "DeleteMarkerReplication": {"Status": "Enabled"},
        "Destination": {
            "Bucket": f"arn:aws:s3:::{REPLICA}",
            "ReplicationTime": {"Status": "Enabled", "Time": {"Minutes": 15}},
            "Metrics": {"Status": "Enabled", "EventThreshold": {"Minutes": 15}},
        },
    }
    rule.update(overrides)
    return rule


def _buckets(replica_versioning: bool = True, rules: list[dict[str, Any]] | None = None) -> None:
    """The source in us-east-1 and the replica in us-west-2, both versioned, replicating."""
    _s3(EAST).create_bucket(Bucket=SOURCE)
    _s3(WEST).create_bucket(Bucket=REPLICA, CreateBucketConfiguration={"LocationConstraint": WEST})
    _s3(EAST).put_bucket_versioning(Bucket=SOURCE, VersioningConfiguration={"Status": "Enabled"})
    if replica_versioning:
        _s3(WEST).put_bucket_versioning(Bucket=REPLICA, VersioningConfiguration={"Status": "Enabled"})
    _s3(EAST).put_bucket_replication(
        Bucket=SOURCE, ReplicationConfiguration={"Role": ROLE, "Rules": rules or [_rule()]}
    )


def _replica_keys() -> list[str]:
    listed = _s3(WEST).list_objects_v2(Bucket=REPLICA)
    return [o["Key"] for o in listed.get("Contents", [])]


def _latest(metric: str, clock: VirtualClock) -> float:
    dimensions = {"DestinationBucket": REPLICA, "RuleId": RULE_ID, "SourceBucket": SOURCE}
    return latest_metric(clock, "AWS/S3", metric, dimensions)


def test_object_replicates_after_the_latency_with_the_same_body_and_etag(env: Any) -> None:
    # Given replicating buckets with the default latency (2 s)
    clock, sim = env
    _buckets()

    # When an object is written to the source
    put = _s3(EAST).put_object(Bucket=SOURCE, Key="calls/0001.wav", Body=b"RIFF-audio", Metadata={"incident": "inc-1"})
    early = _replica_keys()
    pending_status = _s3(EAST).head_object(Bucket=SOURCE, Key="calls/0001.wav")["ReplicationStatus"]
    clock.advance(2.5)
    replica = _s3(WEST).get_object(Bucket=REPLICA, Key="calls/0001.wav")

    # Then the replica appears after the latency with the same bytes, ETag, version and metadata
    assert early == []
    assert pending_status == "PENDING"
    assert replica["Body"].read() == b"RIFF-audio"
    assert replica["ETag"] == put["ETag"]
    assert replica["VersionId"] == put["VersionId"]
    assert replica["Metadata"] == {"incident": "inc-1"}
    assert replica["ReplicationStatus"] == "REPLICA"
    assert _s3(EAST).head_object(Bucket=SOURCE, Key="calls/0001.wav")["ReplicationStatus"] == "COMPLETED"
    assert sim.pending() == 0


def test_keys_with_special_characters_replicate_under_the_same_key(env: Any) -> None:
    # Given replicating buckets
    clock, _sim = env
    _buckets()
    key = "calls/2026 11/é+%20 (1).wav"

    # When an object with spaces, a plus, a percent sign and non-ASCII in its key is written
    _s3(EAST).put_object(Bucket=SOURCE, Key=key, Body=b"a")
    clock.advance(3)

    # Then the replica has exactly that key
    assert _replica_keys() == [key]
    assert _s3(WEST).get_object(Bucket=REPLICA, Key=key)["Body"].read() == b"a"


def test_copy_and_multipart_uploads_replicate(env: Any) -> None:
    # Given replicating buckets and a non-replicated staging bucket
    clock, _sim = env
    _buckets()
    _s3(EAST).create_bucket(Bucket="roadcall-staging")
    _s3(EAST).put_object(Bucket="roadcall-staging", Key="raw.wav", Body=b"staged")

    # When an object is copied in, and another uploaded in parts
    _s3(EAST).copy_object(
        Bucket=SOURCE, Key="calls/copied.wav", CopySource={"Bucket": "roadcall-staging", "Key": "raw.wav"}
    )
    upload = _s3(EAST).create_multipart_upload(Bucket=SOURCE, Key="calls/big.wav")
    part = _s3(EAST).upload_part(
        Bucket=SOURCE, Key="calls/big.wav", UploadId=upload["UploadId"], PartNumber=1, Body=b"x" * 1024
    )
    done = _s3(EAST).complete_multipart_upload(
        Bucket=SOURCE,
        Key="calls/big.wav",
        UploadId=upload["UploadId"],
        MultipartUpload={"Parts": [{"ETag": part["ETag"], "PartNumber": 1}]},
    )
    clock.advance(3)

    # Then both reach the replica, the multipart one with its multipart ETag
    assert sorted(_replica_keys()) == ["calls/big.wav", "calls/copied.wav"]
    assert _s3(WEST).get_object(Bucket=REPLICA, Key="calls/copied.wav")["Body"].read() == b"staged"
    assert _s3(WEST).head_object(Bucket=REPLICA, Key="calls/big.wav")["ETag"] == done["ETag"]
    assert "ReplicationStatus" not in _s3(EAST).head_object(Bucket="roadcall-staging", Key="raw.wav")


def test_delete_markers_replicate_when_enabled(env: Any) -> None:
    # Given an object present in both buckets
    clock, _sim = env
    _buckets()
    _s3(EAST).put_object(Bucket=SOURCE, Key="calls/0001.wav", Body=b"a")
    clock.advance(3)

    # When it is deleted in the source (a delete marker)
    deleted = _s3(EAST).delete_object(Bucket=SOURCE, Key="calls/0001.wav")
    still_there = _replica_keys()
    clock.advance(3)

    # Then the replica gets the same delete marker after the latency
    versions = _s3(WEST).list_object_versions(Bucket=REPLICA)
    assert still_there == ["calls/0001.wav"]
    assert _replica_keys() == []
    assert [m["VersionId"] for m in versions["DeleteMarkers"]] == [deleted["VersionId"]]


def test_delete_markers_stay_when_delete_marker_replication_is_disabled(env: Any) -> None:
    # Given a rule without delete-marker replication, and an object present in both buckets
    clock, _sim = env
    _buckets(rules=[_rule(DeleteMarkerReplication={"Status": "Disabled"})])
    _s3(EAST).put_object(Bucket=SOURCE, Key="calls/0001.wav", Body=b"a")
    clock.advance(3)

    # When it is deleted in the source, also through DeleteObjects
    _s3(EAST).delete_objects(Bucket=SOURCE, Delete={"Objects": [{"Key": "calls/0001.wav"}]})
    clock.advance(3)

    # Then the replica keeps it
    assert _replica_keys() == ["calls/0001.wav"]


def test_deleting_a_version_is_not_replicated(env: Any) -> None:
    # Given an object present in both buckets
    clock, _sim = env
    _buckets()
    put = _s3(EAST).put_object(Bucket=SOURCE, Key="calls/0001.wav", Body=b"a")
    clock.advance(3)

    # When that version is permanently deleted in the source
    _s3(EAST).delete_object(Bucket=SOURCE, Key="calls/0001.wav", VersionId=put["VersionId"])
    clock.advance(3)

    # Then the replica keeps it (S3 never replicates version deletes)
    assert _replica_keys() == ["calls/0001.wav"]


def test_prefix_filter_is_honoured(env: Any) -> None:
    # Given a rule for the prefix calls/
    clock, sim = env
    _buckets(rules=[_rule(Filter={"Prefix": "calls/"})])

    # When objects are written inside and outside the prefix
    _s3(EAST).put_object(Bucket=SOURCE, Key="calls/0001.wav", Body=b"a")
    _s3(EAST).put_object(Bucket=SOURCE, Key="tmp/scratch.txt", Body=b"b")
    queued = sim.pending()
    clock.advance(3)

    # Then only the one under the prefix is replicated, and the other has no replication status
    assert queued == 1
    assert _replica_keys() == ["calls/0001.wav"]
    assert "ReplicationStatus" not in _s3(EAST).head_object(Bucket=SOURCE, Key="tmp/scratch.txt")


def test_tag_filter_is_honoured(env: Any) -> None:
    # Given a rule for objects tagged retain=true under calls/
    clock, _sim = env
    tag_rule = _rule(
        Filter={"And": {"Prefix": "calls/", "Tags": [{"Key": "retain", "Value": "true"}]}},
        DeleteMarkerReplication={"Status": "Disabled"},
    )
    _buckets(rules=[tag_rule])

    # When a tagged and an untagged object are written
    _s3(EAST).put_object(Bucket=SOURCE, Key="calls/kept.wav", Body=b"a", Tagging="retain=true")
    _s3(EAST).put_object(Bucket=SOURCE, Key="calls/other.wav", Body=b"b")
    clock.advance(3)

    # Then only the tagged one is replicated, with its tags
    assert _replica_keys() == ["calls/kept.wav"]
    tags = _s3(WEST).get_object_tagging(Bucket=REPLICA, Key="calls/kept.wav")["TagSet"]
    assert tags == [{"Key": "retain", "Value": "true"}]


def test_disabled_rules_do_not_replicate(env: Any) -> None:
    # Given a disabled rule
    clock, sim = env
    _buckets(rules=[_rule(Status="Disabled")])

    # When an object is written
    _s3(EAST).put_object(Bucket=SOURCE, Key="calls/0001.wav", Body=b"a")
    clock.advance(3)

    # Then nothing is replicated
    assert sim.pending() == 0
    assert _replica_keys() == []


def test_unversioned_destination_is_not_replicated_and_reported(env: Any) -> None:
    # Given a destination bucket without versioning
    clock, sim = env
    _buckets(replica_versioning=False)

    # When an object is written
    _s3(EAST).put_object(Bucket=SOURCE, Key="calls/0001.wav", Body=b"a")
    clock.advance(3)

    # Then it is not replicated, its status is FAILED, and problems() says why
    assert _replica_keys() == []
    assert _s3(EAST).head_object(Bucket=SOURCE, Key="calls/0001.wav")["ReplicationStatus"] == "FAILED"
    assert sim.problems() == [
        f"bucket {SOURCE} rule '{RULE_ID}': destination bucket {REPLICA} has versioning off, expected Enabled",
        f"1 object(s) written to {SOURCE} were not replicated to {REPLICA} (rule '{RULE_ID}'): "
        f"destination bucket {REPLICA} has versioning off, expected Enabled",
    ]


def test_suspended_source_versioning_is_reported(env: Any) -> None:
    # Given replicating buckets whose source then suspends versioning
    clock, sim = env
    _buckets()
    _s3(EAST).put_bucket_versioning(Bucket=SOURCE, VersioningConfiguration={"Status": "Suspended"})

    # When an object is written
    _s3(EAST).put_object(Bucket=SOURCE, Key="calls/0001.wav", Body=b"a")
    clock.advance(3)

    # Then it is not replicated and the source's versioning is named
    reason = f"source bucket {SOURCE} has versioning Suspended, expected Enabled"
    assert _replica_keys() == []
    assert _s3(EAST).head_object(Bucket=SOURCE, Key="calls/0001.wav")["ReplicationStatus"] == "FAILED"
    assert sim.problems() == [
        f"bucket {SOURCE} rule '{RULE_ID}': {reason}",
        f"1 object(s) written to {SOURCE} were not replicated to {REPLICA} (rule '{RULE_ID}'): {reason}",
    ]


def test_missing_destination_is_reported(env: Any) -> None:
    # Given a rule whose destination bucket does not exist
    _clock, sim = env
    _s3(EAST).create_bucket(Bucket=SOURCE)
    _s3(EAST).put_bucket_versioning(Bucket=SOURCE, VersioningConfiguration={"Status": "Enabled"})
    _s3(EAST).put_bucket_replication(Bucket=SOURCE, ReplicationConfiguration={"Role": ROLE, "Rules": [_rule()]})

    # When the problems are listed
    # Then the missing bucket is named
    assert sim.problems() == [f"bucket {SOURCE} rule '{RULE_ID}': destination bucket {REPLICA} does not exist"]


def test_paused_region_holds_objects_and_the_metrics_show_the_backlog(env: Any) -> None:
    # Given replicating buckets whose Region's replication is paused
    clock, sim = env
    _buckets()
    assert _latest("ReplicationLatency", clock) == 2.0
    sim.pause_replication(EAST)

    # When two objects are written and ten minutes pass
    started = time.monotonic()  # the clock also ticks with real time: a busy machine adds its seconds
    _s3(EAST).put_object(Bucket=SOURCE, Key="calls/0001.wav", Body=b"a" * 100)
    _s3(EAST).put_object(Bucket=SOURCE, Key="calls/0002.wav", Body=b"b" * 50)
    clock.advance(600)
    operations = _latest("OperationsPendingReplication", clock)
    size = _latest("BytesPendingReplication", clock)
    latency = _latest("ReplicationLatency", clock)
    real = time.monotonic() - started
    held = _replica_keys()
    sim.resume_replication(EAST)
    clock.advance(3)

    # Then the backlog is counted and aged while paused, and delivered after the resume
    assert (operations, size) == (2.0, 150.0)
    assert 600.0 <= latency <= 600.0 + real  # the oldest held object's age (under load, a CI run had 602.0)
    assert held == []
    assert sorted(_replica_keys()) == ["calls/0001.wav", "calls/0002.wav"]
    assert sim.pending() == 0


def test_latency_is_configurable_per_bucket(env: Any) -> None:
    # Given a 10-minute latency for the source bucket (within the RTC SLA)
    clock, sim = env
    _buckets()
    sim.set_replication_latency(600, source_bucket=SOURCE)

    # When an object is written
    _s3(EAST).put_object(Bucket=SOURCE, Key="calls/0001.wav", Body=b"a")
    clock.advance(599)
    early = _replica_keys()
    clock.advance(2)

    # Then it arrives after 10 minutes
    assert sim.replication_latency(SOURCE) == 600.0 < RTC_SLA_SECONDS
    assert sim.replication_latency("another-bucket") == 2.0
    assert early == []
    assert _replica_keys() == ["calls/0001.wav"]


def test_sync_now_delivers_everything_pending(env: Any) -> None:
    # Given a paused Region with objects waiting
    _clock, sim = env
    _buckets()
    sim.pause_replication(EAST)
    _s3(EAST).put_object(Bucket=SOURCE, Key="calls/0001.wav", Body=b"a")

    # When a scenario syncs now
    delivered = sim.sync_now(SOURCE)

    # Then the object is in the replica without waiting
    assert delivered == 1
    assert _replica_keys() == ["calls/0001.wav"]


def test_get_bucket_replication_returns_the_stored_configuration(env: Any) -> None:
    # Given a configuration with a prefix filter and delete-marker replication
    _buckets(rules=[_rule(Filter={"Prefix": "calls/"})])

    # When it is read back
    config = _s3(EAST).get_bucket_replication(Bucket=SOURCE)["ReplicationConfiguration"]

    # Then it is what was put
    assert config == {"Role": ROLE, "Rules": [_rule(Filter={"Prefix": "calls/"})]}


def test_get_bucket_replication_of_a_bucket_without_one_is_moto_s_error(env: Any) -> None:
    # Given a bucket without replication
    _s3(EAST).create_bucket(Bucket="roadcall-plain")

    # When its replication is read
    with pytest.raises(ClientError) as info:
        _s3(EAST).get_bucket_replication(Bucket="roadcall-plain")

    # Then S3's error comes back
    assert info.value.response["Error"]["Code"] == "ReplicationConfigurationNotFoundError"


def test_metric_series_are_defined_when_the_configuration_is_put(env: Any) -> None:
    # Given replicating buckets
    _buckets()

    # When the source Region's S3 metrics are listed
    metrics = boto3.client("cloudwatch", region_name=EAST).list_metrics(Namespace="AWS/S3")["Metrics"]
    listed = [m for m in metrics if any(d["Name"] == "RuleId" for d in m["Dimensions"])]

    # Then the three replication metrics exist for the rule (beside moto's own storage metrics)
    assert sorted(m["MetricName"] for m in listed) == [
        "BytesPendingReplication",
        "OperationsPendingReplication",
        "ReplicationLatency",
    ]
    assert {tuple(sorted((d["Name"], d["Value"]) for d in m["Dimensions"])) for m in listed} == {
        (("DestinationBucket", REPLICA), ("RuleId", RULE_ID), ("SourceBucket", SOURCE))
    }


def test_configurations_existing_before_register_get_series(env: Any) -> None:
    # Given replicating buckets, and a second simulator registered afterwards
    clock, _sim = env
    _buckets()
    late_metrics = MetricsSimulator(clock)
    S3ReplicationSimulator(clock, late_metrics).register(Interceptor())

    # When its series are listed
    names = sorted(s.metric_name for s in late_metrics.series(EAST))

    # Then the existing configuration has them
    assert names == ["BytesPendingReplication", "OperationsPendingReplication", "ReplicationLatency"]


def test_latency_must_not_be_negative(env: Any) -> None:
    # Given the simulator
    _clock, sim = env

    # When a negative latency is set
    # Then it is refused
    with pytest.raises(ValueError, match="replication latency must be >= 0 seconds, got -2"):
        sim.set_replication_latency(-2)
