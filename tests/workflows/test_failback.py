"""The failback workflow on localcloud: each test asserts the platform's state, not only the status."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from drctl import cli
from localcloud import scenario_failback as scenario
from localcloud.cloud import LocalCloud
from localcloud.scenario import Platform
from localcloud.server import LocalCloudServer
from tests import forkserver
from tests.workflows.conftest import Inbox, approval_token, audit, lease, run_to_end, start

PRIMARY, RECOVERY = "us-east-1", "us-west-2"
EVENTS = Path(__file__).resolve().parents[2] / "events"


def event(name: str) -> dict[str, Any]:
    return dict(json.loads((EVENTS / name).read_text()))


def unplanned_failover(platform: Platform) -> scenario.OutageWrites:
    """The primary goes down, a real unplanned failover runs, the recovery region takes writes."""
    platform.primary_outage()
    scenario.queue_writes_for_primary(platform)
    result = run_to_end(platform, start(platform, "failover", {"mode": "unplanned", "reason": "outage"}))
    assert result["status"] == "SUCCEEDED", result
    assert (platform.writer_region(), platform.traffic_region()) == (RECOVERY, RECOVERY)
    written = scenario.write_during_outage(platform)
    platform.cloud.advance(1800)
    return written


def recovers(platform: Platform) -> None:
    platform.primary_recovers()
    scenario.deliver_queued_writes(platform)
    platform.cloud.advance(5)  # what was queued for the primary is delivered (DynamoDB: 0.5 s, S3: 2 s)


def replication_rule(platform: Platform, bucket: str) -> dict[str, Any] | None:
    return replication_rule_of(platform, RECOVERY, bucket)


def replication_rule_of(platform: Platform, region: str, bucket: str) -> dict[str, Any] | None:
    s3 = platform.cloud.client("s3", region)
    try:
        rules = s3.get_bucket_replication(Bucket=bucket)["ReplicationConfiguration"]["Rules"]
    except s3.exceptions.ClientError:
        return None
    return next((r for r in rules if r["ID"] == "dr-replication"), None)


def members(platform: Platform) -> dict[str, bool]:
    cluster = platform.cloud.client("rds", RECOVERY).describe_global_clusters(
        GlobalClusterIdentifier=platform.design.global_cluster_id
    )["GlobalClusters"][0]
    return {m["DBClusterArn"].rsplit(":", 1)[-1]: m["IsWriter"] for m in cluster["GlobalClusterMembers"]}


def pitr(platform: Platform, region: str) -> list[str]:
    ddb = platform.cloud.client("dynamodb", region)
    return [
        ddb.describe_continuous_backups(TableName=t)["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"][
            "PointInTimeRecoveryStatus"
        ]
        for t in platform.design.tables
    ]


def state(platform: Platform) -> dict[str, Any]:
    """Everything a failback may change: the platform snapshot, the replication toward home, Aurora."""
    return {
        **platform.snapshot(),
        "rules_home": {b: replication_rule(platform, b) for b in platform.design.replicas},
        "pitr_recovery": pitr(platform, RECOVERY),
        "aurora_members": members(platform),
    }


def test_after_an_unplanned_failover_failback_reprotects_switches_over_and_loses_nothing(
    platform: Platform, inbox: Inbox
) -> None:
    # Given an unplanned failover that could not reach the old primary (Aurora detached it), writes taken
    # in us-west-2 during the outage, and the primary back
    platform.aurora.detach_old_primary_on_failover = True
    written = unplanned_failover(platform)
    recovers(platform)
    assert members(platform) == {platform.design.secondary_cluster_id: True}
    assert all(replication_rule(platform, b) is None for b in platform.design.replicas)
    assert scenario.missing_at_home(platform, written) == [  # the items arrived; the objects have no rule home
        f"object {home}/outage/{n:03d}.bin" for home in platform.design.buckets for n in (0, 1)
    ]

    # When a person starts the failback and approves it
    execution = start(platform, "failback", event("failback-planned.json"))
    result = run_to_end(platform, execution)

    # Then the old primary is a secondary again, then the writer; replicas and rules point home
    assert result["status"] == "SUCCEEDED", result
    report = json.loads(result["output"])
    assert (report["writer_region"], report["traffic_region"]) == (PRIMARY, PRIMARY)
    assert (platform.writer_region(), platform.traffic_region()) == (PRIMARY, PRIMARY)
    assert members(platform) == {platform.design.primary_cluster_id: True, platform.design.secondary_cluster_id: False}
    snapshots = platform.cloud.client("rds", PRIMARY).describe_db_cluster_snapshots(SnapshotType="manual")
    (snapshot,) = [s["DBClusterSnapshotIdentifier"] for s in snapshots["DBClusterSnapshots"]]
    assert snapshot.startswith("roadcall-aurora-prod-detached-")
    assert report["reprotect"]["aurora"]["changes"] == [
        *[f"delete instance roadcall-aurora-prod-{n} of the detached cluster roadcall-aurora-prod" for n in (1, 2, 3)],
        "turn off deletion protection of the detached cluster roadcall-aurora-prod",  # the seed protects it
        "tag the detached cluster roadcall-aurora-prod with its settings (copied to its final snapshot)",
        f"delete the detached cluster roadcall-aurora-prod keeping final snapshot {snapshot} (the data it holds)",
        "create roadcall-aurora-prod in us-east-1 as a secondary of roadcall-aurora-global",
        *[f"create reader instance roadcall-aurora-prod-{n} (db.r6g.large) in roadcall-aurora-prod" for n in (1, 2, 3)],
    ]
    for replica, home in zip(platform.design.replicas, platform.design.buckets, strict=True):
        rule = replication_rule(platform, replica)
        assert rule is not None
        assert rule["Destination"]["Bucket"] == f"arn:aws:s3:::{home}"
        assert rule["Destination"]["ReplicationTime"] == {"Status": "Enabled", "Time": {"Minutes": 15}}
        assert rule["DeleteMarkerReplication"] == {"Status": "Enabled"}
    assert all(platform.tables.replicas(t) == [PRIMARY, RECOVERY] for t in platform.design.tables)
    assert pitr(platform, RECOVERY) == ["ENABLED"] * 5
    # it waited for replication under budget, switched over (no data loss) and lost nothing
    assert report["replication"]["caught_up"] is True and report["replication"]["aurora_lag_seconds"] <= 5
    last = platform.aurora.promotion_events(platform.design.global_cluster_id)[-1]
    assert (last["kind"], last["data_loss_allowed"], last["outcome"]) == ("switchover", False, "succeeded")
    before, after = report["outage_writes"]["before"], report["outage_writes"]["after"]
    assert (before["items_written"], before["objects_written"]) == (10, 6)
    assert (after["items_still_to_arrive"], after["objects_still_to_arrive"]) == (0, 0)
    assert scenario.missing_at_home(platform, written) == []
    assert report["rpo"]["expected_seconds"] == 0 and report["rpo"]["by_store"]["aurora"] == 0.0
    assert report["rto"]["met"] is True
    # the evidence: audit, notification, lease
    assert audit(platform, execution)["status"] == "SUCCEEDED"
    assert "[DR] failback planned SUCCEEDED" in inbox.subjects()
    assert lease(platform)["state"] == "RELEASED"


def test_failback_while_the_primary_is_still_unhealthy_refuses_and_changes_nothing(
    platform: Platform, inbox: Inbox
) -> None:
    unplanned_failover(platform)  # and the primary stays down
    before = state(platform)

    execution = start(platform, "failback", {"mode": "planned"})
    result = run_to_end(platform, execution, approve=False)

    assert (result["status"], result["error"]) == ("FAILED", "PlatformNotHealthy")
    assert result["cause"].startswith(
        f"the old primary us-east-1 is not healthy: the us-east-1 endpoint {platform.primary_endpoint.url} "
        "is not healthy: HTTP 503"
    )
    # Route 53 does not check the primary while the failover pins it (disabled + inverted): the direct
    # check from the recovery region is the evidence, and the cause names it.
    assert "endpoint" in result["cause"] and "is not healthy: HTTP 503" in result["cause"]
    assert result["cause"].endswith("Nothing was changed; run the failback again when it has recovered.")
    assert state(platform) == before
    record = audit(platform, execution)
    assert (record["phase"], record["changed"]) == ("CheckPrimaryHealth", [])
    assert lease(platform)["state"] == "RELEASED"
    assert "[DR] failback failed: PlatformNotHealthy" in inbox.subjects()


def test_lag_that_never_drops_under_budget_times_out_notified_with_traffic_still_in_the_recovery_region(
    platform: Platform, inbox: Inbox
) -> None:
    # Given a planned failover (traffic pinned to us-west-2) and replication home that stays 20 minutes behind
    assert run_to_end(platform, start(platform, "failover", {"mode": "planned"}))["status"] == "SUCCEEDED"
    platform.set_replication_lag(1200)
    promotions = len(platform.aurora.promotion_events(platform.design.global_cluster_id))

    execution = start(platform, "failback", {"mode": "planned"})
    result = run_to_end(platform, execution)

    assert (result["status"], result["error"]) == ("FAILED", "ReplicationLagTooHigh")
    assert result["cause"] == (
        "replication toward us-east-1 did not catch up within 1800 s: Aurora: lag 1200.0 s > 5 s; "
        "DynamoDB: heartbeats at home trail the source by more than 5 s ("
        + ", ".join(sorted(platform.design.tables))
        + "); S3: heartbeats at home trail the source by more than 900 s ("
        + ", ".join(sorted(platform.design.replicas))
        + "). Nothing was switched over; the writer and the traffic stay in us-west-2."
    )
    assert (platform.writer_region(), platform.traffic_region()) == (RECOVERY, RECOVERY)
    assert len(platform.aurora.promotion_events(platform.design.global_cluster_id)) == promotions
    record = audit(platform, execution)
    assert record["phase"] == "WaitForReplication"
    assert record["unchanged"] == ["nothing: the run stopped before any step that changes the platform"]
    assert record["attempted"] == [] and record["unknown"] == []
    assert sum(c.startswith("put replication rule dr-replication") for c in record["changed"]) == 3
    assert lease(platform)["state"] == "RELEASED"
    assert "[DR] failback failed: ReplicationLagTooHigh" in inbox.subjects()
    assert not any(s.startswith("[DR] Approval needed: failback") for s in inbox.subjects())


def test_a_failback_while_a_failover_holds_the_lease_is_refused(platform: Platform, inbox: Inbox) -> None:
    failover = start(platform, "failover", {"mode": "planned"})
    approval_token(platform, failover)  # the failover holds the lease, waiting for its approval
    before = state(platform)

    execution = start(platform, "failback", {"mode": "planned"})
    result = run_to_end(platform, execution, approve=False)

    assert (result["status"], result["error"]) == ("FAILED", "LeaseHeld")
    assert "another DR operation holds the lease: failover by " + failover in result["cause"]
    assert state(platform) == before
    held = lease(platform)
    assert (held["state"], held["holder"], held["operation"]) == ("HELD", failover, "failover")
    assert platform.cloud.describe(failover)["status"] == "RUNNING"
    assert "[DR] failback failed: LeaseHeld" in inbox.subjects()


def test_dry_run_changes_nothing_and_reports_the_plan(platform: Platform) -> None:
    unplanned_failover(platform)
    recovers(platform)
    before = state(platform)

    result = run_to_end(platform, start(platform, "failback", event("failback-dry-run.json")))

    assert result["status"] == "SUCCEEDED"
    report = json.loads(result["output"])
    assert (report["status"], report["rto"]["seconds"]) == ("DRY_RUN", None)
    assert report["decision"]["plan"][0].startswith("Aurora: SwitchoverGlobalCluster on roadcall-aurora-global")
    d = platform.design
    assert report["reprotect"]["aurora"]["changes"] == []  # the old primary rejoined as a secondary on its own
    assert report["reprotect"]["dynamodb"]["changes"] == [
        f"would turn on point-in-time recovery (35 days) of {t} in us-west-2" for t in d.tables
    ]
    assert report["reprotect"]["s3"]["changes"] == [
        "would attach the least-privilege replication policy dr-s3-replication of role roadcall-s3-replication "
        "(6 buckets)",
        *[
            line
            for replica, home in zip(d.replicas, d.buckets, strict=True)
            for line in (
                f"would put replication rule dr-replication of {replica} → {home} (missing)",
                f"would copy 2 object(s) of {replica} onto themselves so that replication carries them to {home} "
                "(written before the rule existed, or FAILED)",
            )
        ],
    ]
    before_writes = report["outage_writes"]["before"]
    assert (before_writes["items_written"], before_writes["objects_written"]) == (10, 6)
    assert before_writes["objects_still_to_arrive"] == 6 and report["outage_writes"]["after"] is None
    assert state(platform) == before


def drctl(*args: str) -> subprocess.CompletedProcess[str]:
    """``drctl`` in its own process, as an operator runs it (the in-process moto would answer for the server)."""
    return subprocess.run(
        [sys.executable, "-m", "drctl.cli", *args], capture_output=True, text=True, timeout=120, check=False
    )


@pytest.fixture
def realtime_platform() -> Iterator[Platform]:
    """The platform on a cloud whose clock starts at the real now, whatever LOCALCLOUD_START says: drctl runs
    in a subprocess, on the real clock, and reads metrics of the last minutes by its own clock (as a caller of
    AWS does, whose clock agrees with AWS's)."""
    with LocalCloud(start=datetime.now(UTC).replace(microsecond=0)) as cloud:
        built = forkserver.fresh_platform(cloud)
        yield built
        built.close()


def test_setup_replication_completes_a_half_configured_platform_and_a_second_run_changes_nothing(
    realtime_platform: Platform,
) -> None:
    platform = realtime_platform
    d = platform.design
    assert scenario.half_configured(platform) == [
        f"table {d.tables[1]} has no replica in us-west-2",
        f"table {d.tables[2]} has PITR off in us-east-1",
        f"bucket {d.replicas[0]} has versioning suspended",
        f"bucket {d.buckets[1]} has no replication rule",
        f"cluster {d.secondary_cluster_id} detached from {d.global_cluster_id}, without instances",
    ]
    server = LocalCloudServer(platform.cloud).start()
    command = ("--endpoint-url", server.endpoint_url, "setup", "replication", "--from", PRIMARY, "--to", RECOVERY)
    try:
        first = drctl(*command, "--output", "json")
        second = drctl(*command)
    finally:
        server.stop()

    assert first.returncode == 0, first.stderr
    out = json.loads(first.stdout)
    assert (out["status"], out["passes"], out["left_to_change"]) == ("CHANGED", 1, [])
    assert out["stores"]["dynamodb"]["changes"] == [
        f"turn on point-in-time recovery (35 days) of {d.tables[0]} in us-west-2",
        f"create the replica of {d.tables[1]} in us-west-2",
        f"turn on point-in-time recovery (35 days) of {d.tables[1]} in us-west-2",
        f"turn on point-in-time recovery (35 days) of {d.tables[2]} in us-east-1",
        *[f"turn on point-in-time recovery (35 days) of {t} in us-west-2" for t in d.tables[2:]],
    ]
    aurora = out["stores"]["aurora"]["changes"]
    snapshot = aurora[2].split("final snapshot ")[1].split(" ")[0]
    assert snapshot.startswith("roadcall-aurora-prod-dr-detached-")
    assert aurora == [
        "turn off deletion protection of the detached cluster roadcall-aurora-prod-dr",  # the seed protects it
        "tag the detached cluster roadcall-aurora-prod-dr with its settings (copied to its final snapshot)",
        f"delete the detached cluster roadcall-aurora-prod-dr keeping final snapshot {snapshot} (the data it holds)",
        "create roadcall-aurora-prod-dr in us-west-2 as a secondary of roadcall-aurora-global",
        "create reader instance roadcall-aurora-prod-dr-1 (db.r6g.large) in roadcall-aurora-prod-dr",
    ]
    assert out["stores"]["aurora"]["flowing"] is True
    assert out["stores"]["s3"]["changes"] == [
        "attach the least-privilege replication policy dr-s3-replication of role roadcall-s3-replication (6 buckets)",
        f"enable versioning of {d.replicas[0]} in us-west-2 (was Suspended)",
        f"put replication rule dr-replication of {d.buckets[1]} → {d.replicas[1]} (missing)",
    ]
    # the platform is whole again
    assert platform.tables.replicas(d.tables[1]) == [PRIMARY, RECOVERY]
    assert pitr(platform, PRIMARY) == pitr(platform, RECOVERY) == ["ENABLED"] * 5
    assert platform.cloud.client("s3", RECOVERY).get_bucket_versioning(Bucket=d.replicas[0])["Status"] == "Enabled"
    assert (
        replication_rule_of(platform, PRIMARY, d.buckets[1])["Destination"]["Bucket"] == f"arn:aws:s3:::{d.replicas[1]}"
    )
    assert members(platform) == {d.primary_cluster_id: True, d.secondary_cluster_id: False}
    # and a second run finds everything in place, changes nothing and says so
    assert second.returncode == 0, second.stderr
    assert second.stdout.rstrip().endswith(
        "nothing to change: replication is already set up, and this run changed nothing"
    )
    assert "changed:" not in second.stdout


def test_a_gameday_fails_over_then_back_and_ends_home(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["drill", "gameday", "--output", "json"]) == 0
    captured = capsys.readouterr()
    stdout = captured.out
    report = json.loads(stdout[stdout.index('{\n  "workflow": "gameday"') :])
    # the header names the round trip, out and home (it named the failback's way only)
    assert "gameday drill (planned) on localcloud (embedded AWS, no account): us-east-1 -> us-west-2 -> us-east-1" in (
        captured.err
    )

    assert (report["status"], report["writer_region"], report["traffic_region"]) == ("SUCCEEDED", PRIMARY, PRIMARY)
    assert (report["failover"]["workflow"], report["failover"]["status"]) == ("failover", "SUCCEEDED")
    assert (report["failover"]["writer_region"], report["failover"]["traffic_region"]) == (RECOVERY, RECOVERY)
    assert (report["failback"]["workflow"], report["failback"]["status"]) == ("failback", "SUCCEEDED")
    assert report["failback"]["rpo"]["expected_seconds"] == 0
    assert report["failover"]["rto"]["met"] is True and report["failback"]["rto"]["met"] is True
    assert report["rto_seconds"] == {
        "failover": report["failover"]["rto"]["seconds"],
        "failback": report["failback"]["rto"]["seconds"],
    }


def test_a_failback_when_the_platform_is_already_home_does_nothing(platform: Platform, inbox: Inbox) -> None:
    before = state(platform)

    result = run_to_end(platform, start(platform, "failback", {"mode": "planned"}), approve=False)

    assert result["status"] == "SUCCEEDED"
    assert json.loads(result["output"])["status"] == "SKIPPED"
    assert json.loads(result["output"])["reason"] == "the writer and the traffic are already in us-east-1"
    assert state(platform) == before
    assert lease(platform)["state"] == "RELEASED"
    assert not any(s.startswith("[DR] Approval needed") for s in inbox.subjects())
