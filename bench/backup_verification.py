"""Backup verification at scale on localcloud: 1,000 protected resources with 30 recovery points each.

The platform of the DR design (5 tables, the Aurora cluster, 3 buckets) plus 991 more DynamoDB tables
(PITR on), each protected by the plan: its 17 newest daily, 9 weekly and 4 monthly recovery points (30),
with the monthly ones copied to the recovery vault, every one healthy. The verification finds the extra
tables in the vault (ListProtectedResourcesByBackupVault) and checks all 1,000 in its Map state.

Prints a Markdown table: wall time of the execution, state transitions, the largest state output (Step
Functions allows 256 KB), the AWS calls the workflow made in total and per resource (from the interceptor's
counts; the harness's own polling and localcloud's log shipping are left out), and the findings (0 expected).
Run alone: ``.venv/bin/python bench/backup_verification.py [RESOURCES]``; ``make bench`` runs it after bench/run.py.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-west-2")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")

from localcloud import scenario_backups  # noqa: E402
from localcloud.cloud import LocalCloud  # noqa: E402
from localcloud.scenario import Platform, PlatformDesign  # noqa: E402
from localcloud.template import ACCOUNT_ID  # noqa: E402

RESOURCES = 1000
COUNTS = {"daily": 17, "weekly": 9, "monthly": 4}  # 30 recovery points per resource
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


def largest_output(history: list[dict[str, object]]) -> int:
    sizes = [
        len(str(details.get("output", "")))
        for event in history
        for key, details in event.items()
        if key.endswith("EventDetails") and isinstance(details, dict)
    ]
    return max(sizes, default=0)


def measure(resources: int = RESOURCES) -> dict[str, object]:
    with LocalCloud() as cloud:
        platform = Platform(cloud, PlatformDesign()).seed()
        try:
            platform.deploy()
            started = time.perf_counter()
            everything = platform.resource_arns() + extra_tables(platform, resources - len(platform.resource_arns()))
            points = scenario_backups.seed_history(platform, everything, counts=COUNTS)
            setup = time.perf_counter() - started
            before = Counter(cloud.interceptor.calls)
            started = time.perf_counter()
            execution = cloud.start_execution(
                platform.stack.arn("BackupVerificationStateMachine"), {"requested_by": "bench"}
            )
            result = cloud.wait(execution, timeout=3600)
            wall = time.perf_counter() - started
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
        "transitions": sum(1 for e in history if str(e["type"]).endswith("StateEntered")),
        "largest_output": largest_output(history),
        "invocations": workflow.get(("lambda", "Invoke"), 0),
        "aws_calls": sum(aws.values()),
        "by_operation": dict(sorted(aws.items(), key=lambda kv: -kv[1])),
    }


def main(resources: int = RESOURCES) -> None:
    r = measure(resources)
    checked = int(r["resources"] or 0) or 1
    print(f"## Backup verification of {resources} resources with 30 recovery points each (localcloud)\n")
    print(
        "| status | resources | recovery points | copies | findings | wall time (s) | state transitions "
        "| largest state output (KB) | Lambda invocations | AWS calls | AWS calls per resource |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    print(
        f"| {r['status']} | {r['resources']} | {r['recovery_points']} | {r['copies']} | {r['findings']} "
        f"| {r['wall']:.1f} | {r['transitions']} | {int(r['largest_output']) / 1024:.0f} | {r['invocations']} "
        f"| {r['aws_calls']} | {int(r['aws_calls']) / checked:.2f} |"
    )
    print("\n| AWS call | count | per resource |")
    print("| --- | --- | --- |")
    for (service, operation), count in r["by_operation"].items():  # type: ignore[attr-defined]
        print(f"| {service}:{operation} | {count} | {count / checked:.2f} |")
    if r["status"] != "SUCCEEDED":
        print(f"\nThe execution did not succeed: {r['error']}")
    print(f"\n(setup, not measured: seed + deploy + {r['seeded']} recovery points in {r['setup']:.1f} s)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else RESOURCES)
