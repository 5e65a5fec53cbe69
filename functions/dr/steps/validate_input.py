"""ValidateInput: turn an alarm event or a console input into the OperationRequest every step receives.

Event: ``{"input": <execution input>, "execution": <execution ARN>, "startedAt": <ISO time>, "workflow": ...}``.
An alarm event is an unplanned failover detected at the alarm's state-change time; a console input
(validated strictly: unknown fields are refused) is detected when the execution started.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dr.errors import InvalidInput
from dr.models import AlarmEvent, ConsoleInput, OperationRequest, parse
from dr.settings import get_settings
from dr.steps._handler import lambda_step


def build_request(event: dict[str, Any]) -> OperationRequest:
    settings = get_settings()
    workflow = event.get("workflow", "failover")
    if workflow not in ("failover", "failback"):
        raise InvalidInput(f"workflow must be 'failover' or 'failback', got {workflow!r}")
    raw = event.get("input")
    if not isinstance(raw, dict):
        raise InvalidInput(f"the execution input must be a JSON object, got {type(raw).__name__}: {raw!r}")
    execution = str(event.get("execution", ""))
    started = datetime.fromisoformat(str(event["startedAt"]).replace("Z", "+00:00"))
    source, target = (
        (settings.primary_region, settings.recovery_region)
        if workflow == "failover"
        else (settings.recovery_region, settings.primary_region)
    )
    if raw.get("source") == "aws.cloudwatch":
        if workflow != "failover":
            raise InvalidInput("only the failover workflow may be started by an alarm; failback is started by a person")
        alarm = parse(AlarmEvent, raw, "the alarm event")
        state = str(alarm.detail.state.get("value", ""))
        if state != "ALARM":
            raise InvalidInput(f"alarm {alarm.detail.alarmName} is in state {state!r}; a failover starts only on ALARM")
        changed = alarm.detail.state.get("timestamp")
        detected = datetime.fromisoformat(str(changed).replace("Z", "+00:00")) if changed else alarm.time
        return OperationRequest(
            workflow="failover",
            mode="unplanned",
            trigger="alarm",
            detected_at=detected,
            source_region=source,
            target_region=target,
            reason=str(alarm.detail.state.get("reason", ""))[:500],
            requested_by=f"alarm:{alarm.detail.alarmName}",
            alarm_name=alarm.detail.alarmName,
            execution=execution,
            approval_timeout_seconds=settings.approval_timeout_seconds,
        )
    console = parse(
        ConsoleInput,
        raw,
        "the console input (expected {mode, reason, requested_by, approval_timeout_seconds})",
    )
    if workflow == "failback" and console.mode == "unplanned":
        raise InvalidInput("failback runs only in 'planned' or 'dry-run' mode (never with data loss); got 'unplanned'")
    return OperationRequest(
        workflow=workflow,
        mode=console.mode,
        trigger="console",
        detected_at=console.detected_at or started,
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
