"""Read a SAM template: parse it (CloudFormation tags included), resolve parameters, conditions and the
intrinsic functions the app uses. Pure functions over data; the deployer does the creating."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cfnlint.decode import cfn_yaml

from localcloud.errors import TemplateError

ACCOUNT_ID = "123456789012"
NO_VALUE = object()
_SUB = re.compile(r"\$\{([^}!]+)\}")


def load_template(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text()
    except OSError as err:
        raise TemplateError(str(path), f"cannot be read: {err.strerror}") from err
    try:
        data = cfn_yaml.loads(text)
    except Exception as err:
        raise TemplateError(str(path), f"does not parse as YAML: {err}") from err
    if not isinstance(data, dict) or not isinstance(data.get("Resources"), dict):
        raise TemplateError(str(path), "has no Resources section (expected a SAM/CloudFormation template)")
    return _plain(data)


def _plain(value: Any) -> Any:
    """cfn-lint's node types → plain dicts, lists and strings."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, str):
        return str(value)
    return value


@dataclass
class Context:
    """What intrinsic functions resolve against for one stack in one region."""

    source: str
    region: str
    stack_name: str
    parameters: dict[str, Any]
    conditions: dict[str, bool] = field(default_factory=dict)
    refs: dict[str, Any] = field(default_factory=dict)
    attributes: Callable[[str, str], Any] | None = None

    def pseudo(self) -> dict[str, Any]:
        return {
            "AWS::Region": self.region,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::Partition": "aws",
            "AWS::StackName": self.stack_name,
            "AWS::StackId": f"arn:aws:cloudformation:{self.region}:{ACCOUNT_ID}:stack/{self.stack_name}/localcloud",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NoValue": NO_VALUE,
        }

    def ref(self, name: str) -> Any:
        pseudo = self.pseudo()
        if name in pseudo:
            return pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        if name in self.refs:
            return self.refs[name]
        raise TemplateError(self.source, f"!Ref {name}: no parameter or resource of that name")

    def get_att(self, logical_id: str, attribute: str) -> Any:
        if self.attributes is None:
            raise TemplateError(self.source, f"!GetAtt {logical_id}.{attribute}: resources are not deployed yet")
        return self.attributes(logical_id, attribute)


def resolve_parameters(template: dict[str, Any], overrides: dict[str, str], source: str) -> dict[str, Any]:
    declared = template.get("Parameters") or {}
    unknown = sorted(set(overrides) - set(declared))
    if unknown:
        raise TemplateError(source, f"parameter override(s) {unknown} are not declared in Parameters")
    values: dict[str, Any] = {}
    for name, spec in declared.items():
        if name in overrides:
            value: Any = overrides[name]
        elif "Default" in spec:
            value = spec["Default"]
        else:
            raise TemplateError(source, f"parameter {name} has no Default and no value was given")
        allowed = spec.get("AllowedValues")
        if allowed and str(value) not in [str(a) for a in allowed]:
            raise TemplateError(source, f"parameter {name}={value!r} is not one of {allowed}")
        if spec.get("Type") == "CommaDelimitedList" and isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        values[name] = value
    return values


def resolve_conditions(template: dict[str, Any], ctx: Context) -> dict[str, bool]:
    raw = template.get("Conditions") or {}
    done: dict[str, bool] = {}

    def condition(name: str, seen: tuple[str, ...] = ()) -> bool:
        if name in done:
            return done[name]
        if name not in raw:
            raise TemplateError(ctx.source, f"condition {name} is used but not declared in Conditions")
        if name in seen:
            raise TemplateError(ctx.source, f"condition {name} refers to itself")
        done[name] = bool(evaluate(raw[name], ctx, lambda n: condition(n, (*seen, name))))
        return done[name]

    for name in raw:
        condition(name)
    return done


def evaluate(value: Any, ctx: Context, condition: Callable[[str], bool] | None = None) -> Any:  # noqa: C901, PLR0911, PLR0912
    """Resolve the intrinsic functions in ``value`` (Ref, GetAtt, Sub, Join, Select, Split, If, Equals,
    Not, And, Or, Condition, FindInMap is not used by this app and is refused with a clear error)."""
    cond = condition or (lambda name: ctx.conditions[name])
    if isinstance(value, list):
        items = [evaluate(v, ctx, condition) for v in value]
        return [v for v in items if v is not NO_VALUE]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((key, arg),) = value.items()
        if key == "Ref":
            return ctx.ref(arg)
        if key == "Fn::GetAtt":
            logical_id, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
            return ctx.get_att(logical_id, attribute)
        if key == "Fn::Sub":
            return _sub(arg, ctx, condition)
        if key == "Fn::Join":
            sep, parts = arg
            return str(sep).join(str(p) for p in evaluate(parts, ctx, condition))
        if key == "Fn::Select":
            index, items = evaluate(arg, ctx, condition)
            return items[int(index)]
        if key == "Fn::Split":
            sep, text = evaluate(arg, ctx, condition)
            return str(text).split(sep)
        if key == "Fn::If":
            name, yes, no = arg
            return evaluate(yes if cond(name) else no, ctx, condition)
        if key == "Fn::Equals":
            left, right = evaluate(arg, ctx, condition)
            return str(left) == str(right)
        if key == "Fn::Not":
            return not evaluate(arg[0], ctx, condition)
        if key == "Fn::And":
            return all(evaluate(a, ctx, condition) for a in arg)
        if key == "Fn::Or":
            return any(evaluate(a, ctx, condition) for a in arg)
        if key == "Condition":
            return cond(arg)
        if key.startswith("Fn::"):
            raise TemplateError(ctx.source, f"{key} is not supported by localcloud's deployer")
    out = {k: evaluate(v, ctx, condition) for k, v in value.items()}
    return {k: v for k, v in out.items() if v is not NO_VALUE}


def _sub(arg: Any, ctx: Context, condition: Callable[[str], bool] | None) -> str:
    text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
    local = {k: evaluate(v, ctx, condition) for k, v in variables.items()}

    def replace(match: re.Match[str]) -> str:
        name = match.group(1).strip()
        if name in local:
            return str(local[name])
        if "." in name:
            logical_id, attribute = name.split(".", 1)
            return str(ctx.get_att(logical_id, attribute))
        value = ctx.ref(name)
        return ",".join(value) if isinstance(value, list) else str(value)

    return _SUB.sub(replace, text).replace("${!", "${")


def dependencies(value: Any) -> set[str]:
    """The logical ids ``value`` refers to through Ref, GetAtt or Sub."""
    found: set[str] = set()
    if isinstance(value, list):
        for v in value:
            found |= dependencies(v)
    elif isinstance(value, dict):
        for k, v in value.items():
            if k == "Ref" and isinstance(v, str) and not v.startswith("AWS::"):
                found.add(v)
            elif k == "Fn::GetAtt":
                found.add(v[0] if isinstance(v, list) else v.split(".", 1)[0])
            elif k == "Fn::Sub":
                text = v if isinstance(v, str) else v[0]
                for name in _SUB.findall(text):
                    if not name.startswith("AWS::"):
                        found.add(name.split(".", 1)[0].strip())
                if isinstance(v, list):
                    found |= dependencies(v[1])
                    found -= set(v[1])
            else:
                found |= dependencies(v)
    return found
