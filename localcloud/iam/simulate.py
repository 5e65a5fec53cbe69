"""IAM's policy simulator for roles: ``SimulatePrincipalPolicy``, which moto lacks (it raises
NotImplementedError), answered from the same policies and the same evaluation the enforcer authorizes with.

Modeled (IAM API Reference, SimulatePrincipalPolicy and EvaluationResult):
- ``PolicySourceArn`` a role: its inline and attached managed policies (default versions) as moto's IAM
  holds them; a role that does not exist is ``NoSuchEntity`` (404);
- every action of ``ActionNames`` on every resource of ``ResourceArns`` (``*`` when none), with
  ``ContextEntries`` as the request's context keys, evaluated by ``localcloud.iam.policy.evaluate``
  (identity-based policies: an explicit Deny wins, then an Allow, else the implicit deny);
- one ``EvaluationResult`` per action, as IAM returns it today: ``EvalDecision`` is the most restrictive
  decision across the resources, and ``ResourceSpecificResults`` has each resource's own; ``MatchedStatements``
  names the policies whose statements decided (``SourcePolicyId``, ``SourcePolicyType`` ``role`` for an inline
  policy, ``user-managed`` / ``aws-managed`` for a managed one); ``MissingContextValues`` lists the condition
  keys of statements that match the action and resource but whose keys the context does not carry;
- one page (``IsTruncated`` false).
Not modeled: users and groups as policy sources, permissions boundaries, ``PolicyInputList``,
``ResourcePolicy`` / ``CallerArn`` / ``ResourceOwner`` (refused with ``InvalidInput``, never ignored).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from moto.iam.models import iam_backends

from localcloud.iam.policy import ContextValue, Principal, Request, evaluate, statement_applies
from localcloud.interceptor import Call, Interceptor, Response, serialize_error, serialize_result
from localcloud.template import ACCOUNT_ID

_DECISION = {"allow": "allowed", "explicit-deny": "explicitDeny", "implicit-deny": "implicitDeny"}
_RESTRICTIVE = {"explicitDeny": 0, "implicitDeny": 1, "allowed": 2}
_NOT_MODELED = ("ResourcePolicy", "CallerArn", "ResourceOwner", "PolicyInputList", "PermissionsBoundaryPolicyInputList")


def _policies(role: Any) -> list[tuple[str, str, dict[str, Any]]]:
    """(policy id, source type, document) of every policy of ``role``."""
    out = [(name, "role", json.loads(text)) for name, text in role.policies.items()]
    for arn, policy in role.managed_policies.items():
        version = next(v for v in policy.versions if v.is_default_version)
        kind = "aws-managed" if ":iam::aws:policy/" in arn else "user-managed"
        out.append((arn.rsplit("/", 1)[-1], kind, json.loads(version.document)))
    return out


def _context(entries: list[Mapping[str, Any]]) -> dict[str, ContextValue]:
    out: dict[str, ContextValue] = {}
    for entry in entries:
        values = [str(v) for v in entry.get("ContextKeyValues") or []]
        kind = str(entry.get("ContextKeyType", "string"))
        out[str(entry["ContextKeyName"])] = values if kind.endswith("List") else (values[0] if values else "")
    return out


def _condition_keys(statement: Mapping[str, Any]) -> set[str]:
    return {key for pairs in (statement.get("Condition") or {}).values() for key in pairs}


def _statements(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    statements = document.get("Statement")
    return list(statements) if isinstance(statements, list) else [statements] if statements else []


def resource_result(
    policies: list[tuple[str, str, dict[str, Any]]], request: Request, context: Mapping[str, ContextValue]
) -> dict[str, Any]:
    """The decision for one action on one resource, the statements that made it, the keys it lacked."""
    decision = _DECISION[evaluate(request, [doc for _, _, doc in policies]).decision]
    matched: list[dict[str, str]] = []
    missing: set[str] = set()
    for policy_id, kind, document in policies:
        for statement in _statements(document):
            if statement_applies(statement, request)[0]:
                matched.append({"SourcePolicyId": policy_id, "SourcePolicyType": kind})
            elif statement_applies({**statement, "Condition": {}}, request)[0]:
                missing |= {k for k in _condition_keys(statement) if k not in context}
    return {
        "EvalResourceName": request.resource,
        "EvalResourceDecision": decision,
        "MatchedStatements": matched,
        "MissingContextValues": sorted(missing),
    }


def simulate(
    role: Any, principal: Principal, actions: list[str], resources: list[str], context: dict[str, ContextValue]
) -> list[dict[str, Any]]:
    """One EvaluationResult per action: the most restrictive decision, and each resource's own."""
    policies = _policies(role)
    results = []
    for action in actions:
        specific = [resource_result(policies, Request(principal, action, r, context), context) for r in resources]
        worst = min(specific, key=lambda r: _RESTRICTIVE[str(r["EvalResourceDecision"])])
        missing: set[str] = set()
        for r in specific:
            missing.update(r["MissingContextValues"])
        results.append(
            {
                "EvalActionName": action,
                "EvalResourceName": resources[0] if len(resources) == 1 else "*",
                "EvalDecision": worst["EvalResourceDecision"],
                "MatchedStatements": worst["MatchedStatements"],
                "MissingContextValues": sorted(missing),
                "ResourceSpecificResults": specific,
            }
        )
    return results


class PolicySimulator:
    """Answers ``iam:SimulatePrincipalPolicy`` (register it with the interceptor)."""

    def __init__(self, account: str = ACCOUNT_ID) -> None:
        self.account = account

    def register(self, interceptor: Interceptor) -> None:
        interceptor.route("iam", "SimulatePrincipalPolicy", self.handle)

    def handle(self, call: Call) -> Response:
        params = call.params
        given = [name for name in _NOT_MODELED if params.get(name)]
        if given:
            return serialize_error(call, "InvalidInput", f"localcloud does not model {', '.join(given)}", 400)
        source = str(params["PolicySourceArn"])
        resource_part = source.split(":", 5)[-1]
        if not resource_part.startswith("role/"):
            return serialize_error(call, "InvalidInput", f"localcloud simulates roles only, not {source}", 400)
        path, _, name = resource_part.removeprefix("role").rpartition("/")
        backend = iam_backends[self.account]["global"]
        role = next((r for r in backend.roles.values() if r.name == name), None)
        if role is None:
            return serialize_error(call, "NoSuchEntity", f"The role with name {name} cannot be found.", 404)
        principal = Principal(
            account=self.account,
            role_name=name,
            session="SimulatePrincipalPolicy",
            partition=source.split(":")[1],
            path=f"{path}/",
        )
        results = simulate(
            role,
            principal,
            [str(a) for a in params.get("ActionNames") or []],
            [str(r) for r in params.get("ResourceArns") or ["*"]],
            _context(params.get("ContextEntries") or []),
        )
        return serialize_result(call, {"EvaluationResults": results, "IsTruncated": False})
