"""aws-sdk casing adapter: Step Functions' PascalCase on both sides of an ``aws-sdk:`` integration.

In ASL every aws-sdk parameter is written in PascalCase and every response key comes back in PascalCase,
whatever the API's own casing (``aws-sdk:sfn:describeExecution`` takes ``ExecutionArn`` and returns
``Status``). moto dropped the two normalisers that do this (``StateTaskService._normalise_parameters`` /
``_normalise_response`` are empty, upstream moto#10076); this adapter puts them back for aws-sdk tasks,
driven by botocore's model of each operation. (The error names of a failed aws-sdk task are the
``error_names`` adapter's.)
"""

from __future__ import annotations

from typing import Any

import boto3
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
    state_task_service_aws_sdk as sdk,
)

from localcloud.adapters.patching import PatchSet

_session = boto3.session.Session()
_models: dict[str, Any] = {}


def _operation_model(service: str, action: str) -> Any:
    model = _models.get(service)
    if model is None:
        model = _models[service] = _session._session.get_service_model(service)
    for name in model.operation_names:
        if name.lower() == action.replace("_", "").lower():
            return model.operation_model(name)
    return None


def _normalise_parameters(
    self: Any,
    parameters: dict[str, Any],
    boto_service_name: str | None = None,
    service_action_name: str | None = None,
) -> None:
    operation = _operation_model(
        self._get_boto_service_name(boto_service_name), service_action_name or self.resource.api_action
    )
    if operation is not None and operation.input_shape is not None:
        self._to_boto_request(parameters, operation.input_shape)


def _normalise_response(
    self: Any, response: Any, boto_service_name: str | None = None, service_action_name: str | None = None
) -> None:
    operation = _operation_model(
        self._get_boto_service_name(boto_service_name), service_action_name or self.resource.api_action
    )
    if operation is not None and operation.output_shape is not None:
        self._from_boto_response(response, operation.output_shape)


class SdkCasingAdapter:
    name = "aws-sdk-casing"

    def __init__(self) -> None:
        self._patches = PatchSet()

    def install(self) -> None:
        self._patches.add(sdk.StateTaskServiceAwsSdk, "_normalise_parameters", _normalise_parameters)
        self._patches.add(sdk.StateTaskServiceAwsSdk, "_normalise_response", _normalise_response)

    def uninstall(self) -> None:
        self._patches.undo_all()
