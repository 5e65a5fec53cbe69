"""``drctl readiness``: the DR posture evaluation, on demand, as the schedule runs it.

It invokes the stack's deployed ``ReadinessFunction`` (in an account with ``--stack``, on a localcloud
server with ``--endpoint-url``, or on an embedded localcloud platform built for the command), so what it
prints is what the 30-minute evaluation records. On the embedded platform, ``--break KNOB`` first breaks
one thing the evaluation checks (the scenario's knobs, ``KNOBS`` below) and ``--outage`` stages an outage
of the primary region.
"""

from __future__ import annotations

import getpass
import json
from collections.abc import Callable
from typing import Any

from drctl.target import Target, TargetError

# What --break does to the embedded platform (localcloud.scenario.Platform): each breaks one thing.
KNOBS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "pitr-off": ("point-in-time recovery off on the first table (primary)", lambda p: p.pitr_off()),
    "replica-removed": ("the first table's replica in the recovery region deleted", lambda p: p.remove_replica()),
    "rtc-off": (
        "the first bucket replicates without Replication Time Control",
        lambda p: p.replication_changed(rtc=False),
    ),
    "delete-markers-off": (
        "the first bucket's replication drops delete markers",
        lambda p: p.replication_changed(delete_markers=False),
    ),
    "replication-off": ("the first bucket's replication rule deleted", lambda p: p.replication_off()),
    "policy-detached": (
        "ReadPlatformPolicy detached from PromoteAurora's role",
        lambda p: p.detach_policy("PromoteAuroraFunction"),
    ),
    "topic-unsubscribed": ("every subscription of the DR topic removed", lambda p: p.unsubscribe_topic()),
    "function-throttled": ("the Decide function reserved at 0", lambda p: p.reserve_concurrency("DecideFunction", 0)),
    "account-concurrency": ("the account's Lambda concurrency quota at 5", lambda p: p.lambda_concurrency_limit(5)),
    "deletion-protection-off": (
        "deletion protection off on the primary cluster",
        lambda p: p.deletion_protection_off(),
    ),
    "reader-removed": ("one reader of the primary cluster deleted", lambda p: p.remove_reader()),
    "aurora-retention": ("the primary cluster keeps its backups 7 days", lambda p: p.aurora_backup_retention(7)),
    "log-exports-off": ("the primary cluster exports no log", lambda p: p.log_exports_off()),
    "monitoring-off": ("enhanced monitoring off on the primary's writer", lambda p: p.enhanced_monitoring_off()),
    "secondary-headless": ("every instance of the Aurora secondary deleted", lambda p: p.remove_secondary_instances()),
    "health-check-deleted": (
        "the recovery endpoint's Route 53 health check deleted",
        lambda p: p.delete_health_check(),
    ),
    "traffic-pinned": ("users pinned to the recovery region, the pin never released", lambda p: p.pin_traffic()),
}


def evaluate(target: Target) -> dict[str, Any]:
    """Invoke the stack's ReadinessFunction; its report, or TargetError when the function failed."""
    lam = target.client("lambda")
    payload = {"trigger": "console", "requested_by": f"drctl:{getpass.getuser()}", "reason": "drctl readiness"}
    response = lam.invoke(FunctionName=target.physical("ReadinessFunction"), Payload=json.dumps(payload).encode())
    out: dict[str, Any] = json.loads(response["Payload"].read())
    if response.get("FunctionError"):
        raise TargetError(f"the readiness evaluation failed: {out.get('errorType')}: {out.get('errorMessage')}")
    return out


def local(knobs: list[str], outage: str | None) -> dict[str, Any]:
    """Build the embedded platform, break it as asked, evaluate."""
    from drctl.drill import local_platform

    with local_platform(outage=outage) as (cloud, platform, target):
        for knob in knobs:
            KNOBS[knob][1](platform)
        with cloud.outage.as_application():  # drctl's own calls are the application's
            out = evaluate(target)
        out["scenario"] = {"broken": [f"{k}: {KNOBS[k][0]}" for k in knobs], "outage": outage}
        return out


def text(report: dict[str, Any]) -> str:
    counts = report["summary"]["by_severity"]
    lines = [
        f"DR readiness {report['source_region']} -> {report['target_region']}: "
        f"{'READY' if report['ready'] else 'NOT READY'} ({counts['HIGH']} HIGH, {counts['MEDIUM']} MEDIUM, "
        f"{counts['LOW']} LOW), evaluated {report['evaluated_at']}",
    ]
    for broken in (report.get("scenario") or {}).get("broken") or []:
        lines.append(f"  broken on purpose: {broken}")
    for store, measure in (report.get("exposures") or {}).items():
        seconds = measure.get("seconds_now")
        shown = "unknown" if seconds is None else f"{seconds:.0f} s"
        lines.append(f"  exposure {store:<9} {shown} ({measure.get('source')})")
    for finding in report["findings"]:
        lines.append(f"  [{finding['severity']:<6}] {finding['check']:<30} {finding['resource']}")
        lines.append(f"           {finding['reason']}")
    if not report["findings"]:
        lines.append("  no finding")
    lines += [f"  warning: {w}" for w in report.get("warnings") or []]
    lines.append("What each check means and how to fix it: docs/findings.md")
    return "\n".join(lines)


def markdown(report: dict[str, Any]) -> str:
    counts = report["summary"]["by_severity"]
    lines = [
        f"# DR readiness: {'READY' if report['ready'] else 'NOT READY'}",
        "",
        f"{report['source_region']} → {report['target_region']}, evaluated {report['evaluated_at']}: "
        f"{counts['HIGH']} HIGH, {counts['MEDIUM']} MEDIUM, {counts['LOW']} LOW.",
        "",
        "| severity | check | resource | reason |",
        "| --- | --- | --- | --- |",
    ]
    for f in report["findings"]:
        reason = str(f["reason"]).replace("|", "\\|")
        lines.append(f"| {f['severity']} | `{f['check']}` | `{f['resource']}` | {reason} |")
    if not report["findings"]:
        lines.append("| — | — | — | no finding |")
    lines += ["", "Each check is explained, with its fix, in docs/findings.md."]
    return "\n".join(lines)


def render(report: dict[str, Any], output: str) -> str:
    if output == "json":
        return json.dumps(report, indent=2, default=str)
    return markdown(report) if output == "markdown" else text(report)
