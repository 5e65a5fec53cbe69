"""The deployment documents match the stacks: samconfig.toml deploys both regions with what each needs (the
primary region's health alarm needs PrimaryHealthCheckId), and the README's "What each region's stack holds"
names exactly the resources the template's conditions create in each region."""

from __future__ import annotations

import re
import shlex
import tomllib
import uuid
from pathlib import Path
from typing import Any

import pytest

from localcloud.errors import TemplateError
from localcloud.template import (
    Context,
    expand_language_extensions,
    load_template,
    resolve_conditions,
    resolve_parameters,
)

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = load_template(ROOT / "template.yaml")
SAMCONFIG = tomllib.loads((ROOT / "samconfig.toml").read_text())
README = (ROOT / "README.md").read_text()
HEALTH_CHECK_ID = str(uuid.UUID(int=7))


def overrides(env: str) -> dict[str, str]:
    text = SAMCONFIG[env]["deploy"]["parameters"]["parameter_overrides"]
    return dict(pair.split("=", 1) for pair in shlex.split(text))


def created_in(region: str, params: dict[str, str]) -> set[str]:
    """The resources the template creates in ``region`` with ``params`` (conditions as CloudFormation), by
    the names the template gives them: a resource of an ``Fn::ForEach`` loop by its key pattern
    (``DynamoDBReplicationLatencyAlarm&{Table}``), as the README lists it."""
    source = str(ROOT / "template.yaml")
    values = resolve_parameters(TEMPLATE, params, source)
    template = expand_language_extensions(TEMPLATE, values, source)
    ctx = Context(source=source, region=region, stack_name="roadcall-dr", parameters=values)
    conditions = resolve_conditions(template, ctx)
    declared: dict[str, Any] = {}
    for key, value in TEMPLATE["Resources"].items():
        declared.update(value[2] if key.startswith("Fn::ForEach::") else {key: value})
    return {name for name, r in declared.items() if "Condition" not in r or conditions[r["Condition"]]}


def test_both_prod_environments_deploy_the_same_stack_in_their_own_region() -> None:
    primary, recovery = overrides("prod-primary"), overrides("prod")
    assert SAMCONFIG["prod-primary"]["global"]["parameters"]["region"] == primary["PrimaryRegion"]
    assert SAMCONFIG["prod"]["global"]["parameters"]["region"] == recovery["RecoveryRegion"]
    assert (
        SAMCONFIG["prod-primary"]["global"]["parameters"]["stack_name"]
        == SAMCONFIG["prod"]["global"]["parameters"]["stack_name"]
    )
    assert primary == recovery  # the same parameters in both regions


def test_the_primary_environment_cannot_deploy_without_a_health_check_id() -> None:
    # Given samconfig's [prod-primary] parameters, as an operator who has not filled in the id deploys them
    params = overrides("prod-primary")
    assert "PrimaryHealthCheckId" in params

    # Then CloudFormation refuses the placeholder (AllowedPattern) instead of creating no health alarm
    with pytest.raises(TemplateError, match="PrimaryHealthCheckId"):
        created_in("us-east-1", params)

    # And with the id filled in, the primary region's stack has the health alarm
    assert "PrimaryHealthAlarm" in created_in("us-east-1", {**params, "PrimaryHealthCheckId": HEALTH_CHECK_ID})


def _readme_table() -> dict[str, set[str]]:
    section = README[README.index("### What each region's stack holds") :]
    rows = [line for line in section.splitlines()[1:] if line.startswith(("| us-", "| both"))]
    out: dict[str, set[str]] = {}
    for row in rows:
        region, _condition, resources = (cell.strip() for cell in row.strip("|").split("|"))
        if "everything else" in resources:
            continue
        out.setdefault(region.split()[0], set()).update(re.findall(r"`([A-Za-z0-9&{}]+)`", resources))
    return out


def test_the_readme_lists_exactly_what_the_primary_region_holds() -> None:
    # Given every optional input set (so every conditional resource can appear)
    params: dict[str, Any] = {
        **overrides("prod-primary"),
        "PrimaryHealthCheckId": HEALTH_CHECK_ID,
        "ManageBackupVaults": "true",
    }
    primary = created_in("us-east-1", params)
    recovery = created_in("us-west-2", params)

    # Then the README's rows name the resources created only in us-east-1 and those in both; the rest are us-west-2's
    documented = _readme_table()
    assert documented["us-east-1"] == primary - recovery
    assert documented["both"] == primary & recovery
