"""ValidateInput (dr.steps.validate_input) over any input: it either builds a request or refuses with
InvalidInput / InputTooLarge, nothing else; whatever it accepts was detected within the bounds; and an
alarm envelope carries nothing but the envelope.

The inputs are arbitrary JSON (objects, arrays, strings, numbers, nesting), objects shaped like the
console input with any values, and valid alarm envelopes with a time anywhere around the run's start."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from dr.errors import InputTooLarge, InvalidInput
from dr.steps.validate_input import CLOCK_SKEW, ENVELOPE, MAX_DETECTION_AGE, build_request
from hypothesis import given, settings
from hypothesis import strategies as st

EVENTS = Path(__file__).resolve().parents[2] / "events"
EXECUTION = "arn:aws:states:us-west-2:123456789012:execution:roadcall-dr-failover:run-1"
STARTED = datetime(2026, 11, 28, 3, 15, tzinfo=UTC)
ALARM = json.loads((EVENTS / "failover-alarm.json").read_text())

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)
times = st.datetimes(
    min_value=datetime(2026, 11, 25), max_value=datetime(2026, 12, 1), timezones=st.sampled_from([UTC, None])
)
console_keys = st.sampled_from(["mode", "reason", "requested_by", "approval_timeout_seconds", "detected_at"])
console_values = json_values | st.sampled_from(["planned", "unplanned", "dry-run"]) | times.map(datetime.isoformat)


def event(payload: Any, workflow: str = "failover") -> dict[str, Any]:
    return {"input": payload, "execution": EXECUTION, "startedAt": STARTED.isoformat(), "workflow": workflow}


def outcome(payload: Any, workflow: str) -> Any:
    """The request, or the refusal; any other exception escapes and fails the property."""
    try:
        return build_request(event(payload, workflow))
    except (InvalidInput, InputTooLarge) as refused:
        return refused


def within_bounds(detected: datetime) -> bool:
    return STARTED - MAX_DETECTION_AGE <= detected <= STARTED + CLOCK_SKEW


@settings(max_examples=200, deadline=None)
@given(
    payload=json_values | st.dictionaries(console_keys, console_values, max_size=5),
    workflow=st.sampled_from(["failover", "failback"]),
)
def test_any_json_is_a_request_or_a_refusal_and_nothing_else(payload: Any, workflow: str) -> None:
    result = outcome(payload, workflow)
    if isinstance(result, Exception):
        assert str(result), "a refusal says what was expected"
        return
    assert isinstance(payload, dict)
    assert within_bounds(result.detected_at)
    assert result.detected_at.tzinfo is not None
    assert result.workflow == workflow
    assert (workflow, result.mode) != ("failback", "unplanned")


@settings(max_examples=100, deadline=None)
@given(changed=times)
def test_an_accepted_alarm_was_detected_within_the_bounds(changed: datetime) -> None:
    stamp = changed.replace(tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    alarm = {**ALARM, "detail": {**ALARM["detail"], "state": {**ALARM["detail"]["state"], "timestamp": stamp}}}
    result = outcome(alarm, "failover")
    moment = changed.replace(tzinfo=UTC, microsecond=0)
    if within_bounds(moment):
        assert not isinstance(result, Exception), result
        assert (result.detected_at, result.mode, result.trigger) == (moment, "unplanned", "alarm")
    else:
        assert isinstance(result, InvalidInput)


@settings(max_examples=100, deadline=None)
@given(key=st.text(min_size=1, max_size=20).filter(lambda k: k not in ENVELOPE), value=json_values)
def test_a_valid_alarm_envelope_with_any_extra_top_level_key_is_refused(key: str, value: Any) -> None:
    assert not isinstance(outcome(ALARM, "failover"), Exception)  # the envelope alone is accepted

    result = outcome({**ALARM, key: value}, "failover")

    assert isinstance(result, InvalidInput)
    assert "conflict" in str(result)


@pytest.mark.parametrize("workflow", ["failover", "failback"])
def test_an_input_too_large_is_refused_for_its_size(workflow: str) -> None:
    result = outcome({"reason": "x" * 40_000}, workflow)
    assert isinstance(result, InputTooLarge)
