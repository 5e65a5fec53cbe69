"""drctl's HTML output: one self-contained page (inline CSS and SVG, no script, nothing fetched), for a
run's report (``--output html``) or a game day's two runs, opened from a file or attached to a ticket."""

from __future__ import annotations

import html
from typing import Any

from drctl import timeline

CSS = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 24px; color: #1d232a; }
h1 { font-size: 22px; margin: 0 0 12px; } h2 { font-size: 17px; margin: 22px 0 8px; }
table { border-collapse: collapse; margin: 6px 0 12px; }
th, td { border: 1px solid #d5dbe1; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f2f5f8; }
.status-SUCCEEDED, .ok { color: #1d7a3a; font-weight: 600; }
.status-FAILED, .status-FINDINGS, .bad { color: #b3261e; font-weight: 600; }
.own-time { background: #eef7f0; border-left: 4px solid #5aa469; padding: 6px 10px; }
.chart { overflow-x: auto; }
svg.timeline text { font: 11px system-ui, sans-serif; fill: #1d232a; }
svg.timeline .row-label { text-anchor: end; }
svg.timeline .tick { stroke: #e3e7eb; } svg.timeline .tick-label { text-anchor: middle; fill: #66717c; }
svg.timeline rect.critical { stroke: #1d232a; stroke-width: 1.5; }
.swatch { display: inline-block; width: 10px; height: 10px; margin-right: 6px; }
.note { color: #55606b; font-size: 12px; }
.gap { color: #b3261e; }
section.run { border-top: 2px solid #d5dbe1; margin-top: 18px; }
"""


def page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{CSS}</style></head>"
        f"<body>{body}</body></html>\n"
    )


def _seconds(value: Any) -> str:
    return "unknown" if value is None else f"{float(value):.1f} s"


# The facts of a run, in the order every rendering (Markdown, HTML) lists the ones a report has.
FACTS = (
    "mode",
    "execution",
    "trigger",
    "requested_by",
    "reason",
    "detected_at",
    "started_at",
    "finished_at",
    "writer_region",
    "traffic_region",
    "outage",
    "error",
    "cause",
)


def _met(value: Any) -> str:
    return "unknown" if value is None else ("met" if value else "MISSED")


def run_section(report: dict[str, Any]) -> str:
    """One run: its facts, objectives, timeline and steps."""
    e = html.escape
    status = str(report.get("status"))
    rows = "".join(
        f"<tr><th>{e(key)}</th><td>{e(str(report[key]))}</td></tr>" for key in FACTS if report.get(key) is not None
    )
    out = [
        '<section class="run">',
        f"<h1>{e(str(report.get('workflow', 'run')).capitalize())} report: "
        f'<span class="status-{e(status)}">{e(status)}</span></h1>',
        f"<table class='facts'>{rows}</table>",
    ]
    if "rto" in report:
        rto, rpo = report["rto"], report["rpo"]
        out.append(
            "<h2>Objectives</h2><table><tr><th></th><th>measured</th><th>objective</th><th>met</th></tr>"
            f"<tr><td>RTO</td><td>{_seconds(rto['seconds'])}</td><td>{rto['objective_seconds']} s</td>"
            f"<td>{_met(rto['met'])}</td></tr>"
            f"<tr><td>RPO</td><td>{_seconds(rpo['seconds'])}</td><td>{rpo['objective_seconds']} s</td>"
            f"<td>{_met(rpo['met'])}</td></tr></table>"
        )
    if "restore_time" in report:
        rt = report["restore_time"]
        out.append(
            f"<h2>Restore time</h2><p>slowest restore {_seconds(rt.get('seconds'))} against the RTO of "
            f"{rt.get('objective_seconds')} s: {_met(rt.get('met'))}</p>"
        )
    if report.get("findings") is not None:
        out.append(f"<h2>Findings</h2><p>{len(report['findings'])} finding(s)</p>")
    out.append(timeline.html_section(report))
    if report.get("steps"):
        steps = "".join(
            f"<tr><td>{e(s['name'])}</td><td>{e(str(s['started_at']))}</td><td>{e(str(s['finished_at'] or ''))}</td>"
            f"<td>{e(str(s['status']))}</td></tr>"
            for s in report["steps"]
        )
        out.append(
            "<h2>Steps</h2><table class='steps'><tr><th>step</th><th>started</th><th>finished</th><th>status</th>"
            f"</tr>{steps}</table>"
        )
    out.append("</section>")
    return "".join(out)


def report_page(report: dict[str, Any]) -> str:
    """A run's page; a game day's page holds its failover and its failback."""
    if report.get("workflow") == "gameday":
        runs = [r for r in (report.get("failover"), report.get("failback")) if r]
        body = (
            f"<h1>Game day: <span class='status-{html.escape(str(report.get('status')))}'>"
            f"{html.escape(str(report.get('status')))}</span></h1>" + "".join(run_section(r) for r in runs)
        )
        return page("Game day report", body)
    return page(f"{report.get('workflow', 'run')} report", run_section(report))
