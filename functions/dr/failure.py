"""What every workflow's failure handler tells people: the DR topic message and the failure metric."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from dr.aws import client
from dr.observability import metrics
from dr.settings import Settings


def notify(settings: Settings, out: dict[str, Any], extra_lines: list[str]) -> None:
    """Publish ``[DR] <workflow> failed: <error>`` with what changed and what did not, and count it."""
    workflow, name, execution = out["workflow"], out["error"], out["execution"]
    lines = [
        f"{workflow.upper()} FAILED in {out['phase']}: {name}",
        out["cause"],
        "",
        "Changed: " + ("; ".join(out["changed"]) or "nothing"),
        "Unchanged: " + ("; ".join(out["unchanged"]) or "-"),
        *extra_lines,
        f"Execution: {execution}",
        f"Report: drctl report {execution}",
    ]
    client("sns", settings.recovery_region).publish(
        TopicArn=settings.topic_arn,
        Subject=f"[DR] {workflow} failed: {name}"[:100],
        Message="\n".join(lines),
        MessageAttributes={"event": {"DataType": "String", "StringValue": f"{workflow}-failed"}},
    )
    metrics.add_dimension(name="Workflow", value=workflow)
    metric = "".join(part.capitalize() for part in workflow.split("-")) + "Failed"
    metrics.add_metric(name=metric, unit=MetricUnit.Count, value=1)
