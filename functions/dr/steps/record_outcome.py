"""RecordOutcome: measure what the workflow achieved and leave the evidence.

RTO runs from detection (the alarm's state-change time, or the start of a console run) to the verified
recovery; RPO per store is the data-loss exposure at the moment of promotion. Writes the audit record,
publishes RTO/RPO metrics and returns the report (the state machine then releases the lease and notifies).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit, single_metric

from dr import probes, report
from dr.aws import aws_errors, client, paginate
from dr.errors import TransientAwsError
from dr.inventory import load_inventory
from dr.models import Decision, OperationRequest, parse
from dr.observability import logger, metrics
from dr.settings import Settings, get_settings
from dr.steps._handler import lambda_step


def _history(execution: str) -> list[dict[str, Any]]:
    region = execution.split(":")[3]
    sfn = client("stepfunctions", region)
    return list(
        paginate(
            sfn.get_execution_history,
            "events",
            token_in="nextToken",
            token_out="nextToken",
            executionArn=execution,
            maxResults=1000,
        )
    )


def build(event: dict[str, Any], settings: Settings) -> dict[str, Any]:
    request = parse(OperationRequest, event.get("request"), "request")
    decision = parse(Decision, event.get("decision"), "decision")
    results = event.get("results") or {}
    verification = results.get("verification") or {}
    dry_run = request.mode == "dry-run"
    inv = load_inventory(settings)
    with aws_errors("read the platform state for the report", TransientAwsError):
        writer = probes.writer_region(probes.global_cluster(inv, request.target_region))
        traffic = probes.traffic_region(inv)
        steps, transitions = report.timeline(_history(request.execution))
    verified_at = verification.get("verified_at")
    rto = None
    if verified_at and not dry_run:
        rto = (datetime.fromisoformat(verified_at) - request.detected_at).total_seconds()
    by_store: dict[str, float | None] = {"aurora": None, "dynamodb": None, "s3": None}
    if not dry_run:
        promotion = results.get("promotion") or [{}, {}, {}]
        by_store = {
            "aurora": (promotion[0] or {}).get("rpo_seconds"),
            "dynamodb": (promotion[1] or {}).get("rpo_seconds"),
            "s3": (promotion[2] or {}).get("rpo_seconds"),
        }
    now = datetime.now(UTC)
    out: dict[str, Any] = {
        "workflow": request.workflow,
        "mode": request.mode,
        "status": "DRY_RUN" if dry_run else "SUCCEEDED",
        "execution": request.execution,
        "trigger": request.trigger,
        "requested_by": request.requested_by,
        "detected_at": request.detected_at.isoformat(),
        "started_at": str(event.get("startedAt", "")),
        "finished_at": now.isoformat(),
        "source_region": request.source_region,
        "target_region": request.target_region,
        "rto": report.objective(rto, settings.rto_seconds),
        "rpo": report.rpo(by_store, settings.rpo_seconds),
        "writer_region": writer,
        "traffic_region": traffic,
        "decision": decision.model_dump(mode="json"),
        "approval": event.get("approval"),
        "changes": (results.get("traffic") or {}).get("changes", []),
        "steps": steps,
        "state_transitions": transitions,
    }
    if request.workflow == "failback":
        out["rpo"]["expected_seconds"] = 0  # a switchover waits for replication: nothing is lost
    out.update(event.get("extra") or {})  # what a workflow adds to its report (the failback's re-protection)
    return out


def publish(out: dict[str, Any], settings: Settings) -> None:
    metrics.add_dimension(name="Workflow", value=out["workflow"])
    metrics.add_metric(name=f"{out['workflow'].capitalize()}Completed", unit=MetricUnit.Count, value=1)
    if out["rto"]["seconds"] is not None:
        metrics.add_metric(name="RTOSeconds", unit=MetricUnit.Seconds, value=out["rto"]["seconds"])
    if out["rpo"]["seconds"] is not None:
        metrics.add_metric(name="RPOSeconds", unit=MetricUnit.Seconds, value=out["rpo"]["seconds"])
    for store, value in out["rpo"]["by_store"].items():
        if value is not None:
            with single_metric(
                name="StoreRPOSeconds",
                unit=MetricUnit.Seconds,
                value=value,
                namespace=settings.metrics_namespace,
            ) as metric:
                metric.add_dimension(name="Store", value=store)


def audit(out: dict[str, Any], settings: Settings) -> None:
    with aws_errors("write the audit record", TransientAwsError):
        client("dynamodb", settings.recovery_region).put_item(
            TableName=settings.state_table,
            Item={
                "pk": {"S": f"audit#{out['execution']}"},
                "workflow": {"S": out["workflow"]},
                "status": {"S": out["status"]},
                "finished_at": {"S": out["finished_at"]},
                "report": {"S": json.dumps(out, default=str)},
            },
        )


@lambda_step
def handler(event: dict[str, Any]) -> dict[str, Any]:
    settings = get_settings()
    out = build(event, settings)
    audit(out, settings)
    if out["status"] != "DRY_RUN":
        publish(out, settings)
    logger.info("workflow recorded", extra={"rto": out["rto"], "rpo": out["rpo"]})
    return out
