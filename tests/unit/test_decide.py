"""Decide: the rules that make a failover act alone, ask a person, refuse or skip."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from dr.models import OperationRequest, Readiness
from dr.settings import Settings
from dr.steps.decide import decide

SETTINGS = Settings()


def request(mode: str = "unplanned", trigger: str = "alarm") -> OperationRequest:
    return OperationRequest(
        workflow="failover",
        mode=mode,
        trigger=trigger,
        detected_at=datetime(2026, 11, 28, tzinfo=UTC),
        source_region="us-east-1",
        target_region="us-west-2",
        reason="",
        requested_by="test",
        execution="arn:x",
        approval_timeout_seconds=600,
    )


def readiness(
    lag: float | None = 2.0,
    source_up: bool = False,
    probe: bool | None = False,
    writer: str = "us-east-1",
    traffic: str = "us-east-1",
    target_ready: bool = True,
) -> Readiness:
    raw: dict[str, Any] = {
        "aurora": {
            "global_cluster_id": "g",
            "writer_region": writer,
            "target_cluster_id": "c",
            "target_is_member": True,
            "target_status": "available",
            "operation_in_progress": False,
            "rpo_lag_seconds": lag,
            "ready": target_ready,
            "problems": [] if target_ready else ["cluster c is 'modifying', expected 'available'"],
        },
        "dynamodb": {
            "tables": [
                {
                    "name": "t",
                    "status": "ACTIVE",
                    "replica_regions": ["us-east-1"],
                    "replication_latency_seconds": 1.0,
                }
            ],
            "max_latency_seconds": 1.0,
            "ready": True,
        },
        "s3": {
            "buckets": [
                {
                    "source": "b",
                    "replica": "b-dr",
                    "pending_operations": 3,
                    "latency_seconds": 4.0,
                    "replicating": True,
                }
            ],
            "max_latency_seconds": 4.0,
            "pending_operations": 3,
            "ready": True,
        },
        "endpoints": {
            "target_url": "http://w",
            "target_healthy": True,
            "target_detail": "HTTP 200",
            "source_url": "http://e",
            "source_healthy_direct": source_up,
            "source_detail": "",
            "source_probe_healthy": probe,
            "traffic_region": traffic,
            "ready": True,
        },
        "backups": {"vault": "v", "newest_recovery_point_at": None, "newest_age_hours": 3.0, "fresh": True},
    }
    return Readiness.model_validate(raw)


def test_an_alarm_with_agreeing_evidence_inside_the_budget_proceeds_alone() -> None:
    decision = decide(request(), readiness(), SETTINGS, uses_arc=False)
    assert decision.action == "PROCEED"
    assert decision.exposure.model_dump() == {"aurora": 2.0, "dynamodb": 1.0, "s3": 4.0}
    assert decision.within_budget and decision.evidence_agrees


def test_lag_over_the_rpo_budget_asks_a_person() -> None:
    decision = decide(request(), readiness(lag=1200.0), SETTINGS, uses_arc=False)
    assert decision.action == "ASK"
    assert "exposure 1200 s is over the RPO budget of 900 s" in decision.reasons


def test_unmeasurable_exposure_asks_a_person() -> None:
    decision = decide(request(), readiness(lag=None), SETTINGS, uses_arc=False)
    assert decision.action == "ASK"
    assert "data-loss exposure could not be measured for every store" in decision.reasons


@pytest.mark.parametrize(("source_up", "probe"), [(True, False), (False, True)])
def test_disagreeing_evidence_asks_a_person(source_up: bool, probe: bool) -> None:
    decision = decide(request(), readiness(source_up=source_up, probe=probe), SETTINGS, uses_arc=False)
    assert decision.action == "ASK"
    assert not decision.evidence_agrees


def test_a_planned_move_always_asks() -> None:
    decision = decide(
        request(mode="planned", trigger="console"),
        readiness(source_up=True, probe=True),
        SETTINGS,
        uses_arc=True,
    )
    assert decision.action == "ASK"
    assert decision.exposure.aurora == 0.0  # a switchover loses nothing
    assert decision.plan[0].startswith("Aurora: SwitchoverGlobalCluster")
    assert decision.plan[3] == "Traffic: ARC routing controls: us-west-2 On, us-east-1 Off"


def test_a_recovery_region_that_is_not_ready_is_refused() -> None:
    decision = decide(request(), readiness(target_ready=False), SETTINGS, uses_arc=False)
    assert decision.action == "REFUSE"
    assert decision.reasons == ["not ready: cluster c is 'modifying', expected 'available'"]


def test_a_repeated_alarm_after_the_failover_is_skipped() -> None:
    decision = decide(request(), readiness(writer="us-west-2", traffic="us-west-2"), SETTINGS, uses_arc=False)
    assert decision.action == "SKIP"


def test_dry_run_reports_the_plan_whatever_the_evidence() -> None:
    assert (
        decide(request(mode="dry-run", trigger="console"), readiness(lag=5000), SETTINGS, uses_arc=False).action
        == "DRY_RUN"
    )
    assert (
        decide(
            request(mode="dry-run", trigger="console"),
            readiness(target_ready=False),
            SETTINGS,
            uses_arc=False,
        ).action
        == "DRY_RUN"
    )
