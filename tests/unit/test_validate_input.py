"""ValidateInput: alarm events and console inputs become requests; bad input is InvalidInput that says
what was expected."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from dr.errors import InputTooLarge, InvalidInput
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


def alarm(**changes: Any) -> dict[str, Any]:
    """The sample alarm event with top-level or detail fields changed (``detail__alarmName=...``)."""
    payload = json.loads((EVENTS / "failover-alarm.json").read_text())
    for key, value in changes.items():
        if key.startswith("detail__"):
            payload["detail"][key.removeprefix("detail__")] = value
        else:
            payload[key.replace("_", "-") if key == "detail_type" else key] = value
    return payload


def test_the_probe_alarm_from_the_recovery_region_starts_a_failover() -> None:
    request = build_request(event(alarm(region="us-west-2", detail__alarmName="roadcall-dr-primary-probe")))
    assert (request.trigger, request.mode, request.alarm_name) == ("alarm", "unplanned", "roadcall-dr-primary-probe")


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (alarm(detail__alarmName="someone-elses-alarm"), "alarm 'someone-elses-alarm' does not start a failover"),
        (alarm(region="eu-west-1"), "must come from us-east-1, got an event from eu-west-1"),
        (
            alarm(region="us-east-1", detail__alarmName="roadcall-dr-primary-probe"),
            "must come from us-west-2, got an event from us-east-1",
        ),
        (alarm(account="999999999999"), "must come from account 123456789012, got '999999999999'"),
        (alarm(mode="planned"), "['mode'] conflict with it"),
    ],
)
def test_an_alarm_envelope_is_accepted_only_from_the_configured_alarms(payload: Any, message: str) -> None:
    with pytest.raises(InvalidInput) as err:
        build_request(event(payload))
    assert message in str(err.value)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"approval_timeout_seconds": "600"}, "approval_timeout_seconds: Input should be a valid integer"),
        ({"approval_timeout_seconds": True}, "approval_timeout_seconds: Input should be a valid integer"),
        ({"reason": 42}, "reason: Input should be a valid string"),
        ({"detected_at": "2999-01-01T00:00:00Z"}, "is in the future"),
        ({"detected_at": "2026-11-20T00:00:00Z"}, "more than a day before the run started"),
        ({"detected_at": "2026-11-28T03:00:00"}, "must carry its time zone"),
    ],
)
def test_console_input_is_strict_and_bounded(payload: Any, message: str) -> None:
    with pytest.raises(InvalidInput) as err:
        build_request(event(payload))
    assert message in str(err.value)


def test_a_recent_detection_time_is_kept() -> None:
    request = build_request(event({"mode": "unplanned", "detected_at": "2026-11-28T03:05:00Z"}))
    assert request.detected_at.isoformat() == "2026-11-28T03:05:00+00:00"


def test_an_alarm_detected_in_the_future_is_refused() -> None:
    payload = alarm(detail__state={"value": "ALARM", "timestamp": "2999-01-01T00:00:00.000+0000"})
    with pytest.raises(InvalidInput, match="is in the future"):
        build_request(event(payload))


def test_a_failback_must_name_its_mode() -> None:
    with pytest.raises(InvalidInput, match="a failback must name its mode"):
        build_request(event({}, workflow="failback"))


def test_an_input_too_large_for_step_functions_has_its_own_name() -> None:
    with pytest.raises(InputTooLarge, match="expected at most 32768"):
        build_request(event({"mode": "planned", "reason": "x" * 40_000}))
