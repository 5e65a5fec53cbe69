"""Where a run's time went (dr.timeline) and how people see it (drctl.timeline, drctl.html).

The recorded histories in tests/fixtures are real executions on localcloud (see each file's ``note``): a
planned failover and its failback whose approvals were answered after five minutes, a restore test and a
backup verification. The browser tests open the HTML page and the Markdown's Mermaid block in headless
Chromium (Debian's chromium, driven by Playwright; mermaid from node_modules); without them they are
skipped and the structural tests still run."""

from __future__ import annotations

import html
import json
import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from dr import timeline

from drctl import html as html_page
from drctl import timeline as drawing
from drctl.render import render
from tests.conftest import CHROMIUM_FLAGS

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
MERMAID = ROOT / "node_modules" / "mermaid" / "dist" / "mermaid.min.js"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
BROWSER_ARGS = list(CHROMIUM_FLAGS)


def recorded(name: str) -> dict[str, Any]:
    return dict(json.loads((FIXTURES / f"history_{name}.json").read_text()))


def report_of(name: str, detected_at: str | None = None, workflow: str = "failover") -> dict[str, Any]:
    run = recorded(name)
    detected = detected_at or run["detected_at"]
    return {
        "workflow": workflow,
        "mode": "planned",
        "status": run["status"],
        "execution": run["execution"],
        "detected_at": detected,
        "started_at": run["startDate"],
        "finished_at": run["stopDate"],
        **timeline.breakdown(run["events"], detected, run["startDate"], run["stopDate"]),
    }


def seconds_between(start: str, end: str) -> float:
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


def by_name(phases: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [p for p in phases if p["name"] == name]


# -- the split -------------------------------------------------------------------------------------------
def test_a_planned_failover_splits_into_people_aws_and_the_orchestrations_own_time() -> None:
    # Given a planned failover whose approval was answered after five minutes
    report = report_of("failover_planned")
    phases, split = report["phases"], report["time_split"]

    # Then the approval gate is the people's time, the writer's polling loop is AWS's, in one bar each
    (approval,) = by_name(phases, "RequestApproval")
    assert approval["kind"] == "people" and 299 < approval["seconds"] < 302 and approval["critical"]
    (loop,) = [p for p in phases if p["name"].startswith("WaitForWriter x")]
    assert loop["kind"] == "aws" and loop["group"] == "Promote" and loop["critical"]
    assert "CheckAuroraWriter x" in loop["name"] and loop["seconds"] > 140
    assert split["people"] == pytest.approx(approval["seconds"], abs=0.01)
    assert split["aws"] >= loop["seconds"]
    # and what remains is the orchestration's own, a few seconds
    assert 0 < split["orchestration"] < 15 and split["detection"] == 0


def test_the_split_adds_up_to_the_runs_duration_from_detection_to_the_end() -> None:
    # Given the alarm was raised 90 s before the execution started
    run = recorded("failover_planned")
    detected = (datetime.fromisoformat(run["startDate"]) - timedelta(seconds=90)).isoformat()
    report = report_of("failover_planned", detected_at=detected)

    # Then detection is its own first phase, and the four figures add up to the run, to the millisecond
    first = report["phases"][0]
    assert (first["name"], first["kind"], first["seconds"]) == ("detection", "detection", 90.0)
    assert report["time_split"]["detection"] == 90.0
    assert round(sum(report["time_split"].values()), 3) == seconds_between(detected, run["stopDate"])


@pytest.mark.parametrize("name", ["failover_planned", "failback_planned", "restore_test", "backup_verification"])
def test_every_recorded_workflow_adds_up(name: str) -> None:
    run = recorded(name)
    out = timeline.breakdown(run["events"], None, run["startDate"], run["stopDate"])
    assert set(out["time_split"]) == {"aws", "people", "orchestration", "detection"}
    assert round(sum(out["time_split"].values()), 3) == seconds_between(run["startDate"], run["stopDate"])
    assert all(p["kind"] in timeline.KINDS and p["seconds"] >= 0 for p in out["phases"])


def test_parallel_branches_are_parallel_bars_and_the_critical_path_takes_the_one_that_ended_last() -> None:
    phases = report_of("failover_planned")["phases"]
    readiness = [p for p in phases if p["group"] == "AssessReadiness"]
    assert sorted(p["name"] for p in readiness) == [
        "CheckAurora",
        "CheckBackups",
        "CheckDynamoDB",
        "CheckEndpoints",
        "CheckS3",
    ]
    assert all(p["kind"] == "decision" for p in readiness)
    last = max(readiness, key=lambda p: p["finished_at"])
    assert [p["name"] for p in readiness if p["critical"]] == [last["name"]]
    # the promotion's three stores: the Aurora branch waited longest, so it is the critical one
    promote = {p["name"]: p for p in phases if p["group"] == "Promote"}
    assert {"PromoteAurora", "ConfirmDynamoDB", "RecordS3Backlog"} <= set(promote)
    assert not promote["ConfirmDynamoDB"]["critical"] and not promote["RecordS3Backlog"]["critical"]


def test_a_map_iteration_is_a_bar_group_and_restore_jobs_are_time_spent_waiting_on_aws() -> None:
    report = report_of("restore_test", workflow="restore-test")
    iterations = {p["group"] for p in report["phases"] if p["group"].startswith("RestoreResources #")}
    assert iterations == {"RestoreResources #0", "RestoreResources #1", "RestoreResources #2"}
    loops = [p for p in report["phases"] if p["name"].startswith("WaitForRestore x")]
    assert len(loops) == 3 and all(p["kind"] == "aws" for p in loops)
    slowest = max(loops, key=lambda p: p["finished_at"])
    assert [p["group"] for p in loops if p["critical"]] == [slowest["group"]]
    assert report["time_split"]["aws"] > 0.95 * sum(report["time_split"].values())


def _event(n: int, prev: int, kind: str, at: datetime, **details: Any) -> dict[str, Any]:
    key = kind[0].lower() + kind[1:] + "EventDetails"
    return {"id": n, "previousEventId": prev, "type": kind, "timestamp": at, key: details}


def test_a_failed_run_ends_its_open_steps_where_it_failed() -> None:
    # Given a run whose second step fails and the execution fails with it
    t0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    at = [t0 + timedelta(seconds=s) for s in (0, 0, 1, 1, 2, 2, 32, 40)]
    history = [
        _event(1, 0, "ExecutionStarted", at[0]),
        _event(2, 1, "TaskStateEntered", at[1], name="ValidateInput"),
        _event(3, 2, "TaskScheduled", at[2], resource="invoke", resourceType="lambda"),
        _event(4, 3, "TaskStateExited", at[3], name="ValidateInput"),
        _event(5, 4, "TaskStateEntered", at[4], name="ConfirmDynamoDB"),
        _event(6, 5, "TaskScheduled", at[5], resource="invoke", resourceType="lambda"),
        _event(7, 6, "TaskFailed", at[6], error="ReplicaNotReady"),
        _event(8, 7, "ExecutionFailed", at[7], error="ReplicaNotReady"),
    ]
    out = timeline.breakdown(history, None, None, None)
    (confirm,) = by_name(out["phases"], "ConfirmDynamoDB")
    # Then the failed step's bar ends at the failure and is counted as waiting on AWS; the split adds up
    assert confirm["finished_at"] == at[7].isoformat() and confirm["kind"] == "aws"
    assert round(sum(out["time_split"].values()), 3) == 40.0


def test_a_map_of_many_iterations_draws_the_slowest_ones_and_one_bar_for_the_rest() -> None:
    t0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    history = [
        _event(1, 0, "ExecutionStarted", t0),
        _event(2, 1, "MapStateEntered", t0, name="VerifyResources"),
        _event(3, 2, "MapStateStarted", t0),
    ]
    n = 4
    for index in range(30):
        end = t0 + timedelta(seconds=10 + index)
        history += [
            _event(n, 3, "MapIterationStarted", t0, name="VerifyResources", index=index),
            _event(n + 1, n, "TaskStateEntered", t0, name="VerifyBatch"),
            _event(n + 2, n + 1, "TaskStateExited", end, name="VerifyBatch"),
        ]
        n += 3
    history.append(_event(n, n - 1, "MapStateExited", t0 + timedelta(seconds=40), name="VerifyResources"))
    phases = timeline.breakdown(history, None, None, None)["phases"]
    assert len([p for p in phases if p["name"] == "VerifyBatch"]) == timeline.MAX_ITERATION_BARS
    (rest,) = [p for p in phases if p["name"] == f"{30 - timeline.MAX_ITERATION_BARS} more iterations"]
    assert rest["group"] == "VerifyResources" and not rest["critical"]
    (critical,) = [p for p in phases if p["critical"]]
    assert (critical["group"], critical["seconds"]) == ("VerifyResources #29", 39.0)


def test_a_history_that_cannot_be_read_leaves_the_report_without_phases_and_says_why(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def denied(_execution: str) -> list[dict[str, Any]]:
        raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "GetExecutionHistory")

    monkeypatch.setattr(timeline, "read_history", denied)
    out = timeline.of_execution("arn:aws:states:us-west-2:1:execution:x:y", None, datetime.now(UTC))
    assert out["phases"] == [] and out["time_split"] is None
    assert "AccessDeniedException" in out["timeline_unavailable"]


def test_the_named_states_exist_in_the_state_machines() -> None:
    """AWS_WAITING_TASKS and DECISION_STATES name states of the ASL: a renamed state fails here."""
    names: set[str] = set()

    def collect(states: dict[str, Any]) -> None:
        for name, state in states.items():
            names.add(name)
            for branch in state.get("Branches", []):
                collect(branch["States"])
            inner = state.get("ItemProcessor") or state.get("Iterator")
            if inner:
                collect(inner["States"])

    for path in (ROOT / "statemachines").glob("*.asl.json"):
        collect(json.loads(path.read_text())["States"])
    assert set(timeline.AWS_WAITING_TASKS) <= names
    assert set(timeline.DECISION_STATES) <= names


# -- Markdown and HTML -----------------------------------------------------------------------------------
def test_the_markdown_holds_a_mermaid_gantt_with_the_critical_path_and_the_orchestrations_own_time() -> None:
    report = report_of("failover_planned")
    markdown = render(report, "markdown")
    block = re.search(r"```mermaid\n(.*?)```", markdown, re.S)
    assert block is not None
    gantt = block.group(1).splitlines()
    assert gantt[0] == "gantt"
    bars = [line for line in gantt if re.match(r"\s+\S.* :(crit, )?\w+\d+, ", line)]
    assert len(bars) == len(report["phases"])
    assert sum(" :crit, " in line for line in bars) == sum(p["critical"] for p in report["phases"])
    assert all(line.count(":") == 1 + 4 for line in bars)  # the separator, and the two times' h:m:s
    assert {"    section waiting on people", "    section waiting on AWS", "    section orchestration"} <= set(gantt)
    own = report["time_split"]["orchestration"]
    assert f"Orchestration's own time: {own:.1f} s of" in markdown
    assert "the part this project controls" in markdown


def test_the_html_page_is_self_contained_and_draws_one_bar_per_phase() -> None:
    report = report_of("failover_planned")
    page = render(report, "html")
    assert page.startswith("<!DOCTYPE html>") and "<script" not in page.lower()
    assert re.findall(r"(?:src|href)=", page) == []
    assert re.findall(r"https?://(?!www\.w3\.org/2000/svg)", page) == []
    assert page.count('<rect class="bar ') == len(report["phases"])
    assert page.count(' critical" data-kind=') == sum(p["critical"] for p in report["phases"])
    assert "Orchestration&#x27;s own time" in page


def test_markdown_and_html_list_the_same_facts_of_a_run() -> None:
    report = {**report_of("failover_planned"), "outage": "region us-east-1 (application)"}
    markdown, page = render(report, "markdown"), render(report, "html")
    assert {"mode", "execution", "outage"} <= set(report)
    for key in [k for k in ("mode", "execution", "writer_region", "traffic_region", "outage") if k in report]:
        assert f"| {key} | {report[key]} |" in markdown
        assert f"<tr><th>{key}</th><td>{html.escape(str(report[key]))}</td></tr>" in page


def test_a_game_days_page_holds_both_runs() -> None:
    gameday = {
        "workflow": "gameday",
        "status": "SUCCEEDED",
        "failover": report_of("failover_planned"),
        "failback": report_of("failback_planned", workflow="failback"),
    }
    page = html_page.report_page(gameday)
    assert page.count('<svg class="timeline"') == 2 and "Failback report" in page


def _browser() -> Any:
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("no chromium here (Debian package chromium): the structural tests cover the page")
    return sync_api.sync_playwright()


def test_the_html_timeline_renders_in_a_browser_with_every_bar_visible(tmp_path: Path) -> None:
    report = report_of("failover_planned")
    path = tmp_path / "report.html"
    path.write_text(render(report, "html"))
    with _browser() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            fetched: list[str] = []
            page.on("request", lambda request: fetched.append(request.url))
            page.goto(path.as_uri())
            bars = page.locator("svg.timeline rect.bar")
            assert bars.count() == len(report["phases"])
            boxes = [bars.nth(i).bounding_box() for i in range(bars.count())]
            assert all(box is not None and box["width"] >= 1 and box["height"] > 5 for box in boxes)
            approval = page.locator("svg.timeline rect.bar.kind-people")
            people_box = approval.bounding_box()
            assert people_box is not None and people_box["width"] > 300  # five of eight minutes of a 640 px axis
            assert fetched == [path.as_uri()]  # nothing else was fetched
        finally:
            browser.close()


def test_the_mermaid_block_renders_with_mermaid_itself() -> None:
    if not MERMAID.exists():
        pytest.skip("node_modules/mermaid is not installed (make install)")
    report = report_of("failover_planned")
    block = re.search(r"```mermaid\n(.*?)```", render(report, "markdown"), re.S)
    assert block is not None
    with _browser() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.set_content("<html><body><div id='out'></div></body></html>")
            page.add_script_tag(path=str(MERMAID))
            page.evaluate(
                """async (text) => {
                    mermaid.initialize({startOnLoad: false});
                    const {svg} = await mermaid.render('timeline', text);
                    document.getElementById('out').innerHTML = svg;
                }""",
                block.group(1),
            )
            assert page.locator("#out rect.task").count() == len(report["phases"])
            assert page.locator("#out rect.task[class*=crit]").count() == sum(p["critical"] for p in report["phases"])
        finally:
            browser.close()


def test_the_svg_scale_puts_the_longest_phase_across_most_of_the_chart() -> None:
    report = report_of("failover_planned")
    widths = [float(w) for w in re.findall(r'<rect class="bar [^"]*"[^>]* width="([\d.]+)"', drawing.svg(report))]
    assert max(widths) > 0.6 * drawing.CHART_WIDTH and min(widths) >= 1.5
