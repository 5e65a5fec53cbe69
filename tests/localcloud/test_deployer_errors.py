"""Bad input to localcloud fails with a message that names the file and the problem."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from localcloud.cloud import LocalCloud
from localcloud.errors import TemplateError
from localcloud.template import resolve_parameters

FIXTURE = Path(__file__).parent / "fixtures" / "fidelity"


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    target = tmp_path / "fidelity"
    shutil.copytree(FIXTURE, target)
    return target


def test_a_template_that_does_not_parse_names_the_file(cloud: LocalCloud, tmp_path: Path) -> None:
    bad = tmp_path / "template.yaml"
    bad.write_text("Resources:\n  A: [unclosed\n")
    with pytest.raises(TemplateError) as err:
        cloud.deploy(bad, "us-west-2", "bad")
    assert str(bad) in str(err.value)
    assert "does not parse as YAML" in str(err.value)


def test_a_missing_definition_substitution_names_the_placeholder_and_the_file(cloud: LocalCloud, copy: Path) -> None:
    template = copy / "template.yaml"
    template.write_text(template.read_text().replace("        NoticeTopicArn: !Ref NoticeTopic\n", ""))
    with pytest.raises(TemplateError) as err:
        cloud.deploy(template, "us-west-2", "bad")
    assert str(copy / "fidelity.asl.json") in str(err.value)
    assert "['NoticeTopicArn']" in str(err.value)


def test_a_handler_that_cannot_be_imported_names_the_function_and_the_error(cloud: LocalCloud, copy: Path) -> None:
    template = copy / "template.yaml"
    template.write_text(
        template.read_text().replace("Handler: fidelity.steps.boom", "Handler: fidelity.missing_module.boom")
    )
    with pytest.raises(TemplateError) as err:
        cloud.deploy(template, "us-west-2", "bad")
    message = str(err.value)
    assert "function BoomFunction" in message and str(template) in message
    assert "'fidelity.missing_module.boom' cannot be imported" in message and "ModuleNotFoundError" in message


def test_an_unknown_parameter_override_is_refused(cloud: LocalCloud) -> None:
    with pytest.raises(TemplateError, match=r"\['Colour'\] are not declared"):
        cloud.deploy(FIXTURE / "template.yaml", "us-west-2", "bad", {"Colour": "green"})


def test_a_parameter_that_does_not_match_its_allowed_pattern_is_refused_with_its_constraint() -> None:
    # Given a String parameter with an AllowedPattern and a ConstraintDescription, as CloudFormation checks them
    template = {"Parameters": {"Id": {"Type": "String", "Default": "", "AllowedPattern": "^$|^[0-9a-f]{4}$"}}}
    described = {"Parameters": {"Id": {**template["Parameters"]["Id"], "ConstraintDescription": "a 4-hex id"}}}

    # Then the empty default and a match pass, the whole value must match, and the refusal says why
    assert resolve_parameters(template, {}, "t.yaml") == {"Id": ""}
    assert resolve_parameters(template, {"Id": "beef"}, "t.yaml") == {"Id": "beef"}
    with pytest.raises(TemplateError, match="must match pattern"):
        resolve_parameters(template, {"Id": "beef0"}, "t.yaml")
    with pytest.raises(TemplateError, match="Id='SET-ME': a 4-hex id"):
        resolve_parameters(described, {"Id": "SET-ME"}, "t.yaml")
