"""How drctl prints reports: text for a terminal, JSON for machines, Markdown for a ticket or a review
(with the run's timeline as a Mermaid gantt), HTML for a page to open or attach (drctl.html).

Every report's rendering lives here (the failover's, the failback's re-protection and outage writes, the
backup workflows' lines from ``drctl.backups``, a game day's two parts); the command modules import this
one, never the reverse."""

from __future__ import annotations

import json
from typing import Any

from drctl import backups, html, timeline

_LAG_KEYS = ("aurora_lag_seconds", "dynamodb_latency_seconds", "s3_latency_seconds")


def _seconds(value: Any) -> str:
    return "unknown" if value is None else f"{float(value):.1f} s"


def _met(value: Any) -> str:
    return "unknown" if value is None else ("met" if value else "MISSED")


def as_json(report: dict[str, Any]) -> str:
    return json.dumps(report, indent=2, default=str)


def failback_lines(report: dict[str, Any]) -> list[str]:
    """The failback-specific lines of drctl's text report (re-protection, replication, outage writes)."""
    lines: list[str] = []
    for store, result in (report.get("reprotect") or {}).items():
        changes = result.get("changes") or []
        lines.append(f"  re-protect {store}: " + (f"{len(changes)} change(s)" if changes else "nothing to change"))
        lines += [f"      - {change}" for change in changes]
    lag = report.get("replication") or {}
    if lag:
        seconds = {k: "n/a" if lag.get(k) is None else f"{lag[k]:.1f} s" for k in _LAG_KEYS}
        lines.append(
            f"  replication toward home: aurora {seconds['aurora_lag_seconds']}, "
            f"dynamodb {seconds['dynamodb_latency_seconds']}, s3 {seconds['s3_latency_seconds']}; "
            f"caught up: {lag.get('caught_up')}"
        )
    for phase, counts in ((report.get("outage_writes") or {}) or {}).items():
        if counts:
            lines.append(
                f"  outage writes ({phase}): {counts['items_written']} items, {counts['objects_written']} objects "
                f"since {counts['since']}; still to arrive: {counts['items_still_to_arrive']} items, "
                f"{counts['objects_still_to_arrive']} objects"
            )
    scenario = report.get("scenario") or {}
    if scenario:
        missing = scenario.get("missing_in_primary") or []
        lines.append(
            f"  drill: failover {scenario['failover'].get('status')}; written during the outage "
            f"{scenario['written_during_outage']}; missing in the primary at the end: "
            + ("none" if not missing else "; ".join(missing))
        )
    return lines


def as_text(report: dict[str, Any]) -> str:
    lines = [
        f"{report.get('workflow', '?')} ({report.get('mode', '?')}): {report.get('status')}",
        f"  execution: {report.get('execution')}",
    ]
    if "rto" in report:
        rto, rpo = report["rto"], report["rpo"]
        lines.append(f"  RTO {_seconds(rto['seconds'])} (objective {rto['objective_seconds']} s): {_met(rto['met'])}")
        lines.append(
            f"  RPO {_seconds(rpo['seconds'])} (objective {rpo['objective_seconds']} s): {_met(rpo['met'])}"
            + "  ["
            + ", ".join(f"{k} {_seconds(v)}" for k, v in (rpo.get("by_store") or {}).items())
            + "]"
        )
    if "writer_region" in report:
        lines.append(f"  writer: {report['writer_region']}   traffic: {report['traffic_region']}")
    if report.get("decision"):
        lines.append("  decision: " + report["decision"]["action"] + " — " + "; ".join(report["decision"]["reasons"]))
        for source, said in (report["decision"].get("evidence") or {}).items():
            lines.append(f"    {source}: {said}")
    calls = report.get("source_region_calls")
    if calls is not None:
        lines.append(
            f"  calls to {report.get('source_region')}: {calls['made']} made, {calls['failed']} failed"
            + (f"   outage: {report['outage']}" if report.get("outage") else "")
        )
        if report.get("mode") == "dry-run":
            lines.extend(["  plan:"] + [f"    - {p}" for p in report["decision"]["plan"]])
    lines += backups.text_lines(report)
    lines += failback_lines(report)
    for key in ("reason", "error", "cause", "phase"):
        if report.get(key):
            lines.append(f"  {key}: {report[key]}")
    for key in ("changed", "unknown", "unchanged", "warnings"):
        if report.get(key):
            lines.append(f"  {key}: " + "; ".join(report[key]))
    lines += timeline.text_lines(report)
    if "state_transitions" in report:
        lines.append(
            f"  state transitions: {report['state_transitions']}"
            + (f"   wall time: {report['wall_seconds']} s" if "wall_seconds" in report else "")
        )
    return "\n".join(lines)


def as_markdown(report: dict[str, Any]) -> str:
    out = [
        f"# {str(report.get('workflow', '?')).capitalize()} report: {report.get('status')}",
        "",
        "| field | value |",
        "| --- | --- |",
    ]
    for key in html.FACTS:
        if report.get(key) is not None:
            out.append(f"| {key} | {report[key]} |")
    if "rto" in report:
        rto, rpo = report["rto"], report["rpo"]
        out += [
            "",
            "## Objectives",
            "",
            "| | measured | objective | met |",
            "| --- | --- | --- | --- |",
            f"| RTO | {_seconds(rto['seconds'])} | {rto['objective_seconds']} s | {_met(rto['met'])} |",
            f"| RPO | {_seconds(rpo['seconds'])} | {rpo['objective_seconds']} s | {_met(rpo['met'])} |",
        ]
        out += [f"| RPO {k} | {_seconds(v)} | | |" for k, v in (rpo.get("by_store") or {}).items()]
    decision = report.get("decision") or {}
    if decision:
        out += ["", "## Decision", "", f"**{decision['action']}**: " + "; ".join(decision.get("reasons") or [])]
        out += [f"- {source}: {said}" for source, said in (decision.get("evidence") or {}).items()]
    if report.get("source_region_calls") is not None:
        calls = report["source_region_calls"]
        out += [
            "",
            f"AWS calls sent to the source region {report.get('source_region')}: "
            f"{calls['made']} made, {calls['failed']} failed.",
        ]
    if report.get("warnings"):
        out += ["", "## Warnings", ""] + [f"- {w}" for w in report["warnings"]]
    out += timeline.markdown_section(report)
    if report.get("steps"):
        out += ["", "## Steps", "", "| step | started | finished | status |", "| --- | --- | --- | --- |"]
        out += [
            f"| {s['name']} | {s['started_at']} | {s['finished_at'] or ''} | {s['status']} |" for s in report["steps"]
        ]
    return "\n".join(out) + "\n"


def render(report: dict[str, Any], output: str) -> str:
    """``report`` as ``output`` (json, markdown, html, else text); a game day's text and Markdown show its
    failover, its failback and one summary line; its HTML is one page with both."""
    one = {"json": as_json, "markdown": as_markdown, "html": html.report_page}.get(output, as_text)
    if report.get("workflow") != "gameday" or output in ("json", "html"):
        return one(report)
    parts = [one(report["failover"])]
    if report.get("failback"):
        parts.append(one(report["failback"]))
    parts.append(
        f"game day: {report['status']}   writer {report['writer_region']}   traffic {report['traffic_region']}   "
        f"RTO failover {report['rto_seconds']['failover']} s, failback {report['rto_seconds']['failback']} s"
    )
    return "\n".join(parts)
