"""Fidelity of the simulated Aurora global database failover and switchover."""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from localcloud.clock import VirtualClock
from localcloud.services.aurora import AuroraGlobalSimulator, GlobalTopology
from tests.localcloud.conftest import Bare

GLOBAL = "roadcall-aurora-global"
EAST_ARN = "arn:aws:rds:us-east-1:123456789012:cluster:roadcall-aurora-use1"
WEST_ARN = "arn:aws:rds:us-west-2:123456789012:cluster:roadcall-aurora-usw2"


@pytest.fixture
def env(bare: Bare) -> tuple[VirtualClock, AuroraGlobalSimulator, GlobalTopology]:
    sim = bare.register(AuroraGlobalSimulator(bare.clock, bare.metrics()))
    topology = sim.create_global_topology(
        GLOBAL,
        primary=("us-east-1", "roadcall-aurora-use1"),
        secondary=("us-west-2", "roadcall-aurora-usw2"),
    )
    return bare.clock, sim, topology


def _rds(region: str = "us-west-2") -> Any:
    return boto3.client("rds", region_name=region)


def _describe(region: str = "us-west-2") -> dict[str, Any]:
    return dict(_rds(region).describe_global_clusters(GlobalClusterIdentifier=GLOBAL)["GlobalClusters"][0])


def _writers(described: dict[str, Any]) -> dict[str, bool]:
    return {m["DBClusterArn"]: m["IsWriter"] for m in described["GlobalClusterMembers"]}


def _code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


def _message(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Message"])


def _failover(**extra: Any) -> dict[str, Any]:
    response = _rds().failover_global_cluster(
        GlobalClusterIdentifier=GLOBAL, TargetDbClusterIdentifier=WEST_ARN, **extra
    )
    return dict(response["GlobalCluster"])


def test_topology_is_real_moto_state(env: Any) -> None:
    # Given the topology built through the RDS API
    _clock, sim, topology = env

    # When it is described in both regions
    described = _describe("us-east-1")
    primary = _rds("us-east-1").describe_db_clusters(DBClusterIdentifier="roadcall-aurora-use1")["DBClusters"][0]

    # Then moto reports both members, the primary the writer, with a writer and two readers in it
    assert (topology.primary_cluster_arn, topology.secondary_cluster_arn) == (EAST_ARN, WEST_ARN)
    assert topology.instance_ids == (
        "roadcall-aurora-use1-1",
        "roadcall-aurora-use1-2",
        "roadcall-aurora-use1-3",
        "roadcall-aurora-usw2-1",
    )
    assert _writers(described) == {EAST_ARN: True, WEST_ARN: False}
    assert (described["Status"], "FailoverState" in described) == ("available", False)
    assert [(m["DBInstanceIdentifier"], m["IsClusterWriter"]) for m in primary["DBClusterMembers"]] == [
        ("roadcall-aurora-use1-1", True),
        ("roadcall-aurora-use1-2", False),
        ("roadcall-aurora-use1-3", False),
    ]
    assert (primary["GlobalClusterIdentifier"], primary["BackupRetentionPeriod"]) == (GLOBAL, 35)
    assert sim.writer_region(GLOBAL) == "us-east-1"


def test_failover_with_data_loss_moves_the_writer_after_its_duration(env: Any) -> None:
    # Given the primary in us-east-1
    clock, sim, _ = env

    # When the us-west-2 secondary is promoted with AllowDataLoss
    answered = _failover(AllowDataLoss=True)

    # Then the answer is the global cluster in its in-progress state
    in_progress = {
        "FromDbClusterArn": EAST_ARN,
        "ToDbClusterArn": WEST_ARN,
        "IsDataLossAllowed": True,
    }
    assert answered["Status"] == "failing-over"
    assert answered["FailoverState"] == {"Status": "pending", **in_progress}
    assert _writers(answered) == {EAST_ARN: True, WEST_ARN: False}

    # And 30 s later it is still failing over, writer unchanged
    clock.advance(30)
    described = _describe()
    assert (described["Status"], described["FailoverState"]) == (
        "failing-over",
        {"Status": "failing-over", **in_progress},
    )
    assert sim.writer_region(GLOBAL) == "us-east-1"

    # And once the 90 s have passed the writer is in us-west-2 and the old primary is its reader
    clock.advance(61)
    described = _describe()
    assert (described["Status"], "FailoverState" in described) == ("available", False)
    assert _writers(described) == {EAST_ARN: False, WEST_ARN: True}
    new_writer = next(m for m in described["GlobalClusterMembers"] if m["IsWriter"])
    assert new_writer["Readers"] == [EAST_ARN]
    assert sim.writer_region(GLOBAL) == "us-west-2"
    assert sim.writer_cluster_arn(GLOBAL) == WEST_ARN
    assert sim.replication_lag(GLOBAL, EAST_ARN) == 0.5


def test_promotion_events_record_the_timeline(env: Any) -> None:
    # Given a failover started now with 3 s of lag on the secondary
    clock, sim, _ = env
    sim.set_replication_lag(GLOBAL, 3.0)
    _failover(AllowDataLoss=True)
    started = sim.promotion_events(GLOBAL)[0]["started_at"]

    # When it completes
    clock.advance(120)
    events = sim.promotion_events(GLOBAL)

    # Then one event records the whole operation, completed 90 s after it started
    assert events == [
        {
            "kind": "failover",
            "started_at": started,
            "completed_at": started + timedelta(seconds=90),
            "from": EAST_ARN,
            "to": WEST_ARN,
            "data_loss_allowed": True,
            "outcome": "succeeded",
            "reason": None,
            "lag_at_start_seconds": 3.0,
            "detached_old_primary": False,
        }
    ]
    assert abs((started - clock.now()).total_seconds() + 120) < 5
    assert sim.last_failover_result(GLOBAL) == events[0]


def test_switchover_takes_longer_and_loses_nothing(env: Any) -> None:
    # Given a small lag on the secondary
    clock, sim, _ = env
    sim.set_replication_lag(GLOBAL, 0.8)

    # When SwitchoverGlobalCluster is called with the target's ARN
    answered = _rds("us-east-1").switchover_global_cluster(
        GlobalClusterIdentifier=GLOBAL, TargetDbClusterIdentifier=WEST_ARN
    )["GlobalCluster"]

    # Then it is switching over, without data loss, for 150 s
    assert (answered["Status"], answered["FailoverState"]["Status"]) == ("switching-over", "pending")
    assert answered["FailoverState"]["IsDataLossAllowed"] is False
    clock.advance(140)
    assert _describe()["FailoverState"]["Status"] == "switching-over"
    clock.advance(11)
    described = _describe()
    assert (described["Status"], _writers(described)) == ("available", {EAST_ARN: False, WEST_ARN: True})
    assert sim.replication_lag(GLOBAL, EAST_ARN) == 0.0
    assert sim.last_failover_result(GLOBAL)["kind"] == "switchover"


def test_switchover_with_high_lag_succeeds_later(env: Any) -> None:
    # Given 60 s of lag (above the 1 s threshold)
    clock, sim, _ = env
    sim.set_replication_lag(GLOBAL, 60.0)

    # When switched over
    _rds().switchover_global_cluster(GlobalClusterIdentifier=GLOBAL, TargetDbClusterIdentifier=WEST_ARN)

    # Then it is still switching over after the usual 150 s, and done after 150 + 60 s
    clock.advance(160)
    assert _describe()["Status"] == "switching-over"
    clock.advance(51)
    assert (_describe()["Status"], sim.writer_region(GLOBAL)) == ("available", "us-west-2")


@pytest.mark.parametrize(
    ("extra", "kind", "status"),
    [
        ({"Switchover": True}, "switchover", "switching-over"),
        ({}, "switchover", "switching-over"),
        ({"AllowDataLoss": False}, "switchover", "switching-over"),
        ({"AllowDataLoss": True}, "failover", "failing-over"),
    ],
)
def test_failover_global_cluster_parameters_choose_the_operation(
    env: Any, extra: dict[str, Any], kind: str, status: str
) -> None:
    # When FailoverGlobalCluster is called with these parameters
    _clock, sim, _ = env
    answered = _failover(**extra)

    # Then the operation is the documented one
    assert (answered["Status"], sim.promotion_events(GLOBAL)[0]["kind"]) == (status, kind)


def test_allow_data_loss_and_switchover_together_are_rejected(env: Any) -> None:
    # When both are given
    with pytest.raises(ClientError) as error:
        _failover(AllowDataLoss=True, Switchover=True)

    # Then InvalidParameterCombination, and nothing started
    _clock, sim, _ = env
    assert _code(error) == "InvalidParameterCombination"
    assert sim.promotion_events(GLOBAL) == []


def test_target_by_identifier_is_looked_up_in_the_callers_region(env: Any) -> None:
    # When the secondary is named by identifier from us-west-2, and from us-east-1
    with pytest.raises(ClientError) as error:
        _rds("us-east-1").failover_global_cluster(
            GlobalClusterIdentifier=GLOBAL,
            TargetDbClusterIdentifier="roadcall-aurora-usw2",
            AllowDataLoss=True,
        )
    answered = _rds("us-west-2").failover_global_cluster(
        GlobalClusterIdentifier=GLOBAL, TargetDbClusterIdentifier="roadcall-aurora-usw2", AllowDataLoss=True
    )["GlobalCluster"]

    # Then us-east-1 does not find it (AWS asks for the ARN), us-west-2 does
    assert _code(error) == "DBClusterNotFoundFault"
    assert "not found in us-east-1" in _message(error)
    assert answered["FailoverState"]["ToDbClusterArn"] == WEST_ARN


def test_unknown_global_cluster(env: Any) -> None:
    # When an unknown global cluster is failed over, switched over, described
    with pytest.raises(ClientError) as failover:
        _rds().failover_global_cluster(GlobalClusterIdentifier="nope", TargetDbClusterIdentifier=WEST_ARN)
    with pytest.raises(ClientError) as switchover:
        _rds().switchover_global_cluster(GlobalClusterIdentifier="nope", TargetDbClusterIdentifier=WEST_ARN)
    with pytest.raises(ClientError) as describe:
        _rds().describe_global_clusters(GlobalClusterIdentifier="nope")

    # Then GlobalClusterNotFoundFault each time
    assert [_code(failover), _code(switchover), _code(describe)] == ["GlobalClusterNotFoundFault"] * 3
    assert _message(describe) == "Global cluster nope not found."


def test_target_that_is_not_a_member(env: Any) -> None:
    # Given a standalone cluster in us-west-2
    _rds().create_db_cluster(
        DBClusterIdentifier="standalone",
        Engine="aurora-postgresql",
        MasterUsername="u",
        ManageMasterUserPassword=True,
    )
    standalone = "arn:aws:rds:us-west-2:123456789012:cluster:standalone"

    # When it is the target, and when the target does not exist
    with pytest.raises(ClientError) as not_member:
        _rds().failover_global_cluster(GlobalClusterIdentifier=GLOBAL, TargetDbClusterIdentifier=standalone)
    with pytest.raises(ClientError) as missing:
        _rds().failover_global_cluster(
            GlobalClusterIdentifier=GLOBAL,
            TargetDbClusterIdentifier=standalone.replace("standalone", "ghost"),
        )

    # Then InvalidDBClusterStateFault naming the members, and DBClusterNotFoundFault
    assert _code(not_member) == "InvalidDBClusterStateFault"
    assert _message(not_member) == (
        f"DB cluster {standalone} is not a member of global cluster {GLOBAL}; its members are "
        f"['{EAST_ARN}', '{WEST_ARN}']."
    )
    assert _code(missing) == "DBClusterNotFoundFault"


def test_an_operation_in_progress_blocks_another(env: Any) -> None:
    # Given a failover in progress
    clock, _sim, _ = env
    _failover(AllowDataLoss=True)
    clock.advance(20)

    # When another is requested, and a detach
    with pytest.raises(ClientError) as error:
        _rds().switchover_global_cluster(GlobalClusterIdentifier=GLOBAL, TargetDbClusterIdentifier=WEST_ARN)
    with pytest.raises(ClientError) as detach:
        _rds().remove_from_global_cluster(GlobalClusterIdentifier=GLOBAL, DbClusterIdentifier=WEST_ARN)

    # Then InvalidGlobalClusterStateFault saying what is running
    assert _code(error) == "InvalidGlobalClusterStateFault"
    assert _message(error).startswith(f"Global cluster {GLOBAL} is failing-over (from {EAST_ARN} to {WEST_ARN}")
    assert _code(detach) == "InvalidGlobalClusterStateFault"


def test_target_already_the_writer(env: Any) -> None:
    # When the primary itself is the target
    with pytest.raises(ClientError) as error:
        _rds().switchover_global_cluster(GlobalClusterIdentifier=GLOBAL, TargetDbClusterIdentifier=EAST_ARN)

    # Then InvalidGlobalClusterStateFault with a clear message
    assert _code(error) == "InvalidGlobalClusterStateFault"
    assert _message(error) == (
        f"DB cluster {EAST_ARN} is already the primary (writer) of global cluster {GLOBAL}; "
        f"the target must be a secondary: ['{WEST_ARN}']."
    )


def test_a_failed_failover_leaves_the_writer_and_says_why(env: Any) -> None:
    # Given the next failover will fail
    clock, sim, _ = env
    sim.fail_next_failover(GLOBAL, "secondary cluster storage unreachable")

    # When a failover runs its course
    _failover(AllowDataLoss=True)
    clock.advance(75)
    cancelling = _describe()
    clock.advance(16)
    after = _describe()

    # Then it shows cancelling near the end, then available with the writer unmoved, and the reason
    assert (cancelling["Status"], cancelling["FailoverState"]["Status"]) == ("failing-over", "cancelling")
    assert (after["Status"], "FailoverState" in after) == ("available", False)
    assert _writers(after) == {EAST_ARN: True, WEST_ARN: False}
    assert sim.writer_region(GLOBAL) == "us-east-1"
    result = sim.last_failover_result(GLOBAL)
    assert (result["outcome"], result["reason"]) == ("failed", "secondary cluster storage unreachable")

    # And the next one succeeds (the injection fires once)
    _failover(AllowDataLoss=True)
    clock.advance(91)
    assert sim.writer_region(GLOBAL) == "us-west-2"


def test_durations_are_configurable(env: Any) -> None:
    # Given a 20 s failover
    clock, sim, _ = env
    sim.set_durations(failover_seconds=20, switchover_seconds=40)

    # When it runs
    _failover(AllowDataLoss=True)
    clock.advance(21)

    # Then it is done after 20 s; and a switchover back takes 40 s
    assert sim.writer_region(GLOBAL) == "us-west-2"
    _rds("us-east-1").switchover_global_cluster(GlobalClusterIdentifier=GLOBAL, TargetDbClusterIdentifier=EAST_ARN)
    clock.advance(35)
    assert sim.writer_region(GLOBAL) == "us-west-2"
    clock.advance(6)
    assert sim.writer_region(GLOBAL) == "us-east-1"


def test_failover_can_detach_an_unreachable_old_primary(env: Any) -> None:
    # Given the old primary is detached on failover
    clock, sim, _ = env
    sim.detach_old_primary_on_failover = True

    # When a failover with data loss completes
    _failover(AllowDataLoss=True)
    clock.advance(91)

    # Then only the new primary is left, and the old one is a standalone cluster
    described = _describe()
    old = _rds("us-east-1").describe_db_clusters(DBClusterIdentifier="roadcall-aurora-use1")["DBClusters"][0]
    assert _writers(described) == {WEST_ARN: True}
    assert "GlobalClusterIdentifier" not in old
    assert sim.last_failover_result(GLOBAL)["detached_old_primary"] is True


def test_remove_from_global_cluster_works_from_the_secondary_region(env: Any) -> None:
    # When the writer is removed first, then the secondary (from its own region)
    with pytest.raises(ClientError) as writer:
        _rds("us-east-1").remove_from_global_cluster(GlobalClusterIdentifier=GLOBAL, DbClusterIdentifier=EAST_ARN)
    answered = _rds("us-west-2").remove_from_global_cluster(
        GlobalClusterIdentifier=GLOBAL, DbClusterIdentifier=WEST_ARN
    )["GlobalCluster"]

    # Then the writer cannot go while it has secondaries; the secondary is detached
    assert _code(writer) == "InvalidGlobalClusterStateFault"
    assert _writers(answered) == {EAST_ARN: True}
    assert _writers(_describe()) == {EAST_ARN: True}


def test_describe_filters_by_region(env: Any) -> None:
    # Given a second global cluster with its only member in eu-west-1
    _rds("eu-west-1").create_global_cluster(GlobalClusterIdentifier="other", Engine="aurora-postgresql")
    _rds("eu-west-1").create_db_cluster(
        DBClusterIdentifier="eu",
        Engine="aurora-postgresql",
        GlobalClusterIdentifier="other",
        MasterUsername="u",
        ManageMasterUserPassword=True,
    )

    # When described with a region filter
    west = _rds().describe_global_clusters(Filters=[{"Name": "region", "Values": ["us-west-2"]}])
    everything = _rds().describe_global_clusters()

    # Then only global clusters with a member there are returned
    assert [g["GlobalClusterIdentifier"] for g in west["GlobalClusters"]] == [GLOBAL]
    assert [g["GlobalClusterIdentifier"] for g in everything["GlobalClusters"]] == [GLOBAL, "other"]


def test_replication_lag_metrics_follow_the_knob_and_the_roles(env: Any) -> None:
    # Given 2.5 s of lag on the us-west-2 secondary
    clock, sim, _ = env
    sim.set_replication_lag(GLOBAL, 2.5)
    start = clock.now().astimezone(UTC).replace(microsecond=0) - timedelta(seconds=30)

    def values(region: str, metric: str, cluster: str) -> list[float]:
        result = boto3.client("cloudwatch", region_name=region).get_metric_data(
            MetricDataQueries=[
                {
                    "Id": "lag",
                    "MetricStat": {
                        "Metric": {
                            "Namespace": "AWS/RDS",
                            "MetricName": metric,
                            "Dimensions": [{"Name": "DBClusterIdentifier", "Value": cluster}],
                        },
                        "Period": 60,
                        "Stat": "Maximum",
                        "Unit": "Milliseconds",
                    },
                }
            ],
            StartTime=start,
            EndTime=start + timedelta(minutes=10),
            ScanBy="TimestampAscending",
        )
        return list(result["MetricDataResults"][0]["Values"])

    # When read now, then after a failover with data loss completed (two minutes later)
    before = values("us-west-2", "AuroraGlobalDBReplicationLag", "roadcall-aurora-usw2")
    rpo_before = values("us-west-2", "AuroraGlobalDBRPOLag", "roadcall-aurora-usw2")
    _failover(AllowDataLoss=True)
    clock.advance(120)
    after_west = values("us-west-2", "AuroraGlobalDBReplicationLag", "roadcall-aurora-usw2")
    after_east = values("us-east-1", "AuroraGlobalDBReplicationLag", "roadcall-aurora-use1")

    # Then the secondary reported 2500 ms; afterwards the new primary reports nothing new and the
    # old primary, now the secondary, reports the small post-failover lag in its own region
    assert (before, rpo_before) == ([2500.0], [2500.0])
    assert after_west == [2500.0]
    assert after_east == [500.0]


def test_set_replication_lag_rejects_a_cluster_that_is_not_a_secondary(env: Any) -> None:
    # When the primary is given a lag
    _clock, sim, _ = env
    with pytest.raises(ValueError, match="is not a secondary of global cluster") as error:
        sim.set_replication_lag(GLOBAL, 1.0, cluster_id="roadcall-aurora-use1")

    # Then the message lists the secondaries
    assert WEST_ARN in str(error.value)


def test_a_global_cluster_made_from_an_existing_cluster_has_that_cluster_as_primary(env: Any) -> None:
    # Given a standalone cluster turned into a global database, with a secondary added (moto 5.2.5
    # finds the source cluster only in us-east-1)
    clock, sim, _ = env
    _rds("us-east-1").create_db_cluster(
        DBClusterIdentifier="legacy",
        Engine="aurora-postgresql",
        MasterUsername="u",
        ManageMasterUserPassword=True,
    )
    legacy = "arn:aws:rds:us-east-1:123456789012:cluster:legacy"
    _rds("us-east-1").create_global_cluster(GlobalClusterIdentifier="converted", SourceDBClusterIdentifier=legacy)
    _rds("eu-central-1").create_db_cluster(
        DBClusterIdentifier="copy", Engine="aurora-postgresql", GlobalClusterIdentifier="converted"
    )
    copy = "arn:aws:rds:eu-central-1:123456789012:cluster:copy"

    # When it is described, then failed over
    described = _rds().describe_global_clusters(GlobalClusterIdentifier="converted")["GlobalClusters"][0]
    _rds("eu-central-1").failover_global_cluster(
        GlobalClusterIdentifier="converted", TargetDbClusterIdentifier=copy, AllowDataLoss=True
    )
    clock.advance(91)

    # Then the source cluster was the writer, and the writer moved
    assert _writers(described) == {legacy: True, copy: False}
    assert sim.writer_cluster_arn("converted") == copy
