"""Injected faults are seen by the caller exactly as AWS would send them, and Retry carries through."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import botocore.config
import pytest
from botocore.exceptions import ClientError

from localcloud.cloud import LocalCloud

FIXTURE = Path(__file__).parent / "fixtures" / "fidelity" / "template.yaml"
NO_RETRY = botocore.config.Config(retries={"total_max_attempts": 1})


@pytest.mark.parametrize(
    ("service", "operation", "call", "kind", "code", "status"),
    [
        ("sns", "ListTopics", "list_topics", "access-denied", "AuthorizationError", 403),
        ("dynamodb", "ListTables", "list_tables", "throttle", "ThrottlingException", 400),
        ("rds", "DescribeGlobalClusters", "describe_global_clusters", "throttle", "Throttling", 400),
        ("backup", "ListBackupVaults", "list_backup_vaults", "5xx", "ServiceUnavailableException", 500),
        (
            "stepfunctions",
            "ListStateMachines",
            "list_state_machines",
            "access-denied",
            "AccessDeniedException",
            400,
        ),
    ],
)
def test_a_fault_is_answered_in_the_services_own_protocol(
    cloud: LocalCloud, service: str, operation: str, call: str, kind: str, code: str, status: int
) -> None:
    cloud.faults.inject(service, operation, kind, times=1, everyone=True)
    client = boto3.client(service, region_name="us-east-1", config=NO_RETRY)
    with pytest.raises(ClientError) as err:
        getattr(client, call)()
    assert err.value.response["Error"]["Code"] == code
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    getattr(client, call)()  # fired once, then the real answer


def test_a_fault_can_be_limited_to_one_region(cloud: LocalCloud) -> None:
    cloud.faults.inject("dynamodb", "ListTables", "5xx", times=None, region="us-east-1", everyone=True)
    assert boto3.client("dynamodb", region_name="us-west-2", config=NO_RETRY).list_tables()["TableNames"] == []
    with pytest.raises(ClientError):
        boto3.client("dynamodb", region_name="us-east-1", config=NO_RETRY).list_tables()


def test_a_fault_hits_the_application_and_spares_an_observer(cloud: LocalCloud) -> None:
    # Given a table and a fault on every DescribeTable (the default scope: the application's calls)
    cloud.client("dynamodb", "us-west-2").create_table(
        TableName="items",
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
    )
    fault = cloud.faults.inject("dynamodb", "DescribeTable", "throttle", times=None)
    client = boto3.client("dynamodb", region_name="us-west-2", config=NO_RETRY)

    # When the application calls, it is throttled
    with cloud.outage.as_application(), pytest.raises(ClientError) as err:
        client.describe_table(TableName="items")
    assert err.value.response["Error"]["Code"] == "ThrottlingException"

    # Then a test or the scenario observing the platform is answered, and the fault did not count it
    assert client.describe_table(TableName="items")["Table"]["TableName"] == "items"
    assert cloud.client("dynamodb", "us-west-2").describe_table(TableName="items")["Table"]["TableName"] == "items"
    assert fault.fired == 1


def test_a_fault_for_everyone_hits_an_observer_too(cloud: LocalCloud) -> None:
    fault = cloud.faults.inject("dynamodb", "ListTables", "5xx", times=1, everyone=True)
    with pytest.raises(ClientError) as err:
        boto3.client("dynamodb", region_name="us-west-2", config=NO_RETRY).list_tables()
    assert err.value.response["Error"]["Code"] == "InternalServerError"
    assert fault.fired == 1


def test_a_fault_hits_a_lambda_handler_and_a_step_functions_integration(cloud: LocalCloud) -> None:
    # Given the fixture stack and one throttle of the state machine's Lambda invocation (an integration)
    cloud.iam.enabled = False  # the fixture stack has no Policies (see test_fidelity.py)
    stack = cloud.deploy(FIXTURE, "us-west-2", "fid")
    fault = cloud.faults.inject("lambda", "Invoke", "throttle", times=1)

    # When the state machine runs, the engine's call is the application's: the fault fires for it
    result = cloud.wait(
        cloud.start_execution(
            stack.arn("FidelityStateMachine"), {"value": 1, "items": [], "text": "t", "callback": "skip", "failures": 0}
        )
    )
    assert result["status"] == "SUCCEEDED"
    assert fault.fired == 1


def test_throttled_lambda_invocations_are_retried_by_the_state_machine(cloud: LocalCloud) -> None:
    cloud.iam.enabled = False  # the fixture stack has no Policies (see test_fidelity.py): this tests Retry only
    stack = cloud.deploy(FIXTURE, "us-west-2", "fid")
    cloud.faults.inject("lambda", "Invoke", "throttle", times=1)
    execution = cloud.start_execution(
        stack.arn("FidelityStateMachine"),
        {"value": 1, "items": [], "text": "t", "callback": "skip", "failures": 0},
    )
    result = cloud.wait(execution)
    assert result["status"] == "SUCCEEDED"
    failed = [e["taskFailedEventDetails"]["error"] for e in cloud.history(execution) if e["type"] == "TaskFailed"]
    assert failed[0] == "Lambda.TooManyRequestsException"
    assert json.loads(result["output"])["caught"] == "PermanentError"


CALL_STS = {
    "StartAt": "Call",
    "States": {
        "Call": {
            "Type": "Task",
            "Resource": "arn:aws:states:::aws-sdk:sts:getCallerIdentity",
            "TimeoutSeconds": 5,
            "End": True,
        }
    },
}


@pytest.mark.parametrize(
    "container",
    [
        {"Type": "Map", "Items": "{% [1] %}", "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, **CALL_STS}},
        {"Type": "Parallel", "Branches": [CALL_STS]},
    ],
    ids=["map", "parallel"],
)
def test_a_task_timing_out_inside_a_map_or_parallel_is_caught_by_its_catch_as_in_aws(
    cloud: LocalCloud, container: dict
) -> None:
    # Given a Map (a Parallel) whose Task calls STS with a 5 s timeout, and STS that never answers
    cloud.iam.enabled = False  # an inline state machine with a made-up role: this tests error names only
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "Each",
        "States": {
            "Each": {
                **container,
                "Catch": [{"ErrorEquals": ["States.Timeout"], "Output": "{% $states.errorOutput %}", "Next": "Caught"}],
                "End": True,
            },
            "Caught": {"Type": "Pass", "End": True},
        },
    }
    sfn = cloud.client("stepfunctions", "us-west-2")
    arn = sfn.create_state_machine(
        name="map-timeout", definition=json.dumps(definition), roleArn="arn:aws:iam::123456789012:role/sfn"
    )["stateMachineArn"]
    cloud.faults.inject("sts", "GetCallerIdentity", "timeout", times=None)

    # When it runs, then the Task's States.Timeout reaches the Map's (Parallel's) Catch (moto: States.Runtime)
    result = cloud.wait(cloud.start_execution(arn, {}))
    assert result["status"] == "SUCCEEDED", result
    assert json.loads(result["output"])["Error"] == "States.Timeout"


def test_an_unknown_fault_kind_is_refused_with_the_choices(cloud: LocalCloud) -> None:
    with pytest.raises(ValueError, match="fault kind must be one of"):
        cloud.faults.inject("rds", "FailoverGlobalCluster", "explode")


def test_conditional_writes_are_atomic_as_in_dynamodb(cloud: LocalCloud) -> None:
    import threading

    ddb = boto3.client("dynamodb", region_name="us-west-2")
    ddb.create_table(
        TableName="locks",
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
    )
    winners: list[int] = []

    def claim(n: int) -> None:
        try:
            ddb.put_item(
                TableName="locks",
                Item={"pk": {"S": "lease"}, "holder": {"N": str(n)}},
                ConditionExpression="attribute_not_exists(pk)",
            )
            winners.append(n)
        except ddb.exceptions.ConditionalCheckFailedException:
            pass

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(winners) == 1
