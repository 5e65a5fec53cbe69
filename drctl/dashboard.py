"""``drctl dashboard``: the stack's CloudWatch dashboard of the DR posture as one self-contained HTML page.

The panels are the dashboard's own (GetDashboard on the stack's ``PostureDashboard``: template.yaml is the
one definition): each metric widget becomes a chart of the same metrics, statistics and periods, with its
horizontal annotations (the RTO and RPO objectives) drawn as lines, and a table of each series' newest
value. The data comes from GetMetricData in the target (an account with ``--stack``, a localcloud server,
or the embedded platform built for the command, where a few workflows run first so every panel has
something to show). Chart.js is read from the project's pinned npm package (node_modules/chart.js,
package.json) and written into the page: the page loads nothing from anywhere.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from drctl.target import Target, TargetError
from localcloud.dashboards import metrics as named_metrics

ROOT = Path(__file__).resolve().parent.parent
CHART_JS = ROOT / "node_modules" / "chart.js" / "dist" / "chart.umd.min.js"
MAX_QUERIES = 500  # GetMetricData takes at most 500 queries per call
COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22")


@dataclass
class Series:
    label: str
    namespace: str
    name: str
    dimensions: dict[str, str]
    stat: str
    period: int
    axis: str = "left"
    points: list[tuple[str, float]] = field(default_factory=list)  # (ISO time, value), oldest first


@dataclass
class Panel:
    title: str
    region: str
    series: list[Series]
    annotations: list[dict[str, Any]]  # horizontal: {"label", "value"}


@dataclass
class Window:
    """The time the charts show (every chart the same, as on a CloudWatch dashboard)."""

    start: datetime
    end: datetime


def panels_of(body: str) -> list[Panel]:
    """The metric widgets of a dashboard body, as panels (no data yet)."""
    widgets = [w for w in json.loads(body)["widgets"] if w.get("type") == "metric"]
    named = named_metrics(body)
    out: list[Panel] = []
    for widget in widgets:
        props = widget["properties"]
        title = str(props.get("title", ""))
        series = [
            Series(
                label=str(m["options"].get("label") or f"{m['namespace']} {m['name']}"),
                namespace=m["namespace"],
                name=m["name"],
                dimensions=m["dimensions"],
                stat=str(m["options"].get("stat") or props.get("stat") or "Average"),
                period=int(m["options"].get("period") or props.get("period") or 300),
                axis=str(m["options"].get("yAxis") or "left"),
            )
            for m in named
            if m["widget"] == title
        ]
        notes = [n for n in (props.get("annotations") or {}).get("horizontal") or [] if isinstance(n, dict)]
        out.append(Panel(title, str(props.get("region", "")), series, notes))
    return out


def fetch(target: Target, panels: list[Panel], window: Window) -> None:
    """Fill every series with its datapoints in ``window`` (GetMetricData, per region)."""
    start, end = window.start, window.end
    by_region: dict[str, list[Series]] = {}
    for panel in panels:
        by_region.setdefault(panel.region or target.region, []).extend(panel.series)
    for region, series in by_region.items():
        cloudwatch = target.client("cloudwatch", region)
        for offset in range(0, len(series), MAX_QUERIES):
            batch = series[offset : offset + MAX_QUERIES]
            queries = [
                {
                    "Id": f"m{n}",
                    "MetricStat": {
                        "Metric": {
                            "Namespace": s.namespace,
                            "MetricName": s.name,
                            "Dimensions": [{"Name": k, "Value": v} for k, v in s.dimensions.items()],
                        },
                        "Period": s.period,
                        "Stat": s.stat,
                    },
                }
                for n, s in enumerate(batch)
            ]
            pages = cloudwatch.get_paginator("get_metric_data").paginate(
                MetricDataQueries=queries, StartTime=start, EndTime=end, ScanBy="TimestampAscending"
            )
            for page in pages:
                for result in page.get("MetricDataResults", []):
                    one = batch[int(str(result["Id"])[1:])]
                    for at, value in zip(result.get("Timestamps", []), result.get("Values", []), strict=False):
                        moment = at if at.tzinfo else at.replace(tzinfo=UTC)
                        one.points.append((moment.isoformat(), float(value)))
    for panel in panels:
        for s in panel.series:
            s.points.sort()


def load(target: Target, hours: float) -> tuple[str, list[Panel], Window]:
    """The stack's dashboard (name and panels) with the data of the last ``hours``."""
    name = target.physical("PostureDashboard")
    cloudwatch = target.client("cloudwatch")
    try:
        body = cloudwatch.get_dashboard(DashboardName=name)["DashboardBody"]
    except cloudwatch.exceptions.DashboardNotFoundError as err:
        raise TargetError(f"dashboard {name} does not exist in {target.region}: {err}") from err
    panels = panels_of(str(body))
    end = datetime.now(UTC)
    window = Window(end - timedelta(hours=hours), end)
    fetch(target, panels, window)
    return name, panels, window


def chart_library() -> str:
    if not CHART_JS.is_file():
        raise TargetError(f"{CHART_JS} is missing: run `make install` (npm ci installs the pinned chart.js)")
    return CHART_JS.read_text(encoding="utf-8")


def page(name: str, panels: list[Panel], window: Window, source: str, library: str) -> str:
    """One HTML page, Chart.js and the data inside: it opens offline, from a file."""
    data = [
        {
            "title": p.title,
            "annotations": [{"label": str(a.get("label", "")), "value": float(a["value"])} for a in p.annotations],
            "series": [
                {
                    "label": s.label,
                    "axis": s.axis,
                    "color": COLORS[n % len(COLORS)],
                    "points": [{"x": at, "y": v} for at, v in s.points],
                }
                for n, s in enumerate(p.series)
            ],
        }
        for p in panels
    ]
    sections = []
    for n, p in enumerate(panels):
        rows = "".join(
            f"<tr><td>{html.escape(s.label)}</td><td>{html.escape(s.stat)} / {s.period} s</td>"
            f"<td>{len(s.points)}</td><td>{_newest(s)}</td></tr>"
            for s in p.series
        )
        sections.append(
            f'<section class="panel"><h2>{html.escape(p.title)}</h2>'
            f'<div class="chart"><canvas id="chart{n}"></canvas></div>'
            f"<table><tr><th>series</th><th>statistic</th><th>points</th><th>newest</th></tr>{rows}</table></section>"
        )
    payload = json.dumps(data).replace("</", "<\\/")
    span = json.dumps({"start": window.start.isoformat(), "end": window.end.isoformat()})
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(name)}: DR posture</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 1.5rem; color: #222; }}
.grid {{ display: grid; grid-template-columns: repeat(auto-fit, minmax(32rem, 1fr)); gap: 1.5rem; }}
.panel {{ border: 1px solid #ddd; border-radius: 6px; padding: 0.8rem; }}
.chart {{ position: relative; height: 16rem; }}
h2 {{ font-size: 1rem; margin: 0 0 0.5rem; }}
table {{ border-collapse: collapse; font-size: 0.8rem; margin-top: 0.5rem; width: 100%; }}
td, th {{ border-top: 1px solid #eee; padding: 0.15rem 0.4rem; text-align: left; }}
</style></head>
<body data-rendered="0" data-points="0">
<h1>{html.escape(name)}: DR posture</h1>
<p>{html.escape(source)}. From {window.start:%Y-%m-%d %H:%M} to {window.end:%Y-%m-%d %H:%M} UTC: the panels of
the CloudWatch dashboard {html.escape(name)}; objectives are the dashed lines.</p>
<div class="grid">{"".join(sections)}</div>
<script>{library}</script>
<script>
const PANELS = {payload};
const SPAN = {span};
function timeLabel(ms) {{ const d = new Date(ms); return d.toISOString().slice(5, 16).replace("T", " "); }}
let rendered = 0, points = 0;
PANELS.forEach((panel, n) => {{
  const lo = Date.parse(SPAN.start), hi = Date.parse(SPAN.end);
  const datasets = panel.series.map(s => ({{
    label: s.label, borderColor: s.color, backgroundColor: s.color, yAxisID: s.axis === "right" ? "y1" : "y",
    data: s.points.map(p => ({{x: Date.parse(p.x), y: p.y}})), pointRadius: 3, borderWidth: 1.5,
  }}));
  panel.annotations.forEach(a => datasets.push({{
    label: a.label, borderColor: "#555", borderDash: [6, 4], pointRadius: 0, borderWidth: 1, yAxisID: "y",
    data: [{{x: lo, y: a.value}}, {{x: hi, y: a.value}}],
  }}));
  points += datasets.reduce((sum, d) => sum + d.data.length, 0);
  const right = panel.series.some(s => s.axis === "right");
  new Chart(document.getElementById("chart" + n), {{
    type: "line", data: {{datasets}},
    options: {{
      animation: false, maintainAspectRatio: false, parsing: false,
      scales: {{
        x: {{type: "linear", min: lo, max: hi, ticks: {{callback: v => timeLabel(v), maxTicksLimit: 7}}}},
        y: {{beginAtZero: true, position: "left"}},
        y1: {{beginAtZero: true, position: "right", display: right, grid: {{drawOnChartArea: false}}}},
      }},
      plugins: {{legend: {{position: "bottom", labels: {{boxWidth: 12, font: {{size: 10}}}}}}}},
    }},
  }});
  rendered += 1;
}});
document.body.dataset.rendered = String(rendered);
document.body.dataset.points = String(points);
</script>
</body></html>
"""


def _newest(series: Series) -> str:
    if not series.points:
        return "no data"
    at, value = series.points[-1]
    return f"{value:g} at {at[:19].replace('T', ' ')}"


def summary(panels: list[Panel]) -> dict[str, Any]:
    return {
        "panels": [
            {
                "title": p.title,
                "series": {s.label: len(s.points) for s in p.series},
                "points": sum(len(s.points) for s in p.series),
            }
            for p in panels
        ]
    }


def write(path: Path, name: str, panels: list[Panel], window: Window, source: str) -> dict[str, Any]:
    text = page(name, panels, window, source, chart_library())
    path.write_text(text, encoding="utf-8")
    return {"output": str(path), "bytes": len(text.encode()), **summary(panels)}


def local_data(cloud: Any, platform: Any, target: Target) -> list[str]:
    """What runs on the embedded platform before the page is drawn, so each panel has data: a readiness
    evaluation, half an hour of the minute schedules (probe, heartbeats), a backup verification and a planned
    failover, half an hour more and a second evaluation (of the failed-over platform), then two quiet
    minutes: a datapoint of the last second may not be in a query that ends now, in CloudWatch either."""
    from drctl import backups, drill, readiness

    backups.prepare(platform)
    done = []
    with cloud.outage.as_application():
        readiness.evaluate(target)
    done.append("a readiness evaluation")
    for _ in range(30):  # minute by minute: each probe run and heartbeat has its own minute
        cloud.advance(60)
    done.append("30 minutes of the minute schedules (probe, heartbeats)")
    with cloud.outage.as_application():
        for workflow, payload in (
            ("backup-verification", {"reason": "drctl dashboard", "requested_by": "drctl"}),
            ("failover", {"mode": "planned", "reason": "drctl dashboard", "requested_by": "drctl"}),
        ):
            report = drill.run(target, workflow, payload, None, lambda _execution: True, timeout=600)
            done.append(f"{workflow} {report.get('status')}")
    for _ in range(30):
        cloud.advance(60)
    with cloud.outage.as_application():
        readiness.evaluate(target)
    done.append("30 more minutes and a second readiness evaluation")
    cloud.advance(120)
    return done
