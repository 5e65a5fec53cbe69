"""SweepRestores: delete what earlier restore tests left behind — ``drtest-*`` tables, buckets, Aurora
clusters and DB instances tagged ``dr:purpose=restore-test`` that belong to no running restore test and
are older than any (the rule: ``dr.restore_cleanup``).

It runs at the start of every restore test (the test's report lists what it swept, with names and ages; a
dry run only says what it would delete) and on its own daily schedule. The scheduled run notifies the DR
topic and writes an audit record whenever it swept something, or found something it could not sweep (a
refused deletion, a ``drtest-*`` resource without the tag, a listing it could not read); otherwise it stays
quiet."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from dr import restore_cleanup
from dr.backup_models import BackupRequest
from dr.bookkeeping import Notification, finish
from dr.models import parse
from dr.settings import Settings, get_settings
from dr.steps._handler import lambda_step

WORKFLOW = "restore-sweep"


def notification(out: dict[str, Any]) -> Notification:
    swept = [e for e in out["swept"] if e.get("state") in ("deleted", "gone")]
    left = [e for e in out["swept"] if e.get("state") not in ("deleted", "gone")]
    lines = [f"The restore-test sweeper deleted {len(swept)} resource(s) earlier restore tests left behind."]
    lines += [f"  deleted {restore_cleanup.sweep_label(e)}" for e in swept]
    lines += [f"  NOT deleted {restore_cleanup.sweep_label(e)} {e.get('reason', '')}" for e in left]
    lines += [f"  UNTAGGED (delete by hand) {restore_cleanup.sweep_label(e)}" for e in out["untagged"]]
    lines += [f"  could not look at {u}" for u in out["unchecked"]]
    lines.append("Runbook: docs/runbook-backup-restore.md, section 3 (cleanup and the sweeper).")
    problems = len(left) + len(out["untagged"]) + len(out["unchecked"])
    subject = f"[DR] restore-test sweep: {len(swept)} leftover(s) deleted" + (
        f", {problems} need a person" if problems else ""
    )
    return Notification(subject=subject, message="\n".join(lines), event="restore-test-swept")


def record(out: dict[str, Any], settings: Settings, now: datetime) -> dict[str, Any]:
    """The scheduled run's evidence: an audit record and a notification, only when there is news."""
    if not (out["swept"] or out["untagged"] or out["unchecked"]):
        return {**out, "recorded": False}
    clean = all(e.get("state") in ("deleted", "gone") for e in out["swept"])
    report = {
        **out,
        "workflow": WORKFLOW,
        "execution": f"{WORKFLOW}:{now.isoformat()}",
        "status": "SWEPT" if clean and not out["untagged"] and not out["unchecked"] else "INCOMPLETE",
        "finished_at": now.isoformat(),
    }
    done = finish(report, notification(out), settings)
    return {**report, "recorded": True, "bookkeeping": done.as_json(), "warnings": done.warnings}


@lambda_step
def handler(event: dict[str, Any]) -> dict[str, Any]:
    settings = get_settings()
    now = datetime.now(UTC)
    raw = event.get("request") if isinstance(event, dict) else None
    if raw is not None:  # inside a restore test: its report says what was swept
        request = parse(BackupRequest, raw, "request")
        return restore_cleanup.sweep(settings, now, dry_run=request.mode == "dry-run")
    return record(restore_cleanup.sweep(settings, now), settings, now)
