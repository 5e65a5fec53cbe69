"""localcloud enforces IAM as AWS does: each function and state machine calls as its own role (from the
template's Policies, SAM templates expanded), encrypted resources need their KMS permissions, and a
denial looks exactly like the service's own AccessDenied."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import boto3
import pytest

from localcloud.cloud import LocalCloud
from localcloud.deployer import Stack

FIXTURE = Path(__file__).parent / "fixtures" / "iam" / "template.yaml"
REGION = "us-west-2"
ACCOUNT = "123456789012"


@pytest.fixture
def stack(cloud: LocalCloud) -> Stack:
    return cloud.deploy(FIXTURE, REGION, "iam")


def invoke(cloud: LocalCloud, stack: Stack, function: str, service: str, method: str, **params: Any) -> dict[str, Any]:
    out = cloud.client("lambda", REGION).invoke(
        FunctionName=stack.physical(function),
        Payload=json.dumps({"service": service, "method": method, "params": params}),
    )
    result: dict[str, Any] = json.loads(out["Payload"].read())
    return result


def session(function: str) -> str:
    return f"arn:aws:sts::{ACCOUNT}:assumed-role/iam-{function}Role/iam-{function}"


def test_a_function_calls_aws_as_a_session_of_its_own_role(cloud: LocalCloud, stack: Stack) -> None:
    out = invoke(cloud, stack, "WriterFunction", "sts", "get_caller_identity")
    assert out["result"]["Arn"] == session("WriterFunction")


def test_a_sam_policy_template_allows_what_sam_expands_it_to_and_nothing_more(cloud: LocalCloud, stack: Stack) -> None:
    # Given DynamoDBWritePolicy on the table: PutItem is allowed
    put = invoke(cloud, stack, "WriterFunction", "dynamodb", "put_item", TableName="iam-table", Item={"pk": {"S": "a"}})
    assert put["code"] == "OK"
    # When the same function reads; Then DynamoDB's own AccessDeniedException, with AWS's message
    get = invoke(cloud, stack, "WriterFunction", "dynamodb", "get_item", TableName="iam-table", Key={"pk": {"S": "a"}})
    table = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/iam-table"
    assert (get["code"], get["status"]) == ("AccessDeniedException", 400)
    assert get["message"] == (
        f"User: {session('WriterFunction')} is not authorized to perform: dynamodb:GetItem on resource: {table} "
        "because no identity-based policy allows the dynamodb:GetItem action"
    )


def test_publishing_to_an_encrypted_topic_needs_its_key(cloud: LocalCloud, stack: Stack) -> None:
    topic = stack.physical("Topic")
    key = stack.arn("TopicKey")
    # Given sns:Publish without the key: SNS answers KMSAccessDenied, relaying KMS's message
    denied = invoke(cloud, stack, "PublishOnlyFunction", "sns", "publish", TopicArn=topic, Message="m")
    assert (denied["code"], denied["status"]) == ("KMSAccessDenied", 400)
    assert denied["message"].startswith(
        f"User: {session('PublishOnlyFunction')} is not authorized to perform: kms:GenerateDataKey on resource: "
        f"{key} because no identity-based policy allows the kms:GenerateDataKey action (Service: AWSKMS;"
    )
    # Given the key through SNS too: the message is published
    assert (
        invoke(cloud, stack, "PublishEncryptedFunction", "sns", "publish", TopicArn=topic, Message="m")["code"] == "OK"
    )
    # Given no sns:Publish at all: SNS's AuthorizationError
    none = invoke(cloud, stack, "WriterFunction", "sns", "publish", TopicArn=topic, Message="m")
    assert (none["code"], none["status"]) == ("AuthorizationError", 403)
    assert "is not authorized to perform: SNS:Publish on resource: " + topic in none["message"]


def test_writing_to_an_sse_kms_bucket_needs_the_buckets_key(cloud: LocalCloud, stack: Stack) -> None:
    denied = invoke(cloud, stack, "ObjectWriterFunction", "s3", "put_object", Bucket="iam-bucket", Key="k", Body="x")
    assert (denied["code"], denied["status"]) == ("AccessDenied", 403)
    assert f"kms:GenerateDataKey on resource: {stack.arn('BucketKey')}" in denied["message"]
    ok = invoke(
        cloud, stack, "EncryptedObjectWriterFunction", "s3", "put_object", Bucket="iam-bucket", Key="k", Body="x"
    )
    assert ok["code"] == "OK"
    # and S3's own denial quotes the resource
    read = invoke(cloud, stack, "EncryptedObjectWriterFunction", "s3", "get_object", Bucket="iam-bucket", Key="k")
    assert read["code"] == "AccessDenied"
    assert 'on resource: "arn:aws:s3:::iam-bucket/k"' in read["message"]
    # reading the encrypted object needs kms:Decrypt on the key it was written with
    decrypt = invoke(cloud, stack, "ObjectReaderFunction", "s3", "get_object", Bucket="iam-bucket", Key="k")
    assert (decrypt["code"], decrypt["status"]) == ("AccessDenied", 403)
    assert f"kms:Decrypt on resource: {stack.arn('BucketKey')}" in decrypt["message"]


def test_a_table_with_a_customer_key_needs_kms_decrypt_through_dynamodb(cloud: LocalCloud, stack: Stack) -> None:
    key = stack.arn("TableKey")
    item = {"pk": {"S": "lease"}}
    # Given DynamoDB permissions on the table but not its key: DynamoDB refuses as KMS would, nothing written
    put = invoke(
        cloud, stack, "KeyedTableWithoutKeyFunction", "dynamodb", "put_item", TableName="iam-keyed-table", Item=item
    )
    assert (put["code"], put["status"]) == ("AccessDeniedException", 400)
    assert f"is not authorized to perform: kms:Decrypt on resource: {key}" in put["message"]
    ddb = cloud.client("dynamodb", REGION)
    assert ddb.scan(TableName="iam-keyed-table")["Count"] == 0
    # Given kms:Decrypt through another service only: still refused (kms:ViaService is dynamodb.REGION)
    wrong = invoke(
        cloud, stack, "KeyedTableWrongServiceFunction", "dynamodb", "put_item", TableName="iam-keyed-table", Item=item
    )
    assert wrong["code"] == "AccessDeniedException"
    # Given kms:Decrypt through DynamoDB: every item operation goes through, single and batched
    assert (
        invoke(cloud, stack, "KeyedTableFunction", "dynamodb", "put_item", TableName="iam-keyed-table", Item=item)[
            "code"
        ]
        == "OK"
    )
    batch = invoke(
        cloud,
        stack,
        "KeyedTableWithoutKeyFunction",
        "dynamodb",
        "batch_get_item",
        RequestItems={"iam-keyed-table": {"Keys": [item]}},
    )
    assert batch["code"] == "AccessDeniedException"
    # and the table reports its key by ARN, as DescribeTable does
    sse = ddb.describe_table(TableName="iam-keyed-table")["Table"]["SSEDescription"]
    assert (sse["Status"], sse["SSEType"], sse["KMSMasterKeyArn"]) == ("ENABLED", "KMS", key)
    # a table with the AWS managed key (no KMSMasterKeyId) asks nothing of its callers
    assert (
        invoke(cloud, stack, "WriterFunction", "dynamodb", "put_item", TableName="iam-table", Item=item)["code"] == "OK"
    )


def test_a_state_machine_invokes_lambda_as_its_role(cloud: LocalCloud, stack: Stack) -> None:
    machine = stack.arn("InvokerStateMachine")
    # Given LambdaInvokePolicy on the writer only
    allowed = cloud.wait(cloud.start_execution(machine, {"function": stack.physical("WriterFunction")}))
    assert allowed["status"] == "SUCCEEDED", allowed
    denied = cloud.wait(cloud.start_execution(machine, {"function": stack.physical("PublishOnlyFunction")}))
    # Then invoking another function fails the task: the Java SDK has no AccessDeniedException class for
    # Lambda, so Step Functions names the base class and the cause carries the code (docs/step-functions-errors.md)
    assert denied["status"] == "FAILED"
    assert denied["error"] == "Lambda.AWSLambdaException"
    assert "Error Code: AccessDeniedException" in denied["cause"]
    denial = cloud.iam.denials[-1]
    assert denial.principal == f"arn:aws:sts::{ACCOUNT}:assumed-role/iam-InvokerStateMachineRole/StepFunctionsExecution"
    assert (denial.action, denial.resource) == ("lambda:InvokeFunction", stack.arn("PublishOnlyFunction"))


def test_an_explicit_deny_added_through_iam_wins_and_says_so(cloud: LocalCloud, stack: Stack) -> None:
    # Given an operator adds a Deny to the writer's role
    boto3.client("iam", region_name=REGION).put_role_policy(
        RoleName="iam-WriterFunctionRole",
        PolicyName="freeze",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "dynamodb:*", "Resource": "*"}]}
        ),
    )
    put = invoke(cloud, stack, "WriterFunction", "dynamodb", "put_item", TableName="iam-table", Item={"pk": {"S": "a"}})
    assert put["code"] == "AccessDeniedException"
    assert put["message"].endswith("with an explicit deny in an identity-based policy")


def test_with_enforcement_off_every_call_goes_through(cloud: LocalCloud, stack: Stack) -> None:
    cloud.iam.enabled = False
    get = invoke(cloud, stack, "WriterFunction", "dynamodb", "get_item", TableName="iam-table", Key={"pk": {"S": "a"}})
    assert get["code"] == "OK"


def test_an_operation_without_a_permission_model_is_refused_loudly(cloud: LocalCloud, stack: Stack) -> None:
    out = invoke(cloud, stack, "WriterFunction", "sqs", "list_queues")
    assert out["code"] == "InternalFailure"
    assert "localcloud cannot authorize sqs:ListQueues" in out["message"]


def test_the_test_harness_is_the_account_administrator(cloud: LocalCloud, stack: Stack) -> None:
    ddb = cloud.client("dynamodb", REGION)
    assert ddb.get_item(TableName="iam-table", Key={"pk": {"S": "none"}}).get("Item") is None
    assert cloud.iam.denials == []


def test_a_session_being_assumed_does_not_hold_up_the_sessions_of_other_roles() -> None:
    """AssumeRole may wait (an SDK retry's back-off on the virtual clock) while the clock's own thread starts
    a scheduled function of another role: that one's session must not wait for the first (a deadlock)."""
    from localcloud.iam.enforcer import IamEnforcer

    first_inside, released = threading.Event(), threading.Event()

    class SlowSts:
        def assume_role(self, RoleArn: str, RoleSessionName: str) -> dict[str, Any]:
            if RoleArn.endswith("/first"):
                first_inside.set()
                released.wait(10)  # the first role's call waits, as on a retry's back-off
            key = f"AKIA{RoleArn.rsplit('/', 1)[-1].upper()}"
            return {"Credentials": {"AccessKeyId": key, "SecretAccessKey": "s", "SessionToken": "t"}}

    enforcer = IamEnforcer()
    enforcer._sts = SlowSts()
    first: list[dict[str, str]] = []
    second: list[dict[str, str]] = []
    role = "arn:aws:iam::123456789012:role/"
    waiting = threading.Thread(target=lambda: first.append(enforcer.credentials(role + "first", "fn-1")), daemon=True)
    waiting.start()
    assert first_inside.wait(10)
    other = threading.Thread(target=lambda: second.append(enforcer.credentials(role + "second", "fn-2")), daemon=True)
    other.start()
    other.join(5)
    released.set()
    waiting.join(10)
    assert second, "the second role's session waited for the first role's call"
    assert second[0]["AWS_ACCESS_KEY_ID"] == "AKIASECOND" and first[0]["AWS_ACCESS_KEY_ID"] == "AKIAFIRST"
    assert enforcer.principal("AKIAFIRST").role_name == "first"  # type: ignore[union-attr]
    # and a session once made is kept: the same one again
    assert enforcer.credentials(role + "first", "fn-1") is first[0]
