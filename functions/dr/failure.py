"""What every workflow's failure handler tells people: the DR topic message and the failure metric."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from dr.aws import client
from dr.observability import metrics
from dr.settings import Settings


def ending(
    workflow: str,
    execution: str,
    phase: str,
    error: tuple[str, str],
    fail_state: str,
    changed: list[str],
    unchanged: list[str],
) -> dict[str, Any]:
    """The fields every failure handler's report starts with: a FAILED run, where, why, and what it changed."""
    name, cause = error
    return {
        "workflow": workflow,
        "status": "FAILED",
        "execution": execution,
        "phase": phase,
        "error": name,
        "cause": cause,
        "fail_state": fail_state,
        "changed": changed,
        "unchanged": unchanged,
        "finished_at": datetime.now(UTC).isoformat(),
    }


def with_what_was_lost(cause: str, audited: bool | None, notified: bool | None, warnings: list[str]) -> str:
    """The cause, saying which record (the audit record, the notification) could not be written and why,
    when any was lost: the Fail state's cause is then the only place an operator can read it."""
    if not warnings:
        return cause
    lost = " and ".join(what for what, ok in (("the audit record", audited), ("the notification", notified)) if not ok)
    return f"{cause} [NOT RECORDED: {lost} could not be written: {'; '.join(warnings)}]"[:4000]


def step_timed_out(name: str, cause: str, phase: str) -> tuple[str, str]:
    """A ``States.Timeout`` outside a wait for a person: the step ``phase`` did not answer within its
    TimeoutSeconds (its AWS calls kept timing out). Named ``StepTimedOut``, with a cause that says which step."""
    if name != "States.Timeout":
        return name, cause
    return "StepTimedOut", f"the step {phase} did not answer within its timeout (States.Timeout)" + (
        f": {cause}" if cause and cause != "States.Timeout" else ""
    )


def compose(out: dict[str, Any], extra_lines: list[str]) -> tuple[str, str, str]:
    """(subject, message, event) of ``[DR] <workflow> failed: <error>`` with what changed, what is not known
    (when the run could not tell) and what did not change."""
    workflow, name, execution = out["workflow"], out["error"], out["execution"]
    lines = [
        f"{workflow.upper()} FAILED in {out['phase']}: {name}",
        out["cause"],
        "",
        "Changed: " + ("; ".join(out["changed"]) or "nothing"),
        *(["Unknown: " + ("; ".join(out["unknown"]) or "-")] if "unknown" in out else []),
        "Unchanged: " + ("; ".join(out["unchanged"]) or "-"),
        *extra_lines,
        f"Execution: {execution}",
        f"Report: drctl report {execution}",
    ]
    return f"[DR] {workflow} failed: {name}"[:100], "\n".join(lines), f"{workflow}-failed"


def count(workflow: str) -> None:
    """The ``<Workflow>Failed`` metric (flushed with the handler's metrics)."""
    metrics.add_dimension(name="Workflow", value=workflow)
    metric = "".join(part.capitalize() for part in workflow.split("-")) + "Failed"
    metrics.add_metric(name=metric, unit=MetricUnit.Count, value=1)


def notify(settings: Settings, out: dict[str, Any], extra_lines: list[str]) -> None:
    """Publish ``[DR] <workflow> failed: <error>`` with what changed and what did not, and count it."""
    subject, message, event = compose(out, extra_lines)
    client("sns", settings.recovery_region).publish(
        TopicArn=settings.topic_arn,
        Subject=subject,
        Message=message,
        MessageAttributes={"event": {"DataType": "String", "StringValue": event}},
    )
    count(out["workflow"])
