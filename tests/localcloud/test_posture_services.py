"""What localcloud adds for the readiness evaluation, each with AWS's shapes: IAM's SimulatePrincipalPolicy
for roles, Lambda's GetAccountSettings, and the AWS/States execution metrics."""

from __future__ import annotations

import io
import json
import time
import zipfile
from datetime import timedelta

import pytest
from botocore.exceptions import ClientError

from localcloud.cloud import LocalCloud
from localcloud.iam.simulate import PolicySimulator
from localcloud.services.lambda_account import LambdaAccountSimulator
from localcloud.services.states_metrics import StatesMetricsSimulator

ACCOUNT = "123456789012"
TABLE = f"arn:aws:dynamodb:us-west-2:{ACCOUNT}:table/orders"
OTHER = f"arn:aws:dynamodb:us-west-2:{ACCOUNT}:table/users"


@pytest.fixture
def iam(cloud: LocalCloud) -> object:
    PolicySimulator().register(cloud.interceptor)
    client = cloud.client("iam", "us-east-1")
    client.create_role(RoleName="step", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}))
    client.put_role_policy(
        RoleName="step",
        PolicyName="tables",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:PutItem"], "Resource": TABLE},
                    {
                        "Effect": "Deny",
                        "Action": "dynamodb:PutItem",
                        "Resource": TABLE,
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    },
                    {
                        "Effect": "Allow",
                        "Action": "cloudwatch:PutMetricData",
                        "Resource": "*",
                        "Condition": {"StringEquals": {"cloudwatch:namespace": "RoadCallDR"}},
                    },
                ],
            }
        ),
    )
    return client


def test_each_action_has_one_result_with_each_resources_own_decision(iam: object) -> None:
    out = iam.simulate_principal_policy(  # type: ignore[attr-defined]
        PolicySourceArn=f"arn:aws:iam::{ACCOUNT}:role/step",
        ActionNames=["dynamodb:GetItem", "dynamodb:DeleteItem"],
        ResourceArns=[TABLE, OTHER],
    )
    results = {r["EvalActionName"]: r for r in out["EvaluationResults"]}
    get = results["dynamodb:GetItem"]
    assert get["EvalDecision"] == "implicitDeny"  # the most restrictive across the two tables
    assert [(r["EvalResourceName"], r["EvalResourceDecision"]) for r in get["ResourceSpecificResults"]] == [
        (TABLE, "allowed"),
        (OTHER, "implicitDeny"),
    ]
    assert get["ResourceSpecificResults"][0]["MatchedStatements"] == [
        {"SourcePolicyId": "tables", "SourcePolicyType": "role"}
    ]
    assert results["dynamodb:DeleteItem"]["EvalDecision"] == "implicitDeny"
    assert out["IsTruncated"] is False


def test_context_entries_decide_conditions_and_missing_keys_are_named(iam: object) -> None:
    role = f"arn:aws:iam::{ACCOUNT}:role/step"
    entry = {"ContextKeyName": "cloudwatch:namespace", "ContextKeyType": "string"}
    allowed = iam.simulate_principal_policy(  # type: ignore[attr-defined]
        PolicySourceArn=role,
        ActionNames=["cloudwatch:PutMetricData"],
        ContextEntries=[{**entry, "ContextKeyValues": ["RoadCallDR"]}],
    )["EvaluationResults"][0]
    other = iam.simulate_principal_policy(  # type: ignore[attr-defined]
        PolicySourceArn=role,
        ActionNames=["cloudwatch:PutMetricData"],
        ContextEntries=[{**entry, "ContextKeyValues": ["Other"]}],
    )["EvaluationResults"][0]
    missing = iam.simulate_principal_policy(  # type: ignore[attr-defined]
        PolicySourceArn=role, ActionNames=["cloudwatch:PutMetricData"]
    )["EvaluationResults"][0]
    assert (allowed["EvalDecision"], other["EvalDecision"], missing["EvalDecision"]) == (
        "allowed",
        "implicitDeny",
        "implicitDeny",
    )
    assert missing["MissingContextValues"] == ["cloudwatch:namespace"]
    # an explicit Deny wins when its condition holds
    denied = iam.simulate_principal_policy(  # type: ignore[attr-defined]
        PolicySourceArn=role,
        ActionNames=["dynamodb:PutItem"],
        ResourceArns=[TABLE],
        ContextEntries=[
            {"ContextKeyName": "aws:SecureTransport", "ContextKeyType": "boolean", "ContextKeyValues": ["false"]}
        ],
    )["EvaluationResults"][0]
    assert denied["EvalDecision"] == "explicitDeny"


def test_a_detached_policy_is_an_implicit_deny_and_a_missing_role_no_such_entity(iam: object) -> None:
    iam.delete_role_policy(RoleName="step", PolicyName="tables")  # type: ignore[attr-defined]
    out = iam.simulate_principal_policy(  # type: ignore[attr-defined]
        PolicySourceArn=f"arn:aws:iam::{ACCOUNT}:role/step", ActionNames=["dynamodb:GetItem"], ResourceArns=[TABLE]
    )
    assert out["EvaluationResults"][0]["EvalDecision"] == "implicitDeny"
    with pytest.raises(ClientError) as err:
        iam.simulate_principal_policy(  # type: ignore[attr-defined]
            PolicySourceArn=f"arn:aws:iam::{ACCOUNT}:role/gone", ActionNames=["dynamodb:GetItem"]
        )
    assert (err.value.response["Error"]["Code"], err.value.response["ResponseMetadata"]["HTTPStatusCode"]) == (
        "NoSuchEntity",
        404,
    )


def test_account_settings_count_the_reserved_concurrency_against_the_quota(cloud: LocalCloud) -> None:
    account = LambdaAccountSimulator()
    account.register(cloud.interceptor)
    lam = cloud.client("lambda", "us-west-2")
    role = cloud.client("iam", "us-east-1").create_role(RoleName="fn", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as zf:
        zf.writestr("a.py", "def h(e, c): return 1")
    lam.create_function(
        FunctionName="f", Runtime="python3.13", Role=role, Handler="a.h", Code={"ZipFile": code.getvalue()}
    )
    lam.put_function_concurrency(FunctionName="f", ReservedConcurrentExecutions=100)
    limit = lam.get_account_settings()["AccountLimit"]
    assert (limit["ConcurrentExecutions"], limit["UnreservedConcurrentExecutions"]) == (1000, 900)
    account.set_concurrency_limit("us-west-2", 10)
    limit = lam.get_account_settings()["AccountLimit"]
    assert (limit["ConcurrentExecutions"], limit["UnreservedConcurrentExecutions"]) == (10, 0)
    assert lam.get_account_settings()["AccountUsage"]["FunctionCount"] == 1


def test_each_execution_publishes_started_and_its_end(cloud: LocalCloud) -> None:
    StatesMetricsSimulator().register(cloud.interceptor)
    cloud.iam.enabled = False  # a definition with no Task: no role needed for what it does
    sfn = cloud.client("stepfunctions", "us-west-2")
    definition = {"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}
    arn = sfn.create_state_machine(
        name="m", definition=json.dumps(definition), roleArn=f"arn:aws:iam::{ACCOUNT}:role/r"
    )["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=arn, input="{}")["executionArn"]
    deadline = time.monotonic() + 10
    while sfn.describe_execution(executionArn=execution)["status"] == "RUNNING" and time.monotonic() < deadline:
        time.sleep(0.02)
    now = cloud.clock.now()
    cw = cloud.client("cloudwatch", "us-west-2")

    def total(name: str) -> float:
        out = cw.get_metric_statistics(
            Namespace="AWS/States",
            MetricName=name,
            Dimensions=[{"Name": "StateMachineArn", "Value": arn}],
            StartTime=now - timedelta(minutes=5),
            EndTime=now + timedelta(minutes=1),
            Period=60,
            Statistics=["Sum"],
        )
        return sum(p["Sum"] for p in out["Datapoints"])

    assert (total("ExecutionsStarted"), total("ExecutionsSucceeded"), total("ExecutionsFailed")) == (1.0, 1.0, 0.0)
    assert total("ExecutionsStarted") == 1.0  # read again: each execution is counted once
