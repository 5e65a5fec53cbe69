"""Helpers for whole-workflow tests: start a workflow, read what it notified, read its audit record."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from localcloud.cloud import TERMINAL, LocalCloud, pauses
from localcloud.scenario import Platform
from tests import forkserver


class Inbox:
    """An SQS queue subscribed to the DR topic: what the on-call would have received."""

    def __init__(self, cloud: LocalCloud, topic_arn: str, region: str) -> None:
        self.sqs = cloud.client("sqs", region)
        self.url = self.sqs.create_queue(QueueName=f"inbox-{int(time.monotonic() * 1e6)}")["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        cloud.client("sns", region).subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn)
        self.received: list[dict[str, Any]] = []

    def messages(self) -> list[dict[str, Any]]:
        while True:
            batch = self.sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10).get("Messages", [])
            if not batch:
                return self.received
            for message in batch:
                body = json.loads(message["Body"])
                # EventBridge publishes with no subject (the primary region's forwarded alarms)
                self.received.append({"subject": body.get("Subject") or "", "message": body["Message"]})
                self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])

    def subjects(self) -> list[str]:
        return [m["subject"] for m in self.messages()]


@pytest.fixture
@forkserver.fork_safe
def backups(platform: Platform) -> Platform:
    """The platform with the backups its plan would have made by now."""
    platform.seed_backup_history()
    return platform


@pytest.fixture
@forkserver.fork_safe
def inbox(platform: Platform) -> Inbox:
    return Inbox(platform.cloud, platform.stack.physical("EventsTopic"), platform.design.recovery_region)


def audit(platform: Platform, execution: str) -> dict[str, Any]:
    item = platform.cloud.client("dynamodb", platform.design.recovery_region).get_item(
        TableName=platform.stack.physical("StateTable"), Key={"pk": {"S": f"audit#{execution}"}}
    )["Item"]
    return dict(json.loads(item["report"]["S"]))


def lease(platform: Platform) -> dict[str, Any]:
    from dr.lease import describe_with

    return (
        describe_with(
            platform.cloud.client("dynamodb", platform.design.recovery_region), platform.stack.physical("StateTable")
        )
        or {}
    )


def start(platform: Platform, workflow: str, payload: Any) -> str:
    logical = {"failover": "FailoverStateMachine", "failback": "FailbackStateMachine"}[workflow]
    return platform.cloud.start_execution(platform.stack.arn(logical), payload)


def wait_until(condition: Callable[[], Any], timeout: float = 120.0) -> Any:
    deadline, sleeps = time.monotonic() + timeout, pauses()
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(next(sleeps))
    raise AssertionError("the condition never became true")


def approval_token(platform: Platform, execution: str) -> str:
    ddb = platform.cloud.client("dynamodb", platform.design.recovery_region)

    def token() -> str | None:
        item = ddb.get_item(TableName=platform.stack.physical("StateTable"), Key={"pk": {"S": f"approval#{execution}"}})
        return item.get("Item", {}).get("token", {}).get("S")

    return str(wait_until(token))


def run_to_end(platform: Platform, execution: str, approve: bool = True, timeout: float = 60.0) -> dict[str, Any]:
    """Follow an execution to its end, approving at its gate when it asks (a failover may ask or proceed)."""
    sfn = platform.cloud.client("stepfunctions", platform.design.recovery_region)
    table = platform.stack.physical("StateTable")
    ddb = platform.cloud.client("dynamodb", platform.design.recovery_region)
    deadline, sleeps = time.monotonic() + timeout, pauses()
    answered = False
    while time.monotonic() < deadline:
        described = platform.cloud.describe(execution)
        if described["status"] in TERMINAL:
            return described
        item = ddb.get_item(TableName=table, Key={"pk": {"S": f"approval#{execution}"}}).get("Item")
        if item and approve and not answered:
            sfn.send_task_success(taskToken=item["token"]["S"], output='{"approved_by": "sre"}')
            answered = True
        time.sleep(next(sleeps))
    raise AssertionError(f"{execution} did not end within {timeout} s")
