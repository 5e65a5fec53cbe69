"""ValidateInput: alarm events and console inputs become requests; bad input is InvalidInput that says
what was expected."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from dr.errors import InvalidInput
from dr.steps.validate_input import build_request

EVENTS = Path(__file__).resolve().parents[2] / "events"
EXECUTION = "arn:aws:states:us-west-2:123456789012:execution:roadcall-dr-failover:run-1"


def event(payload: Any, workflow: str = "failover") -> dict[str, Any]:
    return {
        "input": payload,
        "execution": EXECUTION,
        "startedAt": "2026-11-28T03:15:00.000Z",
        "workflow": workflow,
    }


def test_an_alarm_is_an_unplanned_failover_detected_when_the_alarm_changed_state() -> None:
    request = build_request(event(json.loads((EVENTS / "failover-alarm.json").read_text())))
    assert (request.mode, request.trigger, request.alarm_name) == (
        "unplanned",
        "alarm",
        "roadcall-dr-primary-health",
    )
    assert request.detected_at.isoformat() == "2026-11-28T03:12:00+00:00"
    assert (request.source_region, request.target_region) == ("us-east-1", "us-west-2")


def test_an_ok_alarm_is_refused() -> None:
    with pytest.raises(InvalidInput, match="in state 'OK'; a failover starts only on ALARM"):
        build_request(event(json.loads((EVENTS / "failover-alarm-ok.json").read_text())))


def test_a_console_drill_is_detected_when_the_execution_started() -> None:
    request = build_request(event(json.loads((EVENTS / "failover-planned.json").read_text())))
    assert (request.mode, request.trigger, request.requested_by) == (
        "planned",
        "console",
        "jane.doe@roadcall.example",
    )
    assert request.detected_at.isoformat() == "2026-11-28T03:15:00+00:00"
    assert request.approval_timeout_seconds == 1800


def test_failback_runs_toward_the_primary() -> None:
    request = build_request(event({"mode": "planned"}, workflow="failback"))
    assert (request.source_region, request.target_region) == ("us-west-2", "us-east-1")


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"mode": "sideways"}, "mode: Input should be 'unplanned', 'planned' or 'dry-run' (got 'sideways')"),
        ({"mode": "planned", "force": True}, "force: Extra inputs are not permitted"),
        (
            {"approval_timeout_seconds": 5},
            "approval_timeout_seconds: Input should be greater than or equal to 60",
        ),
        (["planned"], "the execution input must be a JSON object, got list"),
    ],
)
def test_bad_console_input_says_what_was_expected(payload: Any, message: str) -> None:
    with pytest.raises(InvalidInput) as err:
        build_request(event(payload))
    assert message in str(err.value)


def test_failback_refuses_data_loss() -> None:
    with pytest.raises(InvalidInput, match="never with data loss"):
        build_request(event({"mode": "unplanned"}, workflow="failback"))


def test_an_alarm_cannot_start_a_failback() -> None:
    with pytest.raises(InvalidInput, match="only the failover workflow may be started by an alarm"):
        build_request(event(json.loads((EVENTS / "failover-alarm.json").read_text()), workflow="failback"))
