"""RecordOutcome: measure what the workflow achieved and leave the evidence.

RTO runs from detection (the alarm's state-change time, or the start of a console run) to the verified
recovery; RPO per store is the data-loss exposure at the moment of promotion (None when it could not be
measured: then the RPO is unknown, never "met"). Publishes the RTO/RPO metrics, writes the audit record and
notifies the topic independently (dr.bookkeeping), and returns the report with its ``warnings``; the state
machine then releases the lease. The report also says how many AWS calls the run sent to the source
region (``source_region_calls``), so a reader sees what it depended on.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from botocore.exceptions import BotoCoreError, ClientError

from dr import bookkeeping, probes, report, timeline
from dr.inventory import load_inventory
from dr.models import Decision, OperationRequest, parse
from dr.observability import logger, metrics, one_metric
from dr.settings import Settings, get_settings
from dr.steps._handler import lambda_step


def _observe(request: OperationRequest, settings: Settings, warnings: list[str]) -> tuple[str, str]:
    inv = load_inventory(settings)
    writer = traffic = "unknown"
    try:
        writer = probes.writer_region(probes.global_cluster(inv, request.target_region))
    except (ClientError, BotoCoreError, probes.NotFound) as err:
        warnings.append(f"where the writer is could not be read for the report ({type(err).__name__}: {err})")
    try:
        traffic = probes.traffic_region(inv)
    except probes.TrafficUnknown as err:
        warnings.append(f"where users go could not be read for the report ({err})")
    return writer, traffic


def build(event: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """The report. Reading the platform or the history may fail; the report then says so in ``warnings``:
    a recovery that was verified is never turned into a failure by its own paperwork."""
    request = parse(OperationRequest, event.get("request"), "request")
    decision = parse(Decision, event.get("decision"), "decision")
    results = event.get("results") or {}
    verification = results.get("verification") or {}
    dry_run = request.mode == "dry-run"
    warnings: list[str] = [str(w) for w in event.get("warnings") or []]
    writer, traffic = _observe(request, settings, warnings)
    try:
        history = timeline.read_history(request.execution)
    except (ClientError, BotoCoreError) as err:
        history = []
        warnings.append(f"the execution history could not be read: no timeline ({type(err).__name__}: {err})")
    steps, transitions = report.timeline(history)
    calls = report.region_calls(history)
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
        "source_region_calls": calls.get(request.source_region, {"made": 0, "failed": 0}),
        "calls_by_region": calls,
        "steps": steps,
        "state_transitions": transitions,
        **timeline.breakdown(history, request.detected_at, event.get("startedAt"), now),  # phases, time_split
        "warnings": warnings,
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
    else:
        metrics.add_metric(name="RPOUnknown", unit=MetricUnit.Count, value=1)
    for store, value in out["rpo"]["by_store"].items():
        if value is not None:
            one_metric("StoreRPOSeconds", value, MetricUnit.Seconds, ("Store", store), settings.metrics_namespace)


def _seconds(value: Any) -> str:
    return "unknown" if value is None else f"{value:.1f} s"


def notification(out: dict[str, Any]) -> bookkeeping.Notification:
    rpo = out["rpo"]
    met = {True: "met", False: "MISSED", None: "unknown"}
    stores = ", ".join(f"{k} {_seconds(v)}" for k, v in rpo["by_store"].items())
    lines = [
        f"{out['workflow'].upper()} ({out['mode']}) {out['source_region']} → {out['target_region']}: {out['status']}",
        f"RTO {_seconds(out['rto']['seconds'])} (objective {out['rto']['objective_seconds']} s): "
        f"{met[out['rto']['met']]}",
        f"RPO {_seconds(rpo['seconds'])} (objective {rpo['objective_seconds']} s): {met[rpo['met']]} [{stores}]",
        f"Writer: {out['writer_region']}   Users sent to: {out['traffic_region']}",
        f"Decision: {out['decision']['action']} — {'; '.join(out['decision']['reasons'])}",
        f"Calls to {out['source_region']}: {out['source_region_calls']['made']} made, "
        f"{out['source_region_calls']['failed']} failed",
        *[f"Warning: {w}" for w in out["warnings"]],
        f"Report: drctl report {out['execution']}",
    ]
    return bookkeeping.Notification(
        subject=f"[DR] {out['workflow']} {out['mode']} {out['status']}",
        message="\n".join(lines),
        event=f"{out['workflow']}-finished",
    )


@lambda_step
def handler(event: dict[str, Any]) -> dict[str, Any]:
    settings = get_settings()
    out = build(event, settings)
    if out["status"] != "DRY_RUN":
        publish(out, settings)
    done = bookkeeping.finish(out, notification(out), settings)
    out["warnings"] = out["warnings"] + done.warnings
    out["recorded"] = done.as_json()
    logger.info("workflow recorded", extra={"rto": out["rto"], "rpo": out["rpo"], "warnings": out["warnings"]})
    return out
