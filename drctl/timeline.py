"""A run's timeline as people look at it: a Mermaid ``gantt`` block for Markdown (GitHub, GitLab and most
wikis draw it), and an inline SVG for the HTML page (no script, no network).

Both draw the report's ``phases`` (dr.timeline: one bar per step, polling loop or Parallel branch, each of
one kind) with the critical path marked, and state the ``time_split``: waiting on AWS, waiting on people,
detection, and the orchestration's own time, which is the part this project controls.
"""

from __future__ import annotations

import html
from datetime import datetime, timedelta
from typing import Any

KIND_ORDER = ("detection", "decision", "people", "aws", "orchestration")
KIND_LABEL = {
    "detection": "detection",
    "decision": "decision",
    "people": "waiting on people",
    "aws": "waiting on AWS",
    "orchestration": "orchestration",
}
KIND_COLOUR = {
    "detection": "#8e6c8a",
    "decision": "#e0a030",
    "people": "#d0587e",
    "aws": "#4a90c2",
    "orchestration": "#5aa469",
}


def _when(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def _pct(part: float, whole: float) -> str:
    return f"{100 * part / whole:.1f} %" if whole > 0 else "0 %"


def total(split: dict[str, float]) -> float:
    return round(sum(float(v) for v in split.values()), 3)


def split_sentence(split: dict[str, float]) -> str:
    """The split in one sentence, the orchestration's own time first."""
    whole = total(split)
    own = float(split.get("orchestration", 0.0))
    return (
        f"Orchestration's own time: {own:.1f} s of {whole:.1f} s ({_pct(own, whole)}), the part this project "
        f"controls. The rest: waiting on AWS {float(split.get('aws', 0)):.1f} s ({_pct(split.get('aws', 0), whole)}), "
        f"waiting on people {float(split.get('people', 0)):.1f} s ({_pct(split.get('people', 0), whole)}), "
        f"detection {float(split.get('detection', 0)):.1f} s ({_pct(split.get('detection', 0), whole)})."
    )


def text_lines(report: dict[str, Any]) -> list[str]:
    """The split in drctl's text report (nothing when the report has none)."""
    return ["  " + split_sentence(report["time_split"])] if report.get("time_split") else []


# -- Markdown: Mermaid gantt ---------------------------------------------------------------------------
def _mermaid_name(phase: dict[str, Any]) -> str:
    group = "" if phase.get("group") in ("run", "detection", None) else f"{phase['group']} / "
    text = f"{group}{phase['name']} ({float(phase['seconds']):.1f} s)"
    for bad, good in ((":", " -"), ("#", "no."), (";", ","), ("%", " pct")):
        text = text.replace(bad, good)
    return text


def _to_ms(value: datetime) -> datetime:
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def _mermaid_time(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S.") + f"{value.microsecond // 1000:03d}"


def mermaid(report: dict[str, Any]) -> str:
    """The gantt block (without the fence): one section per kind, the critical path's bars tagged ``crit``.
    Times are UTC clock times; a bar shorter than a millisecond is drawn one millisecond long."""
    phases = report.get("phases") or []
    title = f"{report.get('workflow', 'run')} ({report.get('mode', '')}) {report.get('status', '')}, times UTC"
    lines = [
        "gantt",
        f"    title {title.replace(':', ' -')}",
        "    dateFormat YYYY-MM-DD HH:mm:ss.SSS",
        "    axisFormat %H:%M:%S",
        "    todayMarker off",
    ]
    for kind in KIND_ORDER:
        of_kind = [p for p in phases if p.get("kind") == kind]
        if not of_kind:
            continue
        lines.append(f"    section {KIND_LABEL[kind]}")
        for n, phase in enumerate(of_kind):
            start = _to_ms(_when(phase["started_at"]))
            end = max(_to_ms(_when(phase["finished_at"])), start + timedelta(milliseconds=1))
            tags = "crit, " if phase.get("critical") else ""
            lines.append(
                f"    {_mermaid_name(phase)} :{tags}{kind[:3]}{n}, {_mermaid_time(start)}, {_mermaid_time(end)}"
            )
    return "\n".join(lines)


def markdown_section(report: dict[str, Any]) -> list[str]:
    """'Where the time went': the gantt, the split (the orchestration's own time stated plainly), the
    critical path. Empty when the report has no phases."""
    phases = report.get("phases") or []
    split = report.get("time_split")
    if not phases or not split:
        return []
    whole = total(split)
    out = [
        "",
        "## Where the time went",
        "",
        f"**{split_sentence(split)}**",
        "",
        "```mermaid",
        mermaid(report),
        "```",
        "",
        "| time | seconds | share |",
        "| --- | --- | --- |",
    ]
    for key, label in (
        ("orchestration", "orchestration's own time (this project)"),
        ("aws", "waiting on AWS"),
        ("people", "waiting on people"),
        ("detection", "detection (before the run started)"),
    ):
        out.append(f"| {label} | {float(split.get(key, 0)):.1f} | {_pct(float(split.get(key, 0)), whole)} |")
    out.append(f"| **the run, detection to end** | **{whole:.1f}** | 100 % |")
    critical = [p for p in phases if p.get("critical") and float(p.get("seconds", 0)) >= 0.05]
    if critical:
        out += [
            "",
            "Critical path (steps of 0.05 s or more): "
            + " → ".join(f"{_mermaid_name(p)} [{p['kind']}]" for p in critical),
        ]
    return out


# -- HTML: inline SVG -----------------------------------------------------------------------------------
ROW = 22
LABEL_WIDTH = 330
CHART_WIDTH = 640
TOP = 34


def _ticks(seconds: float) -> float:
    for step in (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400):
        if seconds / step <= 8:
            return float(step)
    return seconds / 8


def svg(report: dict[str, Any]) -> str:
    """The timeline as an SVG element: one row per phase (in order of start), bars coloured by kind, the
    critical path outlined, a time axis in seconds from the first phase's start."""
    phases = sorted(report.get("phases") or [], key=lambda p: (_when(p["started_at"]), p.get("group", "")))
    if not phases:
        return '<p class="empty">No timeline: the report has no phases.</p>'
    begin = min(_when(p["started_at"]) for p in phases)
    end = max(_when(p["finished_at"]) for p in phases)
    span = max((end - begin).total_seconds(), 0.001)
    scale = CHART_WIDTH / span
    height = TOP + ROW * len(phases) + 40
    width = LABEL_WIDTH + CHART_WIDTH + 20
    label = html.escape(f"timeline of {report.get('execution', 'the run')}")
    parts = [
        f'<svg class="timeline" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{label}">'
    ]
    step = _ticks(span)
    tick = 0.0
    while tick <= span + 1e-9:
        x = LABEL_WIDTH + tick * scale
        parts.append(
            f'<line class="tick" x1="{x:.1f}" y1="{TOP - 6}" x2="{x:.1f}" y2="{height - 34}" />'
            f'<text class="tick-label" x="{x:.1f}" y="{TOP - 10}">{tick:g} s</text>'
        )
        tick += step
    for row, phase in enumerate(phases):
        y = TOP + row * ROW
        start = (_when(phase["started_at"]) - begin).total_seconds()
        seconds = max(float(phase.get("seconds", 0.0)), 0.0)
        x = LABEL_WIDTH + start * scale
        w = max(seconds * scale, 1.5)
        kind = str(phase.get("kind"))
        critical = " critical" if phase.get("critical") else ""
        group = "" if phase.get("group") in ("run", "detection", None) else f"{phase['group']} / "
        label = html.escape(f"{group}{phase['name']}")
        tip = html.escape(
            f"{group}{phase['name']}: {KIND_LABEL.get(kind, kind)}, {seconds:.3f} s from {phase['started_at']}"
            + (" (critical path)" if critical else "")
        )
        parts.append(
            f'<text class="row-label" x="{LABEL_WIDTH - 8}" y="{y + 15}">{label}</text>'
            f'<rect class="bar kind-{kind}{critical}" data-kind="{kind}" data-seconds="{seconds:.3f}" '
            f'x="{x:.2f}" y="{y + 3}" width="{w:.2f}" height="{ROW - 6}" rx="2" '
            f'fill="{KIND_COLOUR.get(kind, "#999")}"><title>{tip}</title></rect>'
        )
    legend_y = height - 14
    x = LABEL_WIDTH
    for kind in KIND_ORDER:
        parts.append(
            f'<rect class="legend kind-{kind}" x="{x}" y="{legend_y - 10}" width="12" height="12" '
            f'fill="{KIND_COLOUR[kind]}" /><text class="legend-label" x="{x + 16}" y="{legend_y}">'
            f"{KIND_LABEL[kind]}</text>"
        )
        x += 125
    parts.append("</svg>")
    return "".join(parts)


def html_section(report: dict[str, Any]) -> str:
    """The timeline, the split and its sentence, for the HTML page."""
    split = report.get("time_split")
    if not split:
        return '<section class="timeline"><h2>Where the time went</h2><p>No timeline recorded.</p></section>'
    whole = total(split)
    rows = "".join(
        f'<tr class="split-{key}"><td><span class="swatch" style="background:{KIND_COLOUR[key]}"></span>'
        f"{html.escape(label)}</td><td>{float(split.get(key, 0)):.1f} s</td>"
        f"<td>{_pct(float(split.get(key, 0)), whole)}</td></tr>"
        for key, label in (
            ("orchestration", "orchestration's own time (this project)"),
            ("aws", "waiting on AWS"),
            ("people", "waiting on people"),
            ("detection", "detection (before the run started)"),
        )
    )
    return (
        '<section class="timeline"><h2>Where the time went</h2>'
        f'<p class="own-time"><strong>{html.escape(split_sentence(split))}</strong></p>'
        f'<div class="chart">{svg(report)}</div>'
        f'<table class="split"><thead><tr><th>time</th><th>seconds</th><th>share</th></tr></thead><tbody>{rows}'
        f"<tr><th>the run, detection to end</th><th>{whole:.1f} s</th><th>100 %</th></tr></tbody></table>"
        "<p class='note'>Outlined bars are the critical path: through parallel branches, the branch that ended "
        "last. The split follows the critical path, so its parts add up to the run's duration.</p></section>"
    )
