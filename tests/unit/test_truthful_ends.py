"""What a failed run says it changed, and what a report says it achieved: computed from what was observed,
never assumed (unknown is not a change, and not "met")."""

from __future__ import annotations

import json

import pytest
from dr import report
from dr.steps.handle_failure import fail_state, named, what_changed

BASELINE = {"writer_region": "us-east-1", "traffic_region": "us-east-1"}


def test_a_run_that_never_entered_a_changing_step_changed_nothing_even_without_a_baseline() -> None:
    changed, unchanged, unknown = what_changed([], {}, {})
    assert (changed, unknown) == ([], [])
    assert unchanged == ["nothing: the run stopped before any step that changes the platform"]


def test_a_half_moved_platform_is_a_change() -> None:
    seen = {"writer_region": "us-west-2", "traffic_region": "us-east-1", "in_progress": "no"}
    changed, unchanged, unknown = what_changed(["promotion", "traffic"], BASELINE, seen)
    assert changed == ["Aurora writer: moved from us-east-1 to us-west-2"]
    assert unchanged == ["traffic: still in us-east-1"] and unknown == []


def test_what_cannot_be_read_after_an_attempt_is_unknown_not_a_change() -> None:
    seen = {"writer_region": None, "traffic_region": "us-east-1", "in_progress": None}
    changed, _, unknown = what_changed(["promotion"], BASELINE, seen)
    assert changed == []
    assert unknown == ["Aurora writer: could not be read now (it was in us-east-1)"]


def test_a_pin_this_run_recorded_that_dns_does_not_follow_yet_is_a_move_under_way_not_unchanged() -> None:
    # MoveTraffic recorded the pin toward us-west-2, then failed: the keeper publishes it, DNS follows
    seen = {"writer_region": "us-west-2", "traffic_region": "us-east-1", "traffic_pinned_to": "us-west-2"}
    changed, unchanged, unknown = what_changed(["promotion", "traffic"], BASELINE, seen)
    assert changed == ["Aurora writer: moved from us-east-1 to us-west-2"] and unchanged == []
    (moving,) = unknown
    assert moving.startswith("traffic: moving to us-west-2, not there yet (DNS answers us-east-1 now)")


def test_a_recorded_pin_that_dns_already_follows_is_an_ordinary_move() -> None:
    seen = {"writer_region": "us-west-2", "traffic_region": "us-west-2", "traffic_pinned_to": "us-west-2"}
    changed, _, unknown = what_changed(["promotion", "traffic"], BASELINE, seen)
    assert changed == ["Aurora writer: moved from us-east-1 to us-west-2", "traffic: moved from us-east-1 to us-west-2"]
    assert unknown == []


def test_a_promotion_in_progress_is_a_change_and_the_writer_not_called_unchanged() -> None:
    # fault matrix cell "failback dynamodb.DeleteItem throttle every": the Parallel failed on ConfirmDynamoDB
    # while the switchover it started went on; minutes later the writer was in the other region
    seen = {"writer_region": "us-east-1", "traffic_region": "us-east-1", "in_progress": "yes"}
    changed, unchanged, unknown = what_changed(["promotion"], BASELINE, seen)
    assert changed == ["Aurora: a promotion is still in progress"]
    assert unchanged == ["traffic: still in us-east-1"]
    assert unknown == ["Aurora writer: in us-east-1 now, with a promotion in progress: it may still move"]


@pytest.mark.parametrize(
    ("name", "phase", "state"),
    [
        ("TransientAwsError", "AssessReadiness", "FailNotReady"),
        ("States.TaskFailed", "AssessReadiness", "FailNotReady"),
        ("TransientAwsError", "MoveTraffic", "FailUnexpected"),
        ("LeaseLost", "GuardLeaseBeforeTraffic", "FailLeaseLost"),
        ("InputTooLarge", "ValidateInput", "FailInvalidInput"),
        ("States.Timeout", "RequestApproval", "FailApprovalTimedOut"),
        ("States.Timeout", "AcquireLease", "FailUnexpected"),
    ],
)
def test_each_failure_ends_in_its_named_fail_state(name: str, phase: str, state: str) -> None:
    assert fail_state(name, phase) == state


def test_a_step_that_timed_out_is_not_called_an_approval_timeout() -> None:
    # fault matrix cell "failover dynamodb.UpdateItem timeout x2": AcquireLease's Task timed out
    assert named("States.Timeout", "", "AcquireLease") == (
        "StepTimedOut",
        "the step AcquireLease did not answer within its timeout (States.Timeout)",
    )
    assert named("States.Timeout", "", "RequestApproval") == ("States.Timeout", "")


def test_an_unknown_store_makes_the_rpo_unknown_never_met() -> None:
    out = report.rpo({"aurora": None, "dynamodb": 0.0, "s3": None}, 900)
    assert (out["seconds"], out["met"]) == (None, None)
    assert out["unknown_stores"] == ["aurora", "s3"] and out["worst_known_seconds"] == 0.0
    assert out["by_store"] == {"aurora": None, "dynamodb": 0.0, "s3": None}


def test_a_fully_measured_rpo_is_met_or_missed() -> None:
    assert report.rpo({"aurora": 1.0, "dynamodb": 30.0, "s3": 40.0}, 900)["met"] is True
    assert report.rpo({"aurora": 1.0, "dynamodb": 901.0, "s3": 40.0}, 900)["met"] is False


def test_calls_per_region_are_added_up_from_the_completed_steps() -> None:
    def succeeded(calls: dict | None) -> dict:
        payload = {"ok": True} | ({"aws_calls": calls} if calls else {})
        output = json.dumps({"StatusCode": 200, "Payload": payload})
        return {"taskSucceededEventDetails": {"resourceType": "lambda", "output": output}}

    history = [
        succeeded({"us-west-2": {"made": 4, "failed": 0}, "us-east-1": {"made": 1, "failed": 1}}),
        succeeded({"us-east-1": {"made": 2, "failed": 0}}),
        succeeded(None),
        {"taskSucceededEventDetails": {"resourceType": "sns", "output": "{}"}},
    ]
    assert report.region_calls(history) == {
        "us-west-2": {"made": 4, "failed": 0},
        "us-east-1": {"made": 3, "failed": 1},
    }
