"""A fixed sample of the fault matrix (``make faults`` runs all of it): every fault kind, both counts, every
workflow, each cell on a fresh platform (a fork of its workflow's starting platform), each ending as the
invariant allows and as it ended when the sample was chosen. The cells are chosen to be cheap and to cover
each kind of end: retried through, a named failure, a warning instead of a failure."""

from __future__ import annotations

import pytest

from tests.faults.matrix import Cell, Run, classify, clean_run, run_cell

SAMPLE = {
    "failover lambda.Invoke throttle x2": "retried",
    "failover rds.FailoverGlobalCluster access-denied every": "named-failure",
    "failover sns.Publish 5xx every": "retried",
    # two read timeouts, then an answer: the client's third attempt fits inside the step's 30 s (dr.aws)
    "failover dynamodb.UpdateItem timeout x2": "retried",
    "failback rds.SwitchoverGlobalCluster 5xx every": "named-failure",
    "failback s3.PutBucketReplication throttle x2": "retried",
    # the release recorded and published, the alarm's state refused: the record says users are moving home,
    # and four minutes later (the alarm evaluated every minute) they are home
    "failback cloudwatch.SetAlarmState access-denied every": "named-failure",
    "backup-verification backup.ListRecoveryPointsByBackupVault access-denied every": "named-failure",
    # Lambda down for good: HandleFailure cannot run either, so the state machine records and notifies itself
    "backup-verification lambda.Invoke 5xx every": "named-failure",
    "backup-verification dynamodb.PutItem timeout x2": "retried",
    "backup-verification s3.GetBucketReplication 5xx every": "named-failure",
    "restore-test backup.StartRestoreJob throttle x2": "retried",
    "restore-test dynamodb.DeleteTable access-denied every": "named-failure",
    "restore-test rds-data.ExecuteStatement timeout every": "named-failure",
}
_CLEAN: dict[str, Run] = {}


def clean(workflow: str) -> Run:
    """The clean run of ``workflow`` (once per session: the cells compare against it)."""
    if workflow not in _CLEAN:
        _CLEAN[workflow] = clean_run(workflow)
    return _CLEAN[workflow]


def test_the_sample_covers_every_workflow_kind_and_count() -> None:
    cells = [Cell.parse(name) for name in SAMPLE]
    assert {c.workflow for c in cells} == {"failover", "failback", "backup-verification", "restore-test"}
    assert {c.kind for c in cells} == {"throttle", "5xx", "access-denied", "timeout"}
    assert {c.times for c in cells} == {2, None}


# One worker runs each workflow's cells, so its clean run is made once in the suite, not once per worker.
CELLS = [pytest.param(name, marks=pytest.mark.xdist_group(f"faults-{Cell.parse(name).workflow}")) for name in SAMPLE]


@pytest.mark.parametrize("name", CELLS)
def test_a_cell_keeps_the_invariant(name: str) -> None:
    # Given the clean run of the cell's workflow, which called the cell's operation
    cell = Cell.parse(name)
    baseline = clean(cell.workflow)
    assert (cell.service, cell.operation) in baseline.operations

    # When the fault hits that operation on a fresh platform and the workflow runs to its end
    result = run_cell(cell, baseline)

    # Then the run ends as the invariant allows, the way this cell does
    assert (result.outcome, result.problems) == (SAMPLE[name], []), result


def test_the_classifier_calls_a_lease_left_held_bad() -> None:
    cell = Cell.parse("failover lambda.Invoke throttle x2")
    baseline = Run(execution="clean", status="SUCCEEDED", report={"status": "SUCCEEDED"})
    run = Run(
        execution="arn:run",
        status="SUCCEEDED",
        report={"status": "SUCCEEDED"},
        audit={"status": "SUCCEEDED"},
        lease={"state": "HELD", "holder": "arn:run"},
    )
    result = classify(cell, run, baseline)
    assert result.outcome == "bad" and "HELD" in result.problems[0]


def test_the_classifier_calls_a_claimed_move_that_did_not_happen_bad() -> None:
    cell = Cell.parse("failover rds.FailoverGlobalCluster access-denied every")
    where = {"writer_region": "us-east-1", "traffic_region": "us-east-1"}
    baseline = Run(execution="clean", status="SUCCEEDED", report={"status": "SUCCEEDED"})
    run = Run(
        execution="arn:run",
        status="FAILED",
        error="PromotionFailed",
        audit={"status": "FAILED", "changed": ["Aurora writer: moved from us-east-1 to us-west-2"], "unknown": []},
        subjects=["[DR] failover failed: PromotionFailed"],
        lease={"state": "BLOCKED", "holder": "arn:run"},
        before=where,
        after=where,
    )
    result = classify(cell, run, baseline)
    assert result.outcome == "bad"
    assert any("claims a move that did not happen" in p for p in result.problems)


def _failed_failback(audit: dict, after: dict[str, str]) -> Run:
    return Run(
        execution="arn:run",
        status="FAILED",
        error="TrafficMoveFailed",
        audit={"status": "FAILED", **audit},
        subjects=["[DR] failback failed: TrafficMoveFailed"],
        lease={"state": "BLOCKED", "holder": "arn:run"},
        before={"writer_region": "us-west-2", "traffic_region": "us-west-2"},
        after=after,
    )


def test_the_classifier_calls_unchanged_bad_when_the_platform_moved_after_the_run() -> None:
    # the record said the traffic stayed; minutes after the run (the keeper, the alarm) it is elsewhere
    cell = Cell.parse("failback cloudwatch.SetAlarmState access-denied every")
    baseline = Run(execution="clean", status="SUCCEEDED", report={"status": "SUCCEEDED"})
    record = {
        "changed": ["Aurora writer: moved from us-west-2 to us-east-1"],
        "unchanged": ["traffic: still in us-west-2"],
    }
    run = _failed_failback(record, {"writer_region": "us-east-1", "traffic_region": "us-east-1"})
    result = classify(cell, run, baseline)
    assert result.outcome == "bad"
    assert "unchanged says 'traffic: still in us-west-2', but the traffic is in us-east-1" in result.problems


def test_the_classifier_accepts_a_move_the_record_announced_as_under_way() -> None:
    cell = Cell.parse("failback cloudwatch.SetAlarmState access-denied every")
    baseline = Run(execution="clean", status="SUCCEEDED", report={"status": "SUCCEEDED"})
    record = {
        "changed": ["Aurora writer: moved from us-west-2 to us-east-1"],
        "unchanged": [],
        "unknown": ["traffic: moving to us-east-1, not there yet (DNS answers us-west-2 now): ..."],
    }
    run = _failed_failback(record, {"writer_region": "us-east-1", "traffic_region": "us-east-1"})
    assert (classify(cell, run, baseline).outcome, classify(cell, run, baseline).problems) == ("named-failure", [])
    # announced toward the other region, it is still a missed move
    record["unknown"] = ["traffic: moving to eu-west-1, not there yet (DNS answers us-west-2 now): ..."]
    run = _failed_failback(record, {"writer_region": "us-east-1", "traffic_region": "us-east-1"})
    assert classify(cell, run, baseline).outcome == "bad"


def test_the_classifier_accepts_a_writer_move_after_a_promotion_the_record_said_was_in_progress() -> None:
    # fault matrix cell "failback dynamodb.DeleteItem throttle every": the switchover went on after the run
    cell = Cell.parse("failback dynamodb.DeleteItem throttle every")
    baseline = Run(execution="clean", status="SUCCEEDED", report={"status": "SUCCEEDED"})
    after = {"writer_region": "us-east-1", "traffic_region": "us-west-2"}
    for record in (
        {"changed": ["Aurora: a promotion is still in progress"], "unchanged": ["traffic: still in us-west-2"]},
        {"changed": ["unknown: the run entered Promote; now writer in us-west-2 (a promotion is in progress: ...)"]},
    ):
        result = classify(cell, _failed_failback(record, after), baseline)
        assert (result.outcome, result.problems) == ("named-failure", []), record
    # saying nothing of it, the move is missed
    result = classify(cell, _failed_failback({"changed": [], "unchanged": []}, after), baseline)
    assert result.outcome == "bad" and "changed misses the move of the Aurora writer" in result.problems[0]


def test_the_classifier_takes_a_failure_handler_that_did_not_finish_as_explained() -> None:
    # the catch-all name, its cause saying the failure handler timed out after writing its own record
    cell = Cell.parse("backup-verification sns.Publish timeout x4")
    baseline = Run(execution="clean", status="SUCCEEDED", report={"status": "SUCCEEDED"})

    def ended(cause: str) -> Run:
        return Run(
            execution="arn:run",
            status="FAILED",
            error="VerificationFailed",
            cause=cause,
            audit={"status": "FAILED"},
            subjects=["[DR] backup-verification failed: ListFailed"],
            lease={"state": "RELEASED"},
        )

    timed_out = "Failed: x — the failure handler did not finish (States.Timeout); recorded by the failure handler"
    result = classify(cell, ended(timed_out), baseline)
    assert (result.outcome, result.problems) == ("named-failure", [])
    # a catch-all that says nothing of why is still bad
    result = classify(cell, ended("Failed: something went wrong; recorded directly"), baseline)
    assert result.outcome == "bad" and "does not say why" in result.problems[0]
