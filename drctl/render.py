"""How drctl prints reports: text for a terminal, JSON for machines, Markdown for a ticket or a review."""

from __future__ import annotations

import json
from typing import Any

from drctl import backups, failback


def _seconds(value: Any) -> str:
    return "unknown" if value is None else f"{float(value):.1f} s"


def _met(value: Any) -> str:
    return "unknown" if value is None else ("met" if value else "MISSED")


def as_json(report: dict[str, Any]) -> str:
    return json.dumps(report, indent=2, default=str)


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
    lines += failback.text_lines(report)
    for key in ("error", "cause", "phase"):
        if report.get(key):
            lines.append(f"  {key}: {report[key]}")
    for key in ("changed", "unknown", "unchanged", "warnings"):
        if report.get(key):
            lines.append(f"  {key}: " + "; ".join(report[key]))
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
    for key in (
        "mode",
        "execution",
        "trigger",
        "requested_by",
        "detected_at",
        "started_at",
        "finished_at",
        "writer_region",
        "traffic_region",
        "outage",
        "error",
        "cause",
    ):
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
    if report.get("steps"):
        out += ["", "## Timeline", "", "| step | started | finished | status |", "| --- | --- | --- | --- |"]
        out += [
            f"| {s['name']} | {s['started_at']} | {s['finished_at'] or ''} | {s['status']} |" for s in report["steps"]
        ]
    return "\n".join(out) + "\n"


def render(report: dict[str, Any], output: str) -> str:
    return {"json": as_json, "markdown": as_markdown}.get(output, as_text)(report)
