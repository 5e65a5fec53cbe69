"""Drills on the embedded AWS: build the platform, deploy the app in both regions, run the workflow with
the real handlers and the real ASL, and report what it achieved."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from dr import lease as lease_ops

from drctl import operations
from drctl.target import Target, local_target
from localcloud.cloud import LocalCloud
from localcloud.scenario import Platform, PlatformDesign


@contextmanager
def local_platform(
    design: PlatformDesign | None = None, outage: str | None = None
) -> Iterator[tuple[LocalCloud, Platform, Target]]:
    """A seeded platform with the app deployed, in this process; torn down on exit.

    ``outage``: an outage profile of localcloud (app, region, control-plane, gray, recovery-partial) the
    primary region is in before anything else happens, with CloudWatch alarms evaluated on the clock."""
    design = design or PlatformDesign()
    if outage is not None:
        design = dataclasses.replace(design, evaluate_alarms=True)
    with LocalCloud() as cloud:
        platform = Platform(cloud, design).seed()
        try:
            platform.deploy()
            if outage is not None:
                platform.primary_outage(outage)
            target = local_target(cloud, platform.design.stack_name, platform.design.recovery_region)
            yield cloud, platform, target
        finally:
            platform.close()


# How long (real seconds) a drill waits for one of the executions alarms started to take the lease.
LEASE_TAKEN_WITHIN = 30.0


def _earliest(executions: list[dict[str, Any]]) -> str:
    return str(min(executions, key=lambda e: e["startDate"])["executionArn"])


def acting_execution(executions: list[dict[str, Any]], holder: str | None) -> str | None:
    """Of the executions alarms started, the one to follow: the one that took the lease (it names the
    lease's ``holder``). None while none has and some are still running; the earliest once all ended
    without taking it (each stopped before its lease: that is what there is to report)."""
    arns = {str(e["executionArn"]) for e in executions}
    if holder in arns:
        return holder
    if all(e.get("status", "RUNNING") != "RUNNING" for e in executions):
        return _earliest(executions)
    return None


def alarm_started(
    cloud: LocalCloud, platform: Platform, target: Target, workflow: str, within: float = LEASE_TAKEN_WITHIN
) -> str | None:
    """The execution an alarm already started for ``workflow`` (an outage with alarms evaluated: on the
    worst day nobody starts the failover, the alarm does); None when none did. Several alarms start one
    execution each (in a control-plane outage both the health alarm and the probe alarm fire): the lease
    lets one act and turns the others away as duplicates (SKIPPED). The drill follows the one that took the
    lease, whichever started first; if none has within ``within`` real seconds, the earliest."""
    if workflow != "failover":
        return None
    machine = platform.stack.arn("FailoverStateMachine")
    executions = cloud.executions(machine)
    if not executions:
        return None
    ddb = target.client("dynamodb")
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        holder = (lease_ops.describe_with(ddb, target.state_table) or {}).get("holder")
        if (chosen := acting_execution(executions, holder)) is not None:
            return chosen
        time.sleep(0.05)
        executions = cloud.executions(machine)
    return _earliest(executions)


def run(
    target: Target,
    workflow: str,
    payload: dict[str, Any],
    show: Callable[[str], None] | None,
    approver: Callable[[str], bool | None] | None,
    timeout: float = 600.0,
    execution: str | None = None,
) -> dict[str, Any]:
    """Start ``workflow`` with ``payload`` (or follow ``execution``, already started), follow it to the end,
    and return its report (+ wall time)."""
    started = time.perf_counter()
    if execution is None:
        execution = operations.start(target, workflow, payload)
    elif show:
        asked = payload.get("mode")
        unused = f"; --mode {asked} not used: an alarm starts an unplanned failover" if asked != "unplanned" else ""
        show(
            f"an alarm started it: following that execution instead of starting another (the lease allows one){unused}"
        )
    if show:
        show(f"execution {execution}")
    operations.follow(target, execution, show, approver, timeout=timeout)
    out = operations.report(target, execution)
    out["wall_seconds"] = round(time.perf_counter() - started, 3)
    return out
