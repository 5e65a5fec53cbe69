"""The DR testing calendar (dr.drill_calendar): which drills count, their periods, and when one is overdue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dr import drill_calendar as calendar
from dr.drill_calendar import Run

from localcloud.cloud import LocalCloud

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
KINDS = {k.name: k for k in calendar.kinds()}
LONG_AGO = NOW - timedelta(days=1000)  # the calendar has been watched for years


def run(workflow: str, status: str, days_ago: float) -> Run:
    return Run(f"exec-{workflow}-{days_ago}", workflow, status, NOW - timedelta(days=days_ago))


def overdue(runs: list[Run], watched_since: datetime = LONG_AGO) -> dict[str, list[str]]:
    return {o.kind.name: o.missing for o in calendar.overdue(KINDS.values(), runs, NOW, watched_since)}


def test_every_kind_is_on_time_when_each_succeeded_within_its_period() -> None:
    # Given a verification with findings, a restore test, two rehearsals and a real game day, each in time
    runs = [
        run("backup-verification", "FINDINGS", 1),
        run("restore-test", "SUCCEEDED", 28),
        run("failover", "DRY_RUN", 60),
        run("failback", "DRY_RUN", 60),
        run("failover", "SUCCEEDED", 300),
        run("failback", "SUCCEEDED", 299),
    ]
    # Then nothing is overdue
    assert overdue(runs) == {}


def test_a_kind_with_no_run_in_its_period_is_overdue_and_says_what_is_missing() -> None:
    # Given the restore test last succeeded 40 days ago (monthly: 35 days) and nothing else ran
    late = calendar.overdue([KINDS["restore-test"]], [run("restore-test", "SUCCEEDED", 40)], NOW, LONG_AGO)

    # Then it is overdue, naming the last run and its age
    assert [o.missing for o in late] == [["restore-test"]]
    reason = late[0].reason(NOW)
    assert "no successful restore test in the last 35 days" in reason
    assert "40 days ago" in reason


def test_only_runs_that_count_satisfy_a_kind() -> None:
    # A failed restore test, a dry-run restore test and a skipped failover count for nothing
    runs = [
        run("restore-test", "FAILED", 2),
        run("restore-test", "DRY_RUN", 3),
        run("failover", "SKIPPED", 4),
        run("failback", "FAILED", 4),
    ]
    late = overdue(runs)
    assert late["restore-test"] == ["restore-test"]
    assert late["failover-rehearsal"] == ["failover"]
    assert late["failback-rehearsal"] == ["failback"]


def test_a_failback_with_nothing_to_bring_home_is_a_rehearsal_but_a_skipped_failover_is_not() -> None:
    # A failback is SKIPPED only when the platform is already home; a failover SKIPPED found the lease held
    late = overdue([run("failback", "SKIPPED", 5), run("failover", "SKIPPED", 5)])
    assert "failback-rehearsal" not in late
    assert late["failover-rehearsal"] == ["failover"]


def test_a_rehearsal_counts_for_the_quarter_but_not_for_the_yearly_game_day() -> None:
    runs = [run("failover", "DRY_RUN", 10), run("failback", "DRY_RUN", 10)]
    late = overdue(runs)
    assert "failover-rehearsal" not in late and "failback-rehearsal" not in late
    assert late["game-day"] == ["failover", "failback"]


def test_a_game_day_needs_both_a_real_failover_and_a_real_failback() -> None:
    late = overdue([run("failover", "SUCCEEDED", 100)])
    assert late["game-day"] == ["failback"]


def test_nothing_is_overdue_before_the_calendar_has_been_watched_for_a_whole_period() -> None:
    # Given the stack started being watched 40 days ago and has never run a drill
    late = overdue([], watched_since=NOW - timedelta(days=40))
    # Then only the monthly kinds (35 days) are overdue: the quarter and the year have not passed yet
    assert set(late) == {"backup-verification", "restore-test"}


def test_the_periods_come_from_the_configuration() -> None:
    kinds = {k.name: k for k in calendar.kinds(monthly_days=10, quarterly_days=20, yearly_days=30)}
    assert (kinds["restore-test"].max_days, kinds["failover-rehearsal"].max_days, kinds["game-day"].max_days) == (
        10,
        20,
        30,
    )


def test_last_runs_names_the_newest_counting_run_of_each_kind() -> None:
    runs = [run("failover", "DRY_RUN", 50), run("failover", "DRY_RUN", 5), run("failover", "FAILED", 1)]
    last = calendar.last_runs(KINDS.values(), runs)
    assert last["failover-rehearsal"] == (NOW - timedelta(days=5)).isoformat()
    assert last["restore-test"] is None


def test_audit_runs_reads_the_drills_records_and_only_those(cloud: LocalCloud) -> None:
    # Given a state table with a lease, an approval, a readiness record and two drills' audit records
    ddb = cloud.client("dynamodb", "us-west-2")
    ddb.create_table(
        TableName="state",
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
    )
    items = [
        {"pk": "lease", "state": "RELEASED"},
        {"pk": "approval#x", "token": "t"},
        {"pk": "audit#r1", "workflow": "readiness", "status": "FINDINGS", "finished_at": "2026-11-30T10:00:00+00:00"},
        {"pk": "audit#f1", "workflow": "failover", "status": "DRY_RUN", "finished_at": "2026-11-29T10:00:00+00:00"},
        {
            "pk": "audit#v1",
            "workflow": "backup-verification",
            "status": "SUCCEEDED",
            "finished_at": "2026-11-28T08:10:00Z",
        },
    ]
    for item in items:
        ddb.put_item(TableName="state", Item={k: {"S": v} for k, v in item.items()})

    # When the calendar reads the failover's and the verification's records
    runs = calendar.audit_runs(ddb, "state", ["failover", "backup-verification"])

    # Then it has exactly those two, with their times as timezone-aware datetimes
    assert sorted((r.execution, r.workflow, r.status) for r in runs) == [
        ("f1", "failover", "DRY_RUN"),
        ("v1", "backup-verification", "SUCCEEDED"),
    ]
    assert all(r.finished_at.tzinfo is not None for r in runs)
