"""Decide: the rules that make a failover act alone, ask a person, refuse or skip — the evidence rule row by
row, and the exposure at decision time (each measure plus its age; unknown is never 0)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from dr.models import OperationRequest, Readiness
from dr.settings import Settings
from dr.steps.decide import decide

SETTINGS = Settings()
NOW = datetime(2026, 11, 28, 3, 20, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen_clock() -> Any:
    with time_machine.travel(NOW, tick=False):
        yield


def request(
    mode: str = "unplanned", trigger: str = "alarm", alarm: str = "roadcall-dr-primary-probe"
) -> OperationRequest:
    return OperationRequest(
        workflow="failover",
        mode=mode,
        trigger=trigger,
        detected_at=NOW - timedelta(minutes=3),
        source_region="us-east-1",
        target_region="us-west-2",
        reason="",
        requested_by="test",
        alarm_name=alarm if trigger == "alarm" else "",
        execution="arn:x",
        approval_timeout_seconds=600,
    )


def measure(seconds: float | None, age: float = 0.0) -> dict[str, Any]:
    taken = None if seconds is None else (NOW - timedelta(seconds=age)).isoformat()
    return {"seconds": seconds, "measured_at": taken, "source": "test", "note": "" if seconds is not None else "gone"}


def readiness(
    lag: float | None = 2.0,
    lag_age: float = 0.0,
    heartbeat_age: float | None = 30.0,
    s3_age: float | None = 40.0,
    source_up: bool = False,
    probe: str = "down",
    route53: str = "down",
    writer: str = "us-east-1",
    traffic: str = "us-west-2",
    target_ready: bool = True,
) -> Readiness:
    hb = measure(None) if heartbeat_age is None else measure(0.0, heartbeat_age)
    s3 = measure(None) if s3_age is None else measure(0.0, s3_age)
    raw: dict[str, Any] = {
        "aurora": {
            "global_cluster_id": "g",
            "writer_region": writer,
            "target_cluster_id": "c",
            "target_is_member": True,
            "target_status": "available",
            "operation_in_progress": False,
            "rpo_lag_seconds": lag,
            "exposure": measure(lag, lag_age),
            "ready": target_ready,
            "problems": [] if target_ready else ["cluster c is 'modifying', expected 'available'"],
        },
        "dynamodb": {
            "tables": [{"name": "t", "status": "ACTIVE", "replica_regions": ["us-east-1"], "exposure": hb}],
            "exposure": hb,
            "ready": True,
        },
        "s3": {
            "buckets": [{"source": "b", "replica": "b-dr", "versioning": "Enabled", "exposure": s3}],
            "exposure": s3,
            "ready": True,
        },
        "endpoints": {
            "target_url": "http://w",
            "target_healthy": True,
            "target_detail": "HTTP 200",
            "source_url": "http://e",
            "source_healthy_direct": source_up,
            "source_detail": "HTTP 200" if source_up else "unreachable",
            "probe": {"says": probe, "basis": f"probe says {probe}"},
            "route53": {"says": route53, "basis": f"route53 says {route53}"},
            "dns_region": traffic,
            "pinned": False,
            "traffic_region": traffic,
            "ready": True,
        },
        "backups": {"vault": "v", "newest_recovery_point_at": None, "newest_age_hours": 3.0, "fresh": True},
    }
    return Readiness.model_validate(raw)


def test_agreeing_evidence_inside_the_budget_proceeds_alone() -> None:
    decision = decide(request(), readiness(), SETTINGS, uses_arc=False)
    assert decision.action == "PROCEED"
    assert decision.exposure.model_dump() == {"aurora": 2.0, "dynamodb": 30.0, "s3": 40.0}
    assert decision.within_budget and decision.evidence_agrees
    assert set(decision.evidence) == {"route53", "probe", "direct"}


def test_exposure_is_the_last_value_plus_its_age() -> None:
    # A growing backlog: 860 s measured 45 s ago is 905 s now, over the 900 s budget.
    decision = decide(request(), readiness(lag=860.0, lag_age=45.0), SETTINGS, uses_arc=False)
    assert decision.exposure.aurora == 905.0
    assert decision.action == "ASK"
    assert "exposure 905 s is over the RPO budget of 900 s" in decision.reasons


def test_lag_over_the_rpo_budget_asks_a_person() -> None:
    decision = decide(request(), readiness(lag=1200.0), SETTINGS, uses_arc=False)
    assert decision.action == "ASK"
    assert "exposure 1200 s is over the RPO budget of 900 s" in decision.reasons


@pytest.mark.parametrize(
    ("changes", "store"),
    [({"lag": None}, "aurora"), ({"heartbeat_age": None}, "dynamodb"), ({"s3_age": None}, "s3")],
)
def test_an_unmeasurable_store_is_unknown_and_asks(changes: dict[str, Any], store: str) -> None:
    decision = decide(request(), readiness(**changes), SETTINGS, uses_arc=False)
    assert decision.action == "ASK"
    assert getattr(decision.exposure, store) is None and decision.exposure.worst is not None
    assert f"data-loss exposure unknown for {store}: it could not be measured from the target region" in (
        decision.reasons
    )
    assert not decision.within_budget


@pytest.mark.parametrize(
    ("route53", "probe", "source_up", "agrees", "why"),
    [
        ("down", "down", False, True, ""),
        ("down", "unknown", False, False, "one source only: probe (unknown"),
        ("unknown", "down", False, False, "one source only: route53 (unknown"),
        ("unknown", "unknown", False, False, "one source only: route53"),
        ("down", "up", False, False, "the evidence disagrees: probe (up"),
        ("up", "down", False, False, "the evidence disagrees: route53 (up"),
        ("down", "down", True, False, "a direct check from the recovery region sees http://e healthy now"),
    ],
)
def test_the_evidence_rule_row_by_row(route53: str, probe: str, source_up: bool, agrees: bool, why: str) -> None:
    decision = decide(request(), readiness(route53=route53, probe=probe, source_up=source_up), SETTINGS, uses_arc=False)
    assert decision.evidence_agrees is agrees
    assert decision.action == ("PROCEED" if agrees else "ASK")
    if why:
        assert any(r.startswith(why) for r in decision.reasons), decision.reasons


def test_a_planned_move_always_asks() -> None:
    decision = decide(
        request(mode="planned", trigger="console"),
        readiness(source_up=True, probe="up", route53="up"),
        SETTINGS,
        uses_arc=True,
    )
    assert decision.action == "ASK"
    assert decision.exposure.aurora == 0.0  # a switchover loses nothing
    assert decision.evidence == {}  # a planned move needs no evidence that the source is down
    assert decision.plan[0].startswith("Aurora: SwitchoverGlobalCluster")
    assert decision.plan[3] == "Traffic: ARC routing controls: us-west-2 On, us-east-1 Off"


def test_a_planned_move_with_unmeasurable_aurora_is_not_called_lossless() -> None:
    decision = decide(request(mode="planned", trigger="console"), readiness(lag=None), SETTINGS, uses_arc=False)
    assert decision.exposure.aurora is None


def test_a_recovery_region_that_is_not_ready_is_refused() -> None:
    decision = decide(request(), readiness(target_ready=False), SETTINGS, uses_arc=False)
    assert decision.action == "REFUSE"
    assert decision.reasons == ["not ready: cluster c is 'modifying', expected 'available'"]


def test_a_repeated_alarm_after_the_failover_is_skipped() -> None:
    decision = decide(request(), readiness(writer="us-west-2", traffic="us-west-2"), SETTINGS, uses_arc=False)
    assert decision.action == "SKIP"


def test_dry_run_reports_the_plan_whatever_the_evidence() -> None:
    dry = request(mode="dry-run", trigger="console")
    assert decide(dry, readiness(lag=5000), SETTINGS, uses_arc=False).action == "DRY_RUN"
    assert decide(dry, readiness(target_ready=False), SETTINGS, uses_arc=False).action == "DRY_RUN"
