"""Replication setup (dr.replication) against localcloud's simulated global tables, Aurora and S3 replication:
what each run changes, what a second run changes (nothing), and what a dry-run changes (nothing)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from dr import outage, replication
from dr.errors import ReplicationNotConfigured
from dr.inventory import AuroraInventory, BucketPair, Inventory, RoutingInventory

from localcloud.cloud import LocalCloud
from localcloud.scenario import Platform, PlatformDesign

EAST, WEST = "us-east-1", "us-west-2"
DESIGN = PlatformDesign(items_per_table=2, objects_per_bucket=2)
RULE, ROLE = "dr-replication", "roadcall-s3-replication"


@pytest.fixture
def platform(cloud: LocalCloud) -> Iterator[Platform]:
    """The seeded platform only (no app deployed): the replication setup needs nothing else."""
    seeded = Platform(cloud, DESIGN).seed()
    yield seeded
    seeded.close()


def inventory(tables: tuple[str, ...] = DESIGN.tables) -> Inventory:
    return Inventory(
        primary_region=EAST,
        recovery_region=WEST,
        tables=list(tables),
        aurora=AuroraInventory(
            global_cluster_id=DESIGN.global_cluster_id,
            primary_cluster_id=DESIGN.primary_cluster_id,
            secondary_cluster_id=DESIGN.secondary_cluster_id,
        ),
        buckets=[BucketPair(source=s, replica=r) for s, r in zip(DESIGN.buckets, DESIGN.replicas, strict=True)],
        routing=RoutingInventory(
            primary_health_check_id="hc",
            primary_endpoint_url="http://p",
            recovery_endpoint_url="http://r",
            traffic_dns_name="api.example",
            traffic_dns_answers={EAST: "127.0.1.1", WEST: "127.0.2.1"},
            traffic_pin_alarm_name="pin",
        ),
    )


def s3_setup(from_region: str, to_region: str, dry_run: bool = False, role: str = ROLE) -> replication.SetupResult:
    return replication.setup_s3(inventory(), from_region, to_region, rule_id=RULE, role_name=role, dry_run=dry_run)


def rules(platform: Platform, region: str, bucket: str) -> list[dict[str, Any]]:
    s3 = platform.cloud.client("s3", region)
    try:
        return list(s3.get_bucket_replication(Bucket=bucket)["ReplicationConfiguration"]["Rules"])
    except s3.exceptions.ClientError:
        return []


# -- DynamoDB -------------------------------------------------------------------------------------------
def test_a_seeded_platform_only_lacks_pitr_on_the_replicas_and_a_second_run_changes_nothing(platform: Platform) -> None:
    first = replication.setup_dynamodb(inventory(), EAST, WEST)
    second = replication.setup_dynamodb(inventory(), EAST, WEST)

    assert first.changes == [f"turn on point-in-time recovery (35 days) of {t} in us-west-2" for t in DESIGN.tables]
    assert (first.configured, second.configured, second.changes) == (True, True, [])
    assert second.found[:3] == [
        f"{DESIGN.tables[0]}: stream NEW_AND_OLD_IMAGES in us-east-1",
        f"{DESIGN.tables[0]}: replica in us-west-2 ACTIVE",
        f"{DESIGN.tables[0]}: PITR on in us-east-1",
    ]


def test_a_plain_table_gets_its_stream_a_replica_and_pitr_in_both_regions(platform: Platform) -> None:
    ddb = platform.cloud.client("dynamodb", EAST)
    ddb.create_table(
        TableName="roadcall-new-prod",
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
    )
    ddb.put_item(TableName="roadcall-new-prod", Item={"pk": {"S": "a"}})
    inv = inventory(("roadcall-new-prod",))

    planned = replication.setup_dynamodb(inv, EAST, WEST, dry_run=True)
    assert platform.tables.replicas("roadcall-new-prod") == []
    done = replication.setup_dynamodb(inv, EAST, WEST)
    again = replication.setup_dynamodb(inv, EAST, WEST)

    expected = [
        "turn on the stream (NEW_AND_OLD_IMAGES) of roadcall-new-prod in us-east-1",
        "create the replica of roadcall-new-prod in us-west-2",
        "turn on point-in-time recovery (35 days) of roadcall-new-prod in us-east-1",
        "turn on point-in-time recovery (35 days) of roadcall-new-prod in us-west-2",
    ]
    assert planned.changes == [f"would {c}" for c in expected]
    assert (done.changes, done.pending) == (expected, [])
    assert again.changes == []
    assert platform.tables.replicas("roadcall-new-prod") == [EAST, WEST]
    west = platform.cloud.client("dynamodb", WEST)
    assert west.get_item(TableName="roadcall-new-prod", Key={"pk": {"S": "a"}})["Item"] == {"pk": {"S": "a"}}


def test_a_replica_still_creating_is_pending_and_gets_pitr_on_the_next_run(platform: Platform) -> None:
    platform.cloud.client("dynamodb", EAST).update_table(
        TableName=DESIGN.tables[0], ReplicaUpdates=[{"Delete": {"RegionName": WEST}}]
    )
    platform.tables.set_replica_creation_seconds(120)
    inv = inventory(DESIGN.tables[:1])

    first = replication.setup_dynamodb(inv, EAST, WEST)
    assert (first.changes, first.pending) == (
        [f"create the replica of {DESIGN.tables[0]} in us-west-2"],
        [f"replica of {DESIGN.tables[0]} in us-west-2 is not ACTIVE yet"],
    )
    platform.cloud.advance(121)
    second = replication.setup_dynamodb(inv, EAST, WEST)
    assert (second.changes, second.pending) == (
        [f"turn on point-in-time recovery (35 days) of {DESIGN.tables[0]} in us-west-2"],
        [],
    )


def test_a_table_missing_in_the_source_region_cannot_be_set_up(platform: Platform) -> None:
    with pytest.raises(ReplicationNotConfigured, match="table roadcall-ghost-prod does not exist in us-east-1"):
        replication.setup_dynamodb(inventory(("roadcall-ghost-prod",)), EAST, WEST)


# -- Aurora ---------------------------------------------------------------------------------------------
def later(platform: Platform) -> None:
    """moto keeps a deleted cluster's automated snapshot (rds:ID-MINUTE), which AWS deletes with it: a cluster
    re-created with the same id in the same minute as the seed would collide with it in moto only."""
    platform.cloud.advance(60)


def test_aurora_toward_the_secondary_of_a_healthy_global_database_changes_nothing(platform: Platform) -> None:
    result = replication.setup_aurora(inventory(), EAST, WEST, min_instances=1)
    assert (result.changes, result.pending, result.flowing) == ([], [], True)
    toward_writer = replication.setup_aurora(inventory(), WEST, EAST)
    assert toward_writer.found == ["the Aurora writer is in us-east-1: replication flows out of it; nothing to set up"]


def test_a_detached_secondary_is_replaced_keeping_a_final_snapshot_with_its_settings(platform: Platform) -> None:
    west = platform.cloud.client("rds", WEST)
    arn = west.describe_db_clusters(DBClusterIdentifier=DESIGN.secondary_cluster_id)["DBClusters"][0]["DBClusterArn"]
    west.remove_from_global_cluster(GlobalClusterIdentifier=DESIGN.global_cluster_id, DbClusterIdentifier=arn)
    later(platform)

    planned = replication.setup_aurora(inventory(), EAST, WEST, min_instances=2, dry_run=True)
    assert west.describe_db_clusters(DBClusterIdentifier=DESIGN.secondary_cluster_id)["DBClusters"][0]["DBClusterArn"]
    done = replication.setup_aurora(inventory(), EAST, WEST, min_instances=2)
    again = replication.setup_aurora(inventory(), EAST, WEST, min_instances=2)

    snapshot = done.changes[3].split("final snapshot ")[1].split(" ")[0]
    assert done.changes == [
        "delete instance roadcall-aurora-prod-dr-1 of the detached cluster roadcall-aurora-prod-dr",
        "turn off deletion protection of the detached cluster roadcall-aurora-prod-dr",  # the seed protects it
        "tag the detached cluster roadcall-aurora-prod-dr with its settings (copied to its final snapshot)",
        f"delete the detached cluster roadcall-aurora-prod-dr keeping final snapshot {snapshot} (the data it holds)",
        "create roadcall-aurora-prod-dr in us-west-2 as a secondary of roadcall-aurora-global",
        "create reader instance roadcall-aurora-prod-dr-1 (db.r6g.large) in roadcall-aurora-prod-dr",
        "create reader instance roadcall-aurora-prod-dr-2 (db.r6g.large) in roadcall-aurora-prod-dr",
    ]
    assert planned.changes == [f"would {c}" for c in done.changes[:5]] + [
        "would create 2 instance(s) in roadcall-aurora-prod-dr"
    ]
    assert (again.changes, again.pending, again.flowing) == ([], [], True)
    members = west.describe_global_clusters(GlobalClusterIdentifier=DESIGN.global_cluster_id)["GlobalClusters"][0]
    assert sorted((m["DBClusterArn"].rsplit(":", 1)[-1], m["IsWriter"]) for m in members["GlobalClusterMembers"]) == [
        (DESIGN.primary_cluster_id, True),
        (DESIGN.secondary_cluster_id, False),
    ]
    kept = west.describe_db_cluster_snapshots(DBClusterIdentifier=DESIGN.secondary_cluster_id, SnapshotType="manual")
    tags = {t["Key"]: t["Value"] for t in kept["DBClusterSnapshots"][0]["TagList"]}
    assert tags["dr:port"] == "5432" and tags["dr:db-subnet-group"] == "default"


def test_a_new_secondary_created_after_the_detached_one_is_gone_takes_the_settings_from_its_snapshot(
    platform: Platform,
) -> None:
    west = platform.cloud.client("rds", WEST)
    arn = west.describe_db_clusters(DBClusterIdentifier=DESIGN.secondary_cluster_id)["DBClusters"][0]["DBClusterArn"]
    west.remove_from_global_cluster(GlobalClusterIdentifier=DESIGN.global_cluster_id, DbClusterIdentifier=arn)
    west.add_tags_to_resource(ResourceName=arn, Tags=[{"Key": "dr:port", "Value": "6543"}])
    west.modify_db_cluster(  # the seeded secondary is protected, as the DR design wants
        DBClusterIdentifier=DESIGN.secondary_cluster_id, CopyTagsToSnapshot=True, DeletionProtection=False
    )
    for instance in west.describe_db_instances()["DBInstances"]:
        if instance.get("DBClusterIdentifier") == DESIGN.secondary_cluster_id:
            west.delete_db_instance(DBInstanceIdentifier=instance["DBInstanceIdentifier"])
    west.delete_db_cluster(
        DBClusterIdentifier=DESIGN.secondary_cluster_id,
        SkipFinalSnapshot=False,
        FinalDBSnapshotIdentifier=f"{DESIGN.secondary_cluster_id}-detached-20260101000000",
    )
    later(platform)

    done = replication.setup_aurora(inventory(), EAST, WEST)

    assert done.changes[0] == "create roadcall-aurora-prod-dr in us-west-2 as a secondary of roadcall-aurora-global"
    assert west.describe_db_clusters(DBClusterIdentifier=DESIGN.secondary_cluster_id)["DBClusters"][0]["Port"] == 6543


def test_no_global_database_is_a_clear_refusal(platform: Platform) -> None:
    inv = inventory().model_copy(
        update={"aurora": AuroraInventory(global_cluster_id="nope", primary_cluster_id="a", secondary_cluster_id="b")}
    )
    with pytest.raises(ReplicationNotConfigured, match="global cluster nope does not exist"):
        replication.setup_aurora(inv, EAST, WEST)


# -- S3 -------------------------------------------------------------------------------------------------
def test_toward_the_recovery_region_a_seeded_platform_lacks_only_the_role_policy(platform: Platform) -> None:
    first = s3_setup(EAST, WEST)
    second = s3_setup(EAST, WEST)
    assert first.changes == [
        "attach the least-privilege replication policy dr-s3-replication of role roadcall-s3-replication (6 buckets)"
    ]
    assert second.changes == []
    policy = platform.cloud.client("iam", EAST).get_role_policy(RoleName=ROLE, PolicyName="dr-s3-replication")
    document = policy["PolicyDocument"]
    assert [s["Action"] for s in document["Statement"]] == [
        ["s3:GetReplicationConfiguration", "s3:ListBucket"],
        ["s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl", "s3:GetObjectVersionTagging"],
        ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"],
    ]
    assert document["Statement"][0]["Resource"] == [
        f"arn:aws:s3:::{b}" for b in sorted(DESIGN.buckets + DESIGN.replicas)
    ]


def test_toward_the_primary_the_rules_are_put_and_objects_written_before_them_are_sent_along(
    platform: Platform,
) -> None:
    west = platform.cloud.client("s3", WEST)
    west.put_object(Bucket=DESIGN.replicas[0], Key="outage/a.bin", Body=b"written in us-west-2")
    west.put_object(Bucket=DESIGN.replicas[0], Key="seed/0000.bin", Body=b"overwritten in us-west-2")

    planned = s3_setup(WEST, EAST, dry_run=True)
    assert all(rules(platform, WEST, r) == [] for r in DESIGN.replicas)
    done = s3_setup(WEST, EAST)
    platform.cloud.advance(5)
    again = s3_setup(WEST, EAST)

    assert done.changes == [
        "attach the least-privilege replication policy dr-s3-replication of role roadcall-s3-replication (6 buckets)",
        f"put replication rule dr-replication of {DESIGN.replicas[0]} → {DESIGN.buckets[0]} (missing)",
        f"copied 2 object(s) of {DESIGN.replicas[0]} onto themselves so that replication carries them to "
        f"{DESIGN.buckets[0]} (written before the rule existed, or FAILED)",
        f"put replication rule dr-replication of {DESIGN.replicas[1]} → {DESIGN.buckets[1]} (missing)",
        f"put replication rule dr-replication of {DESIGN.replicas[2]} → {DESIGN.buckets[2]} (missing)",
    ]
    assert planned.changes == [f"would {c}" for c in done.changes[:2]] + [
        done.changes[2].replace("copied", "would copy")
    ] + [f"would {c}" for c in done.changes[3:]]
    assert again.changes == []
    assert rules(platform, WEST, DESIGN.replicas[0]) == [
        replication.replication_rule(RULE, DESIGN.buckets[0], WEST) | {"Priority": 1}
    ]
    east = platform.cloud.client("s3", EAST)
    for key, body in (("outage/a.bin", b"written in us-west-2"), ("seed/0000.bin", b"overwritten in us-west-2")):
        assert east.get_object(Bucket=DESIGN.buckets[0], Key=key)["Body"].read() == body
    # what came from the primary (replicas) is never sent back
    assert east.get_object(Bucket=DESIGN.buckets[0], Key="seed/0001.bin").get("ReplicationStatus") == "COMPLETED"


def test_a_missing_role_is_created_trusting_only_s3(platform: Platform) -> None:
    done = s3_setup(WEST, EAST, role="roadcall-s3-replication-home")
    role = platform.cloud.client("iam", EAST).get_role(RoleName="roadcall-s3-replication-home")["Role"]
    assert done.changes[:2] == [
        "create role roadcall-s3-replication-home for S3 replication",
        "attach the least-privilege replication policy dr-s3-replication of role roadcall-s3-replication-home "
        "(6 buckets)",
    ]
    assert role["AssumeRolePolicyDocument"] == replication.TRUST
    config = platform.cloud.client("s3", WEST).get_bucket_replication(Bucket=DESIGN.replicas[0])
    assert config["ReplicationConfiguration"]["Role"] == role["Arn"]


def test_a_missing_bucket_is_a_clear_refusal(platform: Platform) -> None:
    platform.cloud.client("s3", WEST).delete_bucket_replication(Bucket=DESIGN.replicas[0])
    inv = inventory().model_copy(update={"buckets": [BucketPair(source=DESIGN.buckets[0], replica="roadcall-nope-dr")]})
    with pytest.raises(ReplicationNotConfigured, match="bucket roadcall-nope-dr does not exist in us-west-2"):
        replication.setup_s3(inv, EAST, WEST, rule_id=RULE, role_name=ROLE)


@pytest.mark.parametrize(
    ("change", "problems"),
    [
        ({}, []),
        ({"Status": "Disabled"}, ["status Disabled"]),
        ({"DeleteMarkerReplication": {"Status": "Disabled"}}, ["no delete-marker replication"]),
        ({"Filter": {"Prefix": "media/"}}, ["does not cover every object"]),
        ({"Filter": {}}, []),
    ],
)
def test_rule_differences_name_what_the_dr_design_misses(change: dict[str, Any], problems: list[str]) -> None:
    rule = replication.replication_rule(RULE, "home", EAST) | change
    assert replication.rule_differences(rule, "home") == problems


def test_a_rule_without_rtc_and_toward_another_bucket_is_two_problems() -> None:
    rule = replication.replication_rule(RULE, "elsewhere", EAST)
    rule["Destination"].pop("ReplicationTime")
    assert replication.rule_differences(rule, "home") == [
        "destination arn:aws:s3:::elsewhere",
        "no Replication Time Control (15 min)",
    ]


# -- everything, and the outage report ------------------------------------------------------------------
def test_setup_all_refuses_a_region_outside_the_inventory() -> None:
    with pytest.raises(ReplicationNotConfigured, match="region eu-west-1 is neither the primary us-east-1"):
        replication.setup_all(inventory(), EAST, "eu-west-1", replication.ReplicationSettings())


def test_the_primary_region_carries_its_readers_and_the_recovery_region_one_instance() -> None:
    settings = replication.ReplicationSettings.model_validate({"AURORA_PRIMARY_READERS": "2"})
    assert (settings.aurora_instances(inventory(), EAST), settings.aurora_instances(inventory(), WEST)) == (3, 1)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-28T03:15:00Z", datetime(2026, 11, 28, 3, 15, tzinfo=UTC)),
        ("2026-11-28T03:15:00", datetime(2026, 11, 28, 3, 15, tzinfo=UTC)),
        (1795835700, datetime(2026, 11, 28, 3, 15, tzinfo=UTC)),
        (1795835700000, datetime(2026, 11, 28, 3, 15, tzinfo=UTC)),
        ("yesterday", None),
        (None, None),
    ],
)
def test_change_times_are_read_as_iso_strings_or_epoch_seconds_or_milliseconds(value: Any, expected: Any) -> None:
    assert outage.changed_at(value) == expected


def test_the_outage_report_counts_what_the_recovery_region_wrote_and_what_has_not_arrived(platform: Platform) -> None:
    since = platform.cloud.clock.now()
    platform.tables.pause_replication(WEST)
    platform.cloud.client("dynamodb", WEST).put_item(
        TableName=DESIGN.tables[0],
        Item={"pk": {"S": "outage"}, "sk": {"S": "v1"}, "updated_at": {"S": since.isoformat()}},
    )
    platform.cloud.client("s3", WEST).put_object(Bucket=DESIGN.replicas[0], Key="outage.bin", Body=b"x")

    report = outage.report(inventory(), WEST, EAST, since, "test", "updated_at")

    assert (report["items_written"], report["items_still_to_arrive"]) == (1, 1)
    assert (report["objects_written"], report["objects_still_to_arrive"]) == (1, 1)
    assert report["dynamodb"]["tables"][DESIGN.tables[0]] == {
        "written": 1,
        "still_to_arrive": 1,
        "without_change_time": 2,
        "examples": [{"pk": {"S": "outage"}, "sk": {"S": "v1"}}],
    }
    assert report["s3"]["buckets"][DESIGN.replicas[0]]["examples"] == ["outage.bin"]
    platform.tables.resume_replication(WEST)
    platform.cloud.advance(1)
    assert outage.report(inventory(), WEST, EAST, since, "test", "updated_at")["items_still_to_arrive"] == 0
    assert json.dumps(report)  # the report is what the state machine carries: plain JSON
