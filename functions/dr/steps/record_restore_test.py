"""RecordRestoreTest: the restore test's report (per resource: status, restore time against the RTO, what
data was read and whether it matched; what the sweeper deleted; what the cleanup left and why), evidence
in the reports bucket, metrics; it tells AWS Backup any verdict that was reached but not yet reported,
and names the error when the test failed.

Bookkeeping: a test that did not fail is recorded and notified here (``dr.bookkeeping.finish``: the audit
record and the notification independently, each retried); what could not be done is returned as
``warnings`` and never turns the test into a failure. A failed test is recorded and notified by
HandleBackupFailure (one notification per end)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from dr import backup_reports, report, restore_test
from dr.backup_models import BackupRequest, RestorePlanItem, RestoreResult
from dr.backup_policy import error_message
from dr.bookkeeping import Notification, finish
from dr.models import parse
from dr.observability import logger, metrics, one_metric
from dr.settings import Settings
from dr.steps._handler import lambda_step

# The error a failed test ends with, most urgent first.
_ERRORS = (
    ("CleanupIncomplete", lambda r, cleanup: cleanup["leftover_resources"] > 0 or not cleanup["leftover_known"]),
    ("RestoreFailed", lambda r, _: any(x.status in ("RESTORE_FAILED", "ERROR", "NOT_RUN") for x in r)),
    ("RestoreTimedOut", lambda r, _: any(x.status == "RESTORE_TIMED_OUT" for x in r)),
    ("ValidationFailed", lambda r, _: any(x.status == "VALIDATION_FAILED" for x in r)),
    ("ValidationNotCompleted", lambda r, _: any(x.status == "VALIDATION_ERROR" for x in r)),
)


def results_of(
    plan: list[RestorePlanItem], missing: list[dict[str, Any]], raw: list[Any] | None
) -> list[RestoreResult]:
    """One result per plan item (a lost Map iteration is an ERROR), then the types that could not run."""
    given = {str(r.get("recovery_point_arn")): r for r in raw or [] if isinstance(r, dict)}
    out = []
    for item in plan:
        found = given.get(item.recovery_point_arn)
        if found is None:
            out.append(
                RestoreResult(
                    resource_arn=item.resource_arn,
                    resource_type=item.resource_type,
                    recovery_point_arn=item.recovery_point_arn,
                    status="ERROR",
                    message="the restore of this resource did not report back (the Map state failed)",
                )
            )
        else:
            result = RestoreResult.model_validate(found)
            if result.error:
                result = result.model_copy(update={"message": f"{result.message}: {error_message(result.error)}"})
            out.append(result)
    out += [
        RestoreResult(
            resource_arn=m.get("resource_arn", ""),
            resource_type=m.get("resource_type", ""),
            recovery_point_arn="",
            status="NOT_RUN",
            message=m.get("message", ""),
        )
        for m in missing
    ]
    return out


def settle_validation(plan: list[RestorePlanItem], results: list[RestoreResult]) -> list[RestoreResult]:
    """A verdict that was reached but could not be reported to AWS Backup is reported now. Only a verdict
    is ever reported: a restore that failed, or whose validation could not run, tells AWS Backup nothing."""
    items = {i.recovery_point_arn: i for i in plan}
    out = []
    for result in results:
        item = items.get(result.recovery_point_arn)
        settled = result
        if item and result.restore_job_id and result.validation_status and not result.validation_reported:
            reported = restore_test.report_validation(
                item, result.restore_job_id, result.validation_status, result.message
            )
            settled = result.model_copy(update={"validation_reported": reported})
        out.append(settled)
    return out


def cleanup_of(event: dict[str, Any], dry_run: bool, planned: bool) -> dict[str, Any]:
    """The cleanup's answer, with ``leftover_resources`` always a number (what is known to be left) and
    ``leftover_known`` saying whether that is all."""
    raw = event.get("cleanup")
    cleanup: dict[str, Any] = raw if isinstance(raw, dict) else {}
    known = bool(cleanup.get("leftover_known", True))
    unchecked = list(cleanup.get("leftover_unchecked") or [])
    if not cleanup and planned and not dry_run:
        known, unchecked = False, ["the cleanup did not report: look for this execution's drtest-* resources"]
    return {
        "leftover_resources": int(cleanup.get("leftover_resources") or 0),
        "leftover_known": known,
        "leftover_unchecked": unchecked,
        "leftover": list(cleanup.get("leftover") or []),
        "deleted": list(cleanup.get("deleted") or []),
        "cleanup": list(cleanup.get("resources") or []),
        "cleanup_attempts": int(cleanup.get("attempts") or 0),
    }


def build(event: dict[str, Any], settings: Settings, now: datetime) -> dict[str, Any]:
    request = parse(BackupRequest, event.get("request"), "request")
    selection = event.get("selection") or {}
    plan = [parse(RestorePlanItem, i, "plan item") for i in selection.get("plan") or []]
    missing = list(selection.get("missing") or [])
    dry_run = request.mode == "dry-run"
    if dry_run:
        results = [
            RestoreResult(
                resource_arn=i.resource_arn,
                resource_type=i.resource_type,
                recovery_point_arn=i.recovery_point_arn,
                status="PLANNED",
                message=f"would restore {i.recovery_point_arn} ({i.recovery_point_created_at.isoformat()}) from "
                f"vault {i.vault} in {i.region} into {i.restore_name}, validate it, and delete it",
            )
            for i in plan
        ] + results_of([], missing, [])
    else:
        results = settle_validation(plan, results_of(plan, missing, event.get("results")))
    cleanup = cleanup_of(event, dry_run, bool(plan))
    error = None if dry_run else next((name for name, failed in _ERRORS if failed(results, cleanup)), None)
    status = "DRY_RUN" if dry_run else ("FAILED" if error else "SUCCEEDED")
    vault = plan[0].vault if plan else (request.recovery_vault if request.from_copies else request.vault)
    region = plan[0].region if plan else (request.recovery_region if request.from_copies else request.primary_region)
    slowest = max((r.restore_seconds for r in results if r.restore_seconds is not None), default=None)
    raw_sweep = event.get("sweep")
    sweep: dict[str, Any] = raw_sweep if isinstance(raw_sweep, dict) else {}
    return {
        "workflow": "restore-test",
        "mode": request.mode,
        "status": status,
        "error": error,
        "execution": request.execution,
        "trigger": request.trigger,
        "requested_by": request.requested_by,
        "reason": request.reason,
        "started_at": request.started_at.isoformat(),
        "finished_at": now.isoformat(),
        "from_copies": request.from_copies,
        "source_vault": vault,
        "restore_region": region,
        "rto_objective_seconds": settings.rto_seconds,
        "restore_time": report.objective(slowest, settings.rto_seconds),
        "results": [r.model_dump(mode="json") for r in results],
        **cleanup,
        "swept": list(sweep.get("swept") or []),
        "sweep": {
            "untagged": list(sweep.get("untagged") or []),
            "kept": list(sweep.get("kept") or []),
            "unchecked": list(sweep.get("unchecked") or [])
            + ([f"the sweep did not run: {error_message(sweep['error'])}"] if sweep.get("error") else []),
        },
    }


def notification(out: dict[str, Any]) -> Notification:
    """The end of a test that did not fail, in words an on-call reads."""
    lines = [f"Restore test ({out['mode']}) {out['status']}: execution {out['execution']}"]
    for r in out["results"]:
        seconds = r.get("restore_seconds")
        data = r.get("data_checked") or {}
        read = f", {data.get('count')} {data.get('kind')} read, matched {data.get('matched')}" if data else ""
        lines.append(
            f"  {r['resource_type']}: {r['status']}"
            + (f", restored in {seconds:.0f} s (within RTO {r.get('within_rto')})" if seconds is not None else "")
            + read
        )
    lines.append(f"Left behind: {out['leftover_resources']}" + ("" if out["leftover_known"] else " (not all known)"))
    if out["swept"]:
        lines.append(
            f"Swept {len(out['swept'])} leftover(s) of earlier tests: "
            + ", ".join(f"{e['kind']} {e['name']}" for e in out["swept"])
        )
    location = (out.get("report_location") or {}).get("markdown")
    lines.append(f"Report: {location or 'drctl report ' + str(out['execution'])}")
    return Notification(
        subject=f"[DR] restore test {out['mode']} {out['status']}",
        message="\n".join(lines),
        event="restore-test-finished",
    )


def publish(out: dict[str, Any], settings: Settings) -> None:
    metrics.add_dimension(name="Workflow", value="restore-test")
    metrics.add_metric(
        name="RestoreTestSucceeded" if out["status"] == "SUCCEEDED" else "RestoreTestFailed",
        unit=MetricUnit.Count,
        value=1,
    )
    metrics.add_metric(name="RestoreTestLeftoverResources", unit=MetricUnit.Count, value=out["leftover_resources"])
    for result in out["results"]:
        if result.get("restore_seconds") is not None:
            seconds, kind = result["restore_seconds"], ("ResourceType", result["resource_type"])
            one_metric("RestoreSeconds", seconds, MetricUnit.Seconds, kind, settings.metrics_namespace)


@lambda_step
def handler(event: dict[str, Any]) -> dict[str, Any]:
    out, request, settings = backup_reports.assemble(event, build)
    warnings = backup_reports.store_or_warn(out, backup_reports.restore_markdown(out), request.started_at, settings)
    if out["status"] != "DRY_RUN":
        publish(out, settings)
    if out["status"] != "FAILED":  # a failed test is recorded and notified by HandleBackupFailure
        done = finish(out, notification(out), settings, audit_body=backup_reports.compact(out))
        warnings += done.warnings
        out["bookkeeping"] = done.as_json()
    out["warnings"] = warnings
    logger.info(
        "restore test recorded",
        extra={"status": out["status"], "error": out["error"], "leftover": out["leftover_resources"]},
    )
    return out
