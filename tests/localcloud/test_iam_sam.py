"""A template's SAM ``Policies`` become what the SAM transform makes of them (localcloud/iam/sam.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from localcloud.errors import TemplateError
from localcloud.iam import sam
from localcloud.template import Context

ROOT = Path(__file__).resolve().parents[2]
SAM_COPY = "samtranslator/policy_templates_data/policy_templates.json"
CTX = Context(source="template.yaml", region="us-west-2", stack_name="dr", parameters={})


def test_the_policy_templates_are_sams_own() -> None:
    installed = sorted((ROOT / ".tools" / "sam" / "lib").glob(f"python3*/site-packages/{SAM_COPY}"))
    if not installed:
        pytest.skip("sam-cli is not installed in .tools/sam (make install)")
    ours = json.loads((ROOT / "localcloud" / "iam" / "sam_policy_templates.json").read_text())
    assert ours == json.loads(installed[0].read_text()), "copy samtranslator's policy_templates.json again"


def test_each_kind_of_policies_item_is_expanded() -> None:
    expanded = sam.expand(
        [
            "CloudWatchLogsFullAccess",
            "arn:aws:iam::123456789012:policy/dr-ReadPlatformPolicy",
            {"LambdaInvokePolicy": {"FunctionName": "dr-Step"}},
            {"Statement": [{"Effect": "Allow", "Action": "sns:Publish", "Resource": "*"}]},
        ],
        CTX,
        "template.yaml: Machine",
    )
    assert expanded.managed == [
        "arn:aws:iam::aws:policy/CloudWatchLogsFullAccess",
        "arn:aws:iam::123456789012:policy/dr-ReadPlatformPolicy",
    ]
    invoke, inline = expanded.inline
    assert invoke["Statement"] == [
        {
            "Action": ["lambda:InvokeFunction"],
            "Effect": "Allow",
            "Resource": "arn:aws:lambda:us-west-2:123456789012:function:dr-Step*",
        }
    ]
    assert inline["Statement"][0]["Action"] == "sns:Publish"


def test_a_policy_template_with_wrong_parameters_or_name_is_a_template_error() -> None:
    with pytest.raises(TemplateError, match="needs parameters"):
        sam.expand([{"LambdaInvokePolicy": {"Function": "x"}}], CTX, "t")
    with pytest.raises(TemplateError, match="not a SAM policy template"):
        sam.expand([{"NoSuchPolicy": {}}], CTX, "t")


def test_sam_adds_the_basic_execution_role_and_xray_when_tracing_is_active() -> None:
    assert sam.implicit_managed_policies("AWS::Serverless::Function", {"Tracing": "Active"}) == [
        "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
        "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess",
    ]
    assert sam.implicit_managed_policies("AWS::Serverless::StateMachine", {}) == []
