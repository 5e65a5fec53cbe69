"""Real error codes: what each service answers an injected fault with, and the error name a Catch receives.

The first half checks the fault injector against the services' own error codes and HTTP statuses (the ones
botocore's models declare, and the errors common to all AWS APIs). The second half proves each row of
docs/step-functions-errors.md: a tiny state machine (fixtures/sfn, ErrorsStateMachine) calls one service
integration with the fault injected, catches whatever fails, and returns the error name it caught.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import botocore.config
import pytest
from botocore.exceptions import ClientError, ReadTimeoutError

from localcloud.cloud import LocalCloud
from localcloud.deployer import Stack

FIXTURE = Path(__file__).parent / "fixtures" / "sfn" / "template.yaml"
REGION = "us-west-2"
NO_RETRY = botocore.config.Config(retries={"total_max_attempts": 1})
# The whole module on one worker, in its order: ``errors_stack`` keeps a cloud running until the module
# ends, and the tests before it start clouds of their own (two cannot run in one process at once).
pytestmark = pytest.mark.xdist_group("error-names-machines")

# -- the services' own error codes -------------------------------------------------------------------
# service -> (operation, client method, kwargs) of a call the fault is injected on
CALLS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "lambda": ("ListFunctions", "list_functions", {}),
    "sns": ("Publish", "publish", {"TopicArn": f"arn:aws:sns:{REGION}:123456789012:t", "Message": "m"}),
    "dynamodb": ("DescribeTable", "describe_table", {"TableName": "t"}),
    "s3": ("ListBuckets", "list_buckets", {}),
    "rds": ("DescribeDBClusters", "describe_db_clusters", {}),
    "cloudwatch": ("PutMetricData", "put_metric_data", {"Namespace": "n", "MetricData": [{"MetricName": "m"}]}),
    "route53": ("ListHealthChecks", "list_health_checks", {}),
    "backup": ("ListBackupVaults", "list_backup_vaults", {}),
    "stepfunctions": ("ListStateMachines", "list_state_machines", {}),
    "route53-recovery-cluster": (
        "GetRoutingControlState",
        "get_routing_control_state",
        {"RoutingControlArn": "arn:aws:route53-recovery-control::123456789012:controlpanel/p/routingcontrol/r"},
    ),
}
# service -> kind -> (code, HTTP status) the real service sends
EXPECTED: dict[str, dict[str, tuple[str, int]]] = {
    "lambda": {
        "throttle": ("TooManyRequestsException", 429),
        "5xx": ("ServiceException", 500),
        "unavailable": ("ServiceUnavailable", 503),
        "access-denied": ("AccessDeniedException", 403),
    },
    "sns": {
        "throttle": ("Throttling", 400),
        "5xx": ("InternalError", 500),
        "unavailable": ("ServiceUnavailable", 503),
        "access-denied": ("AuthorizationError", 403),
    },
    "dynamodb": {
        "throttle": ("ThrottlingException", 400),
        "5xx": ("InternalServerError", 500),
        "unavailable": ("ServiceUnavailable", 503),
        "access-denied": ("AccessDeniedException", 400),
    },
    "s3": {
        "throttle": ("SlowDown", 503),
        "5xx": ("InternalError", 500),
        "unavailable": ("ServiceUnavailable", 503),
        "access-denied": ("AccessDenied", 403),
    },
    "rds": {
        "throttle": ("Throttling", 400),
        "5xx": ("InternalFailure", 500),
        "unavailable": ("ServiceUnavailable", 503),
        "access-denied": ("AccessDenied", 403),
    },
    "cloudwatch": {
        "throttle": ("Throttling", 400),
        "5xx": ("InternalServiceError", 500),
        "unavailable": ("ServiceUnavailable", 503),
        "access-denied": ("AccessDenied", 403),
    },
    "route53": {
        "throttle": ("Throttling", 400),
        "5xx": ("InternalFailure", 500),
        "unavailable": ("ServiceUnavailable", 503),
        "access-denied": ("AccessDenied", 403),
    },
    "backup": {
        "throttle": ("ThrottlingException", 400),
        "5xx": ("ServiceUnavailableException", 500),
        "unavailable": ("ServiceUnavailable", 503),
        "access-denied": ("AccessDeniedException", 403),
    },
    "stepfunctions": {
        "throttle": ("ThrottlingException", 400),
        "5xx": ("InternalFailure", 500),
        "unavailable": ("ServiceUnavailable", 503),
        "access-denied": ("AccessDeniedException", 400),
    },
    "route53-recovery-cluster": {
        "throttle": ("ThrottlingException", 429),
        "5xx": ("InternalServerException", 500),
        "unavailable": ("EndpointTemporarilyUnavailableException", 503),
        "access-denied": ("AccessDeniedException", 403),
    },
}
SERVICE_CASES = [(service, kind) for service, kinds in EXPECTED.items() for kind in kinds]


@pytest.mark.parametrize(("service", "kind"), SERVICE_CASES, ids=[f"{s}-{k}" for s, k in SERVICE_CASES])
def test_a_fault_is_the_code_and_status_the_service_itself_sends(cloud: LocalCloud, service: str, kind: str) -> None:
    # Given a fault of this kind on one call of the service
    operation, method, kwargs = CALLS[service]
    cloud.faults.inject(service, operation, kind, times=1, everyone=True)
    client = boto3.client(service, region_name=REGION, config=NO_RETRY)

    # When the caller makes that call
    with pytest.raises(ClientError) as err:
        getattr(client, method)(**kwargs)

    # Then its SDK sees the service's own code and status, as the modeled exception when the model has one
    code, status = EXPECTED[service][kind]
    assert (err.value.response["Error"]["Code"], err.value.response["ResponseMetadata"]["HTTPStatusCode"]) == (
        code,
        status,
    )
    assert isinstance(err.value, client.exceptions.from_code(code))


@pytest.mark.parametrize("operation", ["GetItem", "PutItem", "UpdateItem", "Query"])
def test_dynamodb_throttles_item_operations_with_provisioned_throughput_exceeded(
    cloud: LocalCloud, operation: str
) -> None:
    fault = cloud.faults.inject("dynamodb", operation, "throttle")
    assert (fault.code, fault.status) == ("ProvisionedThroughputExceededException", 400)


def test_a_timeout_is_a_read_timeout_after_the_callers_read_timeout_and_botocore_retries_it(
    cloud: LocalCloud,
) -> None:
    # Given a caller that waits 7 s for an answer and tries 3 times, and two calls that never get one
    client = boto3.client(
        "sns",
        region_name=REGION,
        config=botocore.config.Config(read_timeout=7, retries={"mode": "standard", "total_max_attempts": 3}),
    )
    fault = cloud.faults.inject("sns", "ListTopics", "timeout", times=2, everyone=True)
    before = cloud.clock.now()

    # When it calls, then botocore retried both timeouts and the third attempt answered, 14 s later
    assert client.list_topics()["Topics"] == []
    assert fault.fired == 2
    assert 14 <= (cloud.clock.now() - before).total_seconds() < 20

    # And when every attempt times out, the caller gets the ReadTimeoutError after its three attempts
    cloud.faults.inject("sns", "ListTopics", "timeout", times=None, everyone=True)
    with pytest.raises(ReadTimeoutError):
        client.list_topics()


def test_an_unknown_fault_kind_is_refused_with_the_choices(cloud: LocalCloud) -> None:
    with pytest.raises(ValueError, match="timeout"):
        cloud.faults.inject("sns", "Publish", "slow")


# -- the error name a Catch receives -----------------------------------------------------------------
@pytest.fixture(scope="module")
def errors_stack() -> Iterator[tuple[LocalCloud, Stack]]:
    # IAM is enforced: the fixture's state machines hold the permissions their integrations use
    with LocalCloud() as cloud:
        stack = cloud.deploy(FIXTURE, REGION, "sfn")
        cloud.client("dynamodb", REGION).put_item(TableName=stack.physical("ItemsTable"), Item={"pk": {"S": "taken"}})
        yield cloud, stack


@pytest.fixture
def errors(errors_stack: tuple[LocalCloud, Stack]) -> Iterator[tuple[LocalCloud, Stack]]:
    cloud, _ = errors_stack
    yield errors_stack
    cloud.faults.clear()


def caught(cloud: LocalCloud, stack: Stack, payload: dict[str, Any]) -> dict[str, Any]:
    """Run the integration the payload names; what its Catch received ({error: None} when it succeeded)."""
    execution = cloud.start_execution(stack.arn("ErrorsStateMachine"), payload)
    result = cloud.wait(execution)
    assert result["status"] == "SUCCEEDED", result
    return dict(json.loads(result["output"]))


FAULTED = "faulted"  # the payload's function: the one the fault is on
# (integration, operation the fault is on, fault kind, error name the Catch receives)
ROWS = [
    ("lambda:invoke", "Invoke", "throttle", "Lambda.TooManyRequestsException"),
    ("lambda:invoke", "Invoke", "5xx", "Lambda.ServiceException"),
    ("lambda:invoke", "Invoke", "unavailable", "Lambda.AWSLambdaException"),
    ("lambda:invoke", "Invoke", "access-denied", "Lambda.AWSLambdaException"),
    ("lambda:invoke", "Invoke", "timeout", "Lambda.SdkClientException"),
    ("sns:publish", "Publish", "throttle", "SNS.AmazonSNSException"),
    ("sns:publish", "Publish", "5xx", "SNS.InternalErrorException"),
    ("sns:publish", "Publish", "unavailable", "SNS.AmazonSNSException"),
    ("sns:publish", "Publish", "access-denied", "SNS.AuthorizationErrorException"),
    ("sns:publish", "Publish", "timeout", "SNS.SdkClientException"),
    ("sns:publish (TimeoutSeconds 30)", "Publish", "timeout", "States.Timeout"),
    *[
        (f"dynamodb:{action}", operation, kind, name)
        for action, operation in (("putItem", "PutItem"), ("updateItem", "UpdateItem"), ("getItem", "GetItem"))
        for kind, name in (
            ("throttle", "DynamoDB.ProvisionedThroughputExceededException"),
            ("5xx", "DynamoDB.InternalServerErrorException"),
            ("unavailable", "DynamoDB.AmazonDynamoDBException"),
            ("access-denied", "DynamoDB.AmazonDynamoDBException"),
            ("timeout", "DynamoDB.SdkClientException"),
        )
    ],
    ("aws-sdk:cloudwatch:putMetricData", "PutMetricData", "throttle", "CloudWatch.CloudWatchException"),
    ("aws-sdk:cloudwatch:putMetricData", "PutMetricData", "5xx", "CloudWatch.InternalServiceFaultException"),
    ("aws-sdk:cloudwatch:putMetricData", "PutMetricData", "unavailable", "CloudWatch.CloudWatchException"),
    ("aws-sdk:cloudwatch:putMetricData", "PutMetricData", "access-denied", "CloudWatch.CloudWatchException"),
    ("aws-sdk:cloudwatch:putMetricData", "PutMetricData", "timeout", "CloudWatch.SdkClientException"),
]
SERVICES = {"lambda": "lambda", "sns": "sns", "dynamodb": "dynamodb", "aws-sdk": "cloudwatch"}


@pytest.mark.parametrize(("integration", "operation", "kind", "name"), ROWS, ids=[f"{r[0]}-{r[2]}" for r in ROWS])
def test_a_catch_receives_the_error_name_step_functions_reports(
    errors: tuple[LocalCloud, Stack], integration: str, operation: str, kind: str, name: str
) -> None:
    # Given one failure of the service call the integration makes
    cloud, stack = errors
    service = SERVICES[integration.split(":", maxsplit=1)[0]]
    fault = cloud.faults.inject(service, operation, kind, times=1)
    payload = {
        "integration": integration,
        "function": stack.physical("RecordFunction"),
        "key": f"new-{integration}-{kind}" if "putItem" in integration else "taken",
    }

    # When the state machine runs it
    out = caught(cloud, stack, payload)

    # Then its Catch receives the name Step Functions reports for that failure
    assert out["error"] == name, out
    assert fault.fired == 1


def test_the_cause_reads_as_the_java_sdk_writes_it(errors: tuple[LocalCloud, Stack]) -> None:
    cloud, stack = errors
    cloud.faults.inject("sns", "Publish", "access-denied", times=1)
    out = caught(cloud, stack, {"integration": "sns:publish"})
    assert out["cause"].startswith(
        "User is not authorized to perform this action "
        "(Service: AmazonSNS; Status Code: 403; Error Code: AuthorizationError; Request ID: "
    )
    assert out["cause"].endswith("; Proxy: null)")

    cloud.faults.inject("cloudwatch", "PutMetricData", "throttle", times=1)
    out = caught(cloud, stack, {"integration": "aws-sdk:cloudwatch:putMetricData"})
    assert out["cause"].startswith("Rate exceeded (Service: CloudWatch, Status Code: 400, Request ID: ")

    cloud.faults.inject("dynamodb", "GetItem", "timeout", times=1)
    out = caught(cloud, stack, {"integration": "dynamodb:getItem", "key": "taken"})
    assert out == {"error": "DynamoDB.SdkClientException", "cause": "Unable to execute HTTP request: Read timed out"}


@pytest.mark.parametrize(
    ("payload", "name"),
    [
        ({"integration": "dynamodb:putItem", "key": "taken"}, "DynamoDB.ConditionalCheckFailedException"),
        ({"integration": "dynamodb:updateItem", "key": "absent"}, "DynamoDB.ConditionalCheckFailedException"),
        ({"integration": "lambda:invoke", "function": "BoomFunction"}, "PermanentError"),
        (
            {"integration": "lambda:invoke", "function": f"arn:aws:lambda:{REGION}:123456789012:function:nope"},
            "Lambda.ResourceNotFoundException",
        ),
    ],
    ids=["putItem-condition", "updateItem-condition", "function-raises", "function-missing"],
)
def test_a_catch_receives_the_name_of_a_real_failure(
    errors: tuple[LocalCloud, Stack], payload: dict[str, Any], name: str
) -> None:
    cloud, stack = errors
    if payload.get("function") == "BoomFunction":
        payload = {**payload, "function": stack.physical("BoomFunction")}
    assert caught(cloud, stack, payload)["error"] == name


def test_without_a_fault_every_integration_succeeds(errors: tuple[LocalCloud, Stack]) -> None:
    cloud, stack = errors
    for integration in ("sns:publish", "dynamodb:getItem", "dynamodb:updateItem", "aws-sdk:cloudwatch:putMetricData"):
        assert caught(cloud, stack, {"integration": integration, "key": "taken"}) == {"error": None}, integration
    assert caught(cloud, stack, {"integration": "lambda:invoke", "function": stack.physical("RecordFunction")}) == {
        "error": None
    }
