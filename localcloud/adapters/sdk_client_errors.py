"""Service-integration adapter: a network failure of a Task's AWS call is ``<Service>.SdkClientException``.

When Step Functions cannot reach the service a Task calls (connection refused, connect or read timeout),
the Task fails with the SDK's client-side error, named like every integration error ``ServiceName.
ErrorName`` (the Lambda integration documents ``Lambda.SdkClientException``, which this project's ASL
retries). moto's engine turns any exception that is not a ``ClientError`` into ``States.Runtime``, which
no Retry or Catch can handle, so an outage would end an execution in a way AWS never does. This adapter
names botocore's connection errors and timeouts (raised by localcloud's outage profiles) as AWS does,
with the cause ``Unable to execute HTTP request: ...``.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ConnectionError as BotocoreConnectionError
from botocore.exceptions import HTTPClientError
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service import (
    StateTaskService,
)

from localcloud.adapters.error_names import task_failed
from localcloud.adapters.patching import PatchSet

# The service part of an integration's error names, as Step Functions spells it: optimized integrations
# (``arn:aws:states:::lambda:invoke``) and AWS SDK integrations (``arn:aws:states:::aws-sdk:dynamodb:...``,
# PascalCase of the SDK's service name: ``DynamoDb``, ``Rds``, ``S3``).
OPTIMIZED_ERROR_NAMES = {
    "lambda": "Lambda",
    "dynamodb": "DynamoDB",
    "sns": "SNS",
    "sqs": "SQS",
    "events": "EventBridge",
}
AWS_SDK_ERROR_NAMES = {"dynamodb": "DynamoDb", "sfn": "Sfn"}


def error_name(service: str, aws_sdk: bool) -> str:
    """``<Service>.SdkClientException`` for the service an integration calls."""
    names = AWS_SDK_ERROR_NAMES if aws_sdk else OPTIMIZED_ERROR_NAMES
    return f"{names.get(service.lower(), service[:1].upper() + service[1:])}.SdkClientException"


class SdkClientErrorsAdapter:
    name = "sdk-client-errors"

    def __init__(self) -> None:
        self._patches = PatchSet()

    def install(self) -> None:
        original = StateTaskService._from_error

        def from_error(task: Any, env: Any, ex: Exception) -> Any:
            if not isinstance(ex, HTTPClientError | BotocoreConnectionError):
                return original(task, env, ex)
            resource = task.resource
            aws_sdk = resource.service_name == "aws-sdk"
            error = error_name(str(resource.api_name if aws_sdk else resource.service_name), aws_sdk)
            return task_failed(task, env, error, f"Unable to execute HTTP request: {ex}")

        self._patches.add(StateTaskService, "_from_error", from_error)

    def uninstall(self) -> None:
        self._patches.undo_all()
