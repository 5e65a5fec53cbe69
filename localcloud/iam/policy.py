"""IAM policy evaluation, as AWS documents it for requests within one account.

What is modeled (IAM User Guide, "Policy evaluation logic", "IAM JSON policy elements"):
- a statement applies when its Action (or NotAction) matches the action, its Resource (or NotResource)
  matches the resource, its Principal (or NotPrincipal; resource-based policies only) matches the caller,
  and every condition holds; ``*`` and ``?`` are wildcards in all three, actions compare without case;
- an explicit Deny in any applicable policy wins; otherwise an Allow in the identity-based policies or in
  the resource-based policy grants (same account: either one is enough); otherwise the implicit deny;
- a resource-based policy that names the account (``"AWS": "123456789012"`` or ``:root``) grants nothing
  by itself: it delegates to the identity-based policies (the KMS key-policy idiom);
- KMS is stricter (KMS Developer Guide, "Key policies"): no principal uses a key unless its key policy
  allows it, directly or by delegating to the account's IAM policies (``evaluate(..., key_policy=True)``);
- condition operators: String*, Arn*, Numeric*, Date*, Bool, Null, each ``...IfExists``, and the
  ``ForAnyValue:``/``ForAllValues:`` set qualifiers. A key missing from the request makes an operator
  false, a negated operator (``StringNotEquals``, ``ArnNotLike``...) true; several values of one key are
  OR'ed (NOR'ed for a negated operator), several keys and operators AND'ed.

Not modeled: permissions boundaries, session policies, SCPs/RCPs (none in this app), policy variables
(``${aws:username}``), IpAddress operators, cross-account requests. The caller is an assumed role.
"""

from __future__ import annotations

import fnmatch
import functools
import operator as op
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

ContextValue = str | bool | int | float | Sequence[str]
Decision = Literal["allow", "explicit-deny", "implicit-deny"]


@dataclass(frozen=True)
class Principal:
    """The caller: an assumed-role session (``arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION``), or with
    ``service`` an AWS service principal acting for the account (``logs.us-west-2.amazonaws.com``)."""

    account: str
    role_name: str
    session: str
    partition: str = "aws"
    path: str = "/"
    service: str = ""

    @property
    def arn(self) -> str:
        if self.service:
            return self.service
        return f"arn:{self.partition}:sts::{self.account}:assumed-role/{self.role_name}/{self.session}"

    @property
    def role_arn(self) -> str:
        return f"arn:{self.partition}:iam::{self.account}:role{self.path}{self.role_name}"


@dataclass(frozen=True)
class Request:
    """One authorization request: who does what on which resource, with the request's context keys."""

    principal: Principal
    action: str
    resource: str
    context: Mapping[str, ContextValue] = field(default_factory=dict)


@dataclass(frozen=True)
class Verdict:
    decision: Decision
    # which kind of policy decided: "identity-based" or "resource-based" (AWS names it in its message)
    policy_type: str = "identity-based"

    @property
    def allowed(self) -> bool:
        return self.decision == "allow"

    def message(self, request: Request) -> str:
        """AWS's AccessDenied message for this verdict."""
        head = (
            f"User: {request.principal.arn} is not authorized to perform: {request.action} "
            f"on resource: {request.resource}"
        )
        if self.decision == "explicit-deny":
            article = "an" if self.policy_type[0] in "aeiou" else "a"
            return f"{head} with an explicit deny in {article} {self.policy_type} policy"
        return f"{head} because no {self.policy_type} policy allows the {request.action} action"


# NumericLessThan, DateGreaterThanEquals, ...: the comparison after the family's name
_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    "Equals": op.eq,
    "NotEquals": op.ne,
    "LessThan": op.lt,
    "LessThanEquals": op.le,
    "GreaterThan": op.gt,
    "GreaterThanEquals": op.ge,
}


# -- matching ---------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=4096)
def _pattern(text: str, ignore_case: bool) -> re.Pattern[str]:
    return re.compile(fnmatch.translate(text), re.IGNORECASE if ignore_case else 0)


def wildcard_match(pattern: str, value: str, ignore_case: bool = False) -> bool:
    """IAM's ``*`` (any run of characters, ``/`` and ``:`` included) and ``?`` (one character).
    fnmatch's ``[...]`` classes are not IAM syntax: brackets are matched literally."""
    if "*" not in pattern and "?" not in pattern:
        return pattern.lower() == value.lower() if ignore_case else pattern == value
    escaped = pattern.replace("[", "[[]")
    return _pattern(escaped, ignore_case).fullmatch(value) is not None


def arn_match(pattern: str, value: str) -> bool:
    """ArnLike/ArnEquals: the six colon-separated parts compared one by one, wildcards within a part."""
    p_parts, v_parts = pattern.split(":", 5), value.split(":", 5)
    if len(p_parts) != 6 or len(v_parts) != 6:
        return wildcard_match(pattern, value)
    return all(wildcard_match(p, v) for p, v in zip(p_parts, v_parts, strict=True))


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _action_matches(patterns: Iterable[str], action: str) -> bool:
    return any(p == "*" or wildcard_match(p, action, ignore_case=True) for p in patterns)


def _resource_matches(patterns: Iterable[str], resource: str) -> bool:
    return any(p == "*" or wildcard_match(p, resource) for p in patterns)


def principal_matches(principal_element: Any, principal: Principal) -> tuple[bool, bool]:
    """(matches, by_account): does a resource policy's Principal name this caller, and does it only by
    naming the caller's account (a delegation to the account's IAM policies, not a grant)."""
    if principal_element == "*" or not isinstance(principal_element, Mapping):
        return principal_element == "*", False
    if principal.service:
        return _names_service(principal_element, principal.service), False
    for value in _as_list(principal_element.get("AWS")):
        text = str(value)
        if text == "*":
            return True, False
        if text in (principal.account, f"arn:{principal.partition}:iam::{principal.account}:root"):
            return True, True
        if text in (principal.role_arn, principal.arn):
            return True, False
    return False, False  # Service, Federated and CanonicalUser principals never name an assumed role


def _names_service(principal_element: Mapping[str, Any], service: str) -> bool:
    """A service principal is named as one (``"Service": "logs.REGION.amazonaws.com"``) or as everyone."""
    named = {str(v) for v in _as_list(principal_element.get("Service"))}
    return service in named or "*" in {str(v) for v in _as_list(principal_element.get("AWS"))}


# -- conditions -------------------------------------------------------------------------------------
_NEGATED = {
    "StringNotEquals",
    "StringNotEqualsIgnoreCase",
    "StringNotLike",
    "ArnNotEquals",
    "ArnNotLike",
    "NumericNotEquals",
    "DateNotEquals",
}


def _compare(base: str, expected: str, actual: ContextValue) -> bool:
    """One operator (without IfExists/negation/qualifier) on one expected and one actual value."""
    text = str(actual).lower() if isinstance(actual, bool) else str(actual)
    if base == "StringEquals":
        return text == expected
    if base == "StringEqualsIgnoreCase":
        return text.lower() == expected.lower()
    if base == "StringLike":
        return wildcard_match(expected, text)
    if base in ("ArnEquals", "ArnLike"):
        return arn_match(expected, text)
    if base == "Bool":
        return text.lower() == expected.lower()
    for family, parse in (("Numeric", float), ("Date", _date)):
        if base.startswith(family) and base[len(family) :] in _ORDER:
            return bool(_ORDER[base[len(family) :]](parse(text), parse(expected)))
    raise ValueError(f"condition operator {base} is not modeled by localcloud")


def _date(text: str) -> datetime:
    if text.isdigit():
        from datetime import UTC  # noqa: PLC0415

        return datetime.fromtimestamp(int(text), UTC)
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _positive(operator: str) -> str:
    return {
        "StringNotEquals": "StringEquals",
        "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
        "StringNotLike": "StringLike",
        "ArnNotEquals": "ArnEquals",
        "ArnNotLike": "ArnLike",
        "NumericNotEquals": "NumericEquals",
        "DateNotEquals": "DateEquals",
    }.get(operator, operator)


def condition_holds(operator: str, key: str, expected: Any, context: Mapping[str, ContextValue]) -> bool:
    qualifier, _, op = operator.rpartition(":")
    if_exists = op.endswith("IfExists")
    op = op.removesuffix("IfExists")
    actual = _lookup(context, key)
    wanted = [str(v).lower() if isinstance(v, bool) else str(v) for v in _as_list(expected)]
    if op == "Null":  # "true": the key must be absent; "false": present
        return (actual is None) == (wanted[0].lower() == "true")
    if actual is None:
        return if_exists or op in _NEGATED or qualifier == "ForAllValues"
    negated, base = op in _NEGATED, _positive(op)
    values = list(actual) if isinstance(actual, list | tuple) else [actual]

    def one(value: ContextValue) -> bool:
        hit = any(_compare(base, w, value) for w in wanted)
        return not hit if negated else hit

    if qualifier == "ForAllValues":
        return all(one(v) for v in values)
    if qualifier == "ForAnyValue":
        return any(one(v) for v in values)
    return one(values[0]) if len(values) == 1 else any(one(v) for v in values)


def _lookup(context: Mapping[str, ContextValue], key: str) -> ContextValue | None:
    if key in context:
        return context[key]
    lowered = key.lower()  # condition key names are not case-sensitive
    for name, value in context.items():
        if name.lower() == lowered:
            return value
    return None


def conditions_hold(condition: Mapping[str, Any] | None, context: Mapping[str, ContextValue]) -> bool:
    for operator, pairs in (condition or {}).items():
        for key, expected in pairs.items():
            if not condition_holds(operator, key, expected, context):
                return False
    return True


# -- statements and policies ------------------------------------------------------------------------
def _action_applies(statement: Mapping[str, Any], action: str) -> bool:
    if "Action" in statement:
        return _action_matches(_as_list(statement["Action"]), action)
    return "NotAction" in statement and not _action_matches(_as_list(statement["NotAction"]), action)


def _resource_applies(statement: Mapping[str, Any], resource: str, resource_policy: bool) -> bool:
    if "Resource" in statement:
        return _resource_matches(_as_list(statement["Resource"]), resource)
    if "NotResource" in statement:
        return not _resource_matches(_as_list(statement["NotResource"]), resource)
    return resource_policy  # an identity-based statement without a resource applies to nothing


def _principal_applies(statement: Mapping[str, Any], principal: Principal) -> tuple[bool, bool]:
    if "Principal" in statement:
        return principal_matches(statement["Principal"], principal)
    if "NotPrincipal" in statement:
        return not principal_matches(statement["NotPrincipal"], principal)[0], False
    return False, False


def statement_applies(
    statement: Mapping[str, Any], request: Request, resource_policy: bool = False
) -> tuple[bool, bool]:
    """(applies, by_account) for one statement; ``by_account`` as in :func:`principal_matches`."""
    if not _action_applies(statement, request.action):
        return False, False
    if not _resource_applies(statement, request.resource, resource_policy):
        return False, False
    matched, by_account = _principal_applies(statement, request.principal) if resource_policy else (True, False)
    if not matched or not conditions_hold(statement.get("Condition"), request.context):
        return False, False
    return True, by_account


def _statements(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return _as_list(document.get("Statement"))


@dataclass(frozen=True)
class _Effects:
    deny: bool = False
    allow: bool = False
    delegates: bool = False  # an Allow that names only the account


def _effects(documents: Iterable[Mapping[str, Any]], request: Request, resource_policy: bool) -> _Effects:
    deny = allow = delegates = False
    for document in documents:
        for statement in _statements(document):
            applies, by_account = statement_applies(statement, request, resource_policy)
            if not applies:
                continue
            if statement.get("Effect") == "Deny":
                deny = True
            elif by_account:
                delegates = True
            else:
                allow = True
    return _Effects(deny, allow, delegates)


def evaluate(
    request: Request,
    identity_policies: Iterable[Mapping[str, Any]],
    resource_policy: Mapping[str, Any] | None = None,
    key_policy: bool = False,
) -> Verdict:
    """The decision for one request. ``resource_policy`` is the resource's own policy (topic, bucket, key,
    vault...); with ``key_policy=True`` it is a KMS key policy, which must allow (or delegate) itself."""
    identity = _effects(identity_policies, request, resource_policy=False)
    resource = _effects([resource_policy] if resource_policy else [], request, resource_policy=True)
    if identity.deny:
        return Verdict("explicit-deny", "identity-based")
    if resource.deny:
        return Verdict("explicit-deny", "resource-based")
    if key_policy:
        return _key_verdict(identity, resource)
    if resource.allow or identity.allow:
        return Verdict("allow", "resource-based" if resource.allow else "identity-based")
    return Verdict("implicit-deny", "identity-based")


def _key_verdict(identity: _Effects, key: _Effects) -> Verdict:
    """KMS: the key policy allows the caller, or delegates to the account and an identity policy allows."""
    if key.allow:
        return Verdict("allow", "resource-based")
    if not key.delegates:
        return Verdict("implicit-deny", "resource-based")
    return Verdict("allow" if identity.allow else "implicit-deny", "identity-based")
