"""HandleBackupFailure: every failure path of the backup verification and the restore test comes here
before its named Fail state. The same shape as HandleFailure (the failover's): it says what was and was
not changed, writes the audit record (keeping the restore test's report: results, what was left behind),
notifies the topic, counts the failure, and returns the name of the Fail state. Neither workflow takes
the DR lease, so there is no lease to settle."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from dr import backup_reports, failure, restore_test
from dr.backup_policy import error_message
from dr.observability import logger
from dr.settings import Settings, get_settings
from dr.steps._handler import lambda_step

NOTHING_RESTORED_YET = ("ValidateInput", "CheckLease", "SelectRecoveryPoints")
FAIL_STATES = {
    "InvalidInput": "FailInvalidInput",
    "LeaseHeld": "FailLeaseHeld",
    "RestoreFailed": "FailRestore",
    "RestoreTimedOut": "FailRestoreTimedOut",
    "ValidationFailed": "FailValidation",
    "CleanupIncomplete": "FailCleanup",
}


REPORT_CAUSE = "see the report"  # what the restore test's ChooseOutcome passes: the cause is in the results


def _cause(name: str, raw: str, report: dict[str, Any]) -> str:
    if raw and raw != REPORT_CAUSE:
        return error_message({"Error": name, "Cause": raw}).split(": ", 1)[-1]
    failed = [r for r in report.get("results") or [] if r.get("status") not in ("SUCCEEDED", "PLANNED")]
    parts = [f"{r['resource_type']} {r['status']}: {r.get('message', '')}" for r in failed]
    if report.get("leftover_resources"):
        parts.append(f"{report['leftover_resources']} resource(s) left behind: {', '.join(report.get('leftover', []))}")
    return "; ".join(parts)[:2000] or name


def _changes(workflow: str, report: dict[str, Any]) -> tuple[list[str], list[str]]:
    if workflow != "restore-test":
        return [], ["nothing: the backup verification only reads"]
    changed = [f"created and deleted {d}" for d in report.get("deleted") or []]
    changed += [f"LEFT BEHIND {x}: delete it by hand" for x in report.get("leftover") or []]
    unchanged = ["the protected resources and their recovery points (a restore test only reads them)"]
    return changed, unchanged


def handle(event: dict[str, Any], settings: Settings) -> dict[str, Any]:
    error = event.get("error") or {}
    name = str(error.get("Error", "Unknown"))
    raw_report = event.get("report")
    report: dict[str, Any] = raw_report if isinstance(raw_report, dict) else {}
    workflow = str(event.get("workflow") or report.get("workflow") or "backup-verification")
    execution = str(event.get("execution", ""))
    phase = str(event.get("phase", "?"))
    cause = _cause(name, str(error.get("Cause") or ""), report)
    changed, unchanged = _changes(workflow, report)
    out = {
        **report,
        "workflow": workflow,
        "status": "FAILED",
        "execution": execution,
        "phase": phase,
        "error": name,
        "cause": cause,
        "fail_state": FAIL_STATES.get(name, "FailUnexpected"),
        "changed": changed,
        "unchanged": unchanged,
        "lease": "not held",
        "finished_at": datetime.now(UTC).isoformat(),
    }
    if workflow == "restore-test" and not report:
        out["results"] = []
        nothing_restored = phase in NOTHING_RESTORED_YET
        out["leftover_resources"] = 0 if nothing_restored else None  # unknown: cleanup did not report
        if not nothing_restored:
            prefix = restore_test.name_prefix(execution)
            changed.append(f"UNKNOWN whether restored resources are left: look for {prefix}* tables, buckets, clusters")
    backup_reports.audit(out, settings)
    location = report.get("report_location")
    failure.notify(settings, out, [f"Evidence: {location.get('markdown', '')}"] if location else [])
    logger.error("backup workflow failed", extra={"error": name, "cause": cause, "phase": phase})
    return {
        k: v
        for k, v in out.items()
        if k
        in (
            "workflow",
            "status",
            "execution",
            "phase",
            "error",
            "cause",
            "fail_state",
            "leftover_resources",
            "lease",
            "finished_at",
        )
    }


@lambda_step
def handler(event: dict[str, Any]) -> dict[str, Any]:
    return handle(event, get_settings())
