"""Every AWS call a function made during a failover drill is allowed by that function's Policies in
template.yaml (actions only; resources are reviewed by cfn-lint and by hand). A permission missing from
the template fails here instead of on the day of the failover."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from localcloud.scenario import Platform
from localcloud.template import expanded_template
from tests.workflows.conftest import approval_token, start

ROOT = Path(__file__).resolve().parents[2]
# IAM action names that differ from the API operation's name.
ACTION_NAMES = {
    ("s3", "GetBucketReplication"): "s3:GetReplicationConfiguration",
    ("s3", "PutBucketReplication"): "s3:PutReplicationConfiguration",
    ("s3", "GetBucketVersioning"): "s3:GetBucketVersioning",
    ("s3", "HeadObject"): "s3:GetObject",
    ("s3", "ListObjectsV2"): "s3:ListBucket",
    ("s3", "ListObjectVersions"): "s3:ListBucketVersions",
    ("s3", "ListBuckets"): "s3:ListAllMyBuckets",
    ("s3", "DeleteObjects"): "s3:DeleteObject",
    ("s3", "HeadBucket"): "s3:ListBucket",
}
PREFIX = {"stepfunctions": "states", "cloudwatch": "cloudwatch"}


def action(service: str, operation: str) -> str:
    return ACTION_NAMES.get((service, operation), f"{PREFIX.get(service, service)}:{operation}")


def allowed_actions(resources: dict[str, Any], policies: list[Any]) -> set[str]:
    actions: set[str] = set()
    for policy in policies:
        statements: list[dict[str, Any]] = []
        if isinstance(policy, dict) and "Ref" in policy:
            statements = resources[policy["Ref"]]["Properties"]["PolicyDocument"]["Statement"]
        elif isinstance(policy, dict) and "Statement" in policy:
            statements = policy["Statement"]
        for given in statements:
            # a statement granted under a condition (Fn::If): count what it grants when the condition holds
            statement = given["Fn::If"][1] if "Fn::If" in given else given
            granted = statement["Action"]
            actions |= {granted} if isinstance(granted, str) else set(granted)
    return actions


def test_every_call_a_step_made_is_allowed_by_its_policies(platform: Platform) -> None:
    resources = expanded_template(ROOT / "template.yaml")["Resources"]
    execution = start(platform, "failover", {"mode": "planned"})
    platform.cloud.client("stepfunctions", "us-west-2").send_task_success(
        taskToken=approval_token(platform, execution), output=json.dumps({"approved_by": "contract"})
    )
    assert platform.cloud.wait(execution)["status"] == "SUCCEEDED"

    by_name = {
        f"{platform.design.stack_name}-{lid}": r
        for lid, r in resources.items()
        if r["Type"] == "AWS::Serverless::Function"
    }
    missing = {}
    for function, calls in platform.cloud.interceptor.calls_by_function.items():
        granted = allowed_actions(resources, by_name[function]["Properties"].get("Policies", []))
        needed = {action(service, operation) for service, operation in calls}
        if needed - granted:
            missing[function] = sorted(needed - granted)
    assert platform.cloud.interceptor.calls_by_function, "no function made an AWS call: the check saw nothing"
    assert missing == {}
