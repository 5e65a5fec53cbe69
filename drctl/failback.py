"""What drctl does for failback: ``drill failback``, ``drill gameday`` and ``setup replication``.

- ``drill failback`` on localcloud first puts the platform where a failback starts from: the primary goes
  down, a real unplanned failover runs, the recovery region takes writes during the outage, the primary
  recovers; then the failback runs (re-protect, wait for replication, approve, switch over, move traffic,
  verify) and the report says whether every write of the outage reached home. On a deployed stack it runs
  the failback only.
- ``drill gameday``: a planned failover, then a failback, one combined report.
- ``setup replication --from R --to R``: the replication setup (dr.replication) run with the operator's
  credentials, until nothing is pending; the inventory is read from the deployed stack.
"""

from __future__ import annotations

import argparse
import getpass
import json
import time
from collections.abc import Callable
from typing import Any

from dr import replication
from dr.inventory import load_inventory
from dr.replication import ReplicationSettings, SetupResult
from dr.settings import Settings

from drctl.render import render
from drctl.target import Target, TargetError

WORKFLOWS = ("failback", "gameday")
MODES = ("planned", "dry-run")
OK_STATUSES = {"SUCCEEDED", "DRY_RUN", "SKIPPED"}
OUTAGE_SECONDS = 1800  # how long the local scenario's primary stays down after the failover
Printer = Callable[[str], None]
Approver = Callable[[str], bool | None]


def _payload(args: argparse.Namespace, mode: str) -> dict[str, Any]:
    return {"mode": mode, "reason": args.reason, "requested_by": f"drctl:{getpass.getuser()}"}


def _summary(report: dict[str, Any]) -> dict[str, Any]:
    keys = ("workflow", "mode", "status", "execution", "rto", "rpo", "writer_region", "traffic_region", "error")
    return {k: report.get(k) for k in keys if k in report}


# -- drills ---------------------------------------------------------------------------------------------
def drill(args: argparse.Namespace, show: Printer, approver: Approver, target: Target | None) -> int:
    from drctl.drill import local_platform, run

    mode = args.mode or "planned"
    if mode not in MODES:
        raise TargetError(f"{args.workflow} runs in --mode planned or --mode dry-run, not {mode!r}")
    if target is not None:
        show(f"{args.workflow} drill ({mode}) on {target.label}: stack {target.stack_name} in {target.region}")
        out = (
            gameday(target, args, mode, show, approver)
            if args.workflow == "gameday"
            else run(target, "failback", _payload(args, mode), show, approver, args.timeout)
        )
    else:
        with local_platform() as (cloud, platform, local):
            design = platform.design
            there, home = design.recovery_region, design.primary_region
            route = f"{home} -> {there} -> {home}" if args.workflow == "gameday" else f"{there} -> {home}"
            show(f"{args.workflow} drill ({mode}) on localcloud (embedded AWS, no account): {route}")
            if args.workflow == "gameday":
                out = gameday(local, args, mode, show, approver)
            else:
                out = _local_failback(cloud, platform, local, args, mode, show, approver)
    print(render(out, args.output))
    return 0 if out.get("status") in OK_STATUSES else 1


def _local_failback(
    cloud: Any, platform: Any, local: Target, args: argparse.Namespace, mode: str, show: Printer, approver: Approver
) -> dict[str, Any]:
    from drctl.drill import run
    from localcloud import scenario_failback as scenario

    show("scenario: the primary's API stops answering; replication into it waits; an unplanned failover runs")
    platform.primary_outage()
    scenario.queue_writes_for_primary(platform)
    failover = run(
        local,
        "failover",
        {"mode": "unplanned", "reason": "failback drill: the outage", "requested_by": "drctl"},
        None,
        approver,
        args.timeout,
    )
    show(
        f"  failover {failover['status']}: writer {failover.get('writer_region')}, "
        f"traffic {failover.get('traffic_region')}"
    )
    if failover.get("status") != "SUCCEEDED":
        return {
            "workflow": "failback",
            "mode": mode,
            "status": "FAILED",
            "error": "the failover failed",
            "failover": failover,
        }
    written = scenario.write_during_outage(platform)
    show(
        f"scenario: {len(written.items)} items and {len(written.objects)} objects written in "
        f"{platform.design.recovery_region} during the outage"
    )
    cloud.advance(OUTAGE_SECONDS)
    show("scenario: the primary recovers; replication into it resumes")
    platform.primary_recovers()
    scenario.deliver_queued_writes(platform)
    out = run(local, "failback", _payload(args, mode), show, approver, args.timeout)
    missing = scenario.missing_at_home(platform, written)
    out["scenario"] = {
        "failover": _summary(failover),
        "written_during_outage": {"items": len(written.items), "objects": len(written.objects)},
        "missing_in_primary": missing,
    }
    if mode == "planned" and missing and out.get("status") == "SUCCEEDED":
        out["status"] = "DATA_MISSING"
    return out


def gameday(target: Target, args: argparse.Namespace, mode: str, show: Printer, approver: Approver) -> dict[str, Any]:
    """A planned failover then a failback, with one combined report."""
    from drctl.drill import run

    show("game day 1/2: planned failover")
    failover = run(target, "failover", _payload(args, mode), show, approver, args.timeout)
    failback: dict[str, Any] = {}
    if failover.get("status") in OK_STATUSES:
        show("game day 2/2: failback")
        failback = run(target, "failback", _payload(args, mode), show, approver, args.timeout)
    ok = failover.get("status") == failback.get("status") == ("DRY_RUN" if mode == "dry-run" else "SUCCEEDED")
    last = failback or failover
    return {
        "workflow": "gameday",
        "mode": mode,
        "status": ("DRY_RUN" if mode == "dry-run" else "SUCCEEDED") if ok else "FAILED",
        "failover": failover,
        "failback": failback,
        "writer_region": last.get("writer_region"),
        "traffic_region": last.get("traffic_region"),
        "rto_seconds": {
            "failover": (failover.get("rto") or {}).get("seconds"),
            "failback": (failback.get("rto") or {}).get("seconds"),
        },
        "wall_seconds": round(float(failover.get("wall_seconds", 0)) + float(failback.get("wall_seconds", 0)), 3),
    }


# -- setup replication ----------------------------------------------------------------------------------
def _environment(target: Target) -> dict[str, str]:
    """The inventory and settings the stack gave its functions (read from a deployed step's configuration)."""
    lam = target.client("lambda")
    config = lam.get_function_configuration(FunctionName=target.physical("ReprotectS3Function"))
    return dict(config.get("Environment", {}).get("Variables", {}))


def setup(
    target: Target,
    from_region: str,
    to_region: str,
    dry_run: bool,
    timeout: float,
    interval: float = 15.0,
    sleep: Callable[[float], object] = time.sleep,
) -> dict[str, Any]:
    """Run the replication setup with ``target``'s credentials until nothing is pending (bounded)."""
    env = _environment(target)
    settings = Settings.model_validate(env)
    inv = load_inventory(settings, env)
    extra = ReplicationSettings.model_validate(env)

    def clients(service: str, region: str) -> Any:
        return target.client(service, region)

    deadline = time.monotonic() + timeout
    passes: list[list[SetupResult]] = []
    while True:
        results = replication.setup_all(inv, from_region, to_region, extra, dry_run=dry_run, clients=clients)
        passes.append(results)
        converged = all(r.configured and r.flowing is not False for r in results)
        if dry_run or converged or time.monotonic() >= deadline:
            break
        sleep(interval)
    changes = [c for results in passes for r in results for c in r.changes]
    last = passes[-1]
    status = "DRY_RUN" if dry_run else ("CHANGED" if changes else "UNCHANGED") if converged else "PENDING"
    left: list[str] = []
    if status == "CHANGED":  # prove the claim that a second run changes nothing: one more look, dry
        check = replication.setup_all(inv, from_region, to_region, extra, dry_run=True, clients=clients)
        left = [c for r in check for c in r.changes]
    return {
        "command": "setup replication",
        "status": status,
        "left_to_change": left,
        "from_region": from_region,
        "to_region": to_region,
        "dry_run": dry_run,
        "passes": len(passes),
        "waited_for": [
            [p for r in results for p in r.pending]
            + [f"{r.store}: replication not flowing yet" for r in results if r.flowing is False]
            for results in passes[:-1]
        ],
        "changes": changes,
        "stores": {
            r.store: {
                **r.model_dump(mode="json"),
                "changes": [c for results in passes for x in results if x.store == r.store for c in x.changes],
            }
            for r in last
        },
    }


def render_setup(out: dict[str, Any], output: str) -> str:
    if output == "json":
        return json.dumps(out, indent=2, default=str)
    lines = [f"replication {out['from_region']} -> {out['to_region']}{' (dry-run)' if out['dry_run'] else ''}"]
    label = "plan" if out["dry_run"] else "changed"
    for store, result in out["stores"].items():
        lines.append(f"  {store}:")
        lines += [f"    {label}: {c}" for c in result["changes"]] or ["    nothing to change"]
        lines += [f"    pending: {p}" for p in result["pending"]]
    verified = (
        "a second look finds nothing more to change"
        if not out["left_to_change"]
        else "a second look still finds: " + "; ".join(out["left_to_change"])
    )
    verdict = {
        "UNCHANGED": "nothing to change: replication is already set up, and this run changed nothing",
        "CHANGED": f"{len(out['changes'])} change(s) made; replication is set up ({verified})",
        "DRY_RUN": f"dry-run: {len(out['changes'])} change(s) would be made; nothing was changed",
        "PENDING": "still converging when the timeout came: run it again to finish",
    }[out["status"]]
    return "\n".join([*lines, verdict])


def setup_command(args: argparse.Namespace, target: Target | None) -> int:
    if target is not None:
        out = setup(target, args.from_region, args.to_region, args.dry_run, args.timeout)
    else:
        from drctl.drill import local_platform
        from localcloud.scenario_failback import half_configured

        with local_platform() as (cloud, platform, local):
            print(
                f"localcloud (embedded AWS, no account): a freshly seeded platform "
                f"({platform.design.primary_region} -> {platform.design.recovery_region} replicating)"
            )
            if args.scenario == "half-configured":
                print("scenario: replication half set up:\n" + "\n".join(f"  - {b}" for b in half_configured(platform)))
            out = setup(local, args.from_region, args.to_region, args.dry_run, args.timeout, sleep=cloud.advance)
    print(render_setup(out, args.output))
    return 0 if out["status"] != "PENDING" else 1
