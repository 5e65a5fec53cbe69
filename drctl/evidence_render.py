"""How the evidence pack reads: Markdown for an auditor's folder or a ticket, one self-contained HTML page
(the period at a glance as inline SVG: one row per kind of evidence, one mark per run), a short text for a
terminal; JSON is the pack itself."""

from __future__ import annotations

import html
import json
from datetime import datetime
from typing import Any

from drctl.html import page

KIND_TITLE = {
    "failover": "Failover drills (and incidents)",
    "failback": "Failback drills",
    "restore-test": "Restore tests",
    "backup-verification": "Backup verifications",
    "readiness": "Readiness evaluations",
}
STATUS_WORD = {"evidenced": "evidenced", "gap": "GAP", "no evidence": "NO EVIDENCE"}


def _day(value: Any) -> str:
    return str(value or "")[:10]


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _seconds(value: Any) -> str:
    return "unknown" if value is None else f"{float(value):.0f} s"


def _met(obj: dict[str, Any] | None) -> str:
    if not obj:
        return "n/a"
    met = obj.get("met")
    return f"{_seconds(obj.get('seconds'))} ({'met' if met else 'MISSED' if met is False else 'unknown'})"


def _split(item: dict[str, Any]) -> str:
    split = item.get("time_split")
    if not split:
        return ""
    return (
        f"own {float(split.get('orchestration', 0)):.1f} s, AWS {float(split.get('aws', 0)):.0f} s, "
        f"people {float(split.get('people', 0)):.0f} s"
    )


def _results(item: dict[str, Any]) -> str:
    parts = []
    for r in item.get("results") or []:
        data = (
            ""
            if r.get("data_read") is None
            else f", {r['data_read']} {r.get('data_kind')} matched {r.get('data_matched')}"
        )
        parts.append(f"{r['resource']}: {r['status']} {_seconds(r.get('restore_seconds'))}{data}")
    return "; ".join(parts)


def _rows(pack: dict[str, Any], kind: str) -> tuple[list[str], list[list[str]]]:
    items = [i for i in pack["evidence"] if i["kind"] == kind]
    if kind in ("failover", "failback"):
        head = ["date", "run", "mode", "started by", "outcome", "RTO", "RPO", "where the time went", "findings"]
        rows = [
            [
                _day(i["at"]),
                i["name"],
                str(i.get("mode") or ""),
                "alarm (incident)" if not i["drill"] else "person (drill)",
                i["outcome"],
                _met(i["objectives"].get("rto")),
                _met(i["objectives"].get("rpo")),
                _split(i),
                "; ".join(i["findings"]),
            ]
            for i in items
        ]
    elif kind == "restore-test":
        head = ["date", "run", "mode", "outcome", "slowest restore vs RTO", "resources", "findings"]
        rows = [
            [
                _day(i["at"]),
                i["name"],
                str(i.get("mode") or ""),
                i["outcome"],
                _met(i["objectives"].get("restore_time")),
                _results(i),
                "; ".join(i["findings"]),
            ]
            for i in items
        ]
    elif kind == "backup-verification":
        head = ["date", "run", "outcome", "resources checked", "findings"]
        rows = [
            [
                _day(i["at"]),
                i["name"],
                i["outcome"],
                str(i["objectives"].get("resources_checked")),
                "; ".join(i["findings"]) or "none",
            ]
            for i in items
        ]
    else:
        head = ["date", "run", "outcome", "findings"]
        rows = [[_day(i["at"]), i["name"], i["outcome"], "; ".join(i["findings"])] for i in items]
    return head, rows


def as_markdown(pack: dict[str, Any]) -> str:
    period = pack["period"]
    out = [
        f"# DR evidence pack: {_day(period['since'])} to {_day(period['until'])} ({period['days']} days)",
        "",
        f"Source: {pack['source']}. What each control asks and how each run evidences it: docs/evidence-pack.md.",
    ]
    if pack["notes"]:
        out += ["", *[f"> {note}" for note in pack["notes"]]]
    out += ["", "## Summary", "", "| evidence | runs | passed |", "| --- | --- | --- |"]
    out += [f"| {KIND_TITLE[k]} | {v['runs']} | {v['passed']} |" for k, v in pack["summary"].items()]
    out += [
        "",
        "## Controls",
        "",
        "| control | what it asks | evidence in the period | status |",
        "| --- | --- | --- | --- |",
    ]
    for c in pack["controls"]:
        gaps = f" (gaps {', '.join(str(n + 1) for n in c['gaps'])})" if c["gaps"] else ""
        out.append(
            f"| {c['framework']} {c['ref']}: {_cell(c['title'])} | {_cell(c['asks'])} | {c['passing']} passing of "
            f"{len(c['evidence'])} ({', '.join(c['requires'])}) | **{STATUS_WORD[c['status']]}**{gaps} |"
        )
    out += ["", "## Gaps", ""]
    out += [f"{n}. {_cell(g['gap'])} (controls: {', '.join(g['controls'])})" for n, g in enumerate(pack["gaps"], 1)]
    if not pack["gaps"]:
        out.append("None: every control has passing evidence in the period.")
    out += ["", "## Evidence"]
    for kind, title in KIND_TITLE.items():
        head, rows = _rows(pack, kind)
        if not rows:
            continue
        out += ["", f"### {title}", "", "| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
        out += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    out += ["", "Every run's full record: `drctl report EXECUTION` (the audit record) and the s3:// reports listed"]
    out += ["in the JSON pack (`--output json`, field `evidence`)."]
    return "\n".join(out) + "\n"


def as_text(pack: dict[str, Any]) -> str:
    period = pack["period"]
    lines = [f"evidence pack {_day(period['since'])} .. {_day(period['until'])}: {pack['source']}"]
    lines += [f"  note: {n}" for n in pack["notes"]]
    for k, v in pack["summary"].items():
        lines.append(f"  {k:<20} {v['runs']:>3} run(s), {v['passed']:>3} passed")
    lines.append("controls:")
    lines += [f"  {STATUS_WORD[c['status']]:<12} {c['framework']} {c['ref']}: {c['title']}" for c in pack["controls"]]
    lines.append("gaps:" if pack["gaps"] else "gaps: none")
    lines += [f"  {n}. {g['gap']}" for n, g in enumerate(pack["gaps"], 1)]
    return "\n".join(lines)


# -- HTML ------------------------------------------------------------------------------------------------
def _when(value: Any) -> datetime:
    return datetime.fromisoformat(str(value))


def glance(pack: dict[str, Any]) -> str:
    """The period at a glance: a row per kind of evidence, a mark per run (green passed, red not)."""
    since, until = _when(pack["period"]["since"]), _when(pack["period"]["until"])
    span = max((until - since).total_seconds(), 1.0)
    left, width, row = 190, 700, 26
    kinds = list(KIND_TITLE)
    height = 30 + row * len(kinds) + 20
    parts = [
        f'<svg class="glance" xmlns="http://www.w3.org/2000/svg" width="{left + width + 20}" height="{height}" '
        f'role="img" aria-label="the period at a glance">'
    ]
    for n, kind in enumerate(kinds):
        y = 30 + n * row
        parts.append(
            f'<text class="row-label" x="{left - 8}" y="{y + 4}">{html.escape(KIND_TITLE[kind])}</text>'
            f'<line class="lane" x1="{left}" y1="{y}" x2="{left + width}" y2="{y}" />'
        )
        for i in (i for i in pack["evidence"] if i["kind"] == kind and i.get("at")):
            x = left + (_when(i["at"]) - since).total_seconds() / span * width
            fill = "#1d7a3a" if i["passed"] else "#b3261e"
            tip = html.escape(f"{_day(i['at'])} {i['name']}: {i['outcome']}")
            parts.append(
                f'<circle class="run {"passed" if i["passed"] else "failed"}" data-kind="{kind}" cx="{x:.1f}" '
                f'cy="{y}" r="6" fill="{fill}"><title>{tip}</title></circle>'
            )
    parts.append(
        f'<text class="tick-label" x="{left}" y="{height - 4}">{_day(pack["period"]["since"])}</text>'
        f'<text class="tick-label end" x="{left + width}" y="{height - 4}">{_day(pack["period"]["until"])}</text>'
        "</svg>"
    )
    return "".join(parts)


def _table(head: list[str], rows: list[list[str]], cls: str = "") -> str:
    e = html.escape
    body = "".join("<tr>" + "".join(f"<td>{e(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table class='{cls}'><tr>" + "".join(f"<th>{e(h)}</th>" for h in head) + f"</tr>{body}</table>"


def as_html(pack: dict[str, Any]) -> str:
    e = html.escape
    period = pack["period"]
    body = [
        f"<h1>DR evidence pack: {e(_day(period['since']))} to {e(_day(period['until']))} ({period['days']} days)</h1>",
        f"<p>Source: {e(pack['source'])}. What each control asks and how each run evidences it: "
        "docs/evidence-pack.md.</p>",
        *[f"<p class='note'>{e(n)}</p>" for n in pack["notes"]],
        "<h2>The period at a glance</h2>",
        glance(pack),
        "<h2>Controls</h2>",
        "<table class='controls'><tr><th>control</th><th>what it asks</th><th>evidence</th><th>status</th></tr>",
    ]
    for c in pack["controls"]:
        cls = "ok" if c["status"] == "evidenced" else "bad"
        body.append(
            f"<tr><td>{e(c['framework'])} {e(c['ref'])}: {e(c['title'])}</td><td>{e(c['asks'])}</td>"
            f"<td>{c['passing']} passing of {len(c['evidence'])} ({e(', '.join(c['requires']))})</td>"
            f"<td class='{cls}'>{e(STATUS_WORD[c['status']])}</td></tr>"
        )
    body.append("</table><h2>Gaps</h2>")
    if pack["gaps"]:
        body.append(
            "<ol class='gaps'>"
            + "".join(
                f"<li class='gap'>{e(g['gap'])} "
                f"<span class='note'>(controls: {e(', '.join(g['controls']))})</span></li>"
                for g in pack["gaps"]
            )
            + "</ol>"
        )
    else:
        body.append("<p class='ok'>None: every control has passing evidence in the period.</p>")
    body.append("<h2>Evidence</h2>")
    for kind, title in KIND_TITLE.items():
        head, rows = _rows(pack, kind)
        if rows:
            body += [f"<h3>{e(title)}</h3>", _table(head, rows, f"evidence {kind}")]
    style = (
        "<style>svg.glance text{font:11px system-ui,sans-serif;fill:#1d232a} svg.glance .row-label{text-anchor:end}"
        " svg.glance .lane{stroke:#d5dbe1} svg.glance .end{text-anchor:end}</style>"
    )
    return page("DR evidence pack", style + "".join(body))


def render(pack: dict[str, Any], output: str) -> str:
    if output == "json":
        return json.dumps(pack, indent=2, default=str)
    return {"markdown": as_markdown, "html": as_html}.get(output, as_text)(pack)
