"""ValidateInput: turn an alarm event or a console input into the OperationRequest every step receives.

Event: ``{"input": <execution input>, "execution": <execution ARN>, "startedAt": <ISO time>, "workflow": ...}``.
Nothing is changed by any of it; a bad input ends the run here with InvalidInput (or InputTooLarge) saying
what was expected. The rules:
- size: the input is at most ``MAX_INPUT_BYTES`` of JSON (it travels through every state);
- an alarm event is accepted only as the EventBridge envelope of one of the two configured alarms (the
  Route 53 health alarm from the primary region, the probe alarm from the recovery region), of this
  account, in state ALARM, with no other top-level field (a console field such as ``mode`` in it is a
  conflict, refused): it is an unplanned failover detected at the alarm's state-change time;
- a console input is strict (unknown fields refused, no coercion of "600" or "yes"); a failback must name
  its mode; a console ``detected_at`` is a time with its zone;
- every detection time is neither in the future (beyond ``CLOCK_SKEW`` of the execution's start) nor
  older than ``MAX_DETECTION_AGE`` (a day): an RTO measured from it would be meaningless.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from dr.errors import InputTooLarge, InvalidInput
from dr.models import AlarmEvent, ConsoleInput, OperationRequest, parse
from dr.settings import Settings, get_settings
from dr.steps._handler import lambda_step

MAX_INPUT_BYTES = 32 * 1024
CLOCK_SKEW = timedelta(minutes=5)
MAX_DETECTION_AGE = timedelta(days=1)
ENVELOPE = frozenset({"version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"})


def _when(value: str, what: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as err:
        raise InvalidInput(f"{what} must be an ISO-8601 time, got {value!r}") from err
    if parsed.tzinfo is None:
        raise InvalidInput(f"{what} must carry its time zone (e.g. 2026-11-28T03:12:00Z), got {value!r}")
    return parsed


def check_detected(detected: datetime, started: datetime, what: str) -> datetime:
    if detected > started + CLOCK_SKEW:
        raise InvalidInput(
            f"{what} {detected.isoformat()} is in the future (the run started at {started.isoformat()}); "
            "expected the moment the outage was detected"
        )
    if detected < started - MAX_DETECTION_AGE:
        raise InvalidInput(
            f"{what} {detected.isoformat()} is more than a day before the run started ({started.isoformat()}); "
            "expected a recent detection"
        )
    return detected


def _alarm(raw: dict[str, Any], execution: str, started: datetime, settings: Settings) -> OperationRequest:
    extra = sorted(set(raw) - ENVELOPE)
    if extra:
        raise InvalidInput(
            f"an alarm event carries only the EventBridge envelope; {extra} conflict with it "
            "(start a console run for a planned failover)"
        )
    alarm = parse(AlarmEvent, raw, "the alarm event")
    expected_region = {
        settings.primary_health_alarm_name: settings.primary_region,
        settings.probe_alarm_name: settings.recovery_region,
    }
    name = alarm.detail.alarmName
    if name not in expected_region:
        raise InvalidInput(f"alarm {name!r} does not start a failover; expected one of {sorted(expected_region)}")
    if alarm.region != expected_region[name]:
        raise InvalidInput(f"alarm {name} must come from {expected_region[name]}, got an event from {alarm.region}")
    account = execution.split(":")[4] if execution.count(":") >= 4 else ""
    if account and alarm.account != account:
        raise InvalidInput(f"alarm {name} must come from account {account}, got {alarm.account!r}")
    state = str(alarm.detail.state.get("value", ""))
    if state != "ALARM":
        raise InvalidInput(f"alarm {name} is in state {state!r}; a failover starts only on ALARM")
    changed = alarm.detail.state.get("timestamp")
    detected = _when(str(changed), "the alarm's state timestamp") if changed else alarm.time
    return OperationRequest(
        workflow="failover",
        mode="unplanned",
        trigger="alarm",
        detected_at=check_detected(detected, started, "the alarm's state-change time"),
        source_region=settings.primary_region,
        target_region=settings.recovery_region,
        reason=str(alarm.detail.state.get("reason", ""))[:500],
        requested_by=f"alarm:{name}",
        alarm_name=name,
        execution=execution,
        approval_timeout_seconds=settings.approval_timeout_seconds,
    )


def build_request(event: dict[str, Any]) -> OperationRequest:
    settings = get_settings()
    workflow = event.get("workflow", "failover")
    if workflow not in ("failover", "failback"):
        raise InvalidInput(f"workflow must be 'failover' or 'failback', got {workflow!r}")
    raw = event.get("input")
    if not isinstance(raw, dict):
        raise InvalidInput(f"the execution input must be a JSON object, got {type(raw).__name__}: {raw!r}")
    size = len(json.dumps(raw, default=str).encode())
    if size > MAX_INPUT_BYTES:
        raise InputTooLarge(f"the execution input is {size} bytes; expected at most {MAX_INPUT_BYTES}")
    execution = str(event.get("execution", ""))
    started = _when(str(event["startedAt"]), "startedAt")
    if raw.get("source") == "aws.cloudwatch" or "detail-type" in raw:
        if workflow != "failover":
            raise InvalidInput("only the failover workflow may be started by an alarm; failback is started by a person")
        return _alarm(raw, execution, started, settings)
    if workflow == "failback" and "mode" not in raw:
        raise InvalidInput('a failback must name its mode: {"mode": "planned"} or {"mode": "dry-run"}')
    console = parse(
        ConsoleInput,
        raw,
        "the console input (expected {mode, reason, requested_by, approval_timeout_seconds, detected_at})",
    )
    if workflow == "failback" and console.mode == "unplanned":
        raise InvalidInput("failback runs only in 'planned' or 'dry-run' mode (never with data loss); got 'unplanned'")
    if console.detected_at is not None and console.detected_at.tzinfo is None:
        raise InvalidInput("detected_at must carry its time zone (e.g. 2026-11-28T03:12:00Z)")
    source, target = (
        (settings.primary_region, settings.recovery_region)
        if workflow == "failover"
        else (settings.recovery_region, settings.primary_region)
    )
    return OperationRequest(
        workflow=workflow,
        mode=console.mode,
        trigger="console",
        detected_at=check_detected(console.detected_at or started, started, "detected_at"),
        source_region=source,
        target_region=target,
        reason=console.reason,
        requested_by=console.requested_by,
        execution=execution,
        approval_timeout_seconds=console.approval_timeout_seconds or settings.approval_timeout_seconds,
    )


@lambda_step
def handler(event: dict[str, Any]) -> dict[str, Any]:
    return build_request(event).model_dump(mode="json")
