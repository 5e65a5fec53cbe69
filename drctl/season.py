"""``drctl drill season``: a quarter of DR operations on localcloud, on the virtual clock, then the evidence
pack an auditor would get for it.

The quarter (91 days from now, virtual), compressed so that it runs in about a minute:

- backup verifications **weekly** at 08:00 UTC, with the input of their daily schedule (the schedule is
  daily: 13 runs stand for 91), and one on the last day so the newest is fresh;
- restore tests on the 2nd of each month at 10:00 UTC, as their monthly schedule runs them;
- a game day in the middle: a planned failover, one hour in the recovery region, then the failback; each
  approval answered after five minutes (the people time of the timeline);
- one injected failure: in the last restore test, the restore job of the S3 bucket fails (AWS Backup ends it
  FAILED), so the pack shows a gap that nothing fixed before the quarter ended.

The platform's backup plan keeps making recovery points as the clock moves (``BackupPlanOnTheClock``:
``seed_history`` for the slots that came due, before the schedules hear of the move). The two backup
schedules are switched off and fired by this calendar instead (with the schedule's own input), and so are
the quarterly rehearsals (the game day stands for them);
the every-minute schedules (probe, traffic pin) keep firing on the clock; the heartbeat is off while the
clock jumps days and on again for its last two minutes (``HEARTBEAT_LEAD``): a jump's end fired it ten times at
one moment, ten writes of the same values to every table and bucket (373 heartbeats a season; 224 now), and
what a run or a readiness evaluation reads is the latest heartbeat, written a minute before it either way. The
readiness
evaluation's half-hourly schedule is switched off too: the calendar evaluates readiness once before each run
and once at the quarter's end, with the schedule's input, a minute after the jump (``READINESS_AFTER``). A jump
of days fires a schedule only for its latest slots, all at the jump's end: evaluations fired there found the
S3 replicas a week stale (the heartbeat written at that moment was still on its way, 2 s behind) and
reported an exposure over the RPO that a platform running all week would not have had; and ten evaluations
at one moment are ten of the same. Everything else is the real app on the real ASL.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from drctl import backups, evidence
from drctl.target import Target

SEASON_DAYS = 91
VERIFY_EVERY = timedelta(days=7)
APPROVAL_TAKES = timedelta(minutes=5)
READINESS_AFTER = timedelta(minutes=1)  # the jump's heartbeat has replicated (2 s) and is well inside the RPO
HEARTBEAT_LEAD = timedelta(minutes=2)  # the heartbeat is back on this long before the end of a jump of days
READINESS_INPUT = "schedule:readiness"  # the requested_by of the readiness evaluation's own schedule
IN_RECOVERY_REGION = timedelta(hours=1)
INJECTED_RESTORE_FAILURE = "S3"  # resource type whose restore job fails in the last restore test
INJECTED_MESSAGE = "Restore failed (injected by drctl drill season)"
Printer = Callable[[str], None]


@dataclass(frozen=True)
class Event:
    at: datetime
    what: str  # backup-verification, restore-test, failover, failback
    inject: bool = False


def calendar(start: datetime, days: int = SEASON_DAYS) -> list[Event]:
    """The quarter's runs in order (see the module's docstring)."""
    end = start + timedelta(days=days)
    events: list[Event] = []
    moment = (start + timedelta(days=1)).replace(hour=8, minute=0, second=0, microsecond=0)
    while moment < end:
        events.append(Event(moment, "backup-verification"))
        moment += VERIFY_EVERY
    last = (end - timedelta(days=1)).replace(hour=8, minute=0, second=0, microsecond=0)
    if events and last - events[-1].at >= timedelta(days=1):
        events.append(Event(last, "backup-verification"))
    tests = []
    month = start.replace(day=2, hour=10, minute=0, second=0, microsecond=0)
    while month < end:
        if month > start:
            tests.append(month)
        month = (month.replace(day=1) + timedelta(days=32)).replace(day=2)
    events += [Event(t, "restore-test", inject=n == len(tests) - 1) for n, t in enumerate(tests)]
    gameday = (start + timedelta(days=days // 2)).replace(hour=14, minute=0, second=0, microsecond=0)
    events += [Event(gameday, "failover"), Event(gameday + IN_RECOVERY_REGION, "failback")]
    return sorted(events, key=lambda e: e.at)


def header(start: datetime, events: list[Event]) -> list[str]:
    verifications = sum(1 for e in events if e.what == "backup-verification")
    tests = [e for e in events if e.what == "restore-test"]
    return [
        f"drctl drill season: a quarter ({SEASON_DAYS} days from {start:%Y-%m-%d}) run on localcloud, the embedded "
        "AWS, on its virtual clock; not a real account.",
        f"Compressed: {verifications} backup verifications (weekly, and one on the last day) stand for the daily "
        f"schedule; {len(tests)} monthly restore tests as scheduled; one game day (planned failover, then "
        "failback an hour later), each approval answered after five minutes; readiness evaluated before each "
        "run and at the quarter's end (its schedule is half-hourly).",
        "Injected failure: in the last restore test, AWS Backup fails the S3 bucket's restore job.",
    ]


def _schedule_inputs(cloud: Any, target: Target) -> dict[str, str]:
    """Switch the backup workflows' schedules off; return their inputs (what they would have sent). The drill
    calendar's quarterly dry-run failover and failback are switched off too: the season's game day stands
    for the quarter's drills (a rehearsal would be one more failover and failback in the pack)."""
    inputs = {}
    for workflow in ("backup-verification", "restore-test"):
        arn = target.state_machine_arn(workflow)
        for schedule in cloud.router.schedules:
            if schedule.target_arn == arn:
                schedule.enabled = False
                inputs[workflow] = schedule.input_json or "{}"
    rehearsals = {target.state_machine_arn("failover"), target.state_machine_arn("failback")}
    for schedule in cloud.router.schedules:
        if schedule.target_arn in rehearsals:
            schedule.enabled = False
        if READINESS_INPUT in (schedule.input_json or ""):
            schedule.enabled = False
            inputs["readiness"] = schedule.input_json or "{}"
    return inputs


def _jump(cloud: Any, heartbeats: list[Any], to: datetime) -> None:
    """Move the clock to ``to`` with the heartbeat off until ``HEARTBEAT_LEAD`` before it (the docstring)."""
    for schedule in heartbeats:
        schedule.enabled = False
    cloud.clock.advance_to(to - HEARTBEAT_LEAD)
    for schedule in heartbeats:
        schedule.enabled = True
    cloud.clock.advance_to(to)


def _heartbeats(cloud: Any, target: Target) -> list[Any]:
    function = f":function:{target.physical('WriteHeartbeatFunction')}"
    return [s for s in cloud.router.schedules if s.target_arn.endswith(function) and s.enabled]


def _evaluate_readiness(cloud: Any, target: Target, payload: str) -> None:
    """The readiness evaluation, as its schedule invokes it, a minute after a jump (see the docstring)."""
    cloud.clock.advance(READINESS_AFTER.total_seconds())
    cloud.client("lambda", target.region).invoke(
        FunctionName=target.physical("ReadinessFunction"), InvocationType="RequestResponse", Payload=payload.encode()
    )


class BackupPlanOnTheClock:
    """The platform's backup plan, running as the virtual clock moves: the recovery points (and jobs,
    copies) that came due since the clock last moved are made before anything else hears of the move. A
    week's jump then ends with the week's points in the vault when the readiness evaluations of the jump's
    last slots read it, as the plan would have made them, rather than a vault that looks a week stale."""

    def __init__(self, platform: Any, since: datetime) -> None:
        self.platform, self.since = platform, since
        self._lock = threading.Lock()

    def __call__(self, now: datetime) -> None:
        from localcloud import scenario_backups

        with self._lock:
            if now <= self.since:
                return
            duration = self.platform.backup.durations.backup
            counts = {
                rule: sum(1 for t in scenario_backups.slots(now, days, when, duration) if t > self.since)
                for rule, days, when in scenario_backups.RULES
            }
            self.since = now
            if any(counts.values()):
                scenario_backups.seed_history(self.platform, counts=counts, backdate=False)


def run_season(show: Printer, timeout: float = 900.0) -> dict[str, Any]:
    """Run the quarter on a new local platform and return its evidence pack."""
    from drctl.drill import local_platform, run

    with local_platform() as (cloud, platform, local):
        backups.prepare(platform)
        start = cloud.clock.now()
        cloud.clock.listeners.insert(0, BackupPlanOnTheClock(platform, start))  # before the schedules hear
        events = calendar(start)
        inputs = _schedule_inputs(cloud, local)
        heartbeats = _heartbeats(cloud, local)
        who = {"reason": "drctl drill season: game day", "requested_by": "drctl:season"}

        def approver(_execution: str) -> bool:
            cloud.advance(APPROVAL_TAKES.total_seconds())
            return True

        show("\n".join(header(start, events)))
        failover_ok = True
        for event in events:
            _jump(cloud, heartbeats, event.at - READINESS_AFTER)
            _evaluate_readiness(cloud, local, inputs["readiness"])
            now = cloud.clock.now()
            if event.what == "failback" and not failover_ok:
                show(f"{now:%Y-%m-%d %H:%M} failback skipped: the game day's failover did not succeed")
                continue
            if event.inject:
                platform.backup.fail_next_restore(INJECTED_RESTORE_FAILURE, INJECTED_MESSAGE)
            payload = json.loads(inputs[event.what]) if event.what in inputs else {**who, "mode": "planned"}
            out = run(local, event.what, payload, None, approver, timeout)
            if event.what == "failover":
                failover_ok = out.get("status") == "SUCCEEDED"
            show(
                f"{now:%Y-%m-%d %H:%M} {event.what:<20} {out.get('status')}"
                + (" (injected failure)" if event.inject else "")
            )
        end = start + timedelta(days=SEASON_DAYS)
        _jump(cloud, heartbeats, end - READINESS_AFTER)
        _evaluate_readiness(cloud, local, inputs["readiness"])
        until = cloud.clock.now()
        return evidence.gather(local, start, until, notes=header(start, events))
