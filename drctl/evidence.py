"""The evidence pack: what an auditor asks for, gathered from what the workflows recorded.

Sources: the audit records in the state table (``audit#<execution>``: every end of every workflow) and the
reports in the reports bucket (``<workflow>/<YYYY>/<MM>/<DD>/<execution name>.json``, written by the backup
workflows; a report whose audit record was lost still counts). From them, in the period asked for:
drills (failover and failback runs started by a person; an alarm's failover is an incident, listed too),
readiness evaluations (workflow ``readiness``, when that evaluation is deployed), backup verifications and
restore tests, each with its objectives (RTO/RPO and whether met; restore time against the RTO; findings)
and its outcome.

Each item evidences the controls that ask for it (drctl.controls; the mapping and what each control asks
are in docs/evidence-pack.md), and the pack lists the gaps: what a control needs that the period does not show
(no successful failover drill; a resource whose restore test failed and has not passed since; backup
verifications with findings, or none lately). A control is ``evidenced`` when each kind it requires has a
passing item and no gap touches it, ``gap`` when a gap does, ``no evidence`` otherwise.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from drctl.controls import CONTROLS, assess
from drctl.target import Target, TargetError

WORKFLOWS = ("failover", "failback", "backup-verification", "restore-test", "readiness")
REPORTED_WORKFLOWS = ("backup-verification", "restore-test")  # those that write the reports bucket
VERIFICATION_MAX_AGE = timedelta(days=2)  # daily schedule: the newest must be younger than this
RESTORE_TEST_MAX_AGE = timedelta(days=35)  # monthly schedule
FINDINGS_SHOWN = 5
REPORT_KEY = re.compile(r"[a-z-]+/\d{4}/\d{2}/\d{2}/[^/]+\.(json|md)")  # backup_reports.key
T = TypeVar("T")


# -- the period ------------------------------------------------------------------------------------------
def parse_since(text: str, now: datetime) -> datetime:
    """``90d``, ``12w`` or a date (``2026-09-01``, UTC) into the start of the period."""
    match = re.fullmatch(r"(\d+)([dw])", text.strip())
    if match:
        days = int(match.group(1)) * (7 if match.group(2) == "w" else 1)
        return now - timedelta(days=days)
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError as err:
        raise TargetError(
            f"--since {text!r}: give a number of days or weeks (90d, 12w) or a date (2026-09-01)"
        ) from err
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _when(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _day(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d") if value else "an unknown date"


def _name(arn: str) -> str:
    return str(arn).rsplit(":", 1)[-1].rsplit("/", 1)[-1]


# -- gathering -------------------------------------------------------------------------------------------
def audit_records(target: Target, since: datetime) -> list[dict[str, Any]]:
    """Every audit record that finished in the period: its report, as the workflow stored it."""
    ddb = target.client("dynamodb")
    out = []
    for page in ddb.get_paginator("scan").paginate(
        TableName=target.state_table,
        FilterExpression="begins_with(pk, :audit) AND finished_at >= :since",
        # finished_at is ISO 8601 in UTC (+00:00): text order is time order
        ExpressionAttributeValues={":audit": {"S": "audit#"}, ":since": {"S": since.astimezone(UTC).isoformat()}},
        ConsistentRead=True,
    ):
        for item in page.get("Items", []):
            try:
                report = json.loads(item["report"]["S"])
            except (KeyError, ValueError):
                continue
            report.setdefault("workflow", item.get("workflow", {}).get("S"))
            report.setdefault("status", item.get("status", {}).get("S"))
            report.setdefault("finished_at", item.get("finished_at", {}).get("S"))
            report.setdefault("execution", str(item["pk"]["S"]).removeprefix("audit#"))
            out.append(report)
    return out


def bucket_reports(
    target: Target, since: datetime, known: set[str]
) -> tuple[dict[str, list[str]], list[dict[str, Any]], list[str]]:
    """(s3:// locations by execution name, reports of executions with no audit record, notes)."""
    try:
        bucket = target.physical("ReportsBucket")
    except TargetError as err:
        return {}, [], [f"the reports bucket was not read: {err}"]
    s3 = target.client("s3")
    locations: dict[str, list[str]] = {}
    orphans: list[dict[str, Any]] = []
    try:
        for workflow in REPORTED_WORKFLOWS:
            pages = s3.get_paginator("list_objects_v2").paginate(
                Bucket=bucket, Prefix=f"{workflow}/", StartAfter=f"{workflow}/{since:%Y/%m/%d}"
            )
            for page in pages:
                for entry in page.get("Contents", []):
                    key = str(entry["Key"])
                    if not REPORT_KEY.fullmatch(key):
                        continue  # a run's working files (the verification's batches), not its report
                    name = key.rsplit("/", 1)[-1].rsplit(".", 1)[0]
                    locations.setdefault(name, []).append(f"s3://{bucket}/{key}")
                    if key.endswith(".json") and name not in known:
                        report = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
                        if isinstance(report, dict) and report.get("workflow") in REPORTED_WORKFLOWS:
                            report["recorded_in"] = "the reports bucket only (no audit record)"
                            orphans.append(report)
    except (ClientError, BotoCoreError, ValueError) as err:
        return locations, orphans, [f"the reports bucket {bucket} could not be read completely ({err})"]
    return locations, orphans, []


def _started_by_alarm(target: Target, execution: str) -> bool | None:
    """Whether the run was started by an alarm event (from its input), for records that do not say."""
    try:
        raw = target.client("stepfunctions").describe_execution(executionArn=execution).get("input") or "{}"
        given = json.loads(raw)
    except (ClientError, BotoCoreError, ValueError):
        return None
    return isinstance(given, dict) and "detail-type" in given


# -- evidence items --------------------------------------------------------------------------------------
def _drill_item(report: dict[str, Any], alarm: bool | None) -> dict[str, Any]:
    status = str(report.get("status"))
    trigger = report.get("trigger") or ("alarm" if alarm else "console" if alarm is False else None)
    mode = report.get("mode")
    rto, rpo = report.get("rto") or {}, report.get("rpo") or {}
    findings: list[str] = []
    if status == "FAILED":
        findings.append(f"failed in {report.get('phase')}: {report.get('error')}: {str(report.get('cause', ''))[:200]}")
    if rto.get("met") is False:
        findings.append(f"RTO {rto.get('seconds')} s over the objective of {rto.get('objective_seconds')} s")
    if rpo and rpo.get("met") is None and status == "SUCCEEDED" and mode != "dry-run":
        findings.append("RPO unknown: " + ", ".join(rpo.get("unknown_stores") or []) + " could not be measured")
    if rpo.get("met") is False:
        findings.append(f"RPO {rpo.get('seconds')} s over the objective of {rpo.get('objective_seconds')} s")
    tested = mode not in ("dry-run",) and status not in ("SKIPPED", "DRY_RUN")
    return {
        "drill": trigger != "alarm",
        "trigger": trigger,
        "tested": tested,
        "passed": tested and status == "SUCCEEDED" and rto.get("met") is True and rpo.get("met") is True,
        "objectives": {"rto": rto or None, "rpo": rpo or None},
        "findings": findings,
    }


def _restore_item(report: dict[str, Any]) -> dict[str, Any]:
    results = []
    findings: list[str] = []
    for r in report.get("results") or []:
        data = r.get("data_checked") or {}
        name = _name(r.get("resource_arn", ""))
        results.append(
            {
                "resource": name,
                "type": r.get("resource_type"),
                "status": r.get("status"),
                "restore_seconds": r.get("restore_seconds"),
                "within_rto": r.get("within_rto"),
                "data_read": data.get("count"),
                "data_kind": data.get("kind"),
                "data_matched": data.get("matched"),
                "message": str(r.get("message") or "")[:300],
            }
        )
        if r.get("status") not in ("SUCCEEDED", "PLANNED"):
            findings.append(f"{name}: {r.get('status')}: {str(r.get('message') or '')[:200]}")
    if report.get("status") == "FAILED" and not findings:
        findings.append(f"failed: {report.get('error')}: {str(report.get('cause') or '')[:200]}")
    if int(report.get("leftover_resources") or 0) > 0:
        findings.append(f"{report['leftover_resources']} restored resource(s) left behind")
    tested = report.get("mode") != "dry-run" and report.get("status") != "DRY_RUN"
    return {
        "drill": True,
        "tested": tested,
        "passed": tested and report.get("status") == "SUCCEEDED",
        "objectives": {
            "restore_time": report.get("restore_time"),
            "rto_objective_seconds": report.get("rto_objective_seconds"),
        },
        "results": results,
        "findings": findings,
    }


def _verification_item(report: dict[str, Any]) -> dict[str, Any]:
    findings = report.get("findings") or []
    summary = (report.get("summary") or {}).get("by_severity") or {}
    shown = [
        f"[{f.get('severity')}] {_name(f.get('resource', ''))} {f.get('check')}: {str(f.get('reason'))[:160]}"
        for f in findings[:FINDINGS_SHOWN]
    ]
    if len(findings) > FINDINGS_SHOWN:
        shown.append(f"... and {len(findings) - FINDINGS_SHOWN} more in the report")
    if report.get("status") == "FAILED":
        shown.append(f"failed: {report.get('error')}: {str(report.get('cause') or '')[:200]}")
    return {
        "drill": False,
        "tested": True,
        "passed": report.get("status") == "SUCCEEDED",
        "objectives": {
            "resources_checked": report.get("resources_checked"),
            "findings": len(findings),
            "by_severity": summary,
        },
        "findings": shown,
    }


def _readiness_finding(finding: Any) -> str:
    """A problem as text; a finding of the readiness evaluation (check, severity, resource) on one line."""
    if isinstance(finding, dict) and "check" in finding:
        return f"{finding.get('severity')} {finding['check']} {finding.get('resource')}"
    return str(finding)


def _readiness_item(report: dict[str, Any]) -> dict[str, Any]:
    ready = report.get("ready")
    passed = ready is True or (ready is None and report.get("status") in ("SUCCEEDED", "READY", "PASSED"))
    severity = {"HIGH": 0, "MEDIUM": 1, "LOW": 2}
    found = sorted(
        report.get("problems") or report.get("findings") or [],
        key=lambda f: severity.get(str(f.get("severity")), 3) if isinstance(f, dict) else 3,
    )
    problems = [_readiness_finding(p) for p in found][:FINDINGS_SHOWN]
    return {"drill": False, "tested": True, "passed": passed, "objectives": {"ready": ready}, "findings": problems}


def _outcome(report: dict[str, Any], specific: dict[str, Any]) -> str:
    if specific["passed"]:
        return "passed"
    if specific["tested"] and report.get("status") == "SUCCEEDED":
        return "succeeded but missed its objectives"
    return str(report.get("status") or "unknown").lower()


def item(report: dict[str, Any], locations: list[str], alarm: bool | None = None) -> dict[str, Any]:
    """One piece of evidence from one run's report."""
    workflow = str(report.get("workflow"))
    specific = {
        "failover": lambda: _drill_item(report, alarm),
        "failback": lambda: _drill_item(report, alarm),
        "restore-test": lambda: _restore_item(report),
        "backup-verification": lambda: _verification_item(report),
        "readiness": lambda: _readiness_item(report),
    }[workflow]()
    at = _when(report.get("finished_at")) or _when(report.get("started_at"))
    execution = str(report.get("execution"))
    return {
        "kind": workflow,
        "execution": execution,
        "name": _name(execution),
        "at": at.isoformat() if at else None,
        "status": report.get("status"),
        "mode": report.get("mode"),
        "outcome": _outcome(report, specific),
        **specific,
        "time_split": report.get("time_split"),
        "evidence": ([] if report.get("recorded_in") else [f"state table audit#{execution}"]) + locations,
    }


# -- gaps ------------------------------------------------------------------------------------------------
def _gap(text: str, kind: str, since: datetime | None, execution: str | None = None) -> dict[str, Any]:
    controls = [c.id for c in CONTROLS if kind in c.requires]
    return {
        "gap": text,
        "kind": kind,
        "since": since.isoformat() if since else None,
        "execution": execution,
        "controls": controls,
    }


def _at(entry: dict[str, Any]) -> datetime:
    return _when(entry.get("at")) or datetime.min.replace(tzinfo=UTC)


def _streak(entries: list[T], passed: Callable[[T], bool]) -> T | None:
    """The first entry of the failing streak at the end of ``entries`` (None when the last one passed)."""
    first = None
    for entry in entries:
        first = None if passed(entry) else first or entry
    return first


def _drill_gaps(items: list[dict[str, Any]], kind: str, days: int) -> list[dict[str, Any]]:
    drills = sorted((i for i in items if i["kind"] == kind and i["drill"] and i["tested"]), key=_at)
    if not any(d["passed"] for d in drills):
        ran = f" ({len(drills)} ran; the latest on {_day(_at(drills[-1]))} {drills[-1]['outcome']})" if drills else ""
        return [_gap(f"no successful {kind} drill in the last {days} days{ran}", kind, None)]
    first = _streak(drills, lambda d: d["passed"])
    if first is None:
        return []
    why = "; ".join(first["findings"]) or first["outcome"]
    return [
        _gap(
            f"{kind} drill on {_day(_at(first))} {first['outcome']} ({why}) and none has succeeded since",
            kind,
            _at(first),
            first["execution"],
        )
    ]


def _stale(
    runs: list[dict[str, Any]], kind: str, label: str, window: tuple[datetime, int], every: tuple[timedelta, str]
) -> list[dict[str, Any]]:
    """A gap when no run of ``kind`` is in the window (until, days), or when the newest is older than its
    schedule allows (max age, how often it runs)."""
    (until, days), (max_age, cadence) = window, every
    if not runs:
        return [_gap(f"no {label} in the last {days} days", kind, None)]
    newest = _at(runs[-1])
    if until - newest <= max_age:
        return []
    why = f"the newest {label} is from {_day(newest)}: older than {max_age.days} days (it runs {cadence})"
    return [_gap(why, kind, newest)]


def _restore_gaps(items: list[dict[str, Any]], until: datetime, days: int) -> list[dict[str, Any]]:
    tests = sorted((i for i in items if i["kind"] == "restore-test" and i["tested"]), key=_at)
    gaps = _stale(tests, "restore-test", "restore test", (until, days), (RESTORE_TEST_MAX_AGE, "monthly"))
    if not tests:
        return gaps
    by_resource: dict[str, list[tuple[dict[str, Any], dict[str, Any]]]] = {}
    for test in tests:
        for result in test.get("results") or []:
            by_resource.setdefault(result["resource"], []).append((test, result))
    for resource, runs in sorted(by_resource.items()):
        first = _streak(runs, lambda run: run[1]["status"] == "SUCCEEDED")
        if first is not None:
            test, result = first
            later_tests = tests[-1] is not test
            again = " (not tested again)" if first is runs[-1] and later_tests else ""
            gaps.append(
                _gap(
                    f"restore test of {resource} failed on {_day(_at(test))} ({result['status']}: "
                    f"{result['message'][:160]}) and has not passed since{again}",
                    "restore-test",
                    _at(test),
                    test["execution"],
                )
            )
        last_test, last = runs[-1]
        if last.get("within_rto") is False:
            gaps.append(
                _gap(
                    f"restore of {resource} on {_day(_at(last_test))} took {last.get('restore_seconds')} s, over the "
                    f"RTO of {last_test['objectives'].get('rto_objective_seconds')} s",
                    "restore-test",
                    _at(last_test),
                    last_test["execution"],
                )
            )
    latest = tests[-1]
    explained = any(r["status"] not in ("SUCCEEDED", "PLANNED") for r in latest.get("results") or [])
    if not latest["passed"] and not explained:
        gaps.append(
            _gap(
                f"the latest restore test ({_day(_at(latest))}) ended {latest['status']}: "
                + ("; ".join(latest["findings"]) or "no detail recorded"),
                "restore-test",
                _at(latest),
                latest["execution"],
            )
        )
    return gaps


def _verification_gaps(items: list[dict[str, Any]], until: datetime, days: int) -> list[dict[str, Any]]:
    runs = sorted((i for i in items if i["kind"] == "backup-verification"), key=_at)
    gaps = _stale(runs, "backup-verification", "backup verification", (until, days), (VERIFICATION_MAX_AGE, "daily"))
    if not runs:
        return gaps
    first = _streak(runs, lambda r: r["passed"])
    if first is not None:
        latest = runs[-1]
        counts = latest["objectives"].get("by_severity") or {}
        gaps.append(
            _gap(
                f"backup verifications have reported problems since {_day(_at(first))} (the latest: "
                f"{latest['objectives'].get('findings')} finding(s), HIGH {counts.get('HIGH', 0)}, MEDIUM "
                f"{counts.get('MEDIUM', 0)}, LOW {counts.get('LOW', 0)}"
                + (f"; e.g. {latest['findings'][0]}" if latest["findings"] else "")
                + ")",
                "backup-verification",
                _at(first),
                latest["execution"],
            )
        )
    return gaps


def find_gaps(items: list[dict[str, Any]], since: datetime, until: datetime) -> list[dict[str, Any]]:
    days = max(1, round((until - since).total_seconds() / 86400))
    gaps = _drill_gaps(items, "failover", days) + _drill_gaps(items, "failback", days)
    gaps += _restore_gaps(items, until, days) + _verification_gaps(items, until, days)
    readiness = sorted((i for i in items if i["kind"] == "readiness"), key=_at)
    if readiness and not readiness[-1]["passed"]:
        latest = readiness[-1]
        gaps.append(
            _gap(
                f"the latest readiness evaluation ({_day(_at(latest))}) found the recovery region not ready"
                + (": " + "; ".join(latest["findings"]) if latest["findings"] else ""),
                "readiness",
                _at(latest),
                latest["execution"],
            )
        )
    return gaps


# -- the pack --------------------------------------------------------------------------------------------
def build(
    reports: list[dict[str, Any]],
    locations: dict[str, list[str]],
    since: datetime,
    until: datetime,
    source: str,
    notes: list[str],
    alarms: dict[str, bool | None] | None = None,
) -> dict[str, Any]:
    """The pack from the runs' reports (pure: no AWS call)."""
    items = []
    for report in reports:
        if report.get("workflow") not in WORKFLOWS:
            continue
        at = _when(report.get("finished_at")) or _when(report.get("started_at"))
        if at is None or not since <= at <= until:
            continue
        execution = str(report.get("execution"))
        items.append(item(report, locations.get(_name(execution), []), (alarms or {}).get(execution)))
    items.sort(key=_at)
    gaps = find_gaps(items, since, until)
    notes = list(notes)
    if not any(i["kind"] == "readiness" for i in items):
        notes.append(
            "no readiness evaluations recorded in the period (the scheduled readiness evaluation is not deployed, "
            "or has not run): readiness is shown by the drills' own readiness checks only"
        )
    summary = {
        kind: {
            "runs": sum(1 for i in items if i["kind"] == kind),
            "passed": sum(1 for i in items if i["kind"] == kind and i["passed"]),
        }
        for kind in WORKFLOWS
    }
    return {
        "kind": "evidence-pack",
        "source": source,
        "period": {"since": since.isoformat(), "until": until.isoformat(), "days": round((until - since).days)},
        "notes": notes,
        "summary": summary,
        "controls": [assess(c, items, gaps) for c in CONTROLS],
        "gaps": gaps,
        "evidence": items,
    }


def gather(
    target: Target, since: datetime, until: datetime | None = None, notes: list[str] | None = None
) -> dict[str, Any]:
    """The pack of ``target`` (a deployed stack, a localcloud server, or the embedded AWS) for the period."""
    reports = audit_records(target, since)
    known = {_name(str(r.get("execution"))) for r in reports}
    locations, orphans, bucket_notes = bucket_reports(target, since, known)
    reports += orphans
    stamps = [t for t in (_when(r.get("finished_at")) for r in reports) if t is not None]
    newest = max(stamps, default=None)
    end = until or max(datetime.now(UTC), newest or datetime.now(UTC))
    alarms = {
        str(r["execution"]): _started_by_alarm(target, str(r["execution"]))
        for r in reports
        if r.get("workflow") in ("failover", "failback") and not r.get("trigger")
    }
    source = f"stack {target.stack_name} in {target.region} ({target.label})"
    return build(reports, locations, since, end, source, [*(notes or []), *bucket_notes], alarms)
