"""Drills on the embedded AWS: build the platform, deploy the app in both regions, run the workflow with
the real handlers and the real ASL, and report what it achieved."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

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


def alarm_started(cloud: LocalCloud, platform: Platform, workflow: str) -> str | None:
    """The execution an alarm already started for ``workflow`` (an outage with alarms evaluated: on the
    worst day nobody starts the failover, the alarm does), the earliest if several; None when none did."""
    if workflow != "failover":
        return None
    executions = cloud.executions(platform.stack.arn("FailoverStateMachine"))
    return str(min(executions, key=lambda e: e["startDate"])["executionArn"]) if executions else None


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
        show("an alarm started it: following that execution instead of starting another (the lease allows one)")
    if show:
        show(f"execution {execution}")
    operations.follow(target, execution, show, approver, timeout=timeout)
    out = operations.report(target, execution)
    out["wall_seconds"] = round(time.perf_counter() - started, 3)
    return out
