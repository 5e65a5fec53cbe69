"""Where a run's time went: its phases and the split of its duration, from the execution's own history.

The rule (each span of the run is exactly one kind):

- **detection**: from the request's ``detected_at`` (the alarm's state-change time) to the execution's start.
- **people**: a task that waits for a task token (``.waitForTaskToken``: the approval gate), from entering it
  to leaving it.
- **aws**: a ``Wait`` state; a polling loop (in one branch, the states from a Wait state's first entry to
  its last, with the look that ended the loop: promotion polls, replication waits, restore jobs, cleanup
  waits); a task that itself waits on AWS (``AWS_WAITING_TASKS``).
- **decision**: reading readiness and deciding (``DECISION_STATES``, and every branch inside them).
- **orchestration**: everything else: the steps' own work, the transitions between states, Step Functions'
  own latency. It is the part this project controls.

Branches of a Parallel state are drawn as parallel bars; so are the iterations of a Map state. The run's
duration is split along its *critical path*: through a Parallel or a Map, the branch that ended last (the
state waits for it). ``time_split`` has four figures, ``aws``, ``people``, ``orchestration`` and
``detection``, that add up to the run's duration (``detected_at`` or the start, to ``finished_at``);
decision counts in ``orchestration``: it is the project's own code deciding.

The history is read the way Step Functions gives it (``GetExecutionHistory``): every event names the event
before it in its own branch (``previousEventId``), which is how a branch's states are told apart.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from dr.aws import client, paginate

KINDS = ("detection", "decision", "people", "aws", "orchestration")
SPLIT = ("aws", "people", "orchestration", "detection")
# Tasks that wait on AWS inside one Lambda invocation (retried while AWS is not done yet).
AWS_WAITING_TASKS: Mapping[str, str] = {
    "ConfirmDynamoDB": "retried while a replica does not take writes yet (ReplicaNotReady)",
    "VerifyRecovery": "retried while the endpoint or DNS does not show the recovery yet (RecoveryNotVerified)",
    "ValidateRestore": "reads every record of the restored resource; waits for a restored cluster's instance",
}
# Reading readiness and deciding what to do (a Parallel here makes all its branches decision).
DECISION_STATES = frozenset({"AssessReadiness", "Decide", "CheckPrimaryHealth"})
MAX_ITERATION_BARS = 12  # a Map with more iterations draws the critical one and one bar for the rest
_BLOCKS = ("Parallel", "Map")


@dataclass
class _Run:
    """One state's execution in one branch."""

    name: str
    kind_of_state: str  # Task, Wait, Pass, Choice, Parallel, Map, Succeed, Fail
    started: datetime
    thread: _Thread
    finished: datetime | None = None
    status: str = "RUNNING"
    resource: str = ""
    threads: list[_Thread] = field(default_factory=list)  # a Parallel's branches, a Map's iterations


@dataclass(eq=False)
class _Thread:
    """A sequence of states: the run itself, one branch of a Parallel, one iteration of a Map."""

    label: str
    parent: _Thread | None = None
    runs: list[_Run] = field(default_factory=list)

    def open_run(self, name: str | None = None, kinds: Iterable[str] | None = None) -> _Run | None:
        wanted = set(kinds) if kinds is not None else None
        for run in reversed(self.runs):
            named = name is None or run.name == name
            if run.finished is None and named and (wanted is None or run.kind_of_state in wanted):
                return run
        return None


@dataclass
class Phase:
    name: str
    kind: str
    started: datetime
    finished: datetime
    group: str
    critical: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "group": self.group,
            "started_at": self.started.isoformat(),
            "finished_at": self.finished.isoformat(),
            "seconds": round((self.finished - self.started).total_seconds(), 3),
            "critical": self.critical,
        }


@dataclass
class _Fork:
    """A Parallel or Map run: its threads' items, side by side."""

    run: _Run
    branches: list[list[_Item]]


_Item = Phase | _Fork


# -- reading the history ---------------------------------------------------------------------------------
def _when(value: Any) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # Step Functions' times are UTC


def _details(event: Mapping[str, Any]) -> dict[str, Any]:
    return next((dict(v) for k, v in event.items() if k.endswith("EventDetails") and isinstance(v, dict)), {})


def _ancestor_with_open(thread: _Thread | None, name: str | None, kinds: Iterable[str] | None) -> _Run | None:
    while thread is not None:
        run = thread.open_run(name, kinds)
        if run is not None:
            return run
        thread = thread.parent
    return None


def _close(thread: _Thread, when: datetime, status: str) -> None:
    for run in thread.runs:
        if run.finished is None:
            run.finished, run.status = when, status
        for child in run.threads:
            _close(child, when, status)


def parse(history: Iterable[Mapping[str, Any]]) -> _Thread:
    """The run's states as a tree of threads (branches and iterations), from its history events."""
    root = _Thread("run")
    events = sorted(history, key=lambda e: int(e.get("id", 0)))
    by_id = {int(e.get("id", 0)): e for e in events}
    thread_of: dict[int, _Thread] = {}
    for event in events:
        kind, when, details = str(event.get("type", "")), _when(event["timestamp"]), _details(event)
        prev = int(event.get("previousEventId") or 0)
        thread = thread_of.get(prev, root)
        if kind == "MapIterationStarted":
            owner = _ancestor_with_open(thread, details.get("name"), ["Map"])
            if owner is not None:
                thread = _Thread(f"{owner.name} #{details.get('index', len(owner.threads))}", parent=owner.thread)
                owner.threads.append(thread)
        elif str(by_id.get(prev, {}).get("type")) == "ParallelStateStarted":
            owner = _ancestor_with_open(thread, None, ["Parallel"])
            if owner is not None:
                thread = _Thread(owner.name, parent=owner.thread)
                owner.threads.append(thread)
        elif kind.startswith(_BLOCKS) and not kind.endswith("StateEntered"):
            # a Parallel's or a Map's own events belong to the thread the state runs in, not to the branch
            # whose last event they follow
            owner = _ancestor_with_open(thread, details.get("name"), _BLOCKS)
            thread = owner.thread if owner is not None else thread
        thread_of[int(event.get("id", 0))] = thread
        _apply(kind, when, details, thread, root)
    return root


def _apply(kind: str, when: datetime, details: dict[str, Any], thread: _Thread, root: _Thread) -> None:
    if kind.endswith("StateEntered"):
        thread.runs.append(_Run(str(details.get("name")), kind.removesuffix("StateEntered"), when, thread))
    elif kind.endswith("StateExited"):
        run = _ancestor_with_open(thread, str(details.get("name")), None)
        if run is not None:
            run.finished = when
            run.status = "SUCCEEDED" if run.status == "RUNNING" else run.status
    elif kind == "TaskScheduled":
        run = thread.open_run(kinds=["Task"])
        if run is not None:
            run.resource, run.status = str(details.get("resource", "")), "RUNNING"
    elif kind in ("TaskFailed", "TaskTimedOut", "LambdaFunctionFailed", "LambdaFunctionTimedOut"):
        run = thread.open_run(kinds=["Task"])
        if run is not None:
            run.status = "FAILED" if kind.endswith("Failed") else "TIMED_OUT"
    elif kind in ("ParallelStateFailed", "MapStateFailed"):
        owner = thread.open_run(kinds=_BLOCKS)
        if owner is not None:
            owner.status = "FAILED"
            for child in owner.threads:
                _close(child, when, "FAILED")
    elif kind in ("ExecutionFailed", "ExecutionAborted", "ExecutionTimedOut"):
        _close(root, when, kind.removeprefix("Execution").upper())


# -- phases ----------------------------------------------------------------------------------------------
def _kind(run: _Run, inherited: str | None) -> str:
    if "waitForTaskToken" in run.resource:
        return "people"
    if run.kind_of_state == "Wait" or run.name in AWS_WAITING_TASKS:
        return "aws"
    if inherited == "decision" or run.name in DECISION_STATES:
        return "decision"
    return "orchestration"


def _loops(runs: list[_Run]) -> dict[int, int]:
    """Polling loops of one thread: {first index: last index}. A loop runs from a Wait state's first entry to
    its last, widened to the states of the loop just before (the first look) and just after (the last)."""
    spans: dict[int, int] = {}
    names = [r.name for r in runs]
    i = 0
    while i < len(runs):
        if runs[i].kind_of_state != "Wait":
            i += 1
            continue
        last = max(k for k in range(i, len(runs)) if names[k] == names[i])
        members = set(names[i : last + 1])
        start, end = i, last
        floor = max(spans.values(), default=-1)
        while start - 1 > floor and names[start - 1] in members and len(members) > 1:
            start -= 1
        while end + 1 < len(runs) and names[end + 1] in members and len(members) > 1:
            end += 1
        spans[start] = end
        i = end + 1
    return spans


def _loop_name(runs: list[_Run]) -> str:
    counts: dict[str, int] = {}
    for run in runs:
        if run.kind_of_state in ("Task", "Wait"):
            counts[run.name] = counts.get(run.name, 0) + 1
    return " + ".join(f"{name} x{n}" for name, n in counts.items())


def _items(thread: _Thread, end: datetime, inherited: str | None) -> list[_Item]:
    items: list[_Item] = []
    runs = thread.runs
    loops = _loops(runs)
    i = 0
    while i < len(runs):
        run = runs[i]
        if i in loops:
            span = runs[i : loops[i] + 1]
            finished = span[-1].finished or end
            items.append(Phase(_loop_name(span), "aws", span[0].started, finished, thread.label))
            i = loops[i] + 1
            continue
        if run.kind_of_state in _BLOCKS:
            inner = "decision" if run.name in DECISION_STATES else inherited
            items.append(_Fork(run, [_items(child, run.finished or end, inner) for child in run.threads]))
        elif run.kind_of_state in ("Task", "Wait"):
            items.append(Phase(run.name, _kind(run, inherited), run.started, run.finished or end, thread.label))
        i += 1
    return items


def _last_end(items: list[_Item]) -> datetime | None:
    ends = [item.finished if isinstance(item, Phase) else _last_end_fork(item) for item in items]
    known = [e for e in ends if e is not None]
    return max(known) if known else None


def _last_end_fork(fork: _Fork) -> datetime | None:
    ends = [e for e in (_last_end(b) for b in fork.branches) if e is not None]
    return max(ends) if ends else fork.run.finished


def _flatten(items: list[_Item], critical: bool, out: list[Phase]) -> None:
    for item in items:
        if isinstance(item, Phase):
            item.critical = critical
            out.append(item)
            continue
        branches = [b for b in item.branches if b]
        if not branches:
            continue
        slowest = max(range(len(branches)), key=lambda n: _last_end(branches[n]) or item.run.started)
        shown = list(range(len(branches)))
        if item.run.kind_of_state == "Map" and len(branches) > MAX_ITERATION_BARS:
            shown = sorted(shown, key=lambda n: _last_end(branches[n]) or item.run.started)[-MAX_ITERATION_BARS:]
        for n in shown:
            _flatten(branches[n], critical and n == slowest, out)
        hidden = [b for n, b in enumerate(branches) if n not in shown]
        if hidden:
            starts = [p.started for b in hidden for p in b if isinstance(p, Phase)]
            ends = [e for e in (_last_end(b) for b in hidden) if e is not None]
            if starts and ends:
                out.append(
                    Phase(f"{len(hidden)} more iterations", "orchestration", min(starts), max(ends), item.run.name)
                )


def _split(phases: list[Phase], begin: datetime, end: datetime) -> dict[str, float]:
    """The critical path's time by kind, in milliseconds summed exactly; gaps are orchestration."""
    millis = dict.fromkeys(SPLIT, 0)
    cursor = begin
    for phase in sorted((p for p in phases if p.critical), key=lambda p: p.started):
        start, finish = max(phase.started, cursor), min(phase.finished, end)
        if start > cursor:
            millis["orchestration"] += _ms(start - cursor)
        if finish > start:
            bucket = "orchestration" if phase.kind == "decision" else phase.kind
            millis[bucket] += _ms(finish - start)
            cursor = finish
    if end > cursor:
        millis["orchestration"] += _ms(end - cursor)
    return {k: v / 1000 for k, v in millis.items()}


def _ms(delta: timedelta) -> int:
    return round(delta.total_seconds() * 1000)


def breakdown(
    history: Iterable[Mapping[str, Any]],
    detected_at: datetime | str | None,
    started_at: datetime | str | None,
    finished_at: datetime | str | None,
) -> dict[str, Any]:
    """``phases`` and ``time_split`` of a run, for its report.

    ``started_at`` is the execution's start (StartTime); ``finished_at`` its end, or the moment of the report
    when it is still running; either, when None, is read from the history. ``detected_at`` (None for a run
    nothing detected: a schedule, a person) starts the detection phase when it is before the start."""
    events = list(history)
    if not events:
        return {"phases": [], "time_split": None}
    stamps = [_when(e["timestamp"]) for e in events]
    start = _when(started_at) if started_at else min(stamps)
    end = _when(finished_at) if finished_at else max(stamps)
    detected = _when(detected_at) if detected_at else None
    begin = detected if detected is not None and detected < start else start
    end = max(end, begin)
    phases: list[Phase] = []
    if begin < start:
        phases.append(Phase("detection", "detection", begin, start, "detection", critical=True))
    root = parse(events)
    _flatten(_items(root, end, None), True, phases)
    split = _split(phases, start, end)
    split["detection"] = _ms(start - begin) / 1000
    return {"phases": [p.as_json() for p in phases], "time_split": split}


def read_history(execution: str) -> list[dict[str, Any]]:
    """The execution's whole history (every page), from the region it runs in."""
    sfn = client("stepfunctions", execution.split(":")[3])
    return list(paginate(sfn, "get_execution_history", "events", executionArn=execution, maxResults=1000))


def of_execution(execution: str, started_at: datetime | str | None, finished_at: datetime | str) -> dict[str, Any]:
    """``breakdown`` of a running execution read from Step Functions, for the report a step writes. When
    the history cannot be read, no phases and ``timeline_unavailable`` says why: the report is still written."""
    try:
        history = read_history(execution)
    except (ClientError, BotoCoreError) as err:
        return {"phases": [], "time_split": None, "timeline_unavailable": f"{type(err).__name__}: {err}"}
    return breakdown(history, None, started_at, finished_at)
