"""The IAM evaluation logic of localcloud (localcloud/iam/policy.py), against AWS's documented rules:
explicit deny wins, wildcards, NotAction/NotResource, condition operators (missing keys, negation,
IfExists, set qualifiers), resource policies and KMS key policies with identity policies."""

from __future__ import annotations

from typing import Any

import pytest

from localcloud.iam.policy import Principal, Request, condition_holds, evaluate, wildcard_match

ACCOUNT = "123456789012"
CALLER = Principal(account=ACCOUNT, role_name="roadcall-dr-NotifyRole", session="roadcall-dr-Notify")
TOPIC = f"arn:aws:sns:us-west-2:{ACCOUNT}:roadcall-dr-events"
KEY = f"arn:aws:kms:us-west-2:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def allow(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": action, "Resource": resource, **extra}],
    }


def deny(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": action, "Resource": resource, **extra}]}


def request(action: str = "sns:Publish", resource: str = TOPIC, **context: Any) -> Request:
    return Request(CALLER, action, resource, context)


def test_nothing_is_allowed_without_a_policy_and_the_message_is_awss() -> None:
    verdict = evaluate(request(), [])
    assert verdict.decision == "implicit-deny"
    assert verdict.message(request()) == (
        f"User: arn:aws:sts::{ACCOUNT}:assumed-role/roadcall-dr-NotifyRole/roadcall-dr-Notify is not authorized "
        f"to perform: sns:Publish on resource: {TOPIC} because no identity-based policy allows the sns:Publish action"
    )


def test_an_identity_policy_allows_its_action_on_its_resource_only() -> None:
    policy = allow("sns:Publish", TOPIC)
    assert evaluate(request(), [policy]).allowed
    assert not evaluate(request("sns:Subscribe"), [policy]).allowed
    assert not evaluate(request(resource=TOPIC + "-other"), [policy]).allowed


def test_an_explicit_deny_wins_over_any_allow() -> None:
    # Given one policy allowing everything and another denying the publish
    verdict = evaluate(request(), [allow("*"), deny("sns:Publish", TOPIC)])
    # Then the publish is denied, and AWS says why
    assert verdict.decision == "explicit-deny"
    assert verdict.message(request()).endswith("with an explicit deny in an identity-based policy")


@pytest.mark.parametrize(
    ("pattern", "action", "allowed"),
    [
        ("sns:*", "sns:Publish", True),
        ("SNS:publish", "sns:Publish", True),  # actions compare without case
        ("kms:GenerateDataKey*", "kms:GenerateDataKeyWithoutPlaintext", True),
        ("kms:GenerateDataKey*", "kms:Decrypt", False),
        ("dynamodb:?etItem", "dynamodb:GetItem", True),
        ("dynamodb:?etItem", "dynamodb:UpdateItem", False),
    ],
)
def test_wildcards_in_actions(pattern: str, action: str, allowed: bool) -> None:
    assert evaluate(request(action), [allow(pattern)]).allowed is allowed


def test_wildcards_in_resources_span_slashes_and_colons_but_resources_keep_their_case() -> None:
    table = f"arn:aws:dynamodb:us-west-2:{ACCOUNT}:table/roadcall-users-prod"
    assert evaluate(
        request("dynamodb:GetItem", table), [allow("dynamodb:GetItem", "arn:aws:dynamodb:*:*:table/*")]
    ).allowed
    assert not evaluate(request("dynamodb:GetItem", table), [allow("dynamodb:GetItem", table.upper())]).allowed
    assert wildcard_match("arn:aws:s3:::drtest-*/*", "arn:aws:s3:::drtest-1/a/b.json")
    assert not wildcard_match("arn:aws:s3:::[ab]", "arn:aws:s3:::a")  # brackets are literal in IAM


def test_not_action_and_not_resource_invert_the_match() -> None:
    everything_but_delete = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "NotAction": "s3:Delete*", "Resource": "*"}],
    }
    assert evaluate(request("s3:GetObject", "arn:aws:s3:::b/k"), [everything_but_delete]).allowed
    assert not evaluate(request("s3:DeleteObject", "arn:aws:s3:::b/k"), [everything_but_delete]).allowed
    not_prod = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:*", "NotResource": "arn:aws:s3:::prod*"}],
    }
    assert evaluate(request("s3:GetObject", "arn:aws:s3:::drtest-1/k"), [not_prod]).allowed
    assert not evaluate(request("s3:GetObject", "arn:aws:s3:::prod-1/k"), [not_prod]).allowed


@pytest.mark.parametrize(
    ("operator", "expected", "context", "holds"),
    [
        ("StringEquals", "sns.us-west-2.amazonaws.com", {"kms:ViaService": "sns.us-west-2.amazonaws.com"}, True),
        ("StringEquals", "sns.us-west-2.amazonaws.com", {"kms:ViaService": "s3.us-west-2.amazonaws.com"}, False),
        ("StringEquals", "sns.us-west-2.amazonaws.com", {}, False),  # a missing key never matches
        ("StringNotEquals", "sns.us-west-2.amazonaws.com", {}, True),  # ...except for a negated operator
        ("StringNotEquals", ["a", "b"], {"kms:ViaService": "b"}, False),  # negated values are NOR'ed
        ("StringLike", "rds.*.amazonaws.com", {"kms:ViaService": "rds.us-east-1.amazonaws.com"}, True),
        ("StringLike", "rds.*.amazonaws.com", {"kms:ViaService": "sns.us-east-1.amazonaws.com"}, False),
        (
            "StringEqualsIgnoreCase",
            "SNS.US-WEST-2.AMAZONAWS.COM",
            {"kms:ViaService": "sns.us-west-2.amazonaws.com"},
            True,
        ),
        ("StringEqualsIfExists", "x", {}, True),
        ("StringEqualsIfExists", "x", {"kms:ViaService": "y"}, False),
        ("Null", "true", {}, True),
        ("Null", "false", {}, False),
    ],
)
def test_string_and_null_conditions(operator: str, expected: Any, context: dict[str, Any], holds: bool) -> None:
    assert condition_holds(operator, "kms:ViaService", expected, context) is holds


def test_arn_bool_numeric_and_set_conditions() -> None:
    role = f"arn:aws:iam::{ACCOUNT}:role/roadcall-dr-NotifyRole"
    assert condition_holds(
        "ArnLike", "aws:PrincipalArn", f"arn:aws:iam::{ACCOUNT}:role/roadcall-*", {"aws:PrincipalArn": role}
    )
    assert condition_holds("ArnEquals", "aws:PrincipalArn", role, {"aws:PrincipalArn": role})
    assert not condition_holds("ArnLike", "aws:PrincipalArn", "arn:aws:iam::*:user/*", {"aws:PrincipalArn": role})
    assert condition_holds("ArnNotLike", "aws:PrincipalArn", "arn:aws:iam::*:user/*", {"aws:PrincipalArn": role})
    assert condition_holds("Bool", "aws:SecureTransport", "false", {"aws:SecureTransport": False})
    assert not condition_holds("Bool", "aws:SecureTransport", "false", {"aws:SecureTransport": True})
    assert condition_holds("NumericLessThanEquals", "s3:max-keys", "10", {"s3:max-keys": "7"})
    assert not condition_holds("NumericGreaterThan", "s3:max-keys", "10", {"s3:max-keys": "7"})
    tags = {"aws:TagKeys": ["team", "stage"]}
    assert condition_holds("ForAllValues:StringEquals", "aws:TagKeys", ["team", "stage", "cost"], tags)
    assert not condition_holds("ForAllValues:StringEquals", "aws:TagKeys", ["team"], tags)
    assert condition_holds("ForAnyValue:StringEquals", "aws:TagKeys", ["stage"], tags)
    assert condition_holds("ForAllValues:StringEquals", "aws:TagKeys", ["team"], {})  # vacuously true


def test_conditions_of_one_statement_are_all_required() -> None:
    statement = allow(
        "iam:CreateServiceLinkedRole",
        "*",
        Condition={
            "StringEquals": {"iam:AWSServiceName": "replication.dynamodb.amazonaws.com"},
            "StringLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/roadcall-*"},
        },
    )
    good = {"iam:AWSServiceName": "replication.dynamodb.amazonaws.com", "aws:PrincipalArn": CALLER.role_arn}
    assert evaluate(request("iam:CreateServiceLinkedRole", "*", **good), [statement]).allowed
    wrong_service = {**good, "iam:AWSServiceName": "rds.amazonaws.com"}
    assert not evaluate(request("iam:CreateServiceLinkedRole", "*", **wrong_service), [statement]).allowed


def topic_policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def test_a_resource_policy_for_service_principals_grants_a_role_nothing() -> None:
    # Given the DR topic's policy, which lets CloudWatch and EventBridge publish
    policy = topic_policy(
        {
            "Effect": "Allow",
            "Principal": {"Service": ["cloudwatch.amazonaws.com", "events.amazonaws.com"]},
            "Action": "sns:Publish",
            "Resource": TOPIC,
            "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}},
        }
    )
    # Then a role still needs its own identity policy
    assert not evaluate(request(), [], policy).allowed
    assert evaluate(request(), [allow("sns:Publish", TOPIC)], policy).allowed


def test_a_resource_policy_naming_the_role_grants_on_its_own_and_its_deny_wins() -> None:
    grants = topic_policy(
        {"Effect": "Allow", "Principal": {"AWS": CALLER.role_arn}, "Action": "sns:Publish", "Resource": TOPIC}
    )
    assert evaluate(request(), [], grants).decision == "allow"
    insecure = topic_policy(
        {
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": "arn:aws:s3:::reports/*",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    )
    put = request("s3:PutObject", "arn:aws:s3:::reports/r.json", **{"aws:SecureTransport": False})
    verdict = evaluate(put, [allow("s3:PutObject", "arn:aws:s3:::reports/*")], insecure)
    assert verdict.decision == "explicit-deny"
    assert verdict.message(put).endswith("with an explicit deny in a resource-based policy")
    secure = request("s3:PutObject", "arn:aws:s3:::reports/r.json", **{"aws:SecureTransport": True})
    assert evaluate(secure, [allow("s3:PutObject", "arn:aws:s3:::reports/*")], insecure).allowed


ROOT_ADMINISTERS = topic_policy(
    {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "kms:*", "Resource": "*"}
)


def test_a_key_policy_that_delegates_to_the_account_needs_an_identity_policy_too() -> None:
    generate = request("kms:GenerateDataKey", KEY, **{"kms:ViaService": "sns.us-west-2.amazonaws.com"})
    # Given the key policy delegates to IAM; When no identity policy allows; Then denied
    assert evaluate(generate, [], ROOT_ADMINISTERS, key_policy=True).decision == "implicit-deny"
    # When an identity policy allows the key through SNS; Then allowed
    via_sns = allow(
        ["kms:GenerateDataKey", "kms:Decrypt"],
        KEY,
        Condition={"StringEquals": {"kms:ViaService": "sns.us-west-2.amazonaws.com"}},
    )
    assert evaluate(generate, [via_sns], ROOT_ADMINISTERS, key_policy=True).allowed
    # and not through another service
    via_s3 = request("kms:GenerateDataKey", KEY, **{"kms:ViaService": "s3.us-west-2.amazonaws.com"})
    assert not evaluate(via_s3, [via_sns], ROOT_ADMINISTERS, key_policy=True).allowed


def test_a_key_policy_that_does_not_delegate_denies_whatever_iam_says() -> None:
    # Given a key policy for service principals only (no account delegation)
    services_only = topic_policy(
        {"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}, "Action": "kms:*", "Resource": "*"}
    )
    generate = request("kms:GenerateDataKey", KEY)
    verdict = evaluate(generate, [allow("kms:*")], services_only, key_policy=True)
    # Then even an identity policy allowing kms:* cannot use the key, and the key policy is blamed
    assert verdict.decision == "implicit-deny"
    assert verdict.message(generate).endswith("because no resource-based policy allows the kms:GenerateDataKey action")
    # while a key policy that names the role grants on its own
    names_role = topic_policy(
        {"Effect": "Allow", "Principal": {"AWS": CALLER.role_arn}, "Action": "kms:*", "Resource": "*"}
    )
    assert evaluate(generate, [], names_role, key_policy=True).allowed


def test_an_explicit_deny_in_an_identity_policy_wins_over_a_key_policy_grant() -> None:
    names_role = topic_policy(
        {"Effect": "Allow", "Principal": {"AWS": CALLER.role_arn}, "Action": "kms:*", "Resource": "*"}
    )
    assert (
        evaluate(request("kms:Decrypt", KEY), [deny("kms:*")], names_role, key_policy=True).decision == "explicit-deny"
    )
