"""Bad input to localcloud fails with a message that names the file and the problem."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from localcloud.cloud import LocalCloud
from localcloud.errors import TemplateError
from localcloud.template import load_template, resolve_parameters

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


def _function_with_code_in_a_layer(root: Path, layer: str) -> Path:
    """A template whose function ships nothing of its own and imports its handler from a layer folder."""
    (root / "own").mkdir()
    (root / "own" / "README.md").write_text("the code is the layer's\n")
    (root / "shared" / "layered").mkdir(parents=True)
    (root / "shared" / "layered" / "__init__.py").write_text("")
    (root / "shared" / "layered" / "step.py").write_text("def handler(event, context):\n    return {'from': 'layer'}\n")
    template = root / "template.yaml"
    template.write_text(
        "Transform: AWS::Serverless-2016-10-31\n"
        "Resources:\n"
        "  CodeLayer:\n"
        "    Type: AWS::Serverless::LayerVersion\n"
        "    Properties: {ContentUri: shared/}\n"
        "    Metadata: {BuildMethod: python3.13}\n"
        "  StepFunction:\n"
        "    Type: AWS::Serverless::Function\n"
        "    Properties:\n"
        "      Runtime: python3.13\n"
        "      CodeUri: own/\n"
        "      Handler: layered.step.handler\n"
        f"      Layers: [{layer}]\n"
    )
    return template


def test_a_function_imports_its_handler_from_its_layer(cloud: LocalCloud, tmp_path: Path) -> None:
    stack = cloud.deploy(_function_with_code_in_a_layer(tmp_path, "!Ref CodeLayer"), "us-west-2", "layered")
    out = cloud.client("lambda", "us-west-2").invoke(FunctionName=stack.physical("StepFunction"), Payload=b"{}")
    assert out["Payload"].read() == b'{"from": "layer"}'


def test_a_layer_that_is_not_the_templates_is_refused_by_name(cloud: LocalCloud, tmp_path: Path) -> None:
    arn = "arn:aws:lambda:us-west-2:123456789012:layer:elsewhere:3"
    with pytest.raises(TemplateError) as err:
        cloud.deploy(_function_with_code_in_a_layer(tmp_path, arn), "us-west-2", "layered")
    assert "function StepFunction" in str(err.value) and arn in str(err.value)


def test_each_load_of_a_template_is_its_own_copy_and_an_edited_file_is_read_again(tmp_path: Path) -> None:
    # Given a template loaded once (its parse is kept: every test deploys the same template)
    path = tmp_path / "template.yaml"
    path.write_text("Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n    Properties: {TopicName: a}\n")
    first = load_template(path)
    first["Resources"]["Topic"]["Properties"]["TopicName"] = "changed by a deploy"

    # Then a second load is not the first one's copy, edited or not
    assert load_template(path)["Resources"]["Topic"]["Properties"]["TopicName"] == "a"

    # And an edited file is what the next load reads; a YAML timestamp (JSON cannot hold it) still loads
    path.write_text("Version: 2012-10-17\nResources:\n  Topic:\n    Type: AWS::SNS::Topic\n")
    again = load_template(path)
    assert again["Version"] == date(2012, 10, 17) and again["Resources"]["Topic"] == {"Type": "AWS::SNS::Topic"}
