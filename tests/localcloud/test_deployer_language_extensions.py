"""The AWS::LanguageExtensions transform as localcloud applies it (localcloud.template): Fn::ForEach in each
place CloudFormation allows it, the identifier where AWS substitutes it and nowhere else, Fn::Length,
Fn::ToJsonString, and the errors CloudFormation gives for a loop it cannot expand."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from localcloud.cloud import LocalCloud
from localcloud.errors import TemplateError
from localcloud.template import Context, evaluate, expand_language_extensions

TRANSFORM = ["AWS::LanguageExtensions", "AWS::Serverless-2016-10-31"]
PARAMS = {"Tables": ["users-prod", "call-records-prod"], "Region": "us-west-2"}


def expand(body: dict[str, Any], params: dict[str, Any] | None = None) -> dict[str, Any]:
    return expand_language_extensions({"Transform": TRANSFORM, **body}, PARAMS if params is None else params, "t.yaml")


def test_a_resource_loop_makes_one_resource_per_item_with_the_identifier_in_keys_refs_and_subs() -> None:
    # Given a loop over a CommaDelimitedList parameter that names each resource after its item
    resources = {
        "Fn::ForEach::Alarms": [
            "Table",
            {"Ref": "Tables"},
            {
                "Alarm&{Table}": {
                    "Type": "AWS::CloudWatch::Alarm",
                    "Properties": {
                        "AlarmName": {"Fn::Sub": "${AWS::StackName}-lag-${Table}"},
                        "Dimensions": [{"Name": "TableName", "Value": {"Ref": "Table"}}],
                        "AlarmDescription": "replication of ${Table}",
                    },
                }
            },
        ],
        "Other": {"Type": "AWS::SNS::Topic"},
    }

    # When the transform expands it
    out = expand({"Resources": resources})["Resources"]

    # Then each item is a resource: &{} strips non-alphanumerics in the key, Ref and Fn::Sub get the item,
    # and a plain string keeps ${Table} literally, as AWS leaves it
    assert sorted(out) == ["Alarmcallrecordsprod", "Alarmusersprod", "Other"]
    props = out["Alarmusersprod"]["Properties"]
    assert props["AlarmName"] == {"Fn::Sub": "${AWS::StackName}-lag-users-prod"}
    assert props["Dimensions"] == [{"Name": "TableName", "Value": "users-prod"}]
    assert props["AlarmDescription"] == "replication of ${Table}"


def test_a_loop_inside_properties_and_a_nested_loop_expand_in_place() -> None:
    # Given a loop in a property (a map) and two nested loops in Outputs
    body = {
        "Resources": {
            "Param": {
                "Type": "AWS::SSM::Parameter",
                "Properties": {
                    "Tags": {"Fn::ForEach::Tags": ["T", {"Ref": "Tables"}, {"dr:${T}": {"Fn::Sub": "${T}-tag"}}]}
                },
            }
        },
        "Outputs": {
            "Fn::ForEach::Outer": [
                "T",
                {"Ref": "Tables"},
                {"Fn::ForEach::Inner": ["Kind", ["Arn", "Name"], {"Out&{T}${Kind}": {"Value": {"Ref": "T"}}}]},
            ]
        },
    }

    out = expand(body)

    assert out["Resources"]["Param"]["Properties"]["Tags"] == {
        "dr:users-prod": {"Fn::Sub": "users-prod-tag"},
        "dr:call-records-prod": {"Fn::Sub": "call-records-prod-tag"},
    }
    assert sorted(out["Outputs"]) == [
        "OutcallrecordsprodArn",
        "OutcallrecordsprodName",
        "OutusersprodArn",
        "OutusersprodName",
    ]


def test_a_logical_id_built_with_sub_from_the_identifier_becomes_a_plain_ref_and_getatt() -> None:
    body = {
        "Conditions": {"Fn::ForEach::Has": ["T", ["A", "B"], {"Is${T}": {"Fn::Equals": [{"Ref": "T"}, "A"]}}]},
        "Outputs": {
            "Fn::ForEach::O": [
                "T",
                ["A"],
                {
                    "Ref${T}": {"Value": {"Ref": {"Fn::Sub": "Topic${T}"}}},
                    "Att${T}": {"Value": {"Fn::GetAtt": [{"Fn::Sub": "Topic${T}"}, "TopicName"]}},
                },
            ]
        },
    }

    out = expand(body)

    assert out["Conditions"] == {"IsA": {"Fn::Equals": ["A", "A"]}, "IsB": {"Fn::Equals": ["B", "A"]}}
    assert out["Outputs"]["RefA"]["Value"] == {"Ref": "TopicA"}
    assert out["Outputs"]["AttA"]["Value"] == {"Fn::GetAtt": ["TopicA", "TopicName"]}


def test_a_collection_of_refs_to_string_parameters_is_resolved() -> None:
    body = {"Outputs": {"Fn::ForEach::R": ["R", [{"Ref": "Region"}, "us-east-1"], {"In&{R}": {"Value": "x"}}]}}
    assert sorted(expand(body)["Outputs"]) == ["Inuseast1", "Inuswest2"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"Resources": {"Fn::ForEach::X": ["T", ["a"]]}}, "layout is incorrect"),
        ({"Resources": {"Fn::ForEach::X": ["Tables", ["a"], {"R${Tables}": {}}]}}, "already a parameter"),
        ({"Resources": {"Fn::ForEach::X": ["T", ["a-b", "ab"], {"R&{T}": {}}]}}, "key 'Rab' twice"),
        ({"Resources": {"Fn::ForEach::X": ["T", {"Ref": "Region"}, {"R${T}": {}}]}}, "must be a list of strings"),
    ],
)
def test_a_loop_cloudformation_cannot_expand_is_a_template_error(body: dict[str, Any], message: str) -> None:
    with pytest.raises(TemplateError, match=message):
        expand(body)


def test_loops_nest_at_most_five_deep() -> None:
    fragment: dict[str, Any] = {"Leaf${L5}": {"Type": "AWS::SNS::Topic"}}
    for depth in range(5, -1, -1):
        fragment = {f"Fn::ForEach::L{depth}": [f"L{depth}", ["a"], fragment]}
    with pytest.raises(TemplateError, match="nest at most 5 deep"):
        expand({"Resources": fragment})


def test_for_each_without_the_transform_is_refused() -> None:
    template = {"Transform": "AWS::Serverless-2016-10-31", "Resources": {"Fn::ForEach::X": ["T", ["a"], {}]}}
    with pytest.raises(TemplateError, match="needs the AWS::LanguageExtensions transform"):
        expand_language_extensions(template, {}, "t.yaml")


def test_length_and_to_json_string_resolve_with_the_other_intrinsics() -> None:
    ctx = Context(source="t.yaml", region="us-west-2", stack_name="dr", parameters=dict(PARAMS))
    assert evaluate({"Fn::Length": {"Ref": "Tables"}}, ctx) == 2
    assert evaluate({"Fn::Length": {"Fn::Split": [",", "a,b,c"]}}, ctx) == 3
    text = evaluate({"Fn::ToJsonString": {"tables": {"Ref": "Tables"}, "region": {"Ref": "AWS::Region"}}}, ctx)
    assert text == '{"tables":["users-prod","call-records-prod"],"region":"us-west-2"}'
    with pytest.raises(TemplateError, match="nonexistent value at index 2"):
        evaluate({"Fn::Select": [2, {"Ref": "Tables"}]}, ctx)


def test_the_deployer_expands_loops_with_the_parameters_of_the_deploy(cloud: LocalCloud, tmp_path: Path) -> None:
    # Given a template whose queues come from a list parameter
    template = tmp_path / "template.yaml"
    template.write_text(
        json.dumps(
            {
                "Transform": TRANSFORM,
                "Parameters": {"Names": {"Type": "CommaDelimitedList", "Default": "a"}},
                "Resources": {
                    "Fn::ForEach::Queues": [
                        "Name",
                        {"Ref": "Names"},
                        {"Queue&{Name}": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": {"Ref": "Name"}}}},
                    ]
                },
                "Outputs": {"Count": {"Value": {"Fn::Length": {"Ref": "Names"}}}},
            }
        )
    )

    # When it is deployed with three names
    stack = cloud.deploy(template, "us-west-2", "loops", {"Names": "q-one,q-two,q-three"})

    # Then three queues exist, one per name, and the output counts them
    urls = cloud.client("sqs", "us-west-2").list_queues()["QueueUrls"]
    assert sorted(u.rsplit("/", 1)[-1] for u in urls) == ["q-one", "q-three", "q-two"]
    assert sorted(stack.resources) == ["Queueqone", "Queueqthree", "Queueqtwo"]
    assert stack.outputs["Count"] == 3
