"""Every permission of template.yaml that a drill uses is needed, and localcloud notices when it is gone.

Generated from the deployed template: a planned failover drill runs once with enforcement on and records
each (role, action) it was granted; then, for each of them, a fresh platform is deployed, that action is
removed (through the IAM API) from every statement of the role's policies that granted it, and the drill
runs again: it must be denied that action with AccessDenied (by that role, or by another role attached
to the same managed policy that needed it first).

All of it takes a few minutes: ``make test`` runs a sample of ``SAMPLE`` removals; ``IAM_REMOVAL=all``
(``make iam-removal``) runs every one.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import os
import time
from collections.abc import Iterator
from typing import Any

import pytest
from moto.iam.models import iam_backends

from localcloud.cloud import LocalCloud
from localcloud.iam.policy import Request, statement_applies
from localcloud.scenario import Platform, PlatformDesign
from localcloud.template import ACCOUNT_ID

# every test here shares the module fixture: one worker builds it (make test runs --dist loadgroup)
pytestmark = pytest.mark.xdist_group("iam-template-drill")

SAMPLE = 3
TERMINAL = {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}


def drill(platform: Platform) -> dict[str, Any]:
    """A planned failover, approved as soon as it asks (if it gets that far)."""
    cloud = platform.cloud
    execution = cloud.start_execution(platform.stack.arn("FailoverStateMachine"), {"mode": "planned"})
    sfn, ddb = cloud.client("stepfunctions", "us-west-2"), cloud.client("dynamodb", "us-west-2")
    deadline = time.monotonic() + 120
    approved = False
    while time.monotonic() < deadline:
        status = cloud.describe(execution)
        if status["status"] in TERMINAL:
            return status
        if not approved:
            item = ddb.get_item(
                TableName=platform.stack.physical("StateTable"), Key={"pk": {"S": f"approval#{execution}"}}
            )
            token = item.get("Item", {}).get("token", {}).get("S")
            if token:
                sfn.send_task_success(taskToken=token, output=json.dumps({"approved_by": "iam-removal"}))
                approved = True
        time.sleep(0.05)
    raise AssertionError(f"{execution} did not end in 120 s")


def platform_in(cloud: LocalCloud) -> Platform:
    built = Platform(cloud, PlatformDesign()).seed()
    built.deploy()
    return built


def policies_of(role_name: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """("inline:NAME" or the managed ARN, document) of each identity policy of the role."""
    role = iam_backends[ACCOUNT_ID]["global"].get_role(role_name)
    for name, text in role.policies.items():
        yield f"inline:{name}", json.loads(text)
    for arn, policy in role.managed_policies.items():
        version = next(v for v in policy.versions if v.is_default_version)
        yield arn, json.loads(version.document)


def without(document: dict[str, Any], request: Request) -> dict[str, Any] | None:
    """``document`` with the request's action taken out of every Allow statement granting it (the whole
    statement when it grants only that action or grants it by a wildcard); None if none grants it."""
    changed = copy.deepcopy(document)
    statements = changed["Statement"] if isinstance(changed["Statement"], list) else [changed["Statement"]]
    kept, hit = [], False
    for statement in statements:
        if statement.get("Effect") != "Allow" or not statement_applies(statement, request)[0]:
            kept.append(statement)
            continue
        hit = True
        actions = statement.get("Action")
        if isinstance(actions, list) and len(actions) > 1 and request.action in actions:
            kept.append({**statement, "Action": [a for a in actions if a != request.action]})
    changed["Statement"] = kept
    return changed if hit else None


def remove(cloud: LocalCloud, request: Request) -> list[str]:
    """Take the permission away from the role, as an operator would through IAM; returns what changed."""
    iam = cloud.client("iam", "us-east-1")
    role_name = request.principal.role_name
    changed = []
    for where, document in list(policies_of(role_name)):
        reduced = without(document, request)
        if reduced is None:
            continue
        empty = not reduced["Statement"]  # IAM refuses a policy without statements: remove the policy itself
        if where.startswith("inline:") and empty:
            iam.delete_role_policy(RoleName=role_name, PolicyName=where[7:])
        elif where.startswith("inline:"):
            iam.put_role_policy(RoleName=role_name, PolicyName=where[7:], PolicyDocument=json.dumps(reduced))
        elif empty or ":iam::aws:policy/" in where:  # an AWS managed policy cannot change: detach it
            iam.detach_role_policy(RoleName=role_name, PolicyArn=where)
        else:
            iam.create_policy_version(PolicyArn=where, PolicyDocument=json.dumps(reduced), SetAsDefault=True)
        changed.append(where)
    return changed


def generated_arns(platform: Platform) -> dict[str, str]:
    """ARN -> "region/logical id" of the resources whose ARN changes with every deploy (KMS key ids)."""
    return {
        resource.attributes["Arn"]: f"{region}/{lid}"
        for region, stack in platform.stacks.items()
        for lid, resource in stack.resources.items()
        if resource.type == "AWS::KMS::Key"
    }


def in_this_deploy(request: Request, baseline: dict[str, str], platform: Platform) -> Request:
    """The request with a generated ARN of the baseline deploy replaced by this deploy's."""
    if request.resource not in baseline:
        return request
    now = {place: arn for arn, place in generated_arns(platform).items()}
    return dataclasses.replace(request, resource=now[baseline[request.resource]])


@pytest.fixture(scope="module")
def needed_by_drill() -> tuple[list[Request], dict[str, str]]:
    """One request per (role, action) the drill was granted, in a stable order; the baseline's generated ARNs."""
    with LocalCloud() as cloud:
        platform = platform_in(cloud)
        try:
            assert drill(platform)["status"] == "SUCCEEDED"
            granted = dict(cloud.iam.granted)
            baseline = generated_arns(platform)
        finally:
            platform.close()
    by_pair: dict[tuple[str, str], Request] = {}
    for (role, action, _), request in sorted(granted.items()):
        by_pair.setdefault((role, action), request)
    return list(by_pair.values()), baseline


def chosen(requests: list[Request]) -> list[Request]:
    if os.environ.get("IAM_REMOVAL") == "all":
        return requests
    step = max(1, len(requests) // SAMPLE)
    return requests[::step][:SAMPLE]


def test_the_drill_uses_permissions_of_functions_and_state_machines(
    needed_by_drill: tuple[list[Request], dict[str, str]],
) -> None:
    requests, _ = needed_by_drill
    roles = {r.principal.role_name for r in requests}
    assert "roadcall-dr-FailoverStateMachineRole" in roles
    assert {"roadcall-dr-AcquireLeaseFunctionRole", "roadcall-dr-PromoteAuroraFunctionRole"} <= roles
    actions = {r.action for r in requests}
    assert {"lambda:InvokeFunction", "rds:SwitchoverGlobalCluster", "kms:GenerateDataKey"} <= actions


def test_the_state_tables_key_is_needed_by_every_role_that_touches_the_table(
    needed_by_drill: tuple[list[Request], dict[str, str]],
) -> None:
    """The state table is encrypted with StateKey: taking kms:Decrypt (through DynamoDB) on it away from the
    lease's role is noticed by the drill, as AWS would: AccessDenied, nothing moved."""
    requests, baseline = needed_by_drill
    state_key = next(arn for arn, place in baseline.items() if place == "us-west-2/StateKey")
    through_dynamodb = [
        r
        for r in requests
        if (r.action, r.resource) == ("kms:Decrypt", state_key)
        and r.context.get("kms:ViaService") == "dynamodb.us-west-2.amazonaws.com"
    ]
    roles = {r.principal.role_name for r in through_dynamodb}
    assert {"roadcall-dr-AcquireLeaseFunctionRole", "roadcall-dr-FailoverStateMachineRole"} <= roles
    with LocalCloud() as cloud:
        platform = platform_in(cloud)
        try:
            lease_request = next(
                r for r in through_dynamodb if r.principal.role_name == "roadcall-dr-AcquireLeaseFunctionRole"
            )
            request = in_this_deploy(lease_request, baseline, platform)
            assert remove(cloud, request), "no policy of the lease's role grants the table's key"
            result = drill(platform)
            denied = [d for d in cloud.iam.denials if (d.action, d.resource) == ("kms:Decrypt", request.resource)]
            assert denied, "the missing key permission was not noticed"
            assert result["status"] == "FAILED"
            assert platform.writer_region() == "us-east-1"
        finally:
            platform.close()


def test_each_permission_the_drill_uses_is_needed(needed_by_drill: tuple[list[Request], dict[str, str]]) -> None:
    requests, baseline = needed_by_drill
    missed = []
    for original in chosen(requests):
        with LocalCloud() as cloud:
            platform = platform_in(cloud)
            try:
                request = in_this_deploy(original, baseline, platform)
                changed = remove(cloud, request)
                assert changed, f"no policy of {request.principal.role_name} grants {request.action}"
                result = drill(platform)
                # a managed policy is shared: the first role to need the action may be another of its roles
                if request.action not in {d.action for d in cloud.iam.denials}:
                    missed.append((request.principal.role_name, request.action, changed, result["status"]))
            finally:
                platform.close()
    assert missed == [], "removing these permissions was not noticed (AccessDenied expected)"
