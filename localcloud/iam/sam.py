"""SAM ``Policies`` of a function or state machine, expanded as the SAM transform expands them.

A ``Policies`` item is one of (SAM Developer Guide, "AWS::Serverless::Function Policies"):
- a string: an AWS managed policy's name (``CloudWatchLogsFullAccess`` becomes
  ``arn:${AWS::Partition}:iam::aws:policy/CloudWatchLogsFullAccess``) or a managed policy ARN
  (``!Ref`` of an ``AWS::IAM::ManagedPolicy`` resolves to its ARN);
- an inline policy document (a mapping with ``Statement``);
- a SAM policy template (``LambdaInvokePolicy: {FunctionName: ...}``), expanded from the template
  definitions SAM itself ships: ``sam_policy_templates.json`` is samtranslator's
  ``policy_templates_data/policy_templates.json`` (aws-sam-translator 1.115.0, the version sam-cli
  1.170.0 pins; Apache-2.0), copied because samtranslator pins a pydantic older than the project's.
  tests/localcloud/test_iam_sam.py compares the copy with sam-cli's when that is installed.

SAM also attaches AWSLambdaBasicExecutionRole to every function role, and AWSXrayWriteOnlyAccess when
``Tracing: Active``; :func:`implicit_managed_policies` says which.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from localcloud.errors import TemplateError
from localcloud.template import Context, evaluate

_TEMPLATES = Path(__file__).with_name("sam_policy_templates.json")


@dataclass
class RolePolicies:
    """What a role gets: managed policy ARNs to attach and inline documents to put, in template order."""

    managed: list[str] = field(default_factory=list)
    inline: list[dict[str, Any]] = field(default_factory=list)


@functools.cache
def policy_templates() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(_TEMPLATES.read_text())["Templates"]
    return data


def aws_managed_arn(name: str, partition: str = "aws") -> str:
    return f"arn:{partition}:iam::aws:policy/{name}"


def expand(policies: Any, ctx: Context, where: str) -> RolePolicies:
    """``policies`` as the deployer evaluated them (intrinsics resolved, except inside SAM templates'
    own definitions, which this resolves with the template's parameters)."""
    out = RolePolicies()
    items = policies if isinstance(policies, list) else [policies] if policies else []
    for n, item in enumerate(items):
        if isinstance(item, str):
            out.managed.append(item if item.startswith("arn:") else aws_managed_arn(item))
        elif isinstance(item, dict) and "Statement" in item:
            out.inline.append({"Version": item.get("Version", "2012-10-17"), "Statement": item["Statement"]})
        elif isinstance(item, dict) and len(item) == 1:
            ((name, parameters),) = item.items()
            out.inline.append(_template(name, parameters or {}, ctx, f"{where}: Policies[{n}]"))
        else:
            raise TemplateError(
                where, f"Policies[{n}] is neither a policy name/ARN, a document nor a SAM policy template"
            )
    return out


def _template(name: str, parameters: dict[str, Any], ctx: Context, where: str) -> dict[str, Any]:
    template = policy_templates().get(name)
    if template is None:
        raise TemplateError(where, f"{name} is not a SAM policy template")
    declared = set(template.get("Parameters") or {})
    missing, unknown = declared - set(parameters), set(parameters) - declared
    if missing or unknown:
        raise TemplateError(where, f"{name} needs parameters {sorted(declared)}, got {sorted(parameters)}")
    scope = Context(
        source=ctx.source,
        region=ctx.region,
        stack_name=ctx.stack_name,
        parameters={k: v for k, v in parameters.items()},
    )
    document = evaluate(template["Definition"], scope)
    return {"Version": "2012-10-17", "Statement": document["Statement"]}


def implicit_managed_policies(kind: str, properties: dict[str, Any], partition: str = "aws") -> list[str]:
    """The managed policies SAM adds to the role it creates."""
    if kind != "AWS::Serverless::Function":
        return []
    arns = [f"arn:{partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"]
    if properties.get("Tracing") == "Active":
        arns.append(aws_managed_arn("AWSXrayWriteOnlyAccess", partition))
    return arns
