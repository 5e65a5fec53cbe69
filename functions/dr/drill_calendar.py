"""The DR testing calendar: which drills must succeed how often, and which are overdue.

The platform's DR design sets the schedule (template parameters ``Drill*MaxDays``; the schedules that start
the drills are in template.yaml's calendar block):
- monthly: the backup verification (it runs daily: a run that reached its report counts, with or without
  findings) and the restore test (a full restore that SUCCEEDED);
- quarterly: a failover and a failback rehearsed (a DRY_RUN, or a real run that SUCCEEDED; a failback
  SKIPPED because the platform is already home counts: it ran its checks and found nothing to bring back);
- yearly: a full game day (a real failover AND a real failback that SUCCEEDED).

The rule: a kind is overdue when no successful run of it finished within its period (its max days, which
leave a few days of slack after the schedule's longest gap). The evidence is the audit records in the state
table (``audit#<execution>`` items with ``workflow``, ``status`` and ``finished_at``), the record every
workflow writes at its end. The calendar is judged only once it has been watched for a whole period: a
stack deployed last week is not "overdue" for its yearly game day (``watched_since``, the first readiness
evaluation). Pure functions over the records; ``audit_runs`` is the one read.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from dr.bookkeeping import AUDIT_PREFIX


@dataclass(frozen=True)
class DrillKind:
    """One kind of drill: the runs that count for it (workflow → statuses), and how often it must happen."""

    name: str
    cadence: str  # monthly, quarterly, yearly
    max_days: int
    needs: tuple[tuple[str, frozenset[str]], ...]  # every (workflow, statuses) pair must have a run in the period
    what: str

    def satisfied_by(self, runs: Iterable[Run], since: datetime) -> list[str]:
        """The workflows of this kind with no counting run finished at or after ``since`` (empty: satisfied)."""
        recent = [r for r in runs if r.finished_at >= since]
        return [
            workflow
            for workflow, statuses in self.needs
            if not any(r.workflow == workflow and r.status in statuses for r in recent)
        ]


@dataclass(frozen=True)
class Run:
    """One workflow run as its audit record tells it."""

    execution: str
    workflow: str
    status: str
    finished_at: datetime


@dataclass(frozen=True)
class Overdue:
    kind: DrillKind
    missing: list[str]  # the workflows with no counting run in the period
    last: Run | None  # the newest counting run of any of them, if there ever was one

    def reason(self, now: datetime) -> str:
        last = (
            f"the last one finished {self.last.finished_at:%Y-%m-%d} ({(now - self.last.finished_at).days} days ago, "
            f"{self.last.workflow} {self.last.status})"
            if self.last
            else "none is on record"
        )
        return (
            f"no successful {self.kind.what} in the last {self.kind.max_days} days (the {self.kind.cadence} "
            f"drill; missing: {', '.join(self.missing)}); {last}"
        )


def kinds(monthly_days: int = 35, quarterly_days: int = 95, yearly_days: int = 380) -> tuple[DrillKind, ...]:
    ran = frozenset({"SUCCEEDED", "FINDINGS"})  # a verification that reached its report ran, findings or not
    succeeded = frozenset({"SUCCEEDED"})
    rehearsed = frozenset({"DRY_RUN", "SUCCEEDED"})
    # A failback is SKIPPED only when the platform is already home (a failback that finds the lease held
    # FAILS): it checked the old primary, took and released the lease: the rehearsal of a platform at home.
    failback_rehearsed = rehearsed | {"SKIPPED"}
    return (
        DrillKind(
            "backup-verification", "monthly", monthly_days, (("backup-verification", ran),), "backup verification"
        ),
        DrillKind("restore-test", "monthly", monthly_days, (("restore-test", succeeded),), "restore test"),
        DrillKind("failover-rehearsal", "quarterly", quarterly_days, (("failover", rehearsed),), "failover rehearsal"),
        DrillKind(
            "failback-rehearsal", "quarterly", quarterly_days, (("failback", failback_rehearsed),), "failback rehearsal"
        ),
        DrillKind(
            "game-day",
            "yearly",
            yearly_days,
            (("failover", succeeded), ("failback", succeeded)),
            "game day (a real failover and failback)",
        ),
    )


def counting(kind: DrillKind, runs: Iterable[Run]) -> list[Run]:
    """The runs that count for ``kind`` (any of its workflows, with a status that counts)."""
    return [r for r in runs if any(r.workflow == w and r.status in statuses for w, statuses in kind.needs)]


def overdue(drill_kinds: Iterable[DrillKind], runs: list[Run], now: datetime, watched_since: datetime) -> list[Overdue]:
    """Each kind watched for longer than its period with no counting run within it."""
    out = []
    for kind in drill_kinds:
        since = now - timedelta(days=kind.max_days)
        if watched_since > since:  # not watched for a whole period yet: nothing can be overdue
            continue
        missing = kind.satisfied_by(runs, since)
        if missing:
            out.append(Overdue(kind, missing, max(counting(kind, runs), key=lambda r: r.finished_at, default=None)))
    return out


def last_runs(drill_kinds: Iterable[DrillKind], runs: list[Run]) -> dict[str, str | None]:
    """The newest counting run's finish time per kind (for the report), or None."""
    out: dict[str, str | None] = {}
    for kind in drill_kinds:
        newest = max((r.finished_at for r in counting(kind, runs)), default=None)
        out[kind.name] = newest.isoformat() if newest else None
    return out


def audit_runs(ddb: Any, table: str, workflows: Iterable[str]) -> list[Run]:
    """Every audit record of ``workflows`` in the state table: one filtered Scan (the table holds the lease,
    approvals and one small record per run), projecting only what the calendar reads."""
    names = sorted(set(workflows))
    values: dict[str, Any] = {":audit": {"S": AUDIT_PREFIX}}
    values.update({f":w{n}": {"S": name} for n, name in enumerate(names)})
    placeholders = ", ".join(f":w{n}" for n in range(len(names)))
    kwargs: dict[str, Any] = {
        "TableName": table,
        "FilterExpression": f"begins_with(pk, :audit) AND workflow IN ({placeholders})",
        "ProjectionExpression": "pk, workflow, #status, finished_at",
        "ExpressionAttributeNames": {"#status": "status"},
        "ExpressionAttributeValues": values,
    }
    runs: list[Run] = []
    for page in ddb.get_paginator("scan").paginate(**kwargs):
        for item in page.get("Items", []):
            finished = _when(item.get("finished_at", {}).get("S", ""))
            if finished is None:
                continue
            runs.append(
                Run(
                    execution=item["pk"]["S"].removeprefix(AUDIT_PREFIX),
                    workflow=item["workflow"]["S"],
                    status=item.get("status", {}).get("S", ""),
                    finished_at=finished,
                )
            )
    return runs


def _when(text: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None
