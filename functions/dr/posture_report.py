"""The end of a readiness evaluation (``dr.posture``): its report, its metrics, what it remembers for the
next one, its audit record and, when the findings changed, its notification; and the drill calendar's
reminders.

- ``ReadinessFindings`` (Count, dimensions ``Severity`` and ``service``) for each severity on every
  evaluation, zeros included, so the HIGH alarm sees each one; ``ReplicationExposureSeconds`` (dimension
  ``Store``) for each store whose exposure could be measured (aged to the evaluation's moment);
- ``readiness#state`` in the state table: when the calendar started being watched, the last evaluation's
  findings (``severity|check|resource``) and their digest;
- the audit record (workflow ``readiness``) on every evaluation, through ``dr.bookkeeping.finish``; the
  notification (event ``readiness-changed``) only when the set of findings differs from the last one (a
  first evaluation, a new finding, a resolved one), never for a changed number in a reason.
What cannot be remembered (readiness#state not written) is a warning: the next evaluation notifies again.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from dr import drill_calendar
from dr.aws import client
from dr.backup_models import Finding
from dr.backup_policy import summarize
from dr.bookkeeping import Notification, finish
from dr.inventory import Inventory
from dr.observability import logger, one_metric
from dr.posture import READ_ERRORS, STATE_KEY, WORKFLOW, Evaluation, PostureSettings, ReadinessInput, evaluate, why
from dr.settings import Settings


def key(f: Finding) -> str:
    return f"{f.severity}|{f.check}|{f.resource}"


def digest(findings: list[Finding]) -> str:
    return hashlib.sha256("\n".join(sorted({key(f) for f in findings})).encode()).hexdigest()


def report(ev: Evaluation, request: ReadinessInput, previous: dict[str, Any] | None) -> dict[str, Any]:
    keys = {key(f) for f in ev.findings}
    before = set(previous.get("keys", [])) if previous else set()
    counts = summarize(ev.findings)
    return {
        "workflow": WORKFLOW,
        "execution": f"readiness-{ev.now:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}",
        "status": "FINDINGS" if ev.findings else "SUCCEEDED",
        "ready": counts["by_severity"]["HIGH"] == 0,
        "trigger": request.trigger,
        "requested_by": request.requested_by,
        "evaluated_at": ev.now.isoformat(),
        "finished_at": datetime.now(UTC).isoformat(),
        "source_region": ev.settings.primary_region,
        "target_region": ev.settings.recovery_region,
        "findings": [f.model_dump(mode="json") for f in ev.findings],
        "summary": counts,
        "could_not_check": ev.unchecked,
        "exposures": {
            store: {
                "seconds_now": m.at(ev.now),
                "measured": m.seconds,
                "measured_at": m.measured_at.isoformat() if m.measured_at else None,
                "source": m.source,
                "note": m.note,
            }
            for store, m in ev.exposures.items()
        },
        "facts": ev.facts,
        "changed": keys != before or previous is None,
        "new": sorted(keys - before),
        "resolved": sorted(before - keys),
        "digest": digest(ev.findings),
    }


def publish(out: dict[str, Any], settings: Settings) -> None:
    """ReadinessFindings per severity (0 included: the alarm sees every evaluation), and the exposure of
    each store when it could be measured (ReplicationExposureSeconds, for the dashboard)."""
    for severity, count in out["summary"]["by_severity"].items():
        one_metric("ReadinessFindings", count, MetricUnit.Count, ("Severity", severity), settings.metrics_namespace)
    for store, measure in out["exposures"].items():
        if measure["seconds_now"] is not None:
            seconds, namespace = measure["seconds_now"], settings.metrics_namespace
            one_metric("ReplicationExposureSeconds", seconds, MetricUnit.Seconds, ("Store", store), namespace)


def message(out: dict[str, Any]) -> Notification:
    counts = out["summary"]["by_severity"]
    head = "READY" if out["ready"] else "NOT READY"
    lines = [
        f"DR readiness {head}: {counts['HIGH']} HIGH, {counts['MEDIUM']} MEDIUM, {counts['LOW']} LOW "
        f"({out['source_region']} -> {out['target_region']}, evaluated {out['evaluated_at']}).",
        "",
    ]
    if out["new"]:
        lines += ["New since the last evaluation:", *(f"  + {k}" for k in out["new"]), ""]
    if out["resolved"]:
        lines += ["Resolved:", *(f"  - {k}" for k in out["resolved"]), ""]
    lines += ["Findings (docs/findings.md says what each means and how to fix it):"]
    lines += [f"  [{f['severity']}] {f['check']} {f['resource']}: {f['reason']}" for f in out["findings"]] or ["  none"]
    subject = f"[DR] readiness {head}: {counts['HIGH']} HIGH, {counts['MEDIUM']} MEDIUM"
    return Notification(subject, "\n".join(lines), "readiness-changed")


def compact(out: dict[str, Any]) -> dict[str, Any]:
    """What the audit record keeps: everything but the (recomputable) key lists."""
    return {k: v for k, v in out.items() if k not in ("digest",)}


def load_state(settings: Settings) -> dict[str, Any] | None:
    item = (
        client("dynamodb", settings.recovery_region)
        .get_item(TableName=settings.state_table, Key={"pk": {"S": STATE_KEY}}, ConsistentRead=True)
        .get("Item")
    )
    if not item:
        return None
    return {
        "first_evaluated_at": item["first_evaluated_at"]["S"],
        "keys": [k["S"] for k in item.get("keys", {}).get("L", [])],
        "digest": item.get("digest", {}).get("S", ""),
    }


def save_state(settings: Settings, out: dict[str, Any], first: str) -> None:
    keys = sorted({f"{f['severity']}|{f['check']}|{f['resource']}" for f in out["findings"]})
    client("dynamodb", settings.recovery_region).put_item(
        TableName=settings.state_table,
        Item={
            "pk": {"S": STATE_KEY},
            "first_evaluated_at": {"S": first},
            "last_evaluated_at": {"S": out["evaluated_at"]},
            "last_execution": {"S": out["execution"]},
            "digest": {"S": out["digest"]},
            "keys": {"L": [{"S": k} for k in keys]},
        },
    )


def run(request: ReadinessInput, settings: Settings, posture: PostureSettings, inventory: Inventory) -> dict[str, Any]:
    """One evaluation, end to end: evaluate, publish, remember, record and (on change) notify."""
    now = datetime.now(UTC)
    ev = Evaluation(now, settings, posture, inventory)
    previous = ev.read("the last evaluation (readiness#state)", settings.recovery_region, lambda: load_state(settings))
    first = previous["first_evaluated_at"] if previous else now.isoformat()
    evaluate(ev, datetime.fromisoformat(first))
    out = report(ev, request, previous)
    publish(out, settings)
    warnings: list[str] = []
    try:
        save_state(settings, out, first)
    except READ_ERRORS as err:
        warnings.append(f"readiness#state was not updated ({why(err)}): the next evaluation notifies again")
    done = finish(out, message(out) if out["changed"] else None, settings, audit_body=compact(out))
    out["warnings"] = warnings + done.warnings
    out["bookkeeping"] = done.as_json()
    logger.info(
        "readiness evaluated",
        extra={"summary": out["summary"], "changed": out["changed"], "could_not_check": len(ev.unchecked)},
    )
    return out


# -- the calendar's reminders ---------------------------------------------------------------------------
def remind(request: ReadinessInput, settings: Settings, posture: PostureSettings) -> dict[str, Any]:
    """The quarterly "game day due" and the yearly game day reminder: when the last drills of each kind ran."""
    now = datetime.now(UTC)
    kinds = drill_calendar.kinds(posture.drill_monthly_days, posture.drill_quarterly_days, posture.drill_yearly_days)
    workflows = {w for k in kinds for w, _ in k.needs}
    last: dict[str, str | None] = {}
    warnings: list[str] = []
    try:
        runs = drill_calendar.audit_runs(client("dynamodb", settings.recovery_region), settings.state_table, workflows)
        last = drill_calendar.last_runs(kinds, runs)
    except READ_ERRORS as err:
        warnings.append(f"the drill history could not be read ({why(err)})")
    title = "Game day due this quarter" if request.reminder == "game-day-due" else "Yearly DR game day"
    body = [
        f"{title}: plan a planned failover to {settings.recovery_region} and a failback, with the on-call, "
        "the application owners and the runbooks (docs/runbook-failover.md, docs/runbook-failback.md).",
        "",
        "Last successful drills:",
        *(f"  {kind}: {when or 'never'}" for kind, when in last.items()),
    ]
    out: dict[str, Any] = {
        "workflow": "drill-reminder",
        "execution": f"drill-reminder-{now:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}",
        "status": "SUCCEEDED",
        "reminder": request.reminder,
        "finished_at": now.isoformat(),
        "drills": last,
    }
    done = finish(out, Notification(f"[DR] {title}", "\n".join(body), "drill-reminder"), settings)
    out["warnings"] = warnings + done.warnings
    out["bookkeeping"] = done.as_json()
    return out
