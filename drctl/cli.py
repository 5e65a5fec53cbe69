"""drctl: the operator CLI of the DR automation.

Drills run on the embedded AWS (localcloud) unless a target is given: ``--stack NAME --region R`` for a
deployed stack in a real account, or ``--endpoint-url URL`` for a localcloud server (``drctl serve``).
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import signal
import sys
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from dr import lease as lease_ops
from dr.errors import DrError

from drctl import backups, evidence, evidence_render, failback, operations
from drctl.render import render
from drctl.target import Target, TargetError

OK_STATUSES = {"SUCCEEDED", "DRY_RUN", "SKIPPED"}
# localcloud's outage profiles (localcloud.outage.PROFILES; named here so --help needs no localcloud import)
OUTAGES = ("app", "region", "control-plane", "gray", "recovery-partial")
OUTPUTS = ["text", "json", "markdown", "html"]
DEFAULT_STACK = "roadcall-dr"
# drctl.readiness.KNOBS, named here so --help needs no import of the command's module
READINESS_KNOBS = (
    "pitr-off",
    "replica-removed",
    "rtc-off",
    "delete-markers-off",
    "replication-off",
    "policy-detached",
    "topic-unsubscribed",
    "function-throttled",
    "account-concurrency",
    "deletion-protection-off",
    "reader-removed",
    "aurora-retention",
    "log-exports-off",
    "monitoring-off",
    "secondary-headless",
    "health-check-deleted",
    "traffic-pinned",
)
DEFAULT_REGION = "us-west-2"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="drctl", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--stack", help="deployed stack name (default: the embedded AWS for drills)")
    p.add_argument(
        "--region",
        default=os.environ.get("AWS_REGION", DEFAULT_REGION),
        help="region of the orchestration stack (the recovery region; default %(default)s)",
    )
    p.add_argument("--endpoint-url", help="a localcloud server started with `drctl serve`")
    sub = p.add_subparsers(dest="command", required=True)

    drill = sub.add_parser("drill", help="run a workflow end to end and report what it achieved")
    drill.add_argument(
        "workflow",
        choices=["failover", *failback.WORKFLOWS, *backups.WORKFLOWS, "season"],
        help="season: a quarter of drills, verifications and restore tests on localcloud, then the evidence pack",
    )
    drill.add_argument(
        "--mode",
        choices=["planned", "unplanned", "dry-run", "full"],
        default=None,
        help="failover: planned (default), unplanned, dry-run; failback, gameday: planned (default), dry-run; "
        "restore-test: full (default), dry-run",
    )
    drill.add_argument(
        "--from-copies", action="store_true", help="restore-test: restore from the recovery region's copies"
    )
    drill.add_argument(
        "--approve",
        choices=["auto", "ask"],
        default="auto",
        help="answer the approval gate automatically, or ask at this terminal",
    )
    drill.add_argument("--output", choices=OUTPUTS, default="text")
    drill.add_argument("--reason", default="DR drill started with drctl")
    drill.add_argument("--timeout", type=float, default=900.0, help="real seconds to follow the execution")
    drill.add_argument(
        "--outage",
        choices=OUTAGES,
        help="localcloud only: the primary region is in this outage (docs/outages.md) before the drill starts, "
        "with CloudWatch alarms evaluated on the clock",
    )

    for name, help_text in (
        ("approve", "approve a workflow waiting at its approval gate"),
        ("reject", "reject a workflow waiting at its approval gate"),
    ):
        cmd = sub.add_parser(name, help=help_text)
        cmd.add_argument("execution", help="the execution ARN")
        cmd.add_argument("--by", default=getpass.getuser())
        if name == "approve":
            cmd.add_argument("--comment", default="")
        else:
            cmd.add_argument("--reason", required=True)

    report = sub.add_parser("report", help="the report of one execution (RTO, RPO, timeline)")
    report.add_argument("execution")
    report.add_argument("--output", choices=OUTPUTS, default="text")

    pack = sub.add_parser(
        "evidence",
        help="the evidence pack for auditors: drills, verifications, restore tests, the controls they evidence, "
        "the gaps (exit code 1 when there are gaps)",
    )
    pack.add_argument("--since", default="90d", help="the period: 90d, 12w or a date (default %(default)s)")
    pack.add_argument("--output", choices=OUTPUTS, default="text")

    status = sub.add_parser("status", help="readiness of the recovery region (read-only)")
    status.add_argument("--output", choices=["text", "json"], default="text")

    readiness = sub.add_parser(
        "readiness",
        help="evaluate the DR posture now: what a failover needs, what the DR design promises, the drill calendar",
    )
    readiness.add_argument("--output", choices=["text", "json", "markdown"], default="text")
    readiness.add_argument(
        "--break",
        dest="knobs",
        action="append",
        default=[],
        choices=READINESS_KNOBS,
        help="localcloud only: break this on the embedded platform first (repeatable; docs/readiness.md)",
    )
    readiness.add_argument(
        "--outage", choices=OUTAGES, help="localcloud only: the primary region is in this outage (docs/outages.md)"
    )

    dashboard = sub.add_parser("dashboard", help="the DR posture dashboard (RTO, RPO, lag, findings, runs) as HTML")
    dashboard.add_argument("--output", required=True, help="the HTML file to write (one self-contained page)")
    dashboard.add_argument(
        "--hours",
        type=float,
        default=None,
        help="how far back the charts go (default 24; on the embedded AWS 2, the time its workflows ran)",
    )

    lease = sub.add_parser("lease", help="show or clear the DR lease")
    lease.add_argument("action", choices=["show", "clear"])
    lease.add_argument("--reason", default="", help="why it is safe to clear (required for clear)")
    lease.add_argument(
        "--force",
        action="store_true",
        help="clear a HELD lease even if its holder is still running or its state cannot be read",
    )

    setup = sub.add_parser("setup", help="set up replication between the regions (idempotent)")
    setup.add_argument("what", choices=["replication"])
    setup.add_argument("--from", dest="from_region", required=True, help="the region replication flows from")
    setup.add_argument("--to", dest="to_region", required=True, help="the region replication flows toward")
    setup.add_argument("--dry-run", action="store_true", help="say what would change; change nothing")
    setup.add_argument("--output", choices=["text", "json"], default="text")
    setup.add_argument("--timeout", type=float, default=3600.0, help="seconds to wait for replicas and clusters")
    setup.add_argument(
        "--scenario",
        choices=["seeded", "half-configured"],
        default="seeded",
        help="localcloud only (no target): the state the embedded platform starts in",
    )

    _preflight_parser(sub)

    _serve_parser(sub)
    return p


def _serve_parser(sub: Any) -> None:
    serve = sub.add_parser("serve", help="run the embedded AWS with the platform and the app on a loopback port")
    serve.add_argument("--port", type=int, default=0)
    serve.add_argument(
        "--outage",
        choices=OUTAGES,
        help="the primary region is in this outage (docs/outages.md); requests to the server are the "
        "application's, so the outage applies to them",
    )


def _preflight_parser(sub: Any) -> None:
    preflight = sub.add_parser(
        "preflight", help="check a deployment's parameters against the account before `sam deploy` (read-only)"
    )
    preflight.add_argument("--config-env", help="a samconfig.toml environment whose parameter_overrides to check")
    preflight.add_argument(
        "--parameter-overrides", nargs="*", default=[], metavar="NAME=VALUE", help="as for `sam deploy`; last wins"
    )
    preflight.add_argument("--output", choices=["text", "json"], default="text")


def _remote(args: argparse.Namespace) -> Target | None:
    if args.endpoint_url:
        return Target(
            region=args.region,
            stack_name=args.stack or DEFAULT_STACK,
            endpoint_url=args.endpoint_url,
            label=f"localcloud at {args.endpoint_url}",
        ).load()
    if args.stack:
        return Target(region=args.region, stack_name=args.stack).load()
    return None


def _need_remote(args: argparse.Namespace) -> Target:
    target = _remote(args)
    if target is None:
        raise TargetError(
            f"`drctl {args.command}` needs a target: --stack NAME --region R (a deployed stack) "
            "or --endpoint-url URL (a localcloud server from `drctl serve`)"
        )
    return target


ASK_NEEDS_A_TERMINAL = (
    "--approve ask needs a terminal to ask at, and this one has none (stdin is not a tty); nothing was started. "
    "Use --approve auto, or run it from a terminal (`drctl approve|reject EXECUTION` answers from another one)"
)


def _ask(execution: str) -> bool | None:
    if not sys.stdin.isatty():
        raise TargetError(ASK_NEEDS_A_TERMINAL)
    answer = input(f"\nApprove {execution.rsplit(':', 1)[-1]}? Type 'approve' or 'reject': ").strip().lower()
    return True if answer == "approve" else False if answer == "reject" else None


def _drill(args: argparse.Namespace) -> int:
    from drctl.drill import alarm_started, local_platform, run

    if args.workflow == "season":
        return _season(args)

    if args.approve == "ask" and not sys.stdin.isatty():
        # checked before anything starts: a run started here would wait at its approval gate, holding the lease
        raise TargetError(ASK_NEEDS_A_TERMINAL)
    show = (lambda line: print(line, file=sys.stderr)) if args.output != "text" else print  # the report alone on stdout
    approver = (lambda _execution: True) if args.approve == "auto" else _ask
    if args.workflow in failback.WORKFLOWS:
        return failback.drill(args, show, approver, _remote(args))
    backup_workflow = args.workflow in backups.WORKFLOWS
    if backup_workflow:
        args.mode = args.mode or backups.default_mode(args.workflow)
        payload = backups.payload(args)
    else:
        args.mode = args.mode or "planned"
        payload = {"mode": args.mode, "reason": args.reason, "requested_by": f"drctl:{getpass.getuser()}"}
    target = _remote(args)
    if target is not None:
        if args.outage:
            raise TargetError("--outage stages an outage of the embedded AWS; it cannot apply to a target")
        show(f"{args.workflow} drill ({args.mode}) on {target.label}: stack {target.stack_name} in {target.region}")
        out = run(target, args.workflow, payload, show, approver, args.timeout)
    else:
        with local_platform(outage=args.outage) as (cloud, platform, local):
            show(
                f"{args.workflow} drill ({args.mode}) on localcloud (embedded AWS, no account): "
                f"{platform.design.primary_region} -> {platform.design.recovery_region}"
            )
            if backup_workflow:
                backups.prepare(platform)
            if args.outage:
                show(f"scenario: outage {args.outage} of {platform.design.primary_region} (docs/outages.md)")
            elif args.mode == "unplanned" and not backup_workflow:
                show("scenario: the primary's API stops answering; Route 53 and the probe see it")
                platform.primary_outage()
            existing = alarm_started(cloud, platform, local, args.workflow) if args.outage else None
            with cloud.outage.as_application():  # drctl's own calls are the application's
                out = run(local, args.workflow, payload, show, approver, args.timeout, existing)
        if args.outage:
            out["outage"] = args.outage
    print(render(out, args.output))
    return 0 if out.get("status") in OK_STATUSES else 1


def _season(args: argparse.Namespace) -> int:
    """The quarter on localcloud (drctl.season); prints the pack. Exit code 0 when it ran to the end: its
    gaps are the point of the demonstration."""
    from drctl.season import run_season

    if _remote(args) is not None:
        raise TargetError("drill season runs a quarter on the embedded AWS only; for a stack: drctl evidence")
    show = (lambda line: print(line, file=sys.stderr)) if args.output != "text" else print  # the report alone on stdout
    print(evidence_render.render(run_season(show, args.timeout), args.output))
    return 0


def _evidence(args: argparse.Namespace) -> int:
    target = _need_remote(args)
    pack = evidence.gather(target, evidence.parse_since(args.since, datetime.now(UTC)))
    print(evidence_render.render(pack, args.output))
    return 1 if pack["gaps"] else 0


def _status(args: argparse.Namespace) -> int:
    target = _remote(args)
    if target is not None:
        out = operations.status(target)
    else:
        from drctl.drill import local_platform

        with local_platform() as (_cloud, _platform, local):
            out = operations.status(local)
    if args.output == "json":
        print(json.dumps(out, indent=2, default=str))
    else:
        print(f"recovery region {out['target_region']} ready: {out['ready']}")
        for store in ("aurora", "dynamodb", "s3", "endpoints", "backups"):
            problems = out[store].get("problems") or []
            print(f"  {store:<10} {'ok' if not problems else '; '.join(problems)}")
    return 0 if out["ready"] else 1


def _readiness(args: argparse.Namespace) -> int:
    from drctl import readiness

    target = _remote(args)
    if target is not None:
        if args.knobs or args.outage:
            raise TargetError("--break and --outage change the embedded AWS; they cannot apply to a target")
        out = readiness.evaluate(target)
    else:
        out = readiness.local(args.knobs, args.outage)
    print(readiness.render(out, args.output))
    return 0 if out["ready"] else 1


def _dashboard(args: argparse.Namespace) -> int:
    from pathlib import Path

    from drctl import dashboard

    target = _remote(args)
    if target is not None:
        name, panels, window = dashboard.load(target, args.hours or 24.0)
        source = f"stack {target.stack_name} in {target.region} ({target.label})"
        out = dashboard.write(Path(args.output), name, panels, window, source)
    else:
        from drctl.drill import local_platform

        with local_platform() as (cloud, platform, local):
            ran = dashboard.local_data(cloud, platform, local)
            name, panels, window = dashboard.load(local, args.hours or 2.0)
            source = "localcloud (embedded AWS): " + "; ".join(ran)
            out = dashboard.write(Path(args.output), name, panels, window, source)
    print(json.dumps(out, indent=2))
    empty = [p["title"] for p in out["panels"] if not p["points"]]
    if empty:
        print(f"drctl: panels with no data in the charts' window: {', '.join(empty)}", file=sys.stderr)
    return 0


def _lease(args: argparse.Namespace) -> int:
    target = _need_remote(args)
    table = target.state_table
    if args.action == "clear":
        if not args.reason:
            raise TargetError("lease clear needs --reason: say why the platform is safe for the next DR operation")
        os.environ.setdefault("AWS_REGION", target.region)
        current = lease_ops.describe_with(target.client("dynamodb"), table)
        if current and current.get("state") == "HELD" and not args.force:
            _refuse_if_holder_runs(target, current)
        try:  # only the lease looked at: one taken since by a new DR operation is not cleared
            lease_ops.clear_with(target.client("dynamodb"), table, getpass.getuser(), args.reason, seen=current)
        except lease_ops.LeaseChanged as changed:
            raise TargetError(f"{changed}; nothing was cleared. Look again (drctl lease) before clearing it") from None
        print(f"lease was {current.get('state') if current else 'absent'}; now RELEASED")
        return 0
    print(json.dumps(lease_ops.describe_with(target.client("dynamodb"), table), indent=2, default=str))
    return 0


def _refuse_if_holder_runs(target: Target, lease: dict[str, Any]) -> None:
    """A HELD lease whose holder still runs is not stuck: clearing it lets a second DR operation run beside
    the first (the holder stops only at its next renewal). Refused unless --force."""
    holder = str(lease.get("holder", "?"))
    what = f"{lease.get('operation', '?')} ({lease.get('mode', '?')})"
    try:
        status = str(target.client("stepfunctions").describe_execution(executionArn=holder)["status"])
    except (ClientError, BotoCoreError) as err:
        raise TargetError(
            f"the lease is HELD by {what} {holder}, whose state cannot be read ({err}); nothing was cleared. "
            "Clear it with --force once you know that execution has stopped"
        ) from err
    if status == "RUNNING":
        raise TargetError(
            f"the lease is HELD by {what} {holder}, which is RUNNING; nothing was cleared: clearing it would let "
            "a second DR operation run beside it. Wait for it to end, or stop it (`aws stepfunctions "
            f"stop-execution --execution-arn {holder}`: a stopped run settles the lease itself); --force clears "
            "it anyway"
        )


def _serve(args: argparse.Namespace) -> int:
    from drctl.drill import local_platform
    from localcloud.server import LocalCloudServer

    with local_platform(outage=args.outage) as (cloud, platform, _local):
        backups.prepare(platform)  # so that backup-verification and restore-test drills find a healthy history
        server = LocalCloudServer(cloud, args.port, application=bool(args.outage)).start()
        design = platform.design
        print(f"localcloud: {server.endpoint_url}  (stack {design.stack_name} in {design.recovery_region})")
        if args.outage:
            print(f"  outage {args.outage} of {design.primary_region}; DNS data plane at {cloud.dns.address}")
        print(f"  drctl --endpoint-url {server.endpoint_url} drill failover --approve ask")
        print(f"  drctl --endpoint-url {server.endpoint_url} approve EXECUTION_ARN")
        print("Ctrl-C to stop.", flush=True)
        try:
            signal.sigwait({signal.SIGINT, signal.SIGTERM})
        finally:
            server.stop()
    return 0


def _preflight(args: argparse.Namespace) -> int:
    from drctl import preflight

    try:
        params = preflight.parameters(args.config_env, args.parameter_overrides)
    except ValueError as err:
        raise TargetError(str(err)) from err
    probe = Target(region=args.region, stack_name=args.stack or DEFAULT_STACK, endpoint_url=args.endpoint_url)
    findings = preflight.run(probe.client, params, probe.stack_name)
    if args.output == "json":
        print(json.dumps([f.__dict__ for f in findings], indent=2))
    else:
        print(preflight.render(findings))
    return 1 if any(f.status == "error" for f in findings) else 0


def _approve(args: argparse.Namespace) -> int:
    operations.approve(_need_remote(args), args.execution, args.by, args.comment)
    print(f"approved {args.execution}")
    return 0


def _reject(args: argparse.Namespace) -> int:
    operations.reject(_need_remote(args), args.execution, args.by, args.reason)
    print(f"rejected {args.execution}")
    return 0


def _report(args: argparse.Namespace) -> int:
    out: dict[str, Any] = operations.report(_need_remote(args), args.execution)
    print(render(out, args.output))
    return 0 if out.get("status") in OK_STATUSES else 1


def _setup(args: argparse.Namespace) -> int:
    return failback.setup_command(args, _remote(args))


COMMANDS = {
    "drill": _drill,
    "setup": _setup,
    "status": _status,
    "readiness": _readiness,
    "dashboard": _dashboard,
    "lease": _lease,
    "serve": _serve,
    "preflight": _preflight,
    "approve": _approve,
    "reject": _reject,
    "report": _report,
    "evidence": _evidence,
}


# What to check when AWS refuses what an operator typed.
ANSWER_HINTS = {
    "ExecutionDoesNotExist": "check the execution ARN (`aws stepfunctions list-executions`, or the notification)",
    "InvalidArn": "an execution ARN looks like arn:aws:states:REGION:ACCOUNT:execution:STATE_MACHINE:NAME",
    "AccessDeniedException": "the credentials drctl used are not allowed this call (AWS's message names the action)",
}


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except TargetError as err:
        print(f"drctl: {err}", file=sys.stderr)
        return 2
    except DrError as err:  # the DR code refused (a region that is not the platform's, a step's named error)
        print(f"drctl: {type(err).__name__}: {err}", file=sys.stderr)
        return 2
    except ClientError as err:  # AWS answered with an error: say it in one line, with what to check
        code = str(err.response.get("Error", {}).get("Code", ""))
        hint = ANSWER_HINTS.get(code, "")
        print(f"drctl: {err}" + (f"; {hint}" if hint else ""), file=sys.stderr)
        return 2
    except BotoCoreError as err:  # no answer at all (a connection refused, a timeout)
        print(f"drctl: no answer from AWS: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
