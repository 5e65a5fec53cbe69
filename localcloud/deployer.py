"""Deploy template.yaml into moto, as ``sam deploy`` would into an account.

Honours what this app's template uses: Parameters, Conditions, the ``AWS::LanguageExtensions`` transform
(``Fn::ForEach``, ``Fn::Length``, ``Fn::ToJsonString``: localcloud.template), Globals, !Ref/!GetAtt/!Sub and friends,
DefinitionUri + DefinitionSubstitutions, Events on functions and state machines, and a resource's
Condition. Creates the functions (registering their real handlers with the in-process runtime), state
machines, tables, topics, queues, buckets, log groups, KMS keys, alarms, rules, schedules and backup
vaults/plans, and the permissions AWS would enforce on them: each function's and state machine's role
with its SAM ``Policies`` expanded as SAM expands them (``localcloud.iam.sam``), IAM roles, managed and
inline policies, KMS key policies, SNS topic policies, SQS queue policies and S3 bucket policies; rule
targets and schedules with their ``DeadLetterConfig`` (localcloud.events dead-letters what fails).
Resource types it has no use for offline (Lambda permissions, event-bus policies) are listed in
``Stack.skipped`` so nothing is silently pretended. Dashboards are created once their body passes
PutDashboard's checks (``localcloud.dashboards``).
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from localcloud import dashboards, sdk
from localcloud.adapters.lambda_runtime import InProcessLambdaRuntime
from localcloud.errors import TemplateError
from localcloud.events import EventRouter
from localcloud.iam import roles, sam
from localcloud.template import (
    ACCOUNT_ID,
    Context,
    dependencies,
    evaluate,
    expand_language_extensions,
    load_template,
    resolve_conditions,
    resolve_parameters,
)

_PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_]+)\}")
_SKIPPED_TYPES = {
    "AWS::Lambda::Permission",
    "AWS::Events::EventBusPolicy",
}


@dataclass
class Resource:
    logical_id: str
    type: str
    ref: Any
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass
class Stack:
    name: str
    region: str
    template_path: Path
    parameters: dict[str, Any]
    resources: dict[str, Resource] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)

    def physical(self, logical_id: str) -> Any:
        if logical_id not in self.resources:
            raise KeyError(f"stack {self.name} in {self.region} has no resource {logical_id}")
        return self.resources[logical_id].ref

    def arn(self, logical_id: str) -> str:
        res = self.resources[logical_id]
        return str(res.attributes.get("Arn", res.ref))


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("README.txt", "localcloud runs the handler in-process from CodeUri")
    return buf.getvalue()


class Deployer:
    def __init__(self, runtime: InProcessLambdaRuntime, router: EventRouter) -> None:
        self.runtime = runtime
        self.router = router
        self._clients: dict[tuple[str, str], Any] = {}
        self._layer_dirs: dict[str, str] = {}  # layer version ARN -> the folder its Python code is in

    def deploy(
        self,
        template_path: Path,
        region: str,
        stack_name: str,
        parameters: dict[str, str] | None = None,
    ) -> Stack:
        template_path = template_path.resolve()
        source = str(template_path)
        template = load_template(template_path)
        params = resolve_parameters(template, parameters or {}, source)
        template = expand_language_extensions(template, params, source)
        ctx = Context(source=source, region=region, stack_name=stack_name, parameters=params)
        ctx.conditions = resolve_conditions(template, ctx)
        stack = Stack(stack_name, region, template_path, params)
        ctx.attributes = lambda lid, att: self._attribute(stack, source, lid, att)
        resources: dict[str, Any] = template["Resources"]
        globals_ = template.get("Globals") or {}

        wanted = {
            lid: spec
            for lid, spec in resources.items()
            if "Condition" not in spec or ctx.conditions.get(spec["Condition"], False)
        }
        for lid, spec in resources.items():
            if "Condition" in spec and spec["Condition"] not in ctx.conditions:
                raise TemplateError(source, f"resource {lid}: condition {spec['Condition']} is not declared")
        for lid in self._order(wanted, source, globals_):
            spec = wanted[lid]
            kind = spec.get("Type", "")
            creator = self._creators().get(kind)
            if creator is None:
                stack.skipped[lid] = kind
                placeholder = (
                    f"arn:aws:localcloud:{region}:{ACCOUNT_ID}:{kind.replace('::', '-').lower()}/{stack_name}-{lid}"
                )
                stack.resources[lid] = Resource(lid, kind, placeholder, {"Arn": placeholder})
                ctx.refs[lid] = placeholder
                continue
            props = evaluate(spec.get("Properties") or {}, ctx)
            stack.resources[lid] = creator(stack, lid, props, spec, globals_, ctx)
            ctx.refs[lid] = stack.resources[lid].ref
        for name, out in (template.get("Outputs") or {}).items():
            if "Condition" in out and not ctx.conditions.get(out["Condition"], False):
                continue
            stack.outputs[name] = evaluate(out["Value"], ctx)
        return stack

    # -- ordering ------------------------------------------------------------------------------------
    @staticmethod
    def _order(resources: dict[str, Any], source: str, globals_: dict[str, Any] | None = None) -> list[str]:
        deps: dict[str, set[str]] = {}
        shared = {  # what Globals give every function (a layer, a log group) is created before them
            "AWS::Serverless::Function": dependencies((globals_ or {}).get("Function") or {}),
            "AWS::Serverless::StateMachine": dependencies((globals_ or {}).get("StateMachine") or {}),
        }
        for lid, spec in resources.items():
            d = dependencies(spec.get("Properties") or {}) | dependencies(spec.get("Events") or {})
            d |= shared.get(spec.get("Type", ""), set())
            depends_on = spec.get("DependsOn") or []
            d |= {depends_on} if isinstance(depends_on, str) else set(depends_on)
            deps[lid] = {x for x in d if x in resources}
        order: list[str] = []
        done: set[str] = set()
        while len(order) < len(resources):
            ready = [lid for lid in resources if lid not in done and deps[lid] <= done]
            if not ready:
                stuck = sorted(set(resources) - done)
                raise TemplateError(source, f"circular references between resources {stuck}")
            for lid in ready:
                order.append(lid)
                done.add(lid)
        return order

    def _attribute(self, stack: Stack, source: str, logical_id: str, attribute: str) -> Any:
        res = stack.resources.get(logical_id)
        if res is None:
            raise TemplateError(
                source, f"!GetAtt {logical_id}.{attribute}: no such resource (or its Condition is false)"
            )
        if attribute not in res.attributes:
            raise TemplateError(
                source,
                f"!GetAtt {logical_id}.{attribute}: {res.type} has no attribute {attribute} in localcloud",
            )
        return res.attributes[attribute]

    # -- creators ------------------------------------------------------------------------------------
    def _creators(self) -> dict[str, Callable[..., Resource]]:
        return {
            "AWS::Serverless::Function": self._function,
            "AWS::Serverless::LayerVersion": self._layer,
            "AWS::Serverless::StateMachine": self._state_machine,
            "AWS::DynamoDB::Table": self._table,
            "AWS::SNS::Topic": self._topic,
            "AWS::SQS::Queue": self._queue,
            "AWS::S3::Bucket": self._bucket,
            "AWS::Logs::LogGroup": self._log_group,
            "AWS::KMS::Key": self._kms_key,
            "AWS::CloudWatch::Alarm": self._alarm,
            "AWS::CloudWatch::Dashboard": self._dashboard,
            "AWS::Events::Rule": self._rule,
            "AWS::Scheduler::Schedule": self._schedule,
            "AWS::Backup::BackupVault": self._backup_vault,
            "AWS::Backup::BackupPlan": self._backup_plan,
            "AWS::Backup::BackupSelection": self._backup_selection,
            "AWS::IAM::Role": self._role,
            "AWS::IAM::ManagedPolicy": self._managed_policy,
            "AWS::IAM::Policy": self._policy,
            "AWS::SNS::TopicPolicy": self._topic_policy,
            "AWS::SQS::QueuePolicy": self._queue_policy,
            "AWS::S3::BucketPolicy": self._bucket_policy,
        }

    def _client(self, service: str, region: str) -> Any:
        key = (service, region)
        if key not in self._clients:  # creating a client costs ~10 ms; a deploy makes a hundred calls
            self._clients[key] = sdk.client(service, region)
        return self._clients[key]

    def _sam_role(self, stack: Stack, lid: str, kind: str, merged: dict[str, Any], ctx: Context, service: str) -> str:
        """The role SAM creates for a function or state machine: its Policies, expanded (or ``Role``)."""
        if merged.get("Role"):
            return str(merged["Role"])
        where = f"{stack.template_path}: {lid}"
        policies = sam.expand(merged.get("Policies"), ctx, where)
        policies.managed[:0] = sam.implicit_managed_policies(kind, merged)
        iam = self._client("iam", stack.region)
        return roles.create_role(iam, f"{stack.name}-{lid}Role", roles.trust(service), policies, where)

    def _role(self, stack: Stack, lid: str, props: dict[str, Any], *_: Any) -> Resource:
        name = props.get("RoleName") or f"{stack.name}-{lid}"
        where = f"{stack.template_path}: {lid}"
        policies = sam.RolePolicies(
            managed=[str(a) for a in props.get("ManagedPolicyArns") or []],
            inline=[p["PolicyDocument"] for p in props.get("Policies") or []],
        )
        trust = props.get("AssumeRolePolicyDocument") or roles.trust("lambda.amazonaws.com")
        iam = self._client("iam", stack.region)
        arn = roles.create_role(iam, name, trust, policies, where, path=str(props.get("Path", "/")))
        return Resource(lid, "AWS::IAM::Role", name, {"Arn": arn, "RoleId": name})

    def _managed_policy(self, stack: Stack, lid: str, props: dict[str, Any], *_: Any) -> Resource:
        name = props.get("ManagedPolicyName") or f"{stack.name}-{lid}"
        iam = self._client("iam", stack.region)
        try:
            arn = str(
                iam.create_policy(
                    PolicyName=name,
                    Path=str(props.get("Path", "/")),
                    PolicyDocument=json.dumps(props["PolicyDocument"]),
                    Description=str(props.get("Description", "")),
                )["Policy"]["Arn"]
            )
        except iam.exceptions.EntityAlreadyExistsException:
            arn = f"arn:aws:iam::{ACCOUNT_ID}:policy{props.get('Path', '/')}{name}"
        for role_name in props.get("Roles") or []:
            iam.attach_role_policy(RoleName=str(role_name), PolicyArn=arn)
        return Resource(lid, "AWS::IAM::ManagedPolicy", arn, {"PolicyArn": arn})

    def _policy(self, stack: Stack, lid: str, props: dict[str, Any], *_: Any) -> Resource:
        iam = self._client("iam", stack.region)
        for role_name in props.get("Roles") or []:
            iam.put_role_policy(
                RoleName=str(role_name),
                PolicyName=str(props["PolicyName"]),
                PolicyDocument=json.dumps(props["PolicyDocument"]),
            )
        return Resource(lid, "AWS::IAM::Policy", str(props["PolicyName"]))

    def _topic_policy(self, stack: Stack, lid: str, props: dict[str, Any], *_: Any) -> Resource:
        client = self._client("sns", stack.region)
        for topic in props.get("Topics") or []:
            client.set_topic_attributes(
                TopicArn=str(topic), AttributeName="Policy", AttributeValue=json.dumps(props["PolicyDocument"])
            )
        return Resource(lid, "AWS::SNS::TopicPolicy", f"{stack.name}-{lid}")

    def _queue_policy(self, stack: Stack, lid: str, props: dict[str, Any], *_: Any) -> Resource:
        client = self._client("sqs", stack.region)
        for url in props.get("Queues") or []:
            client.set_queue_attributes(QueueUrl=str(url), Attributes={"Policy": json.dumps(props["PolicyDocument"])})
        return Resource(lid, "AWS::SQS::QueuePolicy", f"{stack.name}-{lid}")

    def _bucket_policy(self, stack: Stack, lid: str, props: dict[str, Any], *_: Any) -> Resource:
        self._client("s3", stack.region).put_bucket_policy(
            Bucket=str(props["Bucket"]), Policy=json.dumps(props["PolicyDocument"])
        )
        return Resource(lid, "AWS::S3::BucketPolicy", f"{stack.name}-{lid}")

    def _function(
        self,
        stack: Stack,
        lid: str,
        props: dict[str, Any],
        spec: dict[str, Any],
        globals_: dict[str, Any],
        ctx: Context,
    ) -> Resource:
        merged = evaluate(globals_.get("Function") or {}, ctx)
        env_vars = dict((merged.get("Environment") or {}).get("Variables") or {})
        env_vars.update((props.get("Environment") or {}).get("Variables") or {})
        merged.update(props)
        code_uri = merged.get("CodeUri")
        handler = merged.get("Handler")
        where = f"{stack.template_path}: function {lid}"
        if not code_uri or not handler:
            raise TemplateError(where, "needs CodeUri and Handler (in the function or in Globals)")
        code_dir = (stack.template_path.parent / str(code_uri)).resolve()
        if not code_dir.is_dir():
            raise TemplateError(where, f"CodeUri {code_uri} is not a directory ({code_dir})")
        # Lambda's Python path: the function's own code (/var/task), then its layers' (/opt/python)
        layers = [str(arn) for arn in merged.get("Layers") or []]
        unknown = [arn for arn in layers if arn not in self._layer_dirs]
        if unknown:
            raise TemplateError(where, f"Layers {unknown}: not a layer of this template (localcloud runs its own only)")
        code_path = (str(code_dir), *(self._layer_dirs[arn] for arn in layers))
        name = merged.get("FunctionName") or f"{stack.name}-{lid}"
        env = {k: str(v) for k, v in env_vars.items()}
        self.runtime.register(name, code_path, str(handler), source=where, environment=env, region=stack.region)
        role = self._sam_role(stack, lid, "AWS::Serverless::Function", merged, ctx, "lambda.amazonaws.com")
        client = self._client("lambda", stack.region)
        cfg = client.create_function(
            FunctionName=name,
            Runtime=str(merged.get("Runtime", "python3.13")),
            Role=role,
            Handler=str(handler),
            Code={"ZipFile": _zip()},
            Timeout=int(merged.get("Timeout", 3)),
            MemorySize=int(merged.get("MemorySize", 128)),
            Environment={"Variables": env},
            Architectures=list(merged.get("Architectures") or ["x86_64"]),
        )
        arn = cfg["FunctionArn"]
        self._events(stack, lid, props.get("Events") or {}, arn, ctx)
        return Resource(lid, "AWS::Serverless::Function", name, {"Arn": arn})

    def _layer(self, stack: Stack, lid: str, props: dict[str, Any], spec: dict[str, Any], *_: Any) -> Resource:
        """A Python layer built from ContentUri (``sam build`` puts its content under ``python/``): the
        functions that name it import from that folder."""
        where = f"{stack.template_path}: layer {lid}"
        content = (stack.template_path.parent / str(props.get("ContentUri", ""))).resolve()
        if not props.get("ContentUri") or not content.is_dir():
            raise TemplateError(where, f"ContentUri {props.get('ContentUri')!r} is not a directory ({content})")
        method = str((spec.get("Metadata") or {}).get("BuildMethod", ""))
        if not method.startswith("python"):
            raise TemplateError(where, f"BuildMethod {method!r}: localcloud runs python layers only (python3.x)")
        name = props.get("LayerName") or f"{stack.name}-{lid}"
        arn = f"arn:aws:lambda:{stack.region}:{ACCOUNT_ID}:layer:{name}:1"
        self._layer_dirs[arn] = str(content)
        return Resource(lid, "AWS::Serverless::LayerVersion", arn, {"Arn": arn})

    def _state_machine(
        self, stack: Stack, lid: str, props: dict[str, Any], spec: dict[str, Any], _g: Any, ctx: Context
    ) -> Resource:
        where = f"{stack.template_path}: state machine {lid}"
        if "DefinitionUri" in props:
            path = (stack.template_path.parent / str(props["DefinitionUri"])).resolve()
            try:
                text = path.read_text()
            except OSError as err:
                raise TemplateError(
                    where, f"DefinitionUri {props['DefinitionUri']} cannot be read: {err.strerror}"
                ) from err
            source = str(path)
        elif "Definition" in props:
            text, source = json.dumps(props["Definition"]), where
        else:
            raise TemplateError(where, "needs DefinitionUri or Definition")
        substitutions = {k: str(v) for k, v in (props.get("DefinitionSubstitutions") or {}).items()}
        missing = sorted({m for m in _PLACEHOLDER.findall(text) if m not in substitutions})
        if missing:
            raise TemplateError(source, f"placeholders {missing} have no DefinitionSubstitutions entry in {lid}")
        definition = _PLACEHOLDER.sub(lambda m: substitutions[m.group(1)], text)
        try:
            json.loads(definition)
        except json.JSONDecodeError as err:
            raise TemplateError(source, f"is not valid JSON after substitution: {err}") from err
        name = props.get("Name") or f"{stack.name}-{lid}"
        role = self._sam_role(stack, lid, "AWS::Serverless::StateMachine", props, ctx, "states.amazonaws.com")
        client = self._client("stepfunctions", stack.region)
        arn = client.create_state_machine(
            name=name, definition=definition, roleArn=role, type=str(props.get("Type", "STANDARD"))
        )["stateMachineArn"]
        self._events(stack, lid, props.get("Events") or {}, arn, ctx)
        return Resource(lid, "AWS::Serverless::StateMachine", arn, {"Arn": arn, "Name": name})

    def _events(self, stack: Stack, lid: str, events: dict[str, Any], target: str, ctx: Context) -> None:
        for event_id, event in events.items():
            kind = event.get("Type")
            props = evaluate(event.get("Properties") or {}, ctx)
            if kind in ("EventBridgeRule", "CloudWatchEvent"):
                self.router.add_rule(
                    region=stack.region,
                    name=f"{stack.name}-{lid}{event_id}",  # CloudFormation names it stack-LogicalId-suffix
                    pattern=props["Pattern"],
                    target_arn=target,
                    bus=str(props.get("EventBusName", "default")),
                    input_json=props.get("Input"),
                    dead_letter_arn=(props.get("DeadLetterConfig") or {}).get("Arn"),
                )
            elif kind in ("Schedule", "ScheduleV2"):
                expression = props.get("Schedule") or props.get("ScheduleExpression")
                enabled = props.get("Enabled", True) and props.get("State", "ENABLED") == "ENABLED"
                self.router.add_schedule(
                    region=stack.region,
                    name=f"{stack.name}-{lid}{event_id}",  # CloudFormation names it stack-LogicalId-suffix
                    expression=str(expression),
                    target_arn=target,
                    input_json=props.get("Input"),
                    enabled=bool(enabled),
                    dead_letter_arn=(props.get("DeadLetterConfig") or {}).get("Arn"),
                )
            else:
                raise TemplateError(f"{stack.template_path}: {lid}", f"event {event_id}: type {kind} is not supported")

    def _table(self, stack: Stack, lid: str, props: dict[str, Any], *_: Any) -> Resource:
        name = props.get("TableName") or f"{stack.name}-{lid}"
        kwargs: dict[str, Any] = {
            "TableName": name,
            "KeySchema": props["KeySchema"],
            "AttributeDefinitions": props["AttributeDefinitions"],
            "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
        }
        if props.get("GlobalSecondaryIndexes"):
            kwargs["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
        if props.get("StreamSpecification"):
            kwargs["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
        sse = props.get("SSESpecification") or {}
        if sse.get("SSEEnabled"):  # CloudFormation's SSEEnabled is the API's Enabled
            kwargs["SSESpecification"] = {"Enabled": True, "SSEType": sse.get("SSEType", "KMS")}
            if sse.get("KMSMasterKeyId"):
                kwargs["SSESpecification"]["KMSMasterKeyId"] = str(sse["KMSMasterKeyId"])
        client = self._client("dynamodb", stack.region)
        desc = client.create_table(**kwargs)["TableDescription"]
        if (props.get("TimeToLiveSpecification") or {}).get("Enabled"):
            client.update_time_to_live(TableName=name, TimeToLiveSpecification=props["TimeToLiveSpecification"])
        pitr = (props.get("PointInTimeRecoverySpecification") or {}).get("PointInTimeRecoveryEnabled")
        if pitr:
            client.update_continuous_backups(
                TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
            )
        attrs = {"Arn": desc["TableArn"], "StreamArn": desc.get("LatestStreamArn", "")}
        return Resource(lid, "AWS::DynamoDB::Table", name, attrs)

    def _topic(self, stack: Stack, lid: str, props: dict[str, Any], *_: Any) -> Resource:
        name = props.get("TopicName") or f"{stack.name}-{lid}"
        client = self._client("sns", stack.region)
        attributes = {"KmsMasterKeyId": str(props["KmsMasterKeyId"])} if props.get("KmsMasterKeyId") else {}
        arn = client.create_topic(Name=name, Attributes=attributes)["TopicArn"]
        for sub in props.get("Subscription") or []:
            client.subscribe(TopicArn=arn, Protocol=sub["Protocol"], Endpoint=sub["Endpoint"])
        return Resource(lid, "AWS::SNS::Topic", arn, {"TopicArn": arn, "TopicName": name})

    def _queue(self, stack: Stack, lid: str, props: dict[str, Any], *_: Any) -> Resource:
        name = props.get("QueueName") or f"{stack.name}-{lid}"
        client = self._client("sqs", stack.region)
        attributes = {  # CloudFormation's properties that are queue attributes, as the API spells them
            key: str(props[key]).lower() if isinstance(props[key], bool) else str(props[key])
            for key in (
                "SqsManagedSseEnabled",
                "KmsMasterKeyId",
                "KmsDataKeyReusePeriodSeconds",
                "MessageRetentionPeriod",
                "VisibilityTimeout",
                "DelaySeconds",
            )
            if key in props
        }
        url = client.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        arn = f"arn:aws:sqs:{stack.region}:{ACCOUNT_ID}:{name}"
        return Resource(lid, "AWS::SQS::Queue", url, {"Arn": arn, "QueueName": name, "QueueUrl": url})

    def _bucket(self, stack: Stack, lid: str, props: dict[str, Any], *_: Any) -> Resource:
        name = props.get("BucketName") or f"{stack.name}-{lid}".lower()[:63]
        client = self._client("s3", stack.region)
        kwargs: dict[str, Any] = {"Bucket": name}
        if stack.region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": stack.region}
        client.create_bucket(**kwargs)
        if props.get("VersioningConfiguration"):
            client.put_bucket_versioning(Bucket=name, VersioningConfiguration=props["VersioningConfiguration"])
        if props.get("BucketEncryption"):
            # CloudFormation says ServerSideEncryptionByDefault; the API, ApplyServerSideEncryptionByDefault
            api_name = {"ServerSideEncryptionByDefault": "ApplyServerSideEncryptionByDefault"}
            rules = [
                {api_name.get(k, k): v for k, v in rule.items()}
                for rule in props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
            ]
            client.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": rules})
        if props.get("PublicAccessBlockConfiguration"):
            client.put_public_access_block(
                Bucket=name, PublicAccessBlockConfiguration=props["PublicAccessBlockConfiguration"]
            )
        return Resource(
            lid,
            "AWS::S3::Bucket",
            name,
            {"Arn": f"arn:aws:s3:::{name}", "DomainName": f"{name}.s3.amazonaws.com"},
        )

    def _log_group(self, stack: Stack, lid: str, props: dict[str, Any], *_: Any) -> Resource:
        name = props.get("LogGroupName") or f"/{stack.name}/{lid}"
        client = self._client("logs", stack.region)
        kwargs = {"kmsKeyId": str(props["KmsKeyId"])} if props.get("KmsKeyId") else {}
        client.create_log_group(logGroupName=name, **kwargs)
        if props.get("RetentionInDays"):
            client.put_retention_policy(logGroupName=name, retentionInDays=int(props["RetentionInDays"]))
        arn = f"arn:aws:logs:{stack.region}:{ACCOUNT_ID}:log-group:{name}:*"
        return Resource(lid, "AWS::Logs::LogGroup", name, {"Arn": arn})

    def _kms_key(self, stack: Stack, lid: str, props: dict[str, Any], *_: Any) -> Resource:
        kwargs: dict[str, Any] = {"Description": str(props.get("Description", lid))}
        if props.get("KeyPolicy"):
            kwargs["Policy"] = json.dumps(props["KeyPolicy"])
        meta = self._client("kms", stack.region).create_key(**kwargs)["KeyMetadata"]
        return Resource(lid, "AWS::KMS::Key", meta["KeyId"], {"Arn": meta["Arn"], "KeyId": meta["KeyId"]})

    def _alarm(self, stack: Stack, lid: str, props: dict[str, Any], *_: Any) -> Resource:
        name = props.get("AlarmName") or f"{stack.name}-{lid}"
        kwargs = {k: v for k, v in props.items() if k != "AlarmName"}
        kwargs["AlarmName"] = name
        self._client("cloudwatch", stack.region).put_metric_alarm(**kwargs)
        arn = f"arn:aws:cloudwatch:{stack.region}:{ACCOUNT_ID}:alarm:{name}"
        return Resource(lid, "AWS::CloudWatch::Alarm", name, {"Arn": arn})

    def _dashboard(self, stack: Stack, lid: str, props: dict[str, Any], *_: Any) -> Resource:
        """Checked as PutDashboard checks a body (localcloud.dashboards; moto only parses the JSON), then put."""
        name = props.get("DashboardName") or f"{stack.name}-{lid}"
        body = props.get("DashboardBody")
        problems = dashboards.validate(body) if isinstance(body, str) else ["DashboardBody must be a string"]
        if problems:
            raise TemplateError(f"{stack.template_path}: dashboard {lid}", "; ".join(problems))
        self._client("cloudwatch", stack.region).put_dashboard(DashboardName=name, DashboardBody=str(body))
        arn = f"arn:aws:cloudwatch::{ACCOUNT_ID}:dashboard/{name}"
        return Resource(lid, "AWS::CloudWatch::Dashboard", name, {"Arn": arn})

    def _rule(self, stack: Stack, lid: str, props: dict[str, Any], *_: Any) -> Resource:
        name = props.get("Name") or f"{stack.name}-{lid}"
        bus = str(props.get("EventBusName", "default"))
        client = self._client("events", stack.region)
        kwargs: dict[str, Any] = {"Name": name, "EventBusName": bus, "State": props.get("State", "ENABLED")}
        if "EventPattern" in props:
            kwargs["EventPattern"] = json.dumps(props["EventPattern"])
        if "ScheduleExpression" in props:
            kwargs["ScheduleExpression"] = props["ScheduleExpression"]
        arn = client.put_rule(**kwargs)["RuleArn"]
        if props.get("State", "ENABLED") == "ENABLED":
            for target in props.get("Targets") or []:
                if "EventPattern" in props:
                    self.router.add_rule(
                        stack.region,
                        name,
                        props["EventPattern"],
                        str(target["Arn"]),
                        bus,
                        target.get("Input"),
                        (target.get("DeadLetterConfig") or {}).get("Arn"),
                    )
                else:
                    self._add_schedule(stack, name, props, target)
        return Resource(lid, "AWS::Events::Rule", name, {"Arn": arn})

    def _add_schedule(self, stack: Stack, name: str, props: dict[str, Any], target: dict[str, Any]) -> None:
        """Run ``target`` on the rule's or schedule's ScheduleExpression, on the virtual clock."""
        self.router.add_schedule(
            stack.region,
            name,
            str(props["ScheduleExpression"]),
            str(target["Arn"]),
            target.get("Input"),
            enabled=props.get("State", "ENABLED") == "ENABLED",
            dead_letter_arn=(target.get("DeadLetterConfig") or {}).get("Arn"),
        )

    def _schedule(self, stack: Stack, lid: str, props: dict[str, Any], *_: Any) -> Resource:
        name = props.get("Name") or f"{stack.name}-{lid}"
        self._add_schedule(stack, name, props, props["Target"])
        arn = f"arn:aws:scheduler:{stack.region}:{ACCOUNT_ID}:schedule/default/{name}"
        return Resource(lid, "AWS::Scheduler::Schedule", name, {"Arn": arn})

    def _backup_vault(self, stack: Stack, lid: str, props: dict[str, Any], *_: Any) -> Resource:
        name = props["BackupVaultName"]
        kwargs: dict[str, Any] = {"BackupVaultName": name}
        if props.get("EncryptionKeyArn"):
            kwargs["EncryptionKeyArn"] = props["EncryptionKeyArn"]
        out = self._client("backup", stack.region).create_backup_vault(**kwargs)
        return Resource(
            lid,
            "AWS::Backup::BackupVault",
            name,
            {"BackupVaultName": name, "BackupVaultArn": out["BackupVaultArn"]},
        )

    def _backup_plan(self, stack: Stack, lid: str, props: dict[str, Any], *_: Any) -> Resource:
        plan = dict(props["BackupPlan"])
        if "BackupPlanRule" in plan:  # CloudFormation's names for the rules and their vault differ from the API's
            plan["Rules"] = [
                {("TargetBackupVaultName" if k == "TargetBackupVault" else k): v for k, v in rule.items()}
                for rule in plan.pop("BackupPlanRule")
            ]
        out = self._client("backup", stack.region).create_backup_plan(BackupPlan=plan)
        attrs = {
            "BackupPlanId": out["BackupPlanId"],
            "BackupPlanArn": out["BackupPlanArn"],
            "VersionId": out["VersionId"],
        }
        return Resource(lid, "AWS::Backup::BackupPlan", out["BackupPlanId"], attrs)

    def _backup_selection(self, stack: Stack, lid: str, props: dict[str, Any], *_: Any) -> Resource:
        out = self._client("backup", stack.region).create_backup_selection(
            BackupPlanId=props["BackupPlanId"], BackupSelection=props["BackupSelection"]
        )
        return Resource(lid, "AWS::Backup::BackupSelection", out["SelectionId"], {"SelectionId": out["SelectionId"]})
