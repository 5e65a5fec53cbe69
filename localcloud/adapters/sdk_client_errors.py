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
from moto.stepfunctions.parser.api import HistoryEventType, TaskFailedEventDetails
from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import CustomErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import FailureEvent
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service import (
    StateTaskService,
)
from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails

from localcloud.adapters.patching import PatchSet

# The service part of an integration's error names (the casing Step Functions uses).
SERVICE_ERROR_NAMES = {
    "lambda": "Lambda",
    "dynamodb": "DynamoDB",
    "sns": "SNS",
    "sqs": "SQS",
    "states": "Sfn",
    "sfn": "Sfn",
    "events": "EventBridge",
    "rds": "Rds",
    "s3": "S3",
    "cloudwatch": "CloudWatch",
    "backup": "Backup",
}


def error_name(service: str) -> str:
    """``<Service>.SdkClientException`` for an integration's service (``aws-sdk:<service>`` or optimized)."""
    return f"{SERVICE_ERROR_NAMES.get(service.lower(), service[:1].upper() + service[1:])}.SdkClientException"


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
            service = resource.api_name if resource.service_name == "aws-sdk" else resource.service_name
            error = error_name(str(service))
            cause = f"Unable to execute HTTP request: {ex}"
            return FailureEvent(
                env=env,
                error_name=CustomErrorName(error),
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

        self._patches.add(StateTaskService, "_from_error", from_error)

    def uninstall(self) -> None:
        self._patches.undo_all()
