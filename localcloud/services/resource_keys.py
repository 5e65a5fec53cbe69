"""What a service checks itself when a resource is tied to a customer managed KMS key, whoever creates it.

Modeled (CloudWatch Logs User Guide, "Encrypt log data in CloudWatch Logs using AWS KMS"; DynamoDB
Developer Guide, "Encryption at rest"):
- CloudWatch Logs ``CreateLogGroup`` / ``AssociateKmsKey`` with ``kmsKeyId``: the key must be in the log
  group's Region and enabled, and its key policy must allow the service principal
  ``logs.REGION.amazonaws.com`` to use it (``kms:GenerateDataKey`` and ``kms:Decrypt``) with the
  encryption context ``kms:EncryptionContext:aws:logs:arn`` of that log group. Otherwise Logs refuses
  with AccessDeniedException, "The specified KMS key does not exist or is not allowed to be used with
  Arn '...'", and nothing is created. moto checks none of it and has no ``AssociateKmsKey``.
- DynamoDB ``CreateTable`` with ``SSESpecification.KMSMasterKeyId``: the key must exist in the Region and be
  enabled, else ValidationException. The table records the key's ARN, as ``DescribeTable`` reports it
  (moto keeps whatever id it was given).
The per-request use of the table's key (``kms:Decrypt`` as the caller) is ``localcloud.iam.enforcer``'s.
"""

from __future__ import annotations

import json
from typing import Any

from moto.dynamodb.models import dynamodb_backends
from moto.kms.models import kms_backends
from moto.logs.models import logs_backends

from localcloud.iam.policy import Principal, Request, evaluate
from localcloud.interceptor import Call, Interceptor, Response, serialize_error, serialize_result
from localcloud.services.passthrough import moto_response
from localcloud.template import ACCOUNT_ID

LOGS_KEY_ACTIONS = ("kms:GenerateDataKey", "kms:Decrypt")


class ResourceKeys:
    def __init__(self, account: str = ACCOUNT_ID) -> None:
        self.account = account

    def _key(self, key_id: str, region: str) -> Any | None:
        """The enabled key ``key_id`` names in ``region`` (an id, an ARN or an alias), else None."""
        if key_id.startswith("arn:") and key_id.split(":")[3] != region:
            return None
        backend = kms_backends[self.account][region]
        try:
            key = backend.keys.get(backend.any_id_to_key_id(key_id))
        except Exception:  # an alias that does not exist
            return None
        return key if key is not None and key.key_state == "Enabled" else None

    def logs_may_use(self, key_id: str, region: str, log_group: str) -> bool:
        key = self._key(key_id, region)
        if key is None or not key.policy:
            return False
        policy = json.loads(key.policy)
        arn = f"arn:aws:logs:{region}:{self.account}:log-group:{log_group}"
        logs = Principal(self.account, "", "", service=f"logs.{region}.amazonaws.com")
        context = {"kms:EncryptionContext:aws:logs:arn": arn, "kms:CallerAccount": self.account}
        return all(
            evaluate(Request(logs, action, str(key.arn), context), [], policy, key_policy=True).allowed
            for action in LOGS_KEY_ACTIONS
        )

    def _refused(self, call: Call, log_group: str) -> Response:
        arn = f"arn:aws:logs:{call.region}:{self.account}:log-group:{log_group}"
        return serialize_error(
            call,
            "AccessDeniedException",
            f"The specified KMS key does not exist or is not allowed to be used with Arn '{arn}'",
            400,
        )

    def _create_log_group(self, call: Call) -> Response:
        params = call.params
        key_id = params.get("kmsKeyId")
        if key_id and not self.logs_may_use(str(key_id), call.region, str(params["logGroupName"])):
            return self._refused(call, str(params["logGroupName"]))
        return moto_response(call)

    def _associate_kms_key(self, call: Call) -> Response:
        params = call.params
        name = str(params.get("logGroupName") or str(params.get("resourceIdentifier", "")).split(":log-group:")[-1])
        group = logs_backends[self.account][call.region].groups.get(name)
        if group is None:
            return serialize_error(call, "ResourceNotFoundException", "The specified log group does not exist.", 400)
        if not self.logs_may_use(str(params["kmsKeyId"]), call.region, name):
            return self._refused(call, name)
        group.kms_key_id = str(params["kmsKeyId"])
        return serialize_result(call, {})

    def _create_table(self, call: Call) -> Response:
        sse = call.params.get("SSESpecification") or {}
        key_id = sse.get("KMSMasterKeyId")
        if sse.get("Enabled") and key_id:
            key = self._key(str(key_id), call.region)
            if key is None:
                return serialize_error(
                    call,
                    "ValidationException",
                    f"KMSMasterKeyId {key_id} is not valid: the key does not exist in {call.region} or is not enabled",
                    400,
                )
            response = moto_response(call)
            found = dynamodb_backends[self.account][call.region].tables.get(call.params["TableName"])
            if response[0] != 200 or found is None or not found.sse_specification:
                return response
            found.sse_specification["KMSMasterKeyId"] = str(key.arn)
            return serialize_result(call, found.describe(base_key="TableDescription"))
        return moto_response(call)

    def register(self, interceptor: Interceptor) -> None:
        interceptor.route("logs", "CreateLogGroup", self._create_log_group)
        interceptor.route("logs", "AssociateKmsKey", self._associate_kms_key)
        interceptor.route("dynamodb", "CreateTable", self._create_table)
