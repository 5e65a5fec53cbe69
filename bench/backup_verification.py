"""Backup verification at scale on localcloud: 1,000 protected resources with 30 recovery points each, then
10,000.

The platform of the DR design (5 tables, the Aurora cluster, 3 buckets) plus more DynamoDB tables (PITR on)
up to the count, each protected by the plan: its 17 newest daily, 9 weekly and 4 monthly recovery points
(30), with the monthly ones copied to the recovery vault, every one healthy. The verification finds the
extra tables in the vault (ListProtectedResourcesByBackupVault) and checks them all in its Map state.

Prints a Markdown table per run: wall time of the execution, state transitions, the largest state payload
(any state's input or output, or a task's result; Step Functions allows 256 KB), the AWS calls the workflow
made in total and per resource, AWS Backup's share of them (the API that throttles), AWS Config's (the
resources' settings: AWS Config records the primary region's tables, buckets and clusters) and the direct
reads left, from the interceptor's counts (the harness's own polling and localcloud's log shipping are
left out), and the findings (0 expected). The figures are merged into bench/results.json under
``verification.*`` (1,000 resources) and ``verification_10000.*``; other benchmarks keep their own keys there.
Run alone: ``.venv/bin/python bench/backup_verification.py [RESOURCES ...]`` (default: 1000 10000);
``make bench`` runs it after bench/run.py.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
for name, value in {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": "us-west-2",
}.items():
    os.environ.setdefault(name, value)  # offline: localcloud answers, nothing leaves the machine
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")

from localcloud import scenario_backups  # noqa: E402
from localcloud.cloud import LocalCloud  # noqa: E402
from localcloud.scenario import Platform, PlatformDesign  # noqa: E402
from localcloud.template import ACCOUNT_ID  # noqa: E402

RESOURCES = (1000, 10000)
RESULTS = ROOT / "bench" / "results.json"
COUNTS = {"daily": 17, "weekly": 9, "monthly": 4}  # 30 recovery points per resource
DIRECT_READS = (  # a resource's own settings read from its service (when AWS Config has no usable item)
    ("dynamodb", "DescribeContinuousBackups"),
    ("rds", "DescribeDBClusters"),
    ("s3", "GetBucketVersioning"),
    ("s3", "GetBucketReplication"),
)
HARNESS = {("stepfunctions", "DescribeExecution"), ("stepfunctions", "GetExecutionHistory")}
SHIPPING = {"logs", "cloudwatch"}  # what localcloud does with the functions' output (EMF, log lines)


def extra_tables(platform: Platform, count: int) -> list[tuple[str, str]]:
    region = platform.design.primary_region
    ddb = platform.cloud.client("dynamodb", region)
    out = []
    for n in range(count):
        name = f"roadcall-bench-{n:04d}"
        ddb.create_table(
            TableName=name,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        )
        ddb.update_continuous_backups(
            TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
        )
        out.append((f"arn:aws:dynamodb:{region}:{ACCOUNT_ID}:table/{name}", "DynamoDB"))
    return out


def largest_payload(history: list[dict[str, object]]) -> int:
    """The largest state input, state output or task result of the execution, in bytes (UTF-8)."""
    sizes = [
        len(str(details.get(field, "")).encode())
        for event in history
        for key, details in event.items()
        if key.endswith("EventDetails") and isinstance(details, dict)
        for field in ("input", "output", "parameters")
    ]
    return max(sizes, default=0)


def measure(resources: int) -> dict[str, object]:
    with LocalCloud() as cloud:
        platform = Platform(cloud, PlatformDesign()).seed()
        try:
            platform.deploy()
            platform.record_configuration()  # AWS Config records the tables, buckets and clusters
            started = time.perf_counter()
            everything = platform.resource_arns() + extra_tables(platform, resources - len(platform.resource_arns()))
            points = scenario_backups.seed_history(platform, everything, counts=COUNTS)
            setup = time.perf_counter() - started
            before = Counter(cloud.interceptor.calls)
            started, cpu = time.perf_counter(), time.process_time()
            execution = cloud.start_execution(
                platform.stack.arn("BackupVerificationStateMachine"), {"requested_by": "bench"}
            )
            result = cloud.wait(execution, timeout=3600)
            wall, cpu = time.perf_counter() - started, time.process_time() - cpu
            calls = Counter(cloud.interceptor.calls)
            calls.subtract(before)
            history = cloud.history(execution)
        finally:
            platform.close()
    report = json.loads(result.get("output") or "{}")
    workflow = {k: v for k, v in calls.items() if v > 0 and k not in HARNESS and k[0] not in SHIPPING}
    aws = {k: v for k, v in workflow.items() if k[0] != "lambda" and k != ("stepfunctions", "StartExecution")}
    failed = [e for e in history if str(e["type"]).endswith(("Failed", "TimedOut"))]
    return {
        "status": result["status"],
        "error": f"{result.get('error', '')} {result.get('cause', '')}"[:300]
        + (f" {failed[0]}"[:600] if failed else ""),
        "resources": report.get("resources_checked"),
        "recovery_points": report.get("recovery_points_checked"),
        "copies": report.get("copies_checked"),
        "seeded": points,
        "findings": len(report.get("findings", [])),
        "setup": setup,
        "wall": wall,
        "cpu": cpu,  # the whole process (every thread): steadier than wall time on a shared machine
        "transitions": sum(1 for e in history if str(e["type"]).endswith("StateEntered")),
        "largest_payload": largest_payload(history),
        "invocations": workflow.get(("lambda", "Invoke"), 0),
        "aws_calls": sum(aws.values()),
        "backup_calls": sum(v for (service, _), v in aws.items() if service == "backup"),
        "config_calls": sum(v for (service, _), v in aws.items() if service == "config"),
        "direct_reads": sum(aws.get(k, 0) for k in DIRECT_READS),
        "configuration": report.get("configuration") or {},
        "by_operation": dict(sorted(aws.items(), key=lambda kv: -kv[1])),
    }


def table(resources: int, r: dict[str, object]) -> None:
    checked = int(r["resources"] or 0) or 1
    print(f"## Backup verification of {resources} resources with 30 recovery points each (localcloud)\n")
    print(
        "| status | resources | recovery points | copies | findings | wall time (s) | CPU time (s) | state transitions "
        "| largest state payload (KB) | Lambda invocations | AWS calls | AWS calls per resource "
        "| AWS Backup calls per resource |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    print(
        f"| {r['status']} | {r['resources']} | {r['recovery_points']} | {r['copies']} | {r['findings']} "
        f"| {r['wall']:.1f} | {r['cpu']:.1f} | {r['transitions']} | {int(r['largest_payload']) / 1024:.1f} "
        f"| {r['invocations']} "
        f"| {r['aws_calls']} | {int(r['aws_calls']) / checked:.3f} | {int(r['backup_calls']) / checked:.3f} |"
    )
    print("\n| AWS call | count | per resource |")
    print("| --- | --- | --- |")
    for (service, operation), count in r["by_operation"].items():  # type: ignore[attr-defined]
        print(f"| {service}:{operation} | {count} | {count / checked:.3f} |")
    print(f"\nSettings: {r['configuration']} ({r['config_calls']} AWS Config calls, {r['direct_reads']} direct reads)")
    if r["status"] != "SUCCEEDED":
        print(f"\nThe execution did not succeed: {r['error']}")
    print(f"\n(setup, not measured: seed + deploy + {r['seeded']} recovery points in {r['setup']:.1f} s)\n")


def figures(r: dict[str, object]) -> dict[str, object]:
    checked = int(r["resources"] or 0) or 1
    return {
        "status": r["status"],
        "resources": r["resources"],
        "recovery_points": r["recovery_points"],
        "findings": r["findings"],
        "wall_seconds": round(float(r["wall"]), 1),  # type: ignore[arg-type]
        "cpu_seconds": round(float(r["cpu"]), 1),  # type: ignore[arg-type]
        "state_transitions": r["transitions"],
        "largest_state_payload_bytes": r["largest_payload"],
        "aws_calls": r["aws_calls"],
        "calls_per_resource": round(int(r["aws_calls"]) / checked, 3),  # type: ignore[call-overload]
        "backup_calls": r["backup_calls"],
        "backup_calls_per_resource": round(int(r["backup_calls"]) / checked, 3),  # type: ignore[call-overload]
        "config_calls": r["config_calls"],
        "direct_reads": r["direct_reads"],
        "settings_from_aws_config": (r["configuration"] or {}).get("from_aws_config"),  # type: ignore[attr-defined]
        "calls_by_operation": {f"{s}:{o}": n for (s, o), n in r["by_operation"].items()},  # type: ignore[attr-defined]
    }


def record(results: dict[int, dict[str, object]]) -> None:
    """Merge this run's figures into bench/results.json (other benchmarks' keys are kept)."""
    merged = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    for resources, r in results.items():
        prefix = "verification" if resources == 1000 else f"verification_{resources}"
        for key in [k for k in merged if k.startswith(f"{prefix}.")]:
            del merged[key]
        merged.update({f"{prefix}.{k}": v for k, v in figures(r).items()})
        merged[f"{prefix}.measured_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    RESULTS.write_text(json.dumps(dict(sorted(merged.items())), indent=2) + "\n")


def main(counts: tuple[int, ...] = RESOURCES) -> None:
    results = {}
    for resources in counts:
        results[resources] = measure(resources)
        table(resources, results[resources])
    record(results)
    print(f"(written to {RESULTS.relative_to(ROOT)})")


if __name__ == "__main__":
    main(tuple(int(a) for a in sys.argv[1:]) or RESOURCES)
