"""The fault matrix: every AWS operation the application calls, failed every way, each on a fresh platform.

For each workflow — failover (unplanned, in the ``app`` outage of ``Platform.primary_outage()``), failback
(after a planned failover), backup verification and restore test (full, both after
``seed_backup_history()``) — a clean run records the operations the application calls (Lambda handlers and
Step Functions integrations: ``Outage.is_application``). Then each (operation, kind, times) is a cell:
{throttle, 5xx, access-denied, timeout} x {the first two calls, every call}, injected into a fresh
platform's application (``Faults.inject``, whose default scope spares the observers), the workflow run to
its end, a person approving when asked. Each fresh platform is a fork of its workflow's starting platform,
built once per process (tests/faults/starts.py). The failover and the failback's platforms are read again four
minutes after the run (a promotion may still be under way; where users end is known only then), and the
failback's evaluates its CloudWatch alarms every minute, as AWS does.

Every cell must keep the invariant, and is classified:

- ``retried``: it ended as the clean run did (the same execution and report status; for the failover and
  the failback, the writer and the traffic where the clean run left them), recorded (an audit record, or
  a warning saying it was not written), the lease not left HELD;
- ``asked``: as ``retried``, but a person was asked where the clean run did not ask;
- ``named-failure``: FAILED with a name (the workflow's catch-all ``...Failed`` or a ``States.*`` only when
  the cause says why the step could not run: the AWS error it kept getting, a timeout, or the failure
  handler itself failing; ``ApprovalTimedOut`` only when a person was asked), an audit record with status FAILED (or the
  cause saying ``NOT RECORDED``), a notification on the DR topic (or the record saying it was not
  published); for the failover and the failback, the lease RELEASED when the writer and the traffic are
  where they were, BLOCKED when either moved (or the run knew it could not tell), never HELD,
  ``changed`` naming exactly the moves that happened (or the record saying one was under way: the traffic
  pin's intent recorded, a promotion in progress), and nothing it calls unchanged found moved. A
  verification that ends SUCCEEDED with status FINDINGS (a check the fault kept failing is a finding),
  recorded and notified, is a named failure too;
- ``bad``: anything else — hung, FAILED after a verified recovery, a success with no audit record and no
  warning, a lease left HELD, ``changed`` claiming a move that did not happen or missing one that did.

Usage: ``python -m tests.faults.matrix [--workflow W ...] [--sample N] [--cell NAME ...] [--jobs 2] [--log FILE]``
(``--cell "failover sns.Publish 5xx every"`` reruns one cell); it prints
the cells per outcome per workflow, then every bad cell with what was wrong, and exits 1 if any cell is bad.
``--log FILE`` starts FILE afresh and writes each cell's result to it as a JSON line as soon as it is known
(a long run can be followed, and read when it was stopped).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from multiprocessing import get_context
from typing import Any

import tests.conftest  # noqa: F401 - the offline environment (credentials, region, Powertools) before any import
from localcloud.cloud import TERMINAL, LocalCloud
from localcloud.interceptor import Call
from localcloud.scenario import Platform, PlatformDesign
from tests.faults.starts import Starts, forking
from tests.workflows.conftest import Inbox, lease

WORKFLOWS = ("failover", "failback", "backup-verification", "restore-test")
KINDS = ("throttle", "5xx", "access-denied", "timeout")
TIMES: tuple[int | None, ...] = (2, None)
OUTCOMES = ("retried", "asked", "named-failure", "bad")
STATE_MACHINES = {
    "failover": "FailoverStateMachine",
    "failback": "FailbackStateMachine",
    "backup-verification": "BackupVerificationStateMachine",
    "restore-test": "RestoreTestStateMachine",
}
INPUTS: dict[str, dict[str, Any]] = {
    "failover": {"mode": "unplanned", "reason": "fault matrix"},
    "failback": {"mode": "planned", "reason": "fault matrix"},
    "backup-verification": {"requested_by": "fault matrix"},
    "restore-test": {"mode": "full"},
}
# The Fail state every workflow keeps for what it could not name (FailUnexpected / FailUnrecorded).
CATCH_ALL = {
    "failover": "FailoverFailed",
    "failback": "FailbackFailed",
    "backup-verification": "VerificationFailed",
    "restore-test": "RestoreTestFailed",
}
MOVES = (("writer_region", "Aurora writer"), ("traffic_region", "traffic"))
# A catch-all name is acceptable when its cause says why the step could not run: the AWS error it kept
# getting, a timeout (botocore's "Read timeout on endpoint URL", the step's own), or the failure handler
# itself failing or timing out (FailUnrecorded).
EXPLAINED = re.compile(
    r"An error occurred \(\w+\)|timed out|did not answer|Could not connect|(Read|Connect) timeout on endpoint URL"
    r"|the failure handler (could not run|did not finish)"
)
RUN_TIMEOUT = 300.0  # real seconds; a run that has not ended by then is hung
SETTLE_TIMEOUT = 15.0  # real seconds for SettleAbandonedLease after a run that ended unsettled
# The failover and the failback's platforms are read again this long after the run (virtual seconds): a
# promotion the run started may still be under way, and where users end is known only minutes later (the
# traffic pin alarm's state lasts until its next evaluation; KeepTrafficPin republishes the recorded intent
# every minute). The failback's platform evaluates its CloudWatch alarms every minute, as AWS does; the
# failover's does not: its primary-health alarm would start a failover of its own beside the matrix's run
# (tests/workflows/test_outages.py and test_traffic_pin.py run those with the alarms evaluated).
TRAVELS = ("failover", "failback")
EVALUATED = ("failback",)
AFTERWARDS_SECONDS = 240.0


@dataclass(frozen=True, order=True)
class Cell:
    workflow: str
    service: str
    operation: str
    kind: str
    times: int | None

    @property
    def name(self) -> str:
        return f"{self.workflow} {self.service}.{self.operation} {self.kind} {'every' if self.times is None else 'x2'}"

    @classmethod
    def parse(cls, name: str) -> Cell:
        """The cell ``name`` names (the inverse of ``name``)."""
        workflow, operation, kind, times = name.split()
        service, _, op = operation.partition(".")
        return cls(workflow, service, op, kind, None if times == "every" else int(times.lstrip("x")))


@dataclass
class Run:
    """What a run of a workflow left: its end, its records, the platform before and after."""

    execution: str
    status: str  # the execution's status, or HUNG
    error: str = ""
    cause: str = ""
    report: dict[str, Any] = field(default_factory=dict)  # the execution's output
    audit: dict[str, Any] | None = None  # the audit record's report, None when there is none
    asked: bool = False
    subjects: list[str] = field(default_factory=list)  # what the DR topic delivered
    lease: dict[str, Any] = field(default_factory=dict)
    before: dict[str, str] = field(default_factory=dict)  # writer_region / traffic_region
    after: dict[str, str] = field(default_factory=dict)
    verified: bool = False  # VerifyRecovery succeeded
    operations: list[tuple[str, str]] = field(default_factory=list)  # the application's, in a clean run

    @property
    def report_status(self) -> str:
        return str(self.report.get("status", ""))


@dataclass
class Result:
    cell: str
    outcome: str
    status: str
    error: str = ""
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0


# -- running a workflow -------------------------------------------------------------------------------
def starting_platform(workflow: str) -> Platform:
    """A fresh embedded AWS with the platform seeded, the app deployed, at the workflow's starting point (its
    cloud started: ``platform.close()`` then ``platform.cloud.stop()`` end it)."""
    cloud = LocalCloud().start()
    platform = None
    try:
        platform = Platform(cloud, PlatformDesign(evaluate_alarms=workflow in EVALUATED))
        platform.seed().deploy()
        if workflow == "failback":
            planned = _follow(platform, _start(platform, "failover", {"mode": "planned"}), approve=True)
            if planned is None or planned[0]["status"] != "SUCCEEDED":
                raise RuntimeError(f"the planned failover before the failback did not succeed: {planned}")
        elif workflow in ("backup-verification", "restore-test"):
            platform.seed_backup_history()
        else:
            platform.primary_outage()
    except BaseException:
        if platform is not None:
            platform.close()
        cloud.stop()
        raise
    return platform


@contextmanager
def fresh_platform(workflow: str) -> Iterator[Platform]:
    """``starting_platform``, closed and stopped on exit."""
    platform = starting_platform(workflow)
    try:
        yield platform
    finally:
        platform.close()
        platform.cloud.stop()


def _run_on(platform: Platform, workflow: str, cell: Cell | None) -> Run:
    """The clean run (``cell`` None: the application's operations recorded) or the cell's, on ``platform``."""
    if cell is not None:
        platform.cloud.faults.inject(cell.service, cell.operation, cell.kind, times=cell.times)
    return run_workflow(platform, workflow, record=cell is None)


# Each workflow's starting platform is built once per process and each run made in a fork of it
# (tests/faults/starts.py); LOCALCLOUD_FORK=0 builds one per run here instead.
STARTS = Starts(starting_platform, _run_on)


def _run(workflow: str, cell: Cell | None) -> Run:
    if forking():
        return STARTS.run(workflow, cell)  # type: ignore[no-any-return]
    with fresh_platform(workflow) as platform:
        return _run_on(platform, workflow, cell)


def _start(platform: Platform, workflow: str, payload: dict[str, Any]) -> str:
    return platform.cloud.start_execution(platform.stack.arn(STATE_MACHINES[workflow]), payload)


def _follow(platform: Platform, execution: str, approve: bool, timeout: float = RUN_TIMEOUT) -> Any:
    """(DescribeExecution, asked) once the execution ends, approving at its gate; None if it never ends."""
    cloud, region = platform.cloud, platform.design.recovery_region
    ddb = cloud.client("dynamodb", region)
    table = platform.stack.physical("StateTable")
    deadline = time.monotonic() + timeout
    asked = False
    while time.monotonic() < deadline:
        described = cloud.describe(execution)
        if described["status"] in TERMINAL:
            return described, asked
        if not asked:
            item = ddb.get_item(TableName=table, Key={"pk": {"S": f"approval#{execution}"}}).get("Item")
            if item:
                asked = True
                if approve:
                    cloud.client("stepfunctions", region).send_task_success(
                        taskToken=item["token"]["S"], output='{"approved_by": "fault matrix"}'
                    )
        time.sleep(0.05)
    return None


def _where(platform: Platform) -> dict[str, str]:
    out = {}
    for key, read in (("writer_region", platform.writer_region), ("traffic_region", platform.traffic_region)):
        try:
            out[key] = str(read())
        except Exception as err:  # the matrix reports what it could not read
            out[key] = f"unreadable ({type(err).__name__})"
    return out


def _audit(platform: Platform, execution: str) -> dict[str, Any] | None:
    item = (
        platform.cloud.client("dynamodb", platform.design.recovery_region)
        .get_item(TableName=platform.stack.physical("StateTable"), Key={"pk": {"S": f"audit#{execution}"}})
        .get("Item")
    )
    return None if item is None else dict(json.loads(item["report"]["S"]))


def _verified(platform: Platform, execution: str) -> bool:
    """Whether VerifyRecovery ended well in this execution (a task of it succeeded)."""
    state = ""
    for event in platform.cloud.history(execution):
        entered = event.get("stateEnteredEventDetails")
        if entered:
            state = entered.get("name", "")
        elif state == "VerifyRecovery" and event["type"] in ("TaskSucceeded", "LambdaFunctionSucceeded"):
            return True
    return False


def _settled(platform: Platform, execution: str, timeout: float = SETTLE_TIMEOUT) -> None:
    """Give the execution's status-change event its time: a run that ended without settling its lease or
    writing its record is settled and recorded by SettleAbandonedLease, which that event starts."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        held = lease(platform)
        if not (held.get("state") == "HELD" and held.get("holder") == execution) and _audit(platform, execution):
            return
        time.sleep(0.1)


def run_workflow(platform: Platform, workflow: str, record: bool = False) -> Run:
    """Run ``workflow`` on ``platform`` to its end; with ``record``, the application's operations too."""
    cloud = platform.cloud
    inbox = Inbox(cloud, platform.stack.physical("EventsTopic"), platform.design.recovery_region)
    seen: dict[tuple[str, str], None] = {}
    if record:

        def note(call: Call) -> None:
            if cloud.outage.is_application(call.request):
                seen.setdefault((call.service, call.operation), None)

        cloud.interceptor.hook(note)
    before = _where(platform)
    execution = _start(platform, workflow, INPUTS[workflow])
    ended = _follow(platform, execution, approve=True)
    if ended is None:
        return Run(execution=execution, status="HUNG", before=before, after=_where(platform))
    described, asked = ended
    _settled(platform, execution)
    if workflow in TRAVELS:
        platform.cloud.clock.sleep(AFTERWARDS_SECONDS)
    output = described.get("output")
    return Run(
        execution=execution,
        status=str(described["status"]),
        error=str(described.get("error", "")),
        cause=str(described.get("cause", "")),
        report=dict(json.loads(output)) if output else {},
        audit=_audit(platform, execution),
        asked=asked,
        subjects=[str(s) for s in inbox.subjects()],
        lease=lease(platform),
        before=before,
        after=_where(platform),
        verified=workflow in ("failover", "failback") and _verified(platform, execution),
        operations=sorted(seen),
    )


def clean_run(workflow: str) -> Run:
    return _run(workflow, None)


def cells(workflow: str, operations: Iterable[tuple[str, str]]) -> list[Cell]:
    return [
        Cell(workflow, service, operation, kind, times)
        for service, operation in operations
        for kind in KINDS
        for times in TIMES
    ]


# -- the invariant ------------------------------------------------------------------------------------
def _moves(run: Run) -> dict[str, tuple[str, str]]:
    return {what: (run.before[key], run.after[key]) for key, what in MOVES if run.before.get(key) != run.after.get(key)}


def _lease_problems(cell: Cell, run: Run) -> list[str]:
    state, holder = run.lease.get("state"), run.lease.get("holder")
    if state == "HELD":
        return [f"the lease is left HELD (holder {holder})"]
    if cell.workflow not in ("failover", "failback") or run.status == "SUCCEEDED":
        return []
    moved = _moves(run)
    ours = holder == run.execution
    if moved and not (ours and state == "BLOCKED"):
        return [f"the lease is {state} (holder {holder}) although {', '.join(moved)} moved"]
    if not moved and ours and state == "BLOCKED":
        # what the run knew: its audit record, else what it wrote on the lease itself
        known = run.audit or {}
        changed = [*known.get("changed", []), *run.lease.get("changed", [])]
        if not (known.get("unknown") or any("progress" in str(c) or "unknown" in str(c) for c in changed)):
            return ["the lease is BLOCKED although nothing moved and nothing was unknown"]
    return []


def _changed_problems(run: Run) -> list[str]:
    if run.audit is None:
        return []
    claimed = [str(c) for c in run.audit.get("changed", []) if "moved from" in str(c)]
    problems = []
    # a traffic move the run announced as under way (the pin's intent recorded, DNS not there yet: HandleFailure's
    # unknown, SettleAbandonedLease's "unknown: ..." change) is accounted for
    unknown = [
        *map(str, run.audit.get("unknown", [])),
        *(str(c) for c in run.audit.get("changed", []) if str(c).startswith("unknown:")),
    ]
    # HandleFailure's "Aurora: a promotion is still in progress", SettleAbandonedLease's "(a promotion is in
    # progress: it may still move)"
    promoting = any(re.search(r"promotion is (still )?in progress", str(c)) for c in run.audit.get("changed", []))
    for what, (before, after) in _moves(run).items():
        if what == "traffic" and any(f"moving to {after}" in u for u in unknown):
            continue
        if what == "Aurora writer" and promoting:  # the promotion the run said was under way ended there
            continue
        if not any(c.startswith(f"{what}: moved from {before} to {after}") for c in claimed):
            problems.append(f"changed misses the move of the {what} from {before} to {after} ({claimed})")
    for line in [str(u) for u in run.audit.get("unchanged", [])]:
        for key, what in MOVES:
            if line.startswith(f"{what}: still in ") and not line.startswith(f"{what}: still in {run.after.get(key)}"):
                problems.append(f"unchanged says '{line}', but the {what} is in {run.after.get(key)}")
    real = {f"{what}: moved from {b} to {a}" for what, (b, a) in _moves(run).items()}
    problems += [f"changed claims a move that did not happen: {c}" for c in claimed if c not in real]
    return problems


def _recorded(run: Run) -> bool:
    warnings = [str(w) for w in run.report.get("warnings") or []]
    return run.audit is not None or any("audit record was not written" in w for w in warnings)


def _notified(run: Run) -> bool:
    ends = [s for s in run.subjects if not s.startswith("[DR] Approval needed")]
    warnings = [str(w) for w in [*((run.audit or {}).get("warnings") or []), *(run.report.get("warnings") or [])]]
    return bool(ends) or any("notification was not published" in w for w in warnings)


def classify(cell: Cell, run: Run, clean: Run) -> Result:
    """The outcome of ``cell`` from its ``run``, against the ``clean`` run of its workflow."""
    problems: list[str] = []
    result = Result(cell=cell.name, outcome="bad", status=run.status, error=run.error)
    if run.status == "HUNG":
        result.problems = [f"hung: no end within {RUN_TIMEOUT:.0f} s"]
        return result
    problems += _lease_problems(cell, run)
    travels = cell.workflow in ("failover", "failback")
    if run.status == clean.status == "SUCCEEDED" and run.report_status == clean.report_status:
        if travels and run.after != clean.after:
            problems.append(f"SUCCEEDED with the platform at {run.after}, the clean run left it at {clean.after}")
        if not _recorded(run):
            problems.append("SUCCEEDED with no audit record and no warning saying so")
        result.outcome = "asked" if run.asked and not clean.asked else "retried"
    elif run.status == "FAILED":
        generic = run.error == CATCH_ALL[cell.workflow] or run.error.startswith("States.")
        if generic and not EXPLAINED.search(run.cause):
            problems.append(
                f"FAILED with the catch-all name {run.error} and a cause that does not say why: {run.cause[:300]}"
            )
        if run.error == "ApprovalTimedOut" and not run.asked:
            problems.append("FAILED as ApprovalTimedOut although nobody was asked")
        if run.verified:
            problems.append("FAILED after a verified recovery")
        if not (run.audit and run.audit.get("status") == "FAILED") and "NOT RECORDED" not in run.cause:
            problems.append(f"no FAILED audit record ({(run.audit or {}).get('status')}) and no NOT RECORDED")
        if not _notified(run):
            problems.append("no notification and no record saying it was not published")
        if travels:
            problems += _changed_problems(run)
        result.outcome = "named-failure"
    elif cell.workflow == "backup-verification" and run.status == "SUCCEEDED" and run.report_status == "FINDINGS":
        if not _recorded(run):
            problems.append("FINDINGS with no audit record and no warning saying so")
        if not _notified(run):
            problems.append("FINDINGS with no notification and no record saying it was not published")
        result.outcome = "named-failure"
    else:
        problems.append(
            f"ended {run.status}/{run.report_status or '-'} ({run.error}: {run.cause[:200]}), "
            f"the clean run {clean.status}/{clean.report_status}"
        )
    if problems:
        result.outcome, result.problems = "bad", problems
    return result


def run_cell(cell: Cell, clean: Run) -> Result:
    began = time.monotonic()
    try:
        result = classify(cell, _run(cell.workflow, cell), clean)
    except Exception as err:  # a cell that breaks the harness is reported, not fatal
        result = Result(cell=cell.name, outcome="bad", status="ERROR", problems=[f"{type(err).__name__}: {err}"])
    result.seconds = round(time.monotonic() - began, 1)
    return result


# -- the report ---------------------------------------------------------------------------------------
def render(results: Sequence[Result]) -> str:
    counts: dict[str, Counter[str]] = {}
    for r in results:
        counts.setdefault(r.cell.split()[0], Counter())[r.outcome] += 1
    lines = [f"{'workflow':<22}" + "".join(f"{o:>15}" for o in OUTCOMES) + f"{'cells':>8}"]
    for workflow in WORKFLOWS:
        if workflow in counts:
            c = counts[workflow]
            lines.append(f"{workflow:<22}" + "".join(f"{c[o]:>15}" for o in OUTCOMES) + f"{sum(c.values()):>8}")
    bad = sorted((r for r in results if r.outcome == "bad"), key=lambda r: r.cell)
    if bad:
        lines += ["", f"bad cells ({len(bad)}):"]
        lines += [f"- {r.cell}: {r.status} {r.error} — " + "; ".join(r.problems) for r in bad]
    return "\n".join(lines)


def sample(workflow: str, operations: Sequence[tuple[str, str]], n: int) -> list[Cell]:
    """``n`` cells of ``workflow`` spread evenly over its operations, the fault kinds and the times in turn
    (a fixed choice, not a random one)."""
    n = min(n, len(operations) * len(KINDS) * len(TIMES))
    step = len(operations) / n
    return [
        Cell(workflow, *operations[int(i * step)], KINDS[i % len(KINDS)], TIMES[(i // len(KINDS)) % len(TIMES)])
        for i in range(n)
    ]


def interleave(per_workflow: Sequence[Sequence[Cell]]) -> list[Cell]:
    """The cells of every workflow taken in turn, so a long run covers all of them early."""
    out: list[Cell] = []
    for i in range(max((len(c) for c in per_workflow), default=0)):
        out += [c[i] for c in per_workflow if i < len(c)]
    return out


def _clean_or_die(workflow: str) -> Run:
    clean = clean_run(workflow)
    if clean.status != "SUCCEEDED":
        raise SystemExit(f"the clean {workflow} run did not succeed: {clean.status} {clean.error} {clean.cause}")
    return clean


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.faults.matrix", description=__doc__.split("\n")[0])
    parser.add_argument("--workflow", action="append", choices=WORKFLOWS, help="only this workflow (repeatable)")
    parser.add_argument("--sample", type=int, help="only N cells per workflow, spread over its operations")
    parser.add_argument("--cell", action="append", help='only this cell, e.g. "failover sns.Publish 5xx every"')
    parser.add_argument("--jobs", type=int, default=1, help="cells run in parallel processes")
    parser.add_argument("--log", help="write each cell's result to this file as a JSON line as it ends")
    args = parser.parse_args(argv)
    began = time.monotonic()
    only = [Cell.parse(name) for name in args.cell or []]
    workflows = args.workflow or sorted({c.workflow for c in only}, key=WORKFLOWS.index) or list(WORKFLOWS)
    if args.log:
        open(args.log, "w", encoding="utf-8").close()  # a fresh log for this run
    results: list[Result] = []
    pool = ProcessPoolExecutor(args.jobs, mp_context=get_context("spawn")) if args.jobs > 1 else None
    try:
        ran = pool.map(_clean_or_die, workflows) if pool else map(_clean_or_die, workflows)
        cleans = dict(zip(workflows, ran, strict=True))
        chosen = []
        for workflow in workflows:
            operations = cleans[workflow].operations
            if only:
                chosen.append([c for c in only if c.workflow == workflow])
            elif args.sample:
                chosen.append(sample(workflow, operations, args.sample))
            else:
                chosen.append(cells(workflow, operations))
            print(f"{workflow}: {len(operations)} operations, {len(chosen[-1])} cells", flush=True)
        todo = [(cell, cleans[cell.workflow]) for cell in interleave(chosen)]
        done = (
            (f.result() for f in as_completed([pool.submit(run_cell, c, k) for c, k in todo]))
            if pool
            else (run_cell(c, k) for c, k in todo)
        )
        for result in done:
            results.append(result)
            print(f"[{len(results)}/{len(todo)}] {result.outcome:<14} {result.cell} ({result.seconds} s)", flush=True)
            if args.log:
                with open(args.log, "a", encoding="utf-8") as log:
                    log.write(json.dumps(asdict(result)) + "\n")
    finally:
        if pool:
            pool.shutdown(cancel_futures=True)
    print()
    print(render(results))
    print(f"\nwall time {time.monotonic() - began:.0f} s for {len(results)} cells")
    return 1 if any(r.outcome == "bad" for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
