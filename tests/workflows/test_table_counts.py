"""Any number of tables and buckets: the stack deployed for 1 table and 1 bucket, and for 8 tables and 4
buckets, covers each of them everywhere (a replication alarm and a backup selection per table, a backup
selection per bucket, permissions that let a planned failover confirm every table under localcloud's IAM
enforcement), and the failover drill confirms every table and measures every store."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from localcloud.cloud import LocalCloud
from localcloud.scenario import Platform, PlatformDesign
from tests.workflows.conftest import run_to_end

TABLES = tuple(f"roadcall-t{i}-prod" for i in range(8))
BUCKETS = tuple(f"roadcall-b{i}-prod" for i in range(4))


@pytest.fixture(params=[(1, 1), (8, 4)], ids=["1-table-1-bucket", "8-tables-4-buckets"])
def sized(cloud: LocalCloud, request: pytest.FixtureRequest) -> Iterator[Platform]:
    tables, buckets = request.param
    built = Platform(cloud, PlatformDesign(tables=TABLES[:tables], buckets=BUCKETS[:buckets])).seed()
    built.deploy()
    yield built
    built.close()


def task_outputs(platform: Platform, execution: str) -> list[dict[str, Any]]:
    sfn = platform.cloud.client("stepfunctions", platform.design.recovery_region)
    events = sfn.get_execution_history(executionArn=execution, maxResults=1000)["events"]
    outputs = []
    for event in events:
        for details in event.values():
            if isinstance(details, dict) and isinstance(details.get("output"), str):
                try:
                    outputs.append(json.loads(details["output"]))
                except json.JSONDecodeError:
                    continue
    return outputs


def test_every_table_and_bucket_is_covered_and_a_failover_confirms_every_table(sized: Platform) -> None:
    d = sized.design
    east = d.primary_region

    # Then the primary region has a replication alarm per table and a backup selection per table and bucket
    alarms = sized.cloud.client("cloudwatch", east).describe_alarms(
        AlarmNamePrefix=f"{d.stack_name}-dynamodb-replication-latency-"
    )["MetricAlarms"]
    assert sorted(a["Dimensions"][0]["Value"] for a in alarms) == sorted(d.tables)
    backup = sized.cloud.client("backup", east)
    plan = sized.stacks[east].physical("BackupPlan")
    selected = [
        resource
        for s in backup.list_backup_selections(BackupPlanId=plan)["BackupSelectionsList"]
        for resource in backup.get_backup_selection(BackupPlanId=plan, SelectionId=s["SelectionId"])["BackupSelection"][
            "Resources"
        ]
    ]
    assert sorted(r.rsplit("/", 1)[-1] for r in selected if ":table/" in r) == sorted(d.tables)
    assert sorted(r.rsplit(":", 1)[-1] for r in selected if ":s3:::" in r) == sorted(d.buckets)

    # When a planned failover runs (every call under the roles' policies, enforced)
    execution = sized.cloud.start_execution(sized.stack.arn("FailoverStateMachine"), {"mode": "planned"})
    result = run_to_end(sized, execution, timeout=120)

    # Then it succeeds, every table took the canary write in the recovery region, and every store has an RPO
    assert result["status"] == "SUCCEEDED", result
    confirmed = [o["tables_confirmed"] for o in task_outputs(sized, execution) if "tables_confirmed" in o]
    assert confirmed and sorted(confirmed[-1]) == sorted(d.tables)
    report = json.loads(result["output"])
    assert all(v is not None for v in report["rpo"]["by_store"].values()), report["rpo"]
    assert sized.cloud.iam.denials == []
