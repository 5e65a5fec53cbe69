"""What drctl needs to know about the backup workflows: their inputs from the command line, the healthy
backup history a local platform starts with, and how their reports read in a terminal."""

from __future__ import annotations

import argparse
import getpass
from typing import Any

from drctl.target import TargetError

WORKFLOWS = ("backup-verification", "restore-test")


def default_mode(workflow: str) -> str:
    return {"restore-test": "full", "backup-verification": "verify"}.get(workflow, "planned")


def payload(args: argparse.Namespace) -> dict[str, Any]:
    """The execution input of a backup workflow from ``drctl drill`` arguments; TargetError if they conflict."""
    who = {"reason": args.reason, "requested_by": f"drctl:{getpass.getuser()}"}
    if args.workflow == "backup-verification":
        if args.mode not in ("verify", None) or args.from_copies:
            raise TargetError("backup-verification takes no --mode and no --from-copies (it only reads)")
        return who
    if args.mode not in ("full", "dry-run"):
        raise TargetError(f"restore-test runs in --mode full or --mode dry-run, not {args.mode!r}")
    return {"mode": args.mode, "from_copies": bool(args.from_copies), **who}


def prepare(platform: Any) -> None:
    """A local platform's backups as its plan would have made them (the healthy starting point)."""
    platform.seed_backup_history()


def text_lines(report: dict[str, Any]) -> list[str]:
    """The backup-specific lines of ``drctl``'s text report."""
    lines: list[str] = []
    if "findings" in report:
        lines.append(
            f"  resources checked: {report.get('resources_checked', '?')}   "
            f"recovery points: {report.get('recovery_points_checked', '?')}   findings: {len(report['findings'])}"
        )
        lines += [f"    [{f['severity']}] {f['check']}: {f['reason']}" for f in report["findings"][:50]]
        if len(report["findings"]) > 50:
            lines.append(f"    ... {len(report['findings']) - 50} more in the report")
    if "results" in report:
        for r in report["results"]:
            seconds = r.get("restore_seconds")
            data = r.get("data_checked") or {}
            read = f"{data.get('count')} {data.get('kind')} matched {data.get('matched')}" if data else "no data read"
            lines.append(
                f"  {r.get('resource_type', '?'):<9}{r.get('status', '?'):<19}"
                f"restore {'n/a' if seconds is None else f'{seconds:.0f} s':<8} within RTO {r.get('within_rto')}  "
                f"{read}  AWS Backup told {r.get('validation_status') if r.get('validation_reported') else 'nothing'}  "
                f"{str(r.get('resource_arn', '')).rsplit(':', 1)[-1]}"
            )
            if r.get("status") not in ("SUCCEEDED",) and r.get("message"):
                lines.append(f"           {r['message'][:300]}")
        known = (
            ""
            if report.get("leftover_known", True)
            else " (not all known: " + "; ".join(report.get("leftover_unchecked") or []) + ")"
        )
        lines.append(f"  leftover resources: {report.get('leftover_resources', '?')}{known}")
        lines += [f"    LEFT BEHIND: {x}" for x in report.get("leftover") or []]
        for entry in report.get("swept") or []:
            age = entry.get("age_seconds")
            lines.append(
                f"  swept (left by an earlier test): {entry['kind']} {entry['name']} in {entry['region']}, "
                f"{'age unknown' if age is None else f'{age / 3600:.1f} h old'}: {entry.get('state')}"
            )
        lines += [
            f"  NOT swept, no dr:purpose tag (delete by hand): {e['kind']} {e['name']} in {e['region']}"
            for e in (report.get("sweep") or {}).get("untagged") or []
        ]
    lines += [f"  warning: {w}" for w in report.get("warnings") or []]
    if (report.get("report_location") or {}).get("markdown"):
        lines.append(f"  evidence: {report['report_location']['markdown']}")
    return lines
