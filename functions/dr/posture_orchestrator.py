"""The orchestrator's own readiness: what the failover itself needs from the account it runs in, checked
before anyone needs it.

- Permissions (``permission-missing``). The failover's definition (DescribeStateMachine, recovery region)
  names its functions and its own integrations; each function's role and handler come from
  GetFunctionConfiguration. ``NEEDS`` says which actions each step's handler needs on which of the
  platform's resources (the actions its SAM ``Policies`` grant in template.yaml, for the calls a failover
  makes: tests/unit/test_posture_orchestrator.py holds the two together, and a drill's granted calls must
  all be in it); the state machine's role needs what its Task states integrate with (``lambda:invoke`` →
  ``lambda:InvokeFunction`` on the function, ``dynamodb:putItem`` → ``dynamodb:PutItem`` on the table,
  ``sns:publish`` → ``sns:Publish`` on the topic and the topic's KMS key through SNS). IAM's
  SimulatePrincipalPolicy answers whether each role still has each permission. IAM is a global control
  plane served from us-east-1: it is asked once, briefly, and its silence is "could not be checked".
- Concurrency (``concurrency-headroom``). A failover runs up to ``peak`` functions at once (the widest
  Parallel of its definition), beside the platform's minute schedules (probe, heartbeat, traffic pin);
  they draw on the account's unreserved concurrency unless they have their own. A function reserved at 0
  is throttled on every call; an account whose unreserved concurrency is below what a failover uses
  throttles the failover on the worst day (new accounts start at 10).
- Notifications (``topic-unsubscribed``). The DR topic has at least one confirmed subscription; otherwise
  every page, approval request and report reaches nobody.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from dr.backup_models import Finding
from dr.inventory import Inventory
from dr.settings import Settings

PERMISSION_MISSING = "permission-missing"
CONCURRENCY_HEADROOM = "concurrency-headroom"
TOPIC_UNSUBSCRIBED = "topic-unsubscribed"
CHECKS = (PERMISSION_MISSING, CONCURRENCY_HEADROOM, TOPIC_UNSUBSCRIBED)

BACKGROUND_CONCURRENCY = 3  # ProbePrimary, WriteHeartbeat and KeepTrafficPin run every minute
MAX_LISTED = 6  # permissions named in one finding; the report keeps them all


@dataclass(frozen=True)
class Need:
    """One permission a step needs: an action on a kind of resource (resolved from the inventory), only with
    ARC routing controls (``when="arc"``) or only with the health-check records (``when="dns"``)."""

    action: str
    resource: str
    when: str | None = None
    via: str | None = None  # a KMS use through this service (the request's kms:ViaService)


_STATE = "state-table"
_TOPIC = "topic"
_KEY = "topic-key"
_STATE_KEY = "state-key"
_TABLES = "recovery-tables"
_GLOBAL = "global-cluster"
_SECONDARY = "secondary-cluster"
_REPLICAS = "replica-buckets"
_HEARTBEATS = "replica-heartbeats"
_VAULTS = "vaults"
_PIN = "pin-alarm"
_CONTROLS = "routing-controls"
_EXECUTIONS = "executions"
_ANY = "*"


# Every request on the state table's items: DynamoDB decrypts the table key as the caller.
_STATE_TABLE_KEY = Need("kms:Decrypt", _STATE_KEY, via="dynamodb")


def _records(*extra: Need) -> tuple[Need, ...]:
    """The audit record (through the state table's key) and the notification (through the topic's key)."""
    return (
        Need("dynamodb:PutItem", _STATE),
        _STATE_TABLE_KEY,
        Need("sns:Publish", _TOPIC),
        Need("kms:GenerateDataKey", _KEY, via="sns"),
        Need("kms:Decrypt", _KEY, via="sns"),
        *extra,
    )


_AURORA_READ = (Need("rds:DescribeGlobalClusters", _GLOBAL), Need("rds:DescribeDBClusters", _SECONDARY))
_REPLICAS_READ = (Need("s3:GetBucketVersioning", _REPLICAS), Need("s3:GetObject", _HEARTBEATS))

# What each step of the failover needs, by handler (the code that runs, whatever the function is called).
NEEDS: dict[str, tuple[Need, ...]] = {
    "dr.steps.validate_input.handler": (),
    "dr.steps.decide.handler": (),
    "dr.steps.acquire_lease.handler": (Need("dynamodb:UpdateItem", _STATE), _STATE_TABLE_KEY),
    "dr.steps.renew_lease.handler": (Need("dynamodb:UpdateItem", _STATE), _STATE_TABLE_KEY),
    "dr.steps.record_skip.handler": _records(),
    "dr.steps.request_approval.handler": _records(),
    "dr.steps.check_readiness.aurora": (*_AURORA_READ, Need("cloudwatch:GetMetricData", _ANY)),
    "dr.steps.check_readiness.dynamodb": (Need("dynamodb:DescribeTable", _TABLES), Need("dynamodb:GetItem", _TABLES)),
    "dr.steps.check_readiness.s3": _REPLICAS_READ,
    "dr.steps.check_readiness.endpoints": (
        Need("cloudwatch:GetMetricData", _ANY),
        Need("cloudwatch:DescribeAlarms", _PIN, "dns"),
        Need("route53-recovery-cluster:GetRoutingControlState", _CONTROLS, "arc"),
    ),
    "dr.steps.check_readiness.backups": (Need("backup:ListRecoveryPointsByBackupVault", _VAULTS),),
    "dr.steps.promote_aurora.handler": (
        *_AURORA_READ,
        Need("rds:FailoverGlobalCluster", _GLOBAL),
        Need("rds:FailoverGlobalCluster", _SECONDARY),
        Need("rds:SwitchoverGlobalCluster", _GLOBAL),
        Need("rds:SwitchoverGlobalCluster", _SECONDARY),
    ),
    "dr.steps.check_aurora_writer.handler": (Need("rds:DescribeGlobalClusters", _GLOBAL),),
    "dr.steps.confirm_dynamodb.handler": tuple(
        Need(f"dynamodb:{action}", _TABLES) for action in ("DescribeTable", "PutItem", "GetItem", "DeleteItem")
    ),
    "dr.steps.record_s3_backlog.handler": _REPLICAS_READ,
    "dr.steps.move_traffic.handler": (
        Need("cloudwatch:DescribeAlarms", _PIN, "dns"),
        Need("cloudwatch:SetAlarmState", _PIN, "dns"),
        Need("cloudwatch:PutMetricData", _ANY, "dns"),
        Need("dynamodb:PutItem", _STATE, "dns"),
        Need("kms:Decrypt", _STATE_KEY, "dns", via="dynamodb"),
        Need("route53-recovery-cluster:GetRoutingControlState", _CONTROLS, "arc"),
        Need("route53-recovery-cluster:UpdateRoutingControlStates", _CONTROLS, "arc"),
    ),
    "dr.steps.verify_recovery.handler": (
        Need("cloudwatch:DescribeAlarms", _PIN, "dns"),
        Need("route53-recovery-cluster:GetRoutingControlState", _CONTROLS, "arc"),
    ),
    "dr.steps.record_outcome.handler": _records(
        Need("states:GetExecutionHistory", _EXECUTIONS), Need("rds:DescribeGlobalClusters", _GLOBAL)
    ),
    "dr.steps.handle_failure.handler": _records(
        Need("dynamodb:UpdateItem", _STATE),
        Need("rds:DescribeGlobalClusters", _GLOBAL),
        Need("dynamodb:GetItem", _STATE, "dns"),  # the traffic pin's intent: a move under way, or not
    ),
}
# Context keys the template's conditions test: PutMetricData is allowed in the RoadCallDR namespace only,
# and each key only through the service that uses it (``Need.via``).
_CONTEXT_KEYS: dict[str, Callable[[Settings], dict[str, str]]] = {
    "cloudwatch:PutMetricData": lambda s: {"cloudwatch:namespace": s.metrics_namespace},
}


def context_of(need: Need, settings: Settings) -> dict[str, str]:
    context = _CONTEXT_KEYS.get(need.action, lambda _s: {})(settings)
    if need.via:
        context["kms:ViaService"] = f"{need.via}.{settings.recovery_region}.amazonaws.com"
    return context


# -- what the failover's definition says --------------------------------------------------------------
@dataclass(frozen=True)
class Integration:
    """One Task of the definition: the service integration and its resource parameter."""

    resource: str  # arn:aws:states:::lambda:invoke, arn:aws:states:::dynamodb:putItem, ...
    arguments: Mapping[str, Any]


def tasks(definition: Mapping[str, Any]) -> Iterator[Integration]:
    """Every Task state of the definition, in Parallel branches and Map processors too."""
    for state in (definition.get("States") or {}).values():
        if state.get("Type") == "Task":
            yield Integration(str(state.get("Resource", "")), state.get("Arguments") or state.get("Parameters") or {})
        for branch in state.get("Branches") or []:
            yield from tasks(branch)
        processor = state.get("ItemProcessor") or state.get("Iterator")
        if processor:
            yield from tasks(processor)


def functions(definition: Mapping[str, Any]) -> list[str]:
    """The Lambda functions the definition invokes (literal FunctionName values), in order, once each."""
    out: list[str] = []
    for task in tasks(definition):
        name = task.arguments.get("FunctionName")
        if ":lambda:invoke" in task.resource and isinstance(name, str) and "{%" not in name and name not in out:
            out.append(name)
    return out


def peak_concurrency(definition: Mapping[str, Any]) -> int:
    """The most functions the definition runs at once: the widest Parallel (a Map counts its
    MaxConcurrency, 40 when unbounded: Step Functions' inline Map runs up to 40 iterations at once)."""
    widest = 1
    for state in (definition.get("States") or {}).values():
        if state.get("Type") == "Parallel":
            branches = state.get("Branches") or []
            widest = max(widest, sum(peak_concurrency(b) for b in branches))
        elif state.get("Type") == "Map":
            width = int(state.get("MaxConcurrency") or 40)
            processor = state.get("ItemProcessor") or state.get("Iterator") or {}
            widest = max(widest, width * peak_concurrency(processor))
    return widest


def state_machine_needs(definition: Mapping[str, Any], region: str, account: str, partition: str) -> list[Need]:
    """What the state machine's own role needs, from its Task integrations (resources already resolved)."""
    out: list[Need] = []
    for task in tasks(definition):
        service_action = task.resource.split(":::", 1)[-1].split(".", 1)[0]  # lambda:invoke(.waitForTaskToken)
        service, _, action = service_action.partition(":")
        args = task.arguments
        if service == "lambda" and isinstance(args.get("FunctionName"), str):
            out.append(Need("lambda:InvokeFunction", str(args["FunctionName"])))
        elif service == "dynamodb" and isinstance(args.get("TableName"), str):
            name = str(args["TableName"])
            arn = name if name.startswith("arn:") else f"arn:{partition}:dynamodb:{region}:{account}:table/{name}"
            out.append(Need(f"dynamodb:{action[:1].upper()}{action[1:]}", arn))
            out.append(_STATE_TABLE_KEY)  # the failover's only table is the state table
        elif service == "sns" and isinstance(args.get("TopicArn"), str):
            out += [Need("sns:Publish", str(args["TopicArn"])), Need("kms:GenerateDataKey", _KEY, via="sns")]
            out.append(Need("kms:Decrypt", _KEY, via="sns"))
    return list(dict.fromkeys(out))


# -- resources -------------------------------------------------------------------------------------------
@dataclass
class Resources:
    """The platform's resources a need names, as ARNs (``topic_key`` / ``state_key`` is None when the topic /
    the state table has no customer managed key)."""

    inventory: Inventory
    settings: Settings
    account: str
    partition: str = "aws"
    topic_key: str | None = None
    failover_name: str = ""
    state_key: str | None = None

    def arns(self, kind: str) -> list[str]:
        inv, s, acct, p = self.inventory, self.settings, self.account, self.partition
        recovery = s.recovery_region
        by_kind: dict[str, Callable[[], list[str]]] = {
            _STATE: lambda: [f"arn:{p}:dynamodb:{recovery}:{acct}:table/{s.state_table}"],
            _TOPIC: lambda: [s.topic_arn],
            _KEY: lambda: [self.topic_key] if self.topic_key else [],
            _STATE_KEY: lambda: [self.state_key] if self.state_key else [],
            _TABLES: lambda: [f"arn:{p}:dynamodb:{recovery}:{acct}:table/{t}" for t in inv.tables],
            _GLOBAL: lambda: [f"arn:{p}:rds::{acct}:global-cluster:{inv.aurora.global_cluster_id}"],
            _SECONDARY: lambda: [f"arn:{p}:rds:{recovery}:{acct}:cluster:{inv.aurora.secondary_cluster_id}"],
            _REPLICAS: lambda: [f"arn:{p}:s3:::{b.replica}" for b in inv.buckets],
            _HEARTBEATS: lambda: [
                f"arn:{p}:s3:::{b.replica}/_dr/heartbeat/{inv.primary_region}.json" for b in inv.buckets
            ],
            _VAULTS: lambda: [
                f"arn:{p}:backup:{region}:{acct}:backup-vault:{vault}"
                for vault, region in (
                    (inv.backup_vault, inv.primary_region),
                    (inv.recovery_backup_vault, recovery),
                )
                if vault
            ],
            _PIN: lambda: [f"arn:{p}:cloudwatch:{recovery}:{acct}:alarm:{inv.routing.traffic_pin_alarm_name}"],
            _CONTROLS: lambda: [
                arn
                for arn in (inv.routing.primary_routing_control_arn, inv.routing.recovery_routing_control_arn)
                if arn
            ],
            _EXECUTIONS: lambda: [f"arn:{p}:states:{recovery}:{acct}:execution:{self.failover_name}:readiness-check"],
            _ANY: lambda: ["*"],
        }
        resolve = by_kind.get(kind)
        return resolve() if resolve else [kind]  # anything else is already an ARN


def applies(need: Need, inventory: Inventory) -> bool:
    if need.when == "arc":
        return inventory.routing.uses_arc
    if need.when == "dns":
        return not inventory.routing.uses_arc
    return True


# -- the simulation ------------------------------------------------------------------------------------
@dataclass
class Denied:
    action: str
    resource: str
    decision: str


@dataclass
class RoleCheck:
    """The permissions one role was asked about and those IAM denies."""

    role_arn: str
    steps: list[str]
    asked: int = 0
    denied: list[Denied] = field(default_factory=list)

    @property
    def role_name(self) -> str:
        return self.role_arn.rsplit("/", 1)[-1]


def simulation_calls(needs: Iterable[Need], resources: Resources) -> list[tuple[list[str], list[str], dict[str, str]]]:
    """The SimulatePrincipalPolicy calls for one role: (actions, resource ARNs, context). Within one context,
    each action is asked of all its resources in one call (IAM answers each resource on its own), and actions
    asked of the same resources share it: the state machine's ``lambda:InvokeFunction`` of its nineteen
    functions is one call, not nineteen."""
    wanted: dict[tuple[tuple[str, str], ...], dict[str, list[str]]] = {}  # context -> action -> ARNs
    for need in needs:
        base = context_of(need, resources.settings)
        for where, arns in _by_account_and_region(resources.arns(need.resource)).items():
            listed = wanted.setdefault(tuple(sorted((base | dict(where)).items())), {}).setdefault(need.action, [])
            listed += [arn for arn in arns if arn not in listed]
    groups: dict[tuple[frozenset[str], tuple[tuple[str, str], ...]], tuple[list[str], list[str]]] = {}
    for context, actions in wanted.items():
        for action, targets in actions.items():
            groups.setdefault((frozenset(targets), context), ([], targets))[0].append(action)
    return [(actions, arns, dict(context)) for (_, context), (actions, arns) in groups.items()]


def _by_account_and_region(arns: Iterable[str]) -> dict[tuple[tuple[str, str], ...], tuple[str, ...]]:
    """ARNs grouped by the request context a real call on them carries: ``aws:RequestedRegion`` and
    ``aws:ResourceAccount`` from the ARN where it names them (a bucket's ARN names neither), so conditions
    on those keys are simulated as the call would meet them."""
    grouped: dict[tuple[tuple[str, str], ...], list[str]] = {}
    for arn in arns:
        parts = arn.split(":", 5)
        region, account = (parts[3], parts[4]) if len(parts) > 4 else ("", "")
        where = tuple(
            (k, v) for k, v in (("aws:RequestedRegion", region), ("aws:ResourceAccount", account)) if v and v != "*"
        )
        grouped.setdefault(where, []).append(arn)
    return {where: tuple(group) for where, group in grouped.items()}


def simulate(iam: Any, role_arn: str, actions: list[str], arns: list[str], context: dict[str, str]) -> list[Denied]:
    """Ask IAM; every (action, resource) not ``allowed`` is returned. Reads each resource's own decision
    (``ResourceSpecificResults``) when IAM gives it, the aggregate decision otherwise."""
    kwargs: dict[str, Any] = {"PolicySourceArn": role_arn, "ActionNames": actions, "ResourceArns": arns}
    if context:
        kwargs["ContextEntries"] = [
            {"ContextKeyName": k, "ContextKeyValues": [v], "ContextKeyType": "string"} for k, v in context.items()
        ]
    denied: list[Denied] = []
    for page in iam.get_paginator("simulate_principal_policy").paginate(**kwargs):
        for result in page.get("EvaluationResults", []):
            action = str(result["EvalActionName"])
            specific = result.get("ResourceSpecificResults") or []
            decisions = [(str(r["EvalResourceName"]), str(r["EvalResourceDecision"])) for r in specific] or [
                (str(result.get("EvalResourceName", "*")), str(result["EvalDecision"]))
            ]
            denied += [Denied(action, res, d) for res, d in decisions if d != "allowed"]
    return denied


def permission_finding(check: RoleCheck) -> Finding:
    listed = "; ".join(f"{d.action} on {d.resource} ({d.decision})" for d in check.denied[:MAX_LISTED])
    more = f" and {len(check.denied) - MAX_LISTED} more" if len(check.denied) > MAX_LISTED else ""
    return Finding(
        resource=check.role_arn,
        resource_type="IAM role",
        check=PERMISSION_MISSING,
        severity="HIGH",
        reason=(
            f"role {check.role_name} ({', '.join(check.steps)}) is denied {listed}{more}: the failover would "
            "stop at that step"
        ),
    )


# -- concurrency -----------------------------------------------------------------------------------------
def concurrency_findings(
    account: Mapping[str, Any], reserved: Mapping[str, int | None], peak: int, function_arns: Mapping[str, str]
) -> list[Finding]:
    """GetAccountSettings' ``AccountLimit`` and each failover function's reserved concurrency (None: none)."""
    out: list[Finding] = []
    for name, value in sorted(reserved.items()):
        if value == 0:
            out.append(
                Finding(
                    resource=function_arns.get(name, name),
                    resource_type="Lambda function",
                    check=CONCURRENCY_HEADROOM,
                    severity="HIGH",
                    reason=f"function {name} has reserved concurrency 0: every invocation is throttled, the "
                    "failover cannot run that step",
                )
            )
    shared = [name for name, value in reserved.items() if value is None]
    limit = account.get("AccountLimit") or {}
    unreserved = limit.get("UnreservedConcurrentExecutions")
    need = min(peak, len(shared)) + BACKGROUND_CONCURRENCY
    if shared and unreserved is not None and int(unreserved) < need:
        out.append(
            Finding(
                resource=f"lambda:account-concurrency:{limit.get('ConcurrentExecutions', '?')}",
                resource_type="Lambda account",
                check=CONCURRENCY_HEADROOM,
                severity="HIGH",
                reason=(
                    f"the account's unreserved concurrency is {unreserved} (limit "
                    f"{limit.get('ConcurrentExecutions', '?')}); a failover runs up to {peak} functions at once "
                    f"beside {BACKGROUND_CONCURRENCY} minute schedules: {need} needed. Request a higher "
                    "concurrency quota, or lower other functions' reservations"
                ),
            )
        )
    return out


# -- the topic -----------------------------------------------------------------------------------------
def topic_findings(topic_arn: str, subscriptions: list[Mapping[str, Any]]) -> list[Finding]:
    confirmed = [s for s in subscriptions if str(s.get("SubscriptionArn", "")).startswith("arn:")]
    if confirmed:
        return []
    pending = [s for s in subscriptions if s.get("SubscriptionArn") == "PendingConfirmation"]
    endpoints = ", ".join(str(s.get("Endpoint")) for s in pending)
    detail = (
        f"{len(pending)} subscription(s) still PendingConfirmation ({endpoints})"
        if pending
        else "it has no subscription"
    )
    return [
        Finding(
            resource=topic_arn,
            resource_type="SNS topic",
            check=TOPIC_UNSUBSCRIBED,
            severity="HIGH",
            reason=f"the DR topic has no confirmed subscription ({detail}): approval requests, failover reports "
            "and alarms reach nobody",
        )
    ]


def table_key_arn(described: Mapping[str, Any]) -> str | None:
    """DescribeTable's customer managed key of the table (None: AWS owned or AWS managed)."""
    sse = described.get("SSEDescription") or {}
    key = str(sse.get("KMSMasterKeyArn") or "")
    return key if sse.get("SSEType") == "KMS" and key and "alias/aws/" not in key else None


def topic_key_arn(attributes: Mapping[str, Any], topic_arn: str) -> str | None:
    """The topic's customer managed KMS key as an ARN (None: no key, or an AWS managed ``alias/aws/sns``)."""
    key = str(attributes.get("KmsMasterKeyId") or "")
    if not key or "alias/aws/" in key:
        return None
    if key.startswith("arn:"):
        return key
    _, partition, _, region, account, _ = topic_arn.split(":", 5)
    return f"arn:{partition}:kms:{region}:{account}:{key if key.startswith('alias/') else 'key/' + key}"


def definition_of(described: Mapping[str, Any]) -> dict[str, Any]:
    return dict(json.loads(str(described["definition"])))
