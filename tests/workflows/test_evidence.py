"""Evidence people look at, end to end on localcloud: the drill's timeline in Markdown, the phases every
workflow's audit record keeps, the evidence pack of a platform (through drctl and a localcloud server),
and one season."""

from __future__ import annotations

import contextlib
import io
import itertools
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from drctl.cli import main
from drctl.controls import CONTROLS
from drctl.operations import report as drctl_report
from drctl.season import INJECTED_MESSAGE, SEASON_DAYS, calendar
from drctl.target import local_target
from localcloud.scenario import Platform, PlatformDesign
from localcloud.server import LocalCloudServer
from tests import forkserver
from tests.workflows.conftest import approval_token, audit

RECOVERY = "us-west-2"


def seconds(start: str, end: str) -> float:
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


def test_drill_failover_markdown_holds_the_gantt_and_the_orchestrations_own_time(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # When an operator runs the drill with Markdown output
    code = main(["drill", "failover", "--output", "markdown"])
    out = capsys.readouterr().out

    # Then the report holds a Mermaid gantt of the run's phases, critical path marked, and says plainly how
    # much of the run was the orchestration's own time
    assert code == 0 and "# Failover report: SUCCEEDED" in out
    gantt = re.search(r"```mermaid\ngantt\n(.*?)```", out, re.S)
    assert gantt is not None
    assert "    section waiting on AWS" in gantt.group(1) and " :crit, " in gantt.group(1)
    assert "RequestApproval (" in gantt.group(1) and "Promote / WaitForWriter x" in gantt.group(1)
    own = re.search(r"Orchestration's own time: ([\d.]+) s of ([\d.]+) s \([\d.]+ %\), the part this project", out)
    assert own is not None and 0 < float(own.group(1)) < float(own.group(2))
    assert "| orchestration's own time (this project) |" in out


def run_to_end(platform: Platform, logical: str, payload: dict[str, Any]) -> tuple[str, str]:
    execution = platform.cloud.start_execution(platform.stack.arn(logical), payload)
    if logical == "FailoverStateMachine":
        platform.cloud.client("stepfunctions", RECOVERY).send_task_success(
            taskToken=approval_token(platform, execution), output=json.dumps({"approved_by": "test"})
        )
    return execution, str(platform.cloud.wait(execution, timeout=300)["status"])


@pytest.fixture
@forkserver.fork_safe
def quarter_day(backups: Platform) -> dict[str, str]:
    """A backup verification, a restore test and a planned failover, run on one platform. The restore test
    may fail (a failed test's record keeps the report RecordRestoreTest built, phases included)."""
    runs = {
        "backup-verification": run_to_end(backups, "BackupVerificationStateMachine", {"requested_by": "test"}),
        "restore-test": run_to_end(backups, "RestoreTestStateMachine", {"mode": "full", "requested_by": "test"}),
        "failover": run_to_end(backups, "FailoverStateMachine", {"mode": "planned", "requested_by": "test"}),
    }
    assert runs["backup-verification"][1] == runs["failover"][1] == "SUCCEEDED"
    return {workflow: execution for workflow, (execution, _status) in runs.items()}


def test_every_workflows_audit_record_keeps_its_phases_and_the_split_adds_up(
    backups: Platform, quarter_day: dict[str, str]
) -> None:
    for workflow in ("backup-verification", "failover"):
        record = audit(backups, quarter_day[workflow])
        # the record was written by the run's own step, so its phases stop there
        assert record["phases"] and {"name", "kind", "started_at", "finished_at", "seconds"} <= set(record["phases"][0])
        begin = record.get("detected_at") or record["started_at"]
        assert round(sum(record["time_split"].values()), 3) == pytest.approx(
            seconds(begin, record["finished_at"]), abs=0.002
        ), workflow
    # drctl report recomputes the phases over the whole run, from detection to the execution's end
    target = local_target(backups.cloud, backups.design.stack_name, RECOVERY)
    full = drctl_report(target, quarter_day["failover"])
    assert round(sum(full["time_split"].values()), 3) == pytest.approx(
        seconds(full["detected_at"], full["finished_at"]), abs=0.002
    )
    recorded = {p["name"] for p in audit(backups, quarter_day["failover"])["phases"]}
    assert "ReleaseLease" in {p["name"] for p in full["phases"]} and "ReleaseLease" not in recorded
    assert max(p["finished_at"] for p in full["phases"]) <= full["finished_at"]
    # the restore test's record (written by RecordRestoreTest, or kept by HandleBackupFailure) has its waits
    restore = audit(backups, quarter_day["restore-test"])
    assert [p for p in restore["phases"] if p["name"].startswith("WaitForRestore x") and p["kind"] == "aws"]
    assert restore["time_split"]["aws"] > restore["time_split"]["orchestration"]


def test_the_evidence_pack_of_a_platform_through_a_localcloud_server(
    backups: Platform, quarter_day: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the verification's audit record was lost (its report in the reports bucket remains)
    ddb = backups.cloud.client("dynamodb", RECOVERY)
    ddb.delete_item(
        TableName=backups.stack.physical("StateTable"), Key={"pk": {"S": f"audit#{quarter_day['backup-verification']}"}}
    )
    server = LocalCloudServer(backups.cloud).start()
    try:
        # When an auditor asks for the pack of the last week
        code = main(["--endpoint-url", server.endpoint_url, "evidence", "--since", "7d", "--output", "json"])
        pack = json.loads(capsys.readouterr().out)
    finally:
        server.stop()

    # Then every run is evidence (the half-hourly readiness evaluations too), the verification from the
    # reports bucket alone
    by_kind = {i["kind"]: i for i in pack["evidence"]}
    assert set(by_kind) == {"backup-verification", "restore-test", "failover", "readiness"}
    (verification,) = [i for i in pack["evidence"] if i["execution"] == quarter_day["backup-verification"]]
    assert verification["passed"] and verification["evidence"][0].startswith("s3://")
    assert not any(e.startswith("state table") for e in verification["evidence"])
    assert by_kind["failover"]["passed"] and by_kind["failover"]["time_split"]["aws"] > 0
    assert by_kind["failover"]["objectives"]["rto"]["met"] is True
    # and the week has gaps (no failback drill), so the command says so in its exit code
    assert code == 1
    assert "no successful failback drill in the last 7 days" in [g["gap"] for g in pack["gaps"]]
    assert len(pack["controls"]) == len(CONTROLS)


@pytest.fixture(scope="module")
def season() -> dict[str, Any]:
    """One quarter (drctl drill season), run once for the tests below."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):  # the season's progress goes to stderr, the pack alone to stdout
        assert main(["drill", "season", "--output", "json"]) == 0
    return dict(json.loads(out.getvalue()))


def monthly_restore_slots(since: datetime, days: int) -> int:
    """The restore test's monthly slots (the 2nd at 10:00 UTC) strictly inside the season, day by day."""
    end = since + timedelta(days=days)
    dates = (since.date() + timedelta(days=n) for n in range(days + 1))
    return sum(1 for d in dates if d.day == 2 and since < datetime(d.year, d.month, 2, 10, tzinfo=UTC) < end)


def test_a_seasons_calendar_has_each_monthly_slot_inside_it_and_a_verification_a_week() -> None:
    for start, restore_tests in (
        (datetime(2026, 12, 1, 7, 58, tzinfo=UTC), 3),
        (datetime(2026, 12, 1, 12, tzinfo=UTC), 4),
    ):
        events = calendar(start)
        assert [e.at for e in events if e.what == "restore-test"] == [
            datetime(2026, 12, 2, 10, tzinfo=UTC),
            datetime(2027, 1, 2, 10, tzinfo=UTC),
            datetime(2027, 2, 2, 10, tzinfo=UTC),
            datetime(2027, 3, 2, 10, tzinfo=UTC),
        ][:restore_tests]
        assert monthly_restore_slots(start, SEASON_DAYS) == restore_tests
        assert [e.inject for e in events if e.what == "restore-test"] == [False] * (restore_tests - 1) + [True]
        verifications = [e.at for e in events if e.what == "backup-verification"]
        assert len(verifications) == 14 and verifications[-1] == datetime(2027, 3, 1, 8, tzinfo=UTC)
        weekly = verifications[:-1]  # and one on the last day
        assert all(later - earlier == timedelta(days=7) for earlier, later in itertools.pairwise(weekly))


@pytest.mark.xdist_group("drill-season")  # shares a module fixture: one worker builds it
def test_a_season_gives_a_pack_with_controls_their_evidence_and_a_gap_from_the_injected_failure(
    season: dict[str, Any],
) -> None:
    # The quarter's calendar: weekly verifications, the monthly restore tests (three, or four when the
    # quarter ends after its last month's slot: from 2026-12-01T12:00, the suite's start, to March 2 at 12:00)
    summary = season["summary"]
    tests = monthly_restore_slots(datetime.fromisoformat(season["period"]["since"]), season["period"]["days"])
    assert summary["backup-verification"]["runs"] == 14 and summary["restore-test"]["runs"] == tests
    assert summary["failover"] == summary["failback"] == {"runs": 1, "passed": 1}
    assert season["period"]["days"] == 91
    assert any("Compressed: 14 backup verifications (weekly" in note for note in season["notes"])
    # every control, with what it asks and the runs that evidence it
    assert [c["id"] for c in season["controls"]] == [c.id for c in CONTROLS]
    assert all(c["asks"] and c["evidence"] for c in season["controls"])
    # the injected failure (the last restore test's S3 restore job) is a gap no later run closed
    (injected,) = [g for g in season["gaps"] if INJECTED_MESSAGE in g["gap"]]
    # (of the bucket the month's rotation picked: incident media from a start before March 2 at 10:00)
    failed = re.match(r"restore test of (\S+) failed on \d{4}-\d{2}-\d{2} ", injected["gap"])
    assert failed and failed[1] in PlatformDesign().buckets, injected["gap"]
    assert injected["gap"].endswith("and has not passed since")
    assert {"SOC2-A1.3", "HIPAA-164.308(a)(7)(ii)(A)", "GDPR-32(1)(c)"} <= set(injected["controls"])
    status = {c["id"]: c["status"] for c in season["controls"]}
    assert status["SOC2-A1.3"] == "gap" and status["PCI-12.10.2"] == "evidenced"
    # readiness evaluated once before each run (14 + the restore tests + 2) and once at the end, each a minute
    # after its jump: all ready (fired at a jump's end, they found the S3 replicas a week stale and the RPO
    # exceeded)
    readiness = [i for i in season["evidence"] if i["kind"] == "readiness"]
    assert len(readiness) == 14 + tests + 2 + 1 and all(i["passed"] for i in readiness), [
        i for i in readiness if not i["passed"]
    ]


@pytest.mark.xdist_group("drill-season")  # shares a module fixture: one worker builds it
def test_a_seasons_game_day_shows_where_its_time_went(season: dict[str, Any]) -> None:
    (failover,) = [i for i in season["evidence"] if i["kind"] == "failover"]
    split = failover["time_split"]
    assert split["people"] >= 300  # the approval was answered after five minutes
    assert split["aws"] > 60 and 0 < split["orchestration"] < split["aws"]
