"""Read a SAM template: parse it (CloudFormation tags included), expand the ``AWS::LanguageExtensions``
transform, resolve parameters, conditions and the intrinsic functions the app uses. Pure functions over
data; the deployer does the creating.

The language extensions, as CloudFormation applies them before the SAM transform (CloudFormation
Template Reference, "AWS::LanguageExtensions transform", "Fn::ForEach", "Fn::Length",
"Fn::ToJsonString"):

- ``Fn::ForEach::Name: [Identifier, Collection, Fragment]`` in Conditions, Resources (a resource, or any
  object in its Properties) and Outputs: for each item of the collection (a list, whose items may be
  ``Ref``s to parameters, or a ``Ref`` to a ``CommaDelimitedList``) the fragment is merged into the object
  that holds the loop, with the identifier replaced: ``${Identifier}`` (the item) and ``&{Identifier}``
  (the item without its non-alphanumeric characters) in the fragment's top-level keys; ``Ref: Identifier``
  and ``${Identifier}`` inside an ``Fn::Sub`` string anywhere in its values. Elsewhere ``${Identifier}``
  stays literal, as AWS leaves it. Loops nest up to 5 deep; an identifier may not be a parameter's name;
  two items that produce the same key are an error. A template that uses ``Fn::ForEach`` without the
  transform is refused, as CloudFormation refuses it.
- ``Fn::Length`` (the number of items of a list) and ``Fn::ToJsonString`` (compact JSON of an object or
  a list, intrinsic functions resolved) are resolved with the other intrinsic functions.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from cfnlint.decode import cfn_yaml

from localcloud.errors import TemplateError

ACCOUNT_ID = "123456789012"
NO_VALUE = object()
_SUB = re.compile(r"\$\{([^}!]+)\}")
LANGUAGE_EXTENSIONS = "AWS::LanguageExtensions"
FOR_EACH = "Fn::ForEach::"
MAX_FOR_EACH_DEPTH = 5


def load_template(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text()
    except OSError as err:
        raise TemplateError(str(path), f"cannot be read: {err.strerror}") from err
    try:
        try:
            data = json.loads(_parsed(text))
        except TypeError:  # a value JSON cannot hold (a YAML timestamp): not cached, parsed every time
            data = _plain(cfn_yaml.loads(text))
    except Exception as err:
        raise TemplateError(str(path), f"does not parse as YAML: {err}") from err
    if not isinstance(data, dict) or not isinstance(data.get("Resources"), dict):
        raise TemplateError(str(path), "has no Resources section (expected a SAM/CloudFormation template)")
    return data


@lru_cache(maxsize=16)
def _parsed(text: str) -> Any:
    """A template's text parsed, as JSON text: every deploy of the same template (two per platform, one
    platform per test) gets a new copy of it in a fraction of the YAML parse (a fifth of a deploy)."""
    return json.dumps(_plain(cfn_yaml.loads(text)))


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
        pattern = spec.get("AllowedPattern")
        if pattern and spec.get("Type", "String") == "String" and not re.fullmatch(str(pattern), str(value)):
            why = spec.get("ConstraintDescription") or f"must match pattern {pattern}"
            raise TemplateError(source, f"parameter {name}={value!r}: {why}")
        if spec.get("Type") == "CommaDelimitedList" and isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        values[name] = value
    return values


def expanded_template(path: Path, overrides: dict[str, str] | None = None) -> dict[str, Any]:
    """The template as CloudFormation processes it after the language extensions: every ``Fn::ForEach``
    expanded with these parameter values (the defaults otherwise). What tests that read the template use."""
    template = load_template(path)
    params = resolve_parameters(template, overrides or {}, str(path))
    return expand_language_extensions(template, params, str(path))


def transforms(template: dict[str, Any]) -> list[str]:
    declared = template.get("Transform") or []
    return [str(t) for t in ([declared] if isinstance(declared, str) else declared)]


def expand_language_extensions(template: dict[str, Any], parameters: dict[str, Any], source: str) -> dict[str, Any]:
    """The template with every ``Fn::ForEach`` expanded (the parameters give the collections)."""
    uses = _uses_for_each(template)
    if not uses:
        return template
    if LANGUAGE_EXTENSIONS not in transforms(template):
        raise TemplateError(
            source,
            f"{uses} needs the {LANGUAGE_EXTENSIONS} transform (Transform: [{LANGUAGE_EXTENSIONS}, "
            "AWS::Serverless-2016-10-31])",
        )
    ctx = Context(source=source, region="", stack_name="", parameters=parameters)
    expanded = dict(template)
    for section in ("Conditions", "Resources", "Outputs"):
        if isinstance(template.get(section), dict):
            expanded[section] = _expand_object(template[section], ctx, (), section)
    return expanded


def _uses_for_each(value: Any) -> str:
    if isinstance(value, dict):
        for key, inner in value.items():
            if str(key).startswith(FOR_EACH):
                return str(key)
            found = _uses_for_each(inner)
            if found:
                return found
    elif isinstance(value, list):
        for inner in value:
            found = _uses_for_each(inner)
            if found:
                return found
    return ""


def _expand_object(value: Any, ctx: Context, loops: tuple[str, ...], where: str) -> Any:
    """Expand the loops held by ``value`` (and by the objects inside it), innermost last."""
    if isinstance(value, list):
        return [_expand_object(v, ctx, loops, where) for v in value]
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for key, inner in value.items():
        if not key.startswith(FOR_EACH):
            _merge(out, {key: _expand_object(inner, ctx, loops, f"{where}/{key}")}, where)
            continue
        for item_key, item in _for_each(key, inner, ctx, loops, where).items():
            _merge(out, {item_key: item}, f"{where}/{key}")
    return out


def _merge(out: dict[str, Any], new: dict[str, Any], where: str) -> None:
    for key, item in new.items():
        if key in out:
            raise TemplateError(where, f"Fn::ForEach produced the key {key!r} twice (or it already exists)")
        out[key] = item


def _for_each(key: str, spec: Any, ctx: Context, loops: tuple[str, ...], where: str) -> dict[str, Any]:
    here = f"{where}/{key}"
    if not isinstance(spec, list) or len(spec) != 3 or not isinstance(spec[2], dict):
        raise TemplateError(ctx.source, f"{here}: layout is incorrect (expected [Identifier, Collection, Fragment])")
    identifier, collection, fragment = spec
    if not isinstance(identifier, str) or not re.fullmatch(r"[A-Za-z0-9]+", identifier):
        raise TemplateError(ctx.source, f"{here}: the identifier must be an alphanumeric string, not {identifier!r}")
    if identifier in ctx.parameters or identifier in loops:
        raise TemplateError(ctx.source, f"{here}: identifier {identifier!r} is already a parameter or a loop's")
    if len(loops) >= MAX_FOR_EACH_DEPTH:
        raise TemplateError(ctx.source, f"{here}: Fn::ForEach loops nest at most {MAX_FOR_EACH_DEPTH} deep")
    items = evaluate(collection, ctx)
    if not isinstance(items, list) or not all(isinstance(i, str | int | float | bool) for i in items):
        raise TemplateError(ctx.source, f"{here}: the collection must be a list of strings, not {items!r}")
    out: dict[str, Any] = {}
    for item in items:
        text = str(item).lower() if isinstance(item, bool) else str(item)
        filled = _fill_fragment(fragment, identifier, text)
        _merge(out, _expand_object(filled, ctx, (*loops, identifier), here), here)
    return out


def _fill_fragment(fragment: dict[str, Any], identifier: str, item: str) -> dict[str, Any]:
    """The fragment's top-level keys and its values; a nested loop's fragment keys are top-level keys too."""
    out: dict[str, Any] = {}
    for key, value in fragment.items():
        if key.startswith(FOR_EACH) and isinstance(value, list) and len(value) == 3 and isinstance(value[2], dict):
            inner_id, collection, inner = value
            out[key] = [inner_id, _fill_value(collection, identifier, item), _fill_fragment(inner, identifier, item)]
        else:
            out[_fill_key(key, identifier, item)] = _fill_value(value, identifier, item)
    return out


def _fill_key(key: str, identifier: str, item: str) -> str:
    return key.replace(f"${{{identifier}}}", item).replace(f"&{{{identifier}}}", re.sub(r"[^A-Za-z0-9]", "", item))


def _fill_value(value: Any, identifier: str, item: str) -> Any:  # noqa: PLR0911
    """``Ref: Identifier`` and ``${Identifier}`` in ``Fn::Sub`` strings; every other string stays as it is."""
    if isinstance(value, list):
        return [_fill_value(v, identifier, item) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((fn, arg),) = value.items()
        if fn == "Ref" and arg == identifier:
            return item
        if fn == "Fn::Sub" and isinstance(arg, str):
            return {fn: arg.replace(f"${{{identifier}}}", item)}
        if fn == "Fn::Sub" and isinstance(arg, list) and arg and isinstance(arg[0], str):
            return {fn: [arg[0].replace(f"${{{identifier}}}", item), *_fill_value(arg[1:], identifier, item)]}
        if fn in ("Ref", "Fn::GetAtt"):  # a logical id built with Fn::Sub from the identifier
            filled = _fill_value(arg, identifier, item)
            return {fn: [_literal(f) for f in filled] if isinstance(filled, list) else _literal(filled)}
    return {k: _fill_value(v, identifier, item) for k, v in value.items()}


def _literal(value: Any) -> Any:
    """An ``Fn::Sub`` whose string has no variable left is that string (the transform resolves it)."""
    sub = value.get("Fn::Sub") if isinstance(value, dict) and list(value) == ["Fn::Sub"] else None
    if isinstance(sub, str) and not _SUB.search(sub):
        return sub.replace("${!", "${")
    return value


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
    Not, And, Or, Condition, Length, ToJsonString; FindInMap is not used by this app and is refused with a
    clear error)."""
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
            if not isinstance(items, list) or not 0 <= int(index) < len(items):
                raise TemplateError(ctx.source, f"Fn::Select cannot select nonexistent value at index {index}")
            return items[int(index)]
        if key == "Fn::Length":
            items = evaluate(arg, ctx, condition)
            if not isinstance(items, list):
                raise TemplateError(ctx.source, f"Fn::Length needs a list, not {items!r}")
            return len(items)
        if key == "Fn::ToJsonString":
            return json.dumps(evaluate(arg, ctx, condition), separators=(",", ":"))
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
