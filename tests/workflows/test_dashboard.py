"""The DR posture dashboard: template.yaml's CloudWatch dashboard deploys (checked as PutDashboard checks a
body), names metrics the code publishes, and ``drctl dashboard`` draws its panels with data, in a browser."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from drctl.cli import main
from localcloud import dashboards
from localcloud.cloud import LocalCloud
from localcloud.errors import TemplateError
from localcloud.scenario import Platform
from tests.conftest import CHROMIUM_FLAGS

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def test_the_dashboard_deploys_with_every_reference_resolved(platform: Platform) -> None:
    name = platform.stack.physical("PostureDashboard")
    body = platform.cloud.client("cloudwatch", "us-west-2").get_dashboard(DashboardName=name)["DashboardBody"]
    assert name == "roadcall-dr-dr-posture"
    assert dashboards.validate(body) == []
    named = dashboards.metrics(body)
    assert {m["namespace"] for m in named} == {"RoadCallDR", "AWS/RDS", "AWS/States"}
    arns = {m["dimensions"]["StateMachineArn"] for m in named if m["namespace"] == "AWS/States"}
    assert arns == {
        platform.stack.arn(lid)
        for lid in (
            "FailoverStateMachine",
            "FailbackStateMachine",
            "BackupVerificationStateMachine",
            "RestoreTestStateMachine",
        )
    }
    widgets = json.loads(body)["widgets"]
    rto = next(w for w in widgets if w["properties"]["title"].startswith("RTO"))
    assert rto["properties"]["annotations"]["horizontal"][0]["value"] == 3600  # the stack's RtoSeconds


def test_every_metric_of_the_app_the_dashboard_names_is_one_the_code_publishes() -> None:
    template = (ROOT / "template.yaml").read_text()
    body = template.split("DashboardBody: !Sub |", 1)[1].split("\n\n", 1)[0]
    names = set(re.findall(r'\["RoadCallDR", "([A-Za-z]+)"', body))
    code = "\n".join(p.read_text() for p in (ROOT / "functions" / "dr").rglob("*.py"))
    assert len(names) >= 6
    assert sorted(n for n in names if f'"{n}"' not in code and f"'{n}'" not in code) == []


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("{not json", "not valid JSON"),
        ('{"widgets": {}}', "widgets: required, an array"),
        ('{"widgets": [{"type": "metric", "properties": {"metrics": [["NS", "M"]]}}]}', "must name its region"),
        (
            '{"widgets": [{"type": "metric", "properties": {"region": "r", "metrics": [["NS", "M", "Dim"]]}}]}',
            "dimension 'Dim' has no value",
        ),
        (
            '{"widgets": [{"type": "metric", "x": 20, "width": 12, "properties": {"region": "r", "metrics": []}}]}',
            "outside the 24-column grid",
        ),
        (
            '{"widgets": [{"type": "metric", "properties": {"region": "r", '
            '"metrics": [["NS", "M", {"yAxis": "up"}]]}}]}',
            "must be 'left' or 'right'",
        ),
        (
            '{"widgets": [{"type": "metric", "properties": {"region": "r", "period": 61, "metrics": []}}]}',
            "multiple of 60",
        ),
        ('{"widgets": [{"type": "metric", "properties": {"region": "${AWS::Region}", "metrics": []}}]}', "unresolved"),
        ('{"widgets": [{"type": "chart", "properties": {}}]}', "is not one of"),
    ],
)
def test_a_body_putdashboard_would_refuse_is_refused(body: str, problem: str) -> None:
    problems = dashboards.validate(body)
    assert any(problem in p for p in problems), problems


def test_the_dot_shorthand_repeats_the_previous_row() -> None:
    body = json.dumps(
        {
            "widgets": [
                {
                    "type": "metric",
                    "properties": {
                        "region": "us-west-2",
                        "title": "t",
                        "metrics": [["NS", "A", "D", "x"], [".", "B", ".", "y", {"label": "b"}]],
                    },
                }
            ]
        }
    )
    assert dashboards.validate(body) == []
    assert [(m["namespace"], m["name"], m["dimensions"]) for m in dashboards.metrics(body)] == [
        ("NS", "A", {"D": "x"}),
        ("NS", "B", {"D": "y"}),
    ]


def test_the_deployer_refuses_a_dashboard_putdashboard_would_refuse(cloud: LocalCloud, tmp_path: Path) -> None:
    template = tmp_path / "template.yaml"
    widget = {"type": "metric", "properties": {"region": "us-west-2", "metrics": [["RoadCallDR", "X", "Severity"]]}}
    template.write_text(
        "Resources:\n  Board:\n    Type: AWS::CloudWatch::Dashboard\n    Properties:\n"
        f"      DashboardName: broken\n      DashboardBody: '{json.dumps({'widgets': [widget]})}'\n"
    )
    with pytest.raises(TemplateError, match=r"dashboard Board.*widgets\[0\]\.properties\.metrics\[0\]: dimension"):
        cloud.deploy(template, "us-west-2", "bad")
    assert cloud.client("cloudwatch", "us-west-2").list_dashboards()["DashboardEntries"] == []


@pytest.fixture(scope="module")
def page() -> Iterator[tuple[Path, dict[str, Any]]]:
    """``drctl dashboard`` on the embedded AWS, once for the module: the page and drctl's summary."""
    folder = Path(tempfile.mkdtemp(prefix="dr-dashboard-"))
    path = folder / "dashboard.html"
    captured: list[str] = []
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["dashboard", "--output", str(path)])
    captured.append(out.getvalue())
    assert code == 0, captured
    yield path, json.loads(captured[0])
    shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.xdist_group("dashboard-page")  # shares a module fixture: one worker builds it
def test_drctl_dashboard_writes_one_self_contained_page_with_data(page: tuple[Path, dict[str, Any]]) -> None:
    path, summary = page
    text = path.read_text()
    # one page, the charting library inside it, nothing loaded from anywhere (no src, href, url() or request)
    assert "Chart.js v4.6.1" in text
    assert not re.search(r"\b(src|href)\s*=|url\(|@import|fetch\(|XMLHttpRequest|import\(", text)
    # every panel of the template's dashboard, each with data from the workflows that ran
    titles = [p["title"] for p in summary["panels"]]
    assert len(titles) == 7 and all(p["points"] > 0 for p in summary["panels"]), summary
    series = {name: n for p in summary["panels"] for name, n in p["series"].items()}
    for name in (
        "failover RTO",
        "failover RPO",
        "Aurora exposure (s)",
        "DynamoDB heartbeat exposure (s)",
        "S3 heartbeat exposure (s)",
        "readiness HIGH",
        "backup findings",
        "failover started",
        "failover succeeded",
        "verification succeeded",
        "PrimaryEndpointHealthy",
    ):
        assert series[name] > 0, name
    assert series["PrimaryEndpointHealthy"] >= 20  # a probe a minute
    assert series["failover failed"] == 0


@pytest.mark.xdist_group("dashboard-page")  # shares a module fixture: one worker builds it
@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium here (Debian's chromium package draws the page)")
def test_the_page_opens_in_a_browser_and_draws_every_chart_with_its_points(page: tuple[Path, dict[str, Any]]) -> None:
    path, summary = page
    profile = tempfile.mkdtemp(prefix="chromium-")
    flags = [
        *CHROMIUM_FLAGS,
        f"--user-data-dir={profile}",
        "--virtual-time-budget=10000",
        "--host-resolver-rules=MAP * ~NOTFOUND",  # no name resolves: the page must need no network
    ]
    try:
        dom = subprocess.run(
            [str(CHROMIUM), *flags, "--dump-dom", path.as_uri()],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        ).stdout
        shot = path.with_suffix(".png")
        subprocess.run(
            [str(CHROMIUM), *flags, "--window-size=1400,2200", f"--screenshot={shot}", path.as_uri()],
            capture_output=True,
            timeout=120,
            check=True,
        )
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    body = re.search(r"<body[^>]*>", dom)
    assert body, dom[:500]
    rendered = int(re.search(r'data-rendered="(\d+)"', body.group(0)).group(1))  # type: ignore[union-attr]
    points = int(re.search(r'data-points="(\d+)"', body.group(0)).group(1))  # type: ignore[union-attr]
    assert rendered == len(summary["panels"])
    assert points >= sum(p["points"] for p in summary["panels"])  # the series' points, plus the objectives' lines
    assert shot.stat().st_size > 50_000  # a screenshot with the charts, for a person to look at
