"""Rule targets and their dead-letter queues as localcloud deploys and routes them (localcloud.events): a rule
publishes to a topic only when the topic policy and its key policy let EventBridge in; what a target does not
take goes to the target's DeadLetterConfig queue with EventBridge's attributes, if the queue policy lets the
rule send; the queue keeps the encryption the template gives it."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.sns.models import sns_backends

from localcloud.cloud import LocalCloud
from localcloud.deployer import Stack

REGION = "us-west-2"
PATTERN = {"source": ["test.app"]}
EVENTS = {"Service": "events.amazonaws.com"}
RULES_OF_THE_STACK = "arn:aws:events:${AWS::Region}:${AWS::AccountId}:rule/${AWS::StackName}-*"


def template(topic_policy: bool = True, key_allows_events: bool = True, queue_policy: bool = True) -> dict[str, Any]:
    key_statements: list[dict[str, Any]] = [
        {
            "Effect": "Allow",
            "Principal": {"AWS": {"Fn::Sub": "arn:aws:iam::${AWS::AccountId}:root"}},
            "Action": "kms:*",
            "Resource": "*",
        }
    ]
    if key_allows_events:
        key_statements.append(
            {"Effect": "Allow", "Principal": EVENTS, "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*"}
        )
    resources: dict[str, Any] = {
        "Key": {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": {"Statement": key_statements}}},
        "Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "notices", "KmsMasterKeyId": {"Ref": "Key"}}},
        "Dlq": {
            "Type": "AWS::SQS::Queue",
            "Properties": {"QueueName": "dead-letters", "SqsManagedSseEnabled": True},
        },
        "Rule": {
            "Type": "AWS::Events::Rule",
            "Properties": {
                "EventPattern": PATTERN,
                "Targets": [
                    {
                        "Id": "topic",
                        "Arn": {"Ref": "Topic"},
                        "DeadLetterConfig": {"Arn": {"Fn::GetAtt": ["Dlq", "Arn"]}},
                    }
                ],
            },
        },
    }
    if topic_policy:
        resources["TopicPolicy"] = {
            "Type": "AWS::SNS::TopicPolicy",
            "Properties": {
                "Topics": [{"Ref": "Topic"}],
                "PolicyDocument": {
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": EVENTS,
                            "Action": "sns:Publish",
                            "Resource": {"Ref": "Topic"},
                            "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}},
                        }
                    ]
                },
            },
        }
    if queue_policy:
        resources["DlqPolicy"] = {
            "Type": "AWS::SQS::QueuePolicy",
            "Properties": {
                "Queues": [{"Ref": "Dlq"}],
                "PolicyDocument": {
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": EVENTS,
                            "Action": "sqs:SendMessage",
                            "Resource": {"Fn::GetAtt": ["Dlq", "Arn"]},
                            "Condition": {"ArnLike": {"aws:SourceArn": {"Fn::Sub": RULES_OF_THE_STACK}}},
                        }
                    ]
                },
            },
        }
    return {"Resources": resources}


def deploy(cloud: LocalCloud, tmp_path: Path, body: dict[str, Any]) -> Stack:
    path = tmp_path / "template.yaml"
    path.write_text(json.dumps(body))
    return cloud.deploy(path, REGION, "nets")


def emit(cloud: LocalCloud) -> dict[str, Any]:
    event = {"version": "0", "id": str(uuid.uuid4()), "source": "test.app", "detail-type": "t", "detail": {"n": 1}}
    cloud.router.dispatch(event, REGION, "default")
    return event


def dead_letters(cloud: LocalCloud) -> list[dict[str, Any]]:
    sqs = cloud.client("sqs", REGION)
    url = sqs.get_queue_url(QueueName="dead-letters")["QueueUrl"]
    out = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"])
    return out.get("Messages", [])


def published(topic_arn: str) -> list[str]:
    return [n[1] for n in sns_backends[DEFAULT_ACCOUNT_ID][REGION].topics[topic_arn].sent_notifications]


def test_a_rule_publishes_the_event_to_a_topic_whose_policies_let_eventbridge_in(
    cloud: LocalCloud, tmp_path: Path
) -> None:
    stack = deploy(cloud, tmp_path, template())

    event = emit(cloud)

    assert [json.loads(m)["id"] for m in published(stack.physical("Topic"))] == [event["id"]]
    assert dead_letters(cloud) == []
    attributes = cloud.client("sqs", REGION).get_queue_attributes(
        QueueUrl=stack.physical("Dlq"), AttributeNames=["SqsManagedSseEnabled"]
    )["Attributes"]
    assert attributes == {"SqsManagedSseEnabled": "true"}


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (template(topic_policy=False), "AuthorizationError"),
        (template(key_allows_events=False), "KMS.AccessDeniedException"),
    ],
    ids=["topic-policy", "key-policy"],
)
def test_a_target_that_refuses_the_event_dead_letters_it_with_eventbridges_attributes(
    cloud: LocalCloud, tmp_path: Path, body: dict[str, Any], error: str
) -> None:
    # Given a rule whose topic (or the topic's key) does not let EventBridge publish
    stack = deploy(cloud, tmp_path, body)

    # When an event matches
    event = emit(cloud)

    # Then nothing is published and the event waits in the dead-letter queue, saying which rule and why
    assert published(stack.physical("Topic")) == []
    (message,) = dead_letters(cloud)
    assert json.loads(message["Body"])["id"] == event["id"]
    attrs = {k: v["StringValue"] for k, v in message["MessageAttributes"].items()}
    assert attrs["RULE_ARN"].endswith(":rule/nets-Rule")
    assert attrs["TARGET_ARN"] == stack.physical("Topic")
    assert error in attrs["ERROR_MESSAGE"]
    assert cloud.router.undelivered[-1]["dead_letter"] == stack.arn("Dlq")


def test_without_a_queue_policy_for_the_rule_the_failed_event_is_lost(cloud: LocalCloud, tmp_path: Path) -> None:
    deploy(cloud, tmp_path, template(topic_policy=False, queue_policy=False))

    emit(cloud)

    assert dead_letters(cloud) == []
    assert cloud.router.undelivered[-1]["dead_letter"] is None
