"""HandleBackupFailure: every failure path of the backup verification and the restore test comes here
before its named Fail state. The same shape as HandleFailure (the failover's): it says what was and was
not changed, records and notifies the end (``dr.bookkeeping.finish``: the audit record, keeping the restore
test's report, and the notification, each on its own and retried: one failing never stops the other),
counts the failure, and returns the name of the Fail state. When a record is lost, the cause says which.
Neither workflow takes the DR lease, so there is no lease to settle.

For the restore test, ``leftover_resources`` is always a number: the report's, else the cleanup's, else 0
with ``leftover_known`` false when restores may have run and no cleanup reported."""

from __future__ import annotations

from typing import Any

from dr import backup_reports, failure, restore_test
from dr.backup_policy import error_message
from dr.bookkeeping import Notification, finish
from dr.observability import logger
from dr.settings import Settings, get_settings
from dr.steps._handler import lambda_step

NOTHING_RESTORED_YET = ("ValidateInput", "CheckLease", "SweepLeftovers", "SelectRecoveryPoints")
FAIL_STATES = {
    "InvalidInput": "FailInvalidInput",
    "LeaseHeld": "FailLeaseHeld",
    "RestoreFailed": "FailRestore",
    "RestoreTimedOut": "FailRestoreTimedOut",
    "ValidationFailed": "FailValidation",
    "ValidationNotCompleted": "FailValidationNotCompleted",
    "CleanupIncomplete": "FailCleanup",
}
RETURNED = (
    "workflow",
    "status",
    "execution",
    "phase",
    "error",
    "cause",
    "fail_state",
    "leftover_resources",
    "leftover_known",
    "lease",
    "finished_at",
    "warnings",
)


REPORT_CAUSE = "see the report"  # what the restore test's ChooseOutcome passes: the cause is in the results


def _cause(name: str, raw: str, report: dict[str, Any]) -> str:
    if raw and raw != REPORT_CAUSE:
        return error_message({"Error": name, "Cause": raw}).split(": ", 1)[-1]
    failed = [r for r in report.get("results") or [] if r.get("status") not in ("SUCCEEDED", "PLANNED")]
    parts = [f"{r['resource_type']} {r['status']}: {r.get('message', '')}" for r in failed]
    if report.get("leftover_resources"):
        parts.append(f"{report['leftover_resources']} resource(s) left behind: {', '.join(report.get('leftover', []))}")
    if report.get("leftover_known") is False:
        parts.append("whether anything is left is not fully known: " + "; ".join(report.get("leftover_unchecked", [])))
    return "; ".join(parts)[:2000] or name


def _changes(workflow: str, report: dict[str, Any]) -> tuple[list[str], list[str]]:
    if workflow != "restore-test":
        return [], ["nothing: the backup verification only reads"]
    changed = [f"created and deleted {d}" for d in report.get("deleted") or []]
    changed += [f"swept {e['kind']} {e['name']} left by an earlier test" for e in report.get("swept") or []]
    changed += [f"LEFT BEHIND {x}: delete it by hand" for x in report.get("leftover") or []]
    unchanged = ["the protected resources and their recovery points (a restore test only reads them)"]
    return changed, unchanged


def _leftover(report: dict[str, Any], cleanup: dict[str, Any], phase: str, execution: str) -> dict[str, Any]:
    """What is known to be left (a number, always), and whether that is all."""
    source = report if "leftover_resources" in report else cleanup
    if "leftover_resources" in source:
        return {
            "leftover_resources": int(source.get("leftover_resources") or 0),
            "leftover_known": bool(source.get("leftover_known", True)),
            "leftover_unchecked": list(source.get("leftover_unchecked") or []),
            "leftover": list(source.get("leftover") or []),
            "deleted": list(source.get("deleted") or []),
        }
    if phase in NOTHING_RESTORED_YET:
        return {"leftover_resources": 0, "leftover_known": True, "leftover_unchecked": []}
    prefix = restore_test.name_prefix(execution)
    return {
        "leftover_resources": 0,
        "leftover_known": False,
        "leftover_unchecked": [f"no cleanup reported: look for {prefix}* tables, buckets and DB clusters"],
    }


def handle(event: dict[str, Any], settings: Settings) -> dict[str, Any]:
    error = event.get("error") or {}
    phase = str(event.get("phase", "?"))
    name, raw_cause = failure.step_timed_out(str(error.get("Error", "Unknown")), str(error.get("Cause") or ""), phase)
    raw_report = event.get("report")
    report: dict[str, Any] = raw_report if isinstance(raw_report, dict) else {}
    workflow = str(event.get("workflow") or report.get("workflow") or "backup-verification")
    execution = str(event.get("execution", ""))
    out: dict[str, Any] = {**report}
    if workflow == "restore-test":
        raw_cleanup = event.get("cleanup")
        cleanup: dict[str, Any] = raw_cleanup if isinstance(raw_cleanup, dict) else {}
        out.update(_leftover(report, cleanup, phase, execution))
        out.setdefault("results", [])
    cause = _cause(name, raw_cause, out)
    changed, unchanged = _changes(workflow, out)
    if out.get("leftover_known") is False and not out.get("leftover"):
        changed.append("UNKNOWN whether restored resources are left: " + "; ".join(out["leftover_unchecked"]))
    fail_state = FAIL_STATES.get(name, "FailUnexpected")
    out.update(failure.ending(workflow, execution, phase, (name, cause), fail_state, changed, unchanged))
    out["lease"] = "not held"
    location = report.get("report_location")
    subject, message, kind = failure.compose(out, [f"Evidence: {location.get('markdown', '')}"] if location else [])
    done = finish(
        out,
        Notification(subject=subject, message=message, event=kind),
        settings,
        audit_body=backup_reports.compact(out),
    )
    failure.count(workflow)
    out["warnings"] = list(report.get("warnings") or []) + done.warnings
    out["cause"] = failure.with_what_was_lost(cause, done.audited, done.notified, done.warnings)
    logger.error("backup workflow failed", extra={"error": name, "cause": out["cause"], "phase": phase})
    return {k: v for k, v in out.items() if k in RETURNED}


@lambda_step
def handler(event: dict[str, Any]) -> dict[str, Any]:
    return handle(event, get_settings())
