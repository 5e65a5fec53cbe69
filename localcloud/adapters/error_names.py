"""Error names of service integrations: the name a Retry or Catch sees when a Task's AWS call fails.

Step Functions names the error of a failed service call after the exception class its AWS SDK for Java
raised (docs/step-functions-errors.md has the table and the sources):

- optimized integrations (``arn:aws:states:::lambda:invoke``, ``sns:publish``, ``dynamodb:putItem`` ...):
  ``<Prefix>.<ExceptionClass>`` with the SDK v1 classes: an error code the service model declares becomes
  its shape's class (``DynamoDB.ConditionalCheckFailedException``, ``SNS.AuthorizationErrorException``,
  ``DynamoDB.InternalServerErrorException`` for the code ``InternalServerError``), any other code becomes
  the service's base class (``Lambda.AWSLambdaException``, ``SNS.AmazonSNSException``,
  ``DynamoDB.AmazonDynamoDBException``), and a call that never got an answer (timeout, connection failure)
  ``<Prefix>.SdkClientException``. The cause reads ``<message> (Service: AmazonSNS; Status Code: 403;
  Error Code: AuthorizationError; Request ID: ...; Proxy: null)``.
- AWS SDK integrations (``arn:aws:states:::aws-sdk:<service>:<action>``): ``<Service>.<Error>Exception``
  with the SDK v2 service name in PascalCase (``CloudWatch``, ``DynamoDb``, ``Sfn``, ``S3``), the modeled
  error's class, or ``<Service>.<Service>Exception`` for a code the model does not declare
  (``DynamoDb.DynamoDbException``); cause ``<message> (Service: DynamoDb, Status Code: 400, Request ID: ...)``.

moto names them by the raw error code instead (``DynamoDB.InternalServerError``, ``SNS.ThrottlingException``,
``Lambda.AccessDeniedException``), lower-cases the aws-sdk service (``cloudwatch.CloudWatchException``) and
reports a timeout as ``States.Runtime``. This adapter replaces the ``_from_error`` of the four integrations
for AWS errors and transport failures (botocore's timeouts and connection errors); a Lambda function's own
error (its ``errorType``) is untouched.
Whether a code is modeled is read from botocore's model of the service, the same service models the SDKs
are generated from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

import botocore.session
from botocore.exceptions import ClientError, HTTPClientError, ReadTimeoutError
from botocore.exceptions import ConnectionError as BotocoreConnectionError
from moto.stepfunctions.parser.api import HistoryEventType, TaskFailedEventDetails
from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import CustomErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import FailureEvent
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
    state_task_service_aws_sdk as aws_sdk,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
    state_task_service_dynamodb as dynamodb,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
    state_task_service_lambda as lambda_,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
    state_task_service_sns as sns,
)
from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails

from localcloud.adapters.patching import PatchSet

_session = botocore.session.get_session()


@cache
def modeled_errors(service: str) -> dict[str, str]:
    """Error code → exception shape name, for every error the service's model declares."""
    model = _session.get_service_model(service)
    out: dict[str, str] = {}
    for operation in model.operation_names:
        for shape in model.operation_model(operation).error_shapes:
            out[str(shape.metadata.get("error", {}).get("code") or shape.name)] = shape.name
    return out


@cache
def sdk_service_name(service: str) -> str:
    """The SDK v2 name of a service, in PascalCase, from its serviceId: DynamoDB → DynamoDb, SFN → Sfn."""
    service_id = str(_session.get_service_model(service).metadata["serviceId"])
    words = re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+", service_id)
    return "".join(word[:1].upper() + word[1:].lower() for word in words)


def _exception_class(shape: str) -> str:
    return shape if shape.endswith("Exception") else f"{shape}Exception"


def _transport_cause(err: Exception) -> str:
    reason = "Read timed out" if isinstance(err, ReadTimeoutError) else str(err)
    return f"Unable to execute HTTP request: {reason}"


@dataclass(frozen=True)
class Optimized:
    """An optimized integration, named the way the SDK for Java v1 names its exceptions."""

    prefix: str  # the error name's prefix: Lambda, SNS, DynamoDB
    service: str  # botocore's service name
    sdk_service: str  # the service name in the SDK's cause text
    base_exception: str  # the class of an error code the model does not declare

    def name(self, err: Exception) -> tuple[str, str]:
        if not isinstance(err, ClientError):
            return f"{self.prefix}.SdkClientException", _transport_cause(err)
        code = str(err.response.get("Error", {}).get("Code", ""))
        shape = modeled_errors(self.service).get(code)
        exception = _exception_class(shape) if shape else self.base_exception
        meta = err.response.get("ResponseMetadata", {})
        cause = (
            f"{err.response.get('Error', {}).get('Message', '')} (Service: {self.sdk_service}; "
            f"Status Code: {meta.get('HTTPStatusCode')}; Error Code: {code}; "
            f"Request ID: {meta.get('RequestId')}; Proxy: null)"
        )
        return f"{self.prefix}.{exception}", cause


OPTIMIZED = {
    lambda_.StateTaskServiceLambda: Optimized("Lambda", "lambda", "AWSLambda", "AWSLambdaException"),
    sns.StateTaskServiceSns: Optimized("SNS", "sns", "AmazonSNS", "AmazonSNSException"),
    dynamodb.StateTaskServiceDynamoDB: Optimized("DynamoDB", "dynamodb", "AmazonDynamoDBv2", "AmazonDynamoDBException"),
}


def aws_sdk_name(service: str, err: Exception) -> tuple[str, str]:
    """The error name and cause of an ``aws-sdk:<service>`` task whose call failed with ``err``."""
    prefix = sdk_service_name(service)
    if not isinstance(err, ClientError):
        return f"{prefix}.SdkClientException", _transport_cause(err)
    code = str(err.response.get("Error", {}).get("Code", ""))
    shape = modeled_errors(service).get(code)
    exception = _exception_class(shape) if shape else f"{prefix}Exception"
    meta = err.response.get("ResponseMetadata", {})
    details = [
        f"Service: {prefix}",
        f"Status Code: {meta.get('HTTPStatusCode')}",
        f"Request ID: {meta.get('RequestId')}",
    ]
    if meta.get("HostId"):
        details.append(f"Extended Request ID: {meta['HostId']}")
    return f"{prefix}.{exception}", f"{err.response.get('Error', {}).get('Message', '')} ({', '.join(details)})"


def task_failed(task: Any, env: Any, error: str, cause: str) -> FailureEvent:
    """The TaskFailed event of ``task`` with ``error`` and ``cause``, as Step Functions records it."""
    return FailureEvent(
        env=env,
        error_name=CustomErrorName(error_name=error),
        event_type=HistoryEventType.TaskFailed,
        event_details=EventDetails(
            taskFailedEventDetails=TaskFailedEventDetails(
                error=error,
                cause=cause,
                resource=task._get_sfn_resource(),
                resourceType=task._get_sfn_resource_type(),
            )
        ),
    )


def _named(original: Any, namer: Any) -> Any:
    def _from_error(task: Any, env: Any, ex: Exception) -> FailureEvent:
        if isinstance(ex, ClientError | HTTPClientError | BotocoreConnectionError):
            return task_failed(task, env, *namer(task, ex))
        return original(task, env, ex)  # a Lambda function's own error, a timeout of the state, ...

    return _from_error


class ErrorNamesAdapter:
    name = "integration-error-names"

    def __init__(self) -> None:
        self._patches = PatchSet()

    def install(self) -> None:
        for cls, integration in OPTIMIZED.items():
            self._patches.add(cls, "_from_error", _named(cls._from_error, lambda _task, ex, i=integration: i.name(ex)))
        sdk_task = aws_sdk.StateTaskServiceAwsSdk
        self._patches.add(
            sdk_task,
            "_from_error",
            _named(sdk_task._from_error, lambda task, ex: aws_sdk_name(task._get_boto_service_name(), ex)),
        )

    def uninstall(self) -> None:
        self._patches.undo_all()
