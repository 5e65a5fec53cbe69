"""IAM, resource-policy and KMS enforcement for the calls the deployed app's principals make.

Who calls: a Lambda function signs with its execution role's session credentials, which the runtime
puts in the function's environment (``AWS_ACCESS_KEY_ID``... as Lambda does); a state machine's service
integrations sign with its role's (``localcloud.iam.states_role``). Both sessions come from STS
AssumeRole on the roles the deployer created from the template, so the access key names the principal.
Any other caller (a test, drctl, the deployer, EventBridge routing) is the account's administrator and
is not evaluated.

What is evaluated, for every call of such a principal (``localcloud.iam.policy`` has the logic):
- each permission the call needs (``localcloud.iam.requests``), against the role's identity policies
  (inline and attached, read from moto's IAM, so a test can change them through the IAM API) and the
  resource's own policy where the service has one: SNS topic policy, S3 bucket policy, KMS key policy;
- the KMS permissions an encrypted resource implies, evaluated as the caller against the key policy
  and the identity policies together (context ``kms:ViaService``, ``kms:CallerAccount``):
  SNS Publish to a topic with a customer managed key needs ``kms:GenerateDataKey`` and ``kms:Decrypt``;
  S3 PutObject/CopyObject into an SSE-KMS bucket ``kms:GenerateDataKey``, GetObject/HeadObject/CopyObject
  of an SSE-KMS object ``kms:Decrypt``. AWS managed keys (``alias/aws/...``) allow every principal of the
  account through their service, as their key policies do.
  Every request on the items of a DynamoDB table encrypted with a customer managed key needs
  ``kms:Decrypt`` (DynamoDB decrypts the table key as the caller, through ``dynamodb.REGION``).
  CloudWatch Logs encrypts a log group's events as its own service principal (the key policy must allow
  it: ``localcloud.services.resource_keys``), so a writer needs no KMS permission.

moto's S3 checks bucket policies itself, ignoring their conditions (a ``Deny`` on ``aws:SecureTransport``
``false`` denies every request); that check is replaced by this one (``install``), which honours them.

A denial is answered as the service answers it (code, HTTP status, and AWS's message naming the
assumed-role session, the action, the resource and why), and kept in ``denials`` for tests.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from moto.dynamodb.models import dynamodb_backends
from moto.iam.access_control import PermissionResult
from moto.iam.models import iam_backends
from moto.kms.models import kms_backends
from moto.s3.models import FakeBucket, s3_backends
from moto.sns.models import sns_backends

from localcloud import sdk
from localcloud.adapters.patching import PatchSet
from localcloud.iam.policy import ContextValue, Principal, Request, Verdict, evaluate
from localcloud.iam.requests import Needed, Unmodeled, copy_source, needed
from localcloud.interceptor import Call, Response, serialize_error
from localcloud.outage import DATA_PLANE
from localcloud.template import ACCOUNT_ID

# How each service says AccessDenied: (error code, HTTP status).
DENIED: dict[str, tuple[str, int]] = {
    "dynamodb": ("AccessDeniedException", 400),
    "sns": ("AuthorizationError", 403),
    "s3": ("AccessDenied", 403),
    "lambda": ("AccessDeniedException", 403),
    "rds": ("AccessDenied", 403),
    "cloudwatch": ("AccessDenied", 403),
    "stepfunctions": ("AccessDeniedException", 400),
    "backup": ("AccessDeniedException", 403),
    "route53": ("AccessDenied", 403),
    "route53-recovery-cluster": ("AccessDeniedException", 403),
    "rds-data": ("AccessDeniedException", 403),
    "iam": ("AccessDenied", 403),
    "kms": ("AccessDeniedException", 400),
    "logs": ("AccessDeniedException", 400),
    "events": ("AccessDeniedException", 400),
    "sts": ("AccessDenied", 403),
    "sqs": ("AccessDenied", 403),
}
_AWS_MANAGED_KEY_ALIAS = "alias/aws/"


def _table_names(params: Mapping[str, Any]) -> list[str]:
    """The tables a DynamoDB data request touches (one, or every one a batch or a transaction names)."""
    if params.get("TableName"):
        return [str(params["TableName"])]
    names = list(params.get("RequestItems") or {})
    for item in params.get("TransactItems") or []:
        names += [str(op["TableName"]) for op in item.values() if isinstance(op, Mapping) and op.get("TableName")]
    return sorted(set(names))


@dataclass(frozen=True)
class Denial:
    principal: str
    service: str
    operation: str
    action: str
    resource: str
    message: str


class IamEnforcer:
    """Installed by LocalCloud: hands out role sessions and answers ``Interceptor.authorizer``."""

    name = "iam"

    def __init__(self, enabled: bool = True, account: str = ACCOUNT_ID) -> None:
        self.enabled = enabled
        self.account = account
        self.denials: list[Denial] = []
        # every distinct permission used and granted, by (role name, action, resource): what a drill needs
        self.granted: dict[tuple[str, str, str], Request] = {}
        self._sessions: dict[str, Principal] = {}  # access key id -> principal
        self._credentials: dict[tuple[str, str], dict[str, str]] = {}
        self._documents: dict[str, dict[str, Any]] = {}  # parsed policy JSON, by its text
        self._lock = threading.Lock()
        self._sts: Any = None
        self._patches = PatchSet()

    def install(self) -> None:
        self._patches.add(FakeBucket, "get_permission", lambda *_: PermissionResult.NEUTRAL)

    def uninstall(self) -> None:
        self._patches.undo_all()

    # -- sessions ------------------------------------------------------------------------------------
    def credentials(self, role_arn: str, session: str) -> dict[str, str]:
        """The environment variables of a session of ``role_arn`` (STS AssumeRole, made once per
        role and session name and kept: Lambda keeps an execution environment's credentials too)."""
        key = (role_arn, session)
        with self._lock:
            if key in self._credentials:
                return self._credentials[key]
            if self._sts is None:  # the administrator's client, whatever the calling thread's environment
                self._sts = sdk.client("sts", "us-east-1")
            sts = self._sts
        # Not under the lock: the call may wait on the virtual clock (an SDK retry's back-off), and the clock's
        # own thread may be starting a scheduled function that needs the lock meanwhile (a deadlock, before).
        out = sts.assume_role(RoleArn=role_arn, RoleSessionName=session[:64])["Credentials"]
        with self._lock:
            if key in self._credentials:  # another thread's session for it was kept first
                return self._credentials[key]
            name_path = role_arn.split(":role", 1)[1]
            path, _, role_name = name_path.rpartition("/")
            self._sessions[out["AccessKeyId"]] = Principal(
                account=role_arn.split(":")[4],
                role_name=role_name,
                session=session[:64],
                partition=role_arn.split(":")[1],
                path=f"{path}/",
            )
            env = {
                "AWS_ACCESS_KEY_ID": out["AccessKeyId"],
                "AWS_SECRET_ACCESS_KEY": out["SecretAccessKey"],
                "AWS_SESSION_TOKEN": out["SessionToken"],
            }
            self._credentials[key] = env
            return env

    def principal(self, access_key: str) -> Principal | None:
        return self._sessions.get(access_key)

    # -- the interceptor's question ------------------------------------------------------------------
    def authorize(self, call: Call) -> Response | None:
        """None when the call may go on; AWS's AccessDenied response for ``call`` otherwise."""
        if not self.enabled:
            return None
        principal = self._sessions.get(call.access_key)
        if principal is None:
            return None
        params = call.params
        try:
            needs = needed(call.service, call.operation, params, call.region, self.account)
        except Unmodeled as err:
            return serialize_error(
                call,
                "InternalFailure",
                f"localcloud cannot authorize {err}: no permission model for this operation "
                "(add it to localcloud/iam/requests.py)",
                500,
            )
        identity = self.identity_policies(principal)
        base_context = self._context(call, principal)
        for need in needs:
            request = Request(principal, need.action, need.resource, {**base_context, **need.context})
            policy, is_key = self.resource_policy(need.resource)
            verdict = evaluate(request, identity, policy, key_policy=is_key)
            if not verdict.allowed:
                return self._deny(call, request, verdict)
            self._grant(request)
        for need in self._kms_needs(call, params):
            request = Request(principal, need.action, need.resource, {**base_context, **need.context})
            policy, _ = self.resource_policy(need.resource)
            verdict = evaluate(request, identity, policy, key_policy=True)
            if not verdict.allowed:
                return self._deny(call, request, verdict, kms=True)
            self._grant(request)
        return None

    def _grant(self, request: Request) -> None:
        key = (request.principal.role_name, request.action, request.resource)
        if key not in self.granted:
            with self._lock:
                self.granted.setdefault(key, request)

    def _context(self, call: Call, principal: Principal) -> dict[str, ContextValue]:
        url = str(getattr(call.request, "url", "") or "")
        return {
            "aws:SecureTransport": not url.startswith("http://"),
            "aws:PrincipalArn": principal.role_arn,
            "aws:PrincipalAccount": principal.account,
            "aws:PrincipalType": "AssumedRole",
            "aws:RequestedRegion": call.region,
            "aws:ResourceAccount": self.account,  # every resource in localcloud is the one account's
            "aws:userid": f"{principal.role_name}:{principal.session}",
        }

    def _deny(self, call: Call, request: Request, verdict: Verdict, kms: bool = False) -> Response:
        message = verdict.message(request)
        code, status = DENIED.get(call.service, ("AccessDeniedException", 400))
        if call.service == "sns":
            if request.action.startswith("sns:"):  # SNS spells its own actions SNS:Publish
                spelled = "SNS:" + request.action.removeprefix("sns:")
                message = message.replace(f"perform: {request.action}", f"perform: {spelled}")
                message = message.replace(f"allows the {request.action}", f"allows the {spelled}")
            if kms:  # SNS relays KMS's answer inside its own error
                code, status = "KMSAccessDenied", 400
                message = (
                    f"{message} (Service: AWSKMS; Status Code: 400; Error Code: AccessDeniedException; "
                    f"Request ID: {uuid.uuid4()}; Proxy: null)"
                )
        elif call.service == "s3" and not kms:
            message = message.replace(f"on resource: {request.resource}", f'on resource: "{request.resource}"')
        with self._lock:
            self.denials.append(
                Denial(request.principal.arn, call.service, call.operation, request.action, request.resource, message)
            )
        return serialize_error(call, code, message, status)

    # -- policies ------------------------------------------------------------------------------------
    def _parse(self, text: str) -> dict[str, Any]:
        document = self._documents.get(text)
        if document is None:
            document = json.loads(text)
            self._documents[text] = document
        return document

    def identity_policies(self, principal: Principal) -> list[dict[str, Any]]:
        """The role's inline and attached managed policies (default versions), as moto's IAM has them."""
        backend = iam_backends[principal.account]["global"]
        role = backend.get_role(principal.role_name)
        documents = [self._parse(text) for text in role.policies.values()]
        for policy in role.managed_policies.values():
            version = next(v for v in policy.versions if v.is_default_version)
            documents.append(self._parse(version.document))
        return documents

    def resource_policy(self, arn: str) -> tuple[dict[str, Any] | None, bool]:
        """(the resource's own policy, is it a KMS key policy) for a topic, a bucket/object or a key."""
        parts = arn.split(":", 5)
        if len(parts) != 6:
            return None, False
        _, partition, service, region, account, rest = parts
        if service == "sns":
            topic = sns_backends[account][region].topics.get(arn)
            return (self._parse(topic.policy) if topic is not None else None), False
        if service == "s3":
            found = s3_backends[self.account][partition].buckets.get(rest.split("/", 1)[0])
            if found is None or not found.policy:
                return None, False
            return self._parse(found.policy.decode()), False
        if service == "kms":
            key = kms_backends[account][region].keys.get(rest.removeprefix("key/"))
            return (self._parse(key.policy) if key is not None else None), True
        return None, False

    # -- the KMS uses an encrypted resource implies ---------------------------------------------------
    def _kms_needs(self, call: Call, params: Mapping[str, Any]) -> list[Needed]:
        via = {"kms:ViaService": f"{call.service}.{call.region}.amazonaws.com", "kms:CallerAccount": self.account}
        keys: list[tuple[str, str | None]] = []
        if (call.service, call.operation) == ("sns", "Publish"):
            topic = sns_backends[self.account][call.region].topics.get(str(params.get("TopicArn")))
            key_id = topic.kms_master_key_id if topic is not None else ""
            keys += [("kms:GenerateDataKey", key_id), ("kms:Decrypt", key_id)]
        elif call.service == "s3":
            keys += self._s3_keys(call.operation, params)
        elif call.service == "dynamodb" and call.operation in DATA_PLANE["dynamodb"]:  # each reads the table key
            keys += [("kms:Decrypt", self._table_key(name, call.region)) for name in _table_names(params)]
        out = []
        for action, key_id in keys:
            arn = self._customer_key_arn(key_id, call.region)
            if arn is not None:
                out.append(Needed(action, arn, via))
        return out

    def _s3_keys(self, operation: str, params: Mapping[str, Any]) -> list[tuple[str, str | None]]:
        keys: list[tuple[str, str | None]] = []
        if operation in ("PutObject", "CopyObject"):
            key_id = params.get("SSEKMSKeyId") or self._bucket_default_key(str(params["Bucket"]))
            keys.append(("kms:GenerateDataKey", key_id))
        if operation in ("GetObject", "HeadObject"):
            keys.append(
                ("kms:Decrypt", self._object_key(str(params["Bucket"]), str(params["Key"]), params.get("VersionId")))
            )
        if operation == "CopyObject":
            name, key, version = copy_source(params["CopySource"])
            keys.append(("kms:Decrypt", self._object_key(name, key, version)))
        return keys

    def _table_key(self, name: str, region: str) -> str | None:
        table = dynamodb_backends[self.account][region].tables.get(name.rsplit("/", 1)[-1])
        sse = (getattr(table, "sse_specification", None) or {}) if table is not None else {}
        return sse.get("KMSMasterKeyId") if sse.get("Enabled") and sse.get("SSEType", "KMS") == "KMS" else None

    def _bucket_default_key(self, name: str) -> str | None:
        found = s3_backends[self.account]["aws"].buckets.get(name)
        rule = ((found.encryption or {}).get("Rule") or {}) if found is not None else {}
        default = rule.get("ApplyServerSideEncryptionByDefault") or {}
        return default.get("KMSMasterKeyID") if default.get("SSEAlgorithm") == "aws:kms" else None

    def _object_key(self, name: str, key: str, version: str | None) -> str | None:
        found = s3_backends[self.account]["aws"].buckets.get(name)
        if found is None:
            return None
        versions = found.keys.getlist(key, []) or []
        chosen = next((o for o in versions if version and str(o.version_id) == version), None)
        if chosen is None and not version and versions:
            chosen = versions[-1]
        if chosen is None or getattr(chosen, "encryption", None) != "aws:kms":
            return None
        return getattr(chosen, "kms_key_id", None)

    def _customer_key_arn(self, key_id: str | None, region: str) -> str | None:
        """The ARN of a customer managed key, or None for no key / an AWS managed key."""
        if not key_id or key_id.startswith(_AWS_MANAGED_KEY_ALIAS) or f":{_AWS_MANAGED_KEY_ALIAS}" in key_id:
            return None
        if key_id.startswith("arn:"):
            region = key_id.split(":")[3]
        backend = kms_backends[self.account][region]
        try:
            raw = backend.any_id_to_key_id(key_id)
        except Exception:  # an alias that does not exist: the service itself fails, not IAM
            return None
        key = backend.keys.get(raw)
        if key is None or any(alias.startswith(_AWS_MANAGED_KEY_ALIAS) for alias in key.aliases):
            return None
        return str(key.arn)
