"""What the failover needs from its own account (dr.posture_orchestrator): read from its definition, held
against template.yaml's Policies, and judged from IAM's, Lambda's and SNS's answers (pure logic)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from dr import posture_orchestrator as orchestrator
from dr.inventory import load_inventory
from dr.settings import Settings

from localcloud.template import expanded_template
from tests.contract.test_permissions import allowed_actions

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = expanded_template(ROOT / "template.yaml")
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
FAILOVER = RESOURCES["FailoverStateMachine"]["Properties"]
DEFINITION = json.loads((ROOT / FAILOVER["DefinitionUri"]).read_text())


def failover_functions() -> dict[str, str]:
    """Logical id -> handler of every function the failover's definition is given."""
    out = {}
    for value in FAILOVER["DefinitionSubstitutions"].values():
        lid = value.get("Fn::GetAtt", [""])[0] if isinstance(value, dict) else ""
        if RESOURCES.get(lid, {}).get("Type") == "AWS::Serverless::Function":
            out[lid] = RESOURCES[lid]["Properties"]["Handler"]
    return out


def test_every_step_of_the_failover_has_its_needs_written_down() -> None:
    handlers = set(failover_functions().values())
    assert len(handlers) >= 15, "the failover's functions were not found in template.yaml"
    assert sorted(handlers - set(orchestrator.NEEDS)) == []


@pytest.mark.parametrize("lid", sorted(failover_functions()))
def test_what_a_step_needs_is_what_its_policies_grant(lid: str) -> None:
    # Given a failover step and the actions its Policies grant in template.yaml
    props = RESOURCES[lid]["Properties"]
    granted = allowed_actions(RESOURCES, props.get("Policies", []))
    # Then every action the readiness evaluation will ask IAM about is one the template grants
    needed = {need.action for need in orchestrator.NEEDS[props["Handler"]]}
    assert sorted(needed - granted) == []


def test_the_definition_names_its_functions_and_runs_five_at_once() -> None:
    names = orchestrator.functions(DEFINITION)
    assert names[:2] == ["${ValidateInputFunctionArn}", "${AcquireLeaseFunctionArn}"]
    assert len(names) == len(set(names)) == len(failover_functions())
    assert orchestrator.peak_concurrency(DEFINITION) == 5  # AssessReadiness: five checks in parallel


def test_a_map_counts_its_max_concurrency() -> None:
    task = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Arguments": {"FunctionName": "f"}}
    mapped = {"States": {"M": {"Type": "Map", "MaxConcurrency": 8, "ItemProcessor": {"States": {"T": task}}}}}
    assert orchestrator.peak_concurrency(mapped) == 8
    assert orchestrator.functions(mapped) == ["f"]


def test_the_state_machine_needs_what_its_integrations_call() -> None:
    needs = orchestrator.state_machine_needs(DEFINITION, "us-west-2", "123456789012", "aws")
    actions = {(n.action, n.resource) for n in needs}
    assert ("lambda:InvokeFunction", "${RecordOutcomeFunctionArn}") in actions
    assert ("dynamodb:PutItem", "arn:aws:dynamodb:us-west-2:123456789012:table/${StateTableName}") in actions
    assert ("dynamodb:UpdateItem", "arn:aws:dynamodb:us-west-2:123456789012:table/${StateTableName}") in actions
    assert ("sns:Publish", "${TopicArn}") in actions
    assert ("kms:GenerateDataKey", "topic-key") in actions
    # and the template grants those actions to the state machine's role (SAM templates expanded by SAM)
    policies = FAILOVER["Policies"]
    assert {"LambdaInvokePolicy", "DynamoDBWritePolicy", "SNSPublishMessagePolicy"} <= {
        next(iter(p)) for p in policies if isinstance(p, dict)
    }


def resources(arc: bool = False) -> orchestrator.Resources:
    env = {
        "PROTECTED_TABLES": "users,orders",
        "PROTECTED_BUCKETS": "media",
        "REPLICA_BUCKETS": "media-dr",
        "AURORA_GLOBAL_CLUSTER_ID": "g",
        "AURORA_PRIMARY_CLUSTER_ID": "db",
        "AURORA_SECONDARY_CLUSTER_ID": "db-dr",
        "TRAFFIC_DNS_NAME": "api.example",
        "TRAFFIC_DNS_ANSWERS": "us-east-1=10.0.0.1,us-west-2=10.0.0.2",
        "TRAFFIC_PIN_ALARM_NAME": "dr-traffic-pin",
        "BACKUP_VAULT_NAME": "vault",
        "RECOVERY_BACKUP_VAULT_NAME": "vault-dr",
    }
    if arc:
        env.update(
            {
                "ARC_CLUSTER_ENDPOINTS": "us-west-2=https://arc.example",
                "PRIMARY_ROUTING_CONTROL_ARN": "arn:aws:route53-recovery-control::1:controlpanel/p/routingcontrol/a",
                "RECOVERY_ROUTING_CONTROL_ARN": "arn:aws:route53-recovery-control::1:controlpanel/p/routingcontrol/b",
            }
        )
    settings = Settings(STATE_TABLE="dr-state", TOPIC_ARN="arn:aws:sns:us-west-2:123456789012:dr-events")
    inv = load_inventory(settings, env)
    return orchestrator.Resources(
        inv,
        settings,
        "123456789012",
        "aws",
        "arn:aws:kms:us-west-2:123456789012:key/k",
        "dr-failover",
        "arn:aws:kms:us-west-2:123456789012:key/state",
    )


def test_simulation_calls_group_actions_asked_of_the_same_resources() -> None:
    needs = orchestrator.NEEDS["dr.steps.confirm_dynamodb.handler"]
    [(actions, arns, context)] = orchestrator.simulation_calls(needs, resources())
    assert actions == ["dynamodb:DescribeTable", "dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:DeleteItem"]
    assert arns == [
        "arn:aws:dynamodb:us-west-2:123456789012:table/users",
        "arn:aws:dynamodb:us-west-2:123456789012:table/orders",
    ]
    # the context a real call on those tables carries (the template's conditions pin account and regions)
    assert context == {"aws:RequestedRegion": "us-west-2", "aws:ResourceAccount": "123456789012"}


WEST = {"aws:RequestedRegion": "us-west-2", "aws:ResourceAccount": "123456789012"}


def test_an_action_asked_of_many_resources_is_one_call_for_all_of_them() -> None:
    # Given the failover's own needs: lambda:InvokeFunction of each of its functions, and its record and notice
    needs = orchestrator.state_machine_needs(DEFINITION, "us-west-2", "123456789012", "aws")
    functions = [n.resource for n in needs if n.action == "lambda:InvokeFunction"]
    assert len(functions) == len(failover_functions())

    calls = orchestrator.simulation_calls(needs, resources())

    # Then IAM is asked once for all the invocations (it answers each function on its own), not once each
    (invoke,) = [(actions, arns) for actions, arns, _ in calls if "lambda:InvokeFunction" in actions]
    assert invoke == (["lambda:InvokeFunction"], functions)
    # and every (action, resource) needed is asked exactly once
    asked = [(a, arn, tuple(sorted(c.items()))) for actions, arns, c in calls for a in actions for arn in arns]
    assert len(asked) == len(set(asked))
    assert {a for a, _, _ in asked} == {n.action for n in needs}
    assert len(calls) <= 5, calls


def test_conditions_of_the_template_are_given_their_context_keys() -> None:
    calls = orchestrator.simulation_calls(orchestrator.NEEDS["dr.steps.request_approval.handler"], resources())
    by_action = {a: (arns, ctx) for actions, arns, ctx in calls for a in actions}
    assert by_action["kms:GenerateDataKey"] == (
        ["arn:aws:kms:us-west-2:123456789012:key/k"],
        {"kms:ViaService": "sns.us-west-2.amazonaws.com"} | WEST,
    )
    assert by_action["sns:Publish"] == (["arn:aws:sns:us-west-2:123456789012:dr-events"], WEST)
    # the audit record goes through the state table's own key, used through DynamoDB
    state_key = [(arns, ctx) for actions, arns, ctx in calls if "kms:Decrypt" in actions and "key/state" in arns[0]]
    assert state_key == [
        (
            ["arn:aws:kms:us-west-2:123456789012:key/state"],
            {"kms:ViaService": "dynamodb.us-west-2.amazonaws.com"} | WEST,
        )
    ]


def test_the_state_tables_key_is_a_customer_key_arn_or_none() -> None:
    key = "arn:aws:kms:us-west-2:123456789012:key/state"
    assert orchestrator.table_key_arn({"SSEDescription": {"SSEType": "KMS", "KMSMasterKeyArn": key}}) == key
    assert orchestrator.table_key_arn({}) is None  # AWS owned key
    managed = {"SSEType": "KMS", "KMSMasterKeyArn": "arn:aws:kms:us-west-2:123456789012:alias/aws/dynamodb"}
    assert orchestrator.table_key_arn({"SSEDescription": managed}) is None


def test_resources_in_two_regions_are_simulated_once_per_region() -> None:
    # Given tables named in both regions (as the heartbeat reads them), each call carries its own region
    arns = ["arn:aws:dynamodb:us-east-1:123456789012:table/t", "arn:aws:dynamodb:us-west-2:123456789012:table/t"]
    grouped = orchestrator._by_account_and_region([*arns, "arn:aws:s3:::bucket"])
    assert grouped == {
        (("aws:RequestedRegion", "us-east-1"), ("aws:ResourceAccount", "123456789012")): (arns[0],),
        (("aws:RequestedRegion", "us-west-2"), ("aws:ResourceAccount", "123456789012")): (arns[1],),
        (): ("arn:aws:s3:::bucket",),
    }


def test_arc_and_dns_needs_apply_only_with_their_mechanism() -> None:
    needs = orchestrator.NEEDS["dr.steps.move_traffic.handler"]
    dns, arc = resources().inventory, resources(arc=True).inventory
    assert {n.action for n in needs if orchestrator.applies(n, dns)} == {
        "cloudwatch:DescribeAlarms",
        "cloudwatch:SetAlarmState",
        "cloudwatch:PutMetricData",
        "dynamodb:PutItem",  # the pin's intent (dr.traffic_pin), through the state table's key
        "kms:Decrypt",
    }
    assert {n.action for n in needs if orchestrator.applies(n, arc)} == {
        "route53-recovery-cluster:GetRoutingControlState",
        "route53-recovery-cluster:UpdateRoutingControlStates",
    }


class FakeIam:
    """IAM's paginated SimulatePrincipalPolicy answer, as given."""

    def __init__(self, results: list[dict[str, Any]]) -> None:
        self.results = results
        self.asked: list[dict[str, Any]] = []

    def get_paginator(self, name: str) -> FakeIam:
        assert name == "simulate_principal_policy"
        return self

    def paginate(self, **kwargs: Any) -> list[dict[str, Any]]:
        self.asked.append(kwargs)
        return [{"EvaluationResults": self.results, "IsTruncated": False}]


def test_simulate_reads_each_resources_own_decision() -> None:
    iam = FakeIam(
        [
            {
                "EvalActionName": "dynamodb:PutItem",
                "EvalResourceName": "*",
                "EvalDecision": "implicitDeny",
                "ResourceSpecificResults": [
                    {"EvalResourceName": "arn:t1", "EvalResourceDecision": "allowed"},
                    {"EvalResourceName": "arn:t2", "EvalResourceDecision": "implicitDeny"},
                ],
            },
            {"EvalActionName": "dynamodb:GetItem", "EvalResourceName": "arn:t1", "EvalDecision": "explicitDeny"},
        ]
    )
    denied = orchestrator.simulate(
        iam, "arn:role", ["dynamodb:PutItem", "dynamodb:GetItem"], ["arn:t1", "arn:t2"], {"k": "v"}
    )
    assert [(d.action, d.resource, d.decision) for d in denied] == [
        ("dynamodb:PutItem", "arn:t2", "implicitDeny"),
        ("dynamodb:GetItem", "arn:t1", "explicitDeny"),
    ]
    assert iam.asked[0]["ContextEntries"] == [
        {"ContextKeyName": "k", "ContextKeyValues": ["v"], "ContextKeyType": "string"}
    ]


def test_a_permission_finding_names_the_role_its_steps_and_what_it_lost() -> None:
    check = orchestrator.RoleCheck("arn:aws:iam::1:role/dr-PromoteRole", ["dr.steps.promote_aurora.handler"])
    check.denied = [orchestrator.Denied(f"rds:Action{n}", "arn:g", "implicitDeny") for n in range(8)]
    finding = orchestrator.permission_finding(check)
    assert (finding.check, finding.severity, finding.resource) == ("permission-missing", "HIGH", check.role_arn)
    assert "role dr-PromoteRole (dr.steps.promote_aurora.handler) is denied rds:Action0 on arn:g" in finding.reason
    assert "and 2 more" in finding.reason


def test_concurrency_reserved_at_zero_or_too_little_headroom_is_a_finding() -> None:
    account = {"AccountLimit": {"ConcurrentExecutions": 1000, "UnreservedConcurrentExecutions": 900}}
    functions = {"decide": None, "promote": None, "check": None}
    assert orchestrator.concurrency_findings(account, functions, 5, {}) == []
    [zero] = orchestrator.concurrency_findings(account, {**functions, "decide": 0}, 5, {"decide": "arn:decide"})
    assert (zero.check, zero.resource) == ("concurrency-headroom", "arn:decide")
    small = {"AccountLimit": {"ConcurrentExecutions": 10, "UnreservedConcurrentExecutions": 5}}
    [tight] = orchestrator.concurrency_findings(small, functions, 5, {})
    assert "unreserved concurrency is 5 (limit 10)" in tight.reason and "6 needed" in tight.reason


def test_the_topic_needs_a_confirmed_subscription() -> None:
    topic = "arn:aws:sns:us-west-2:1:dr"
    confirmed = {"SubscriptionArn": f"{topic}:abc", "Endpoint": "oncall@example.com", "Protocol": "email"}
    pending = {"SubscriptionArn": "PendingConfirmation", "Endpoint": "new@example.com", "Protocol": "email"}
    assert orchestrator.topic_findings(topic, [confirmed, pending]) == []
    [finding] = orchestrator.topic_findings(topic, [pending])
    assert (finding.check, finding.severity) == ("topic-unsubscribed", "HIGH")
    assert "1 subscription(s) still PendingConfirmation (new@example.com)" in finding.reason
    assert "no subscription" in orchestrator.topic_findings(topic, [])[0].reason


def test_the_topic_key_is_an_arn_unless_aws_manages_it() -> None:
    topic = "arn:aws:sns:us-west-2:123456789012:dr"
    assert (
        orchestrator.topic_key_arn({"KmsMasterKeyId": "1234"}, topic) == "arn:aws:kms:us-west-2:123456789012:key/1234"
    )
    assert orchestrator.topic_key_arn({"KmsMasterKeyId": "alias/aws/sns"}, topic) is None
    assert orchestrator.topic_key_arn({}, topic) is None
