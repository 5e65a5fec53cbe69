"""Step Functions adapter: a state machine's service integrations are made with its role's credentials.

moto's ASL engine builds a boto3 client for every integration (``lambda:invoke``, ``sns:publish``,
``dynamodb:updateItem``, the aws-sdk ones) in ``moto.stepfunctions.parser.asl.utils.boto_client.
boto_client_for``, always with the fixed keys ``ak``/``sk``: every call looks the same, whoever's role it
is. AWS makes them with the state machine's execution role (or the Task's ``Credentials.RoleArn``),
which moto passes to that function as ``state_credentials.role_arn``. This adapter replaces the function,
in every module of the engine that imported it, with one that signs with a session of that role.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from typing import Any

from botocore.config import Config
from moto.stepfunctions.parser.asl.component.common.timeouts.timeout import TimeoutSeconds
from moto.stepfunctions.parser.asl.utils import boto_client as boto_client_module

from localcloud import sdk
from localcloud.adapters.patching import PatchSet

# Every module of moto's engine that does ``from ...boto_client import boto_client_for`` (moto 5.2.5).
_ENGINE = "moto.stepfunctions.parser.asl.component.state.exec"
USERS = (
    f"{_ENGINE}.state_map.result_writer.resource_eval.resource_eval_s3",
    f"{_ENGINE}.state_map.item_reader.eval.resource_eval_s3",
    f"{_ENGINE}.state_task.lambda_eval_utils",
    *(
        f"{_ENGINE}.state_task.service.state_task_service_{kind}"
        for kind in ("unsupported", "glue", "events", "ecs", "sqs", "sfn", "dynamodb", "batch", "sns", "aws_sdk")
    ),
)
# AWS names a state machine's session with a random-looking token; one stable name per role here.
SESSION = "StepFunctionsExecution"


class StatesRoleAdapter:
    name = "states-role"

    def __init__(self, credentials: Callable[[str, str], dict[str, str]]) -> None:
        self._credentials = credentials
        self._patches = PatchSet()
        self._clients: dict[tuple[str, str, str], Any] = {}  # (region, service, role): the role's client, kept
        self._lock = threading.Lock()

    def client_for(self, region: str, service: str, state_credentials: Any = None) -> Any:
        role_arn = getattr(state_credentials, "role_arn", None)
        if not role_arn:
            return _ORIGINAL(region=region, service=service, state_credentials=state_credentials)
        with self._lock:
            key = (region, service, str(role_arn))
            if key not in self._clients:
                self._clients[key] = self._new_client(region, service, str(role_arn))
            return self._clients[key]

    def _new_client(self, region: str, service: str, role_arn: str) -> Any:
        env = self._credentials(role_arn, SESSION)
        return sdk.client(
            service,
            region,
            aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
            aws_session_token=env["AWS_SESSION_TOKEN"],
            config=Config(
                parameter_validation=False,
                retries={"max_attempts": 0, "total_max_attempts": 1},
                connect_timeout=TimeoutSeconds.DEFAULT_TIMEOUT_SECONDS,
                read_timeout=TimeoutSeconds.DEFAULT_TIMEOUT_SECONDS,
            ),
        )

    def install(self) -> None:
        for name in USERS:  # a module that no longer imports it fails here: moto changed under the adapter
            self._patches.add(importlib.import_module(name), "boto_client_for", self.client_for)

    def uninstall(self) -> None:
        self._patches.undo_all()


_ORIGINAL = boto_client_module.boto_client_for
