"""The stack's safety nets on localcloud: each alarm state change reaches the on-call once, with the alarm's
own description (the recovery region's through AlarmActions, the primary region's forwarded to the
AlarmNotificationRule), and a failover trigger the state machine does not take waits in the dead-letter queue
instead of vanishing."""

from __future__ import annotations

import json

from localcloud.scenario import Platform
from tests.workflows.conftest import Inbox, wait_until


def set_alarm(platform: Platform, region: str, suffix: str, state: str = "ALARM") -> None:
    platform.cloud.client("cloudwatch", region).set_alarm_state(
        AlarmName=f"{platform.design.stack_name}-{suffix}", StateValue=state, StateReason="test"
    )


def about(inbox: Inbox, alarm: str) -> list[str]:
    return [m["message"] for m in inbox.messages() if alarm in m["message"]]


def test_a_recovery_region_alarm_notifies_once_with_its_description(platform: Platform, inbox: Inbox) -> None:
    # When the failover-failed alarm goes to ALARM in us-west-2
    set_alarm(platform, platform.design.recovery_region, "failover-failed")

    # Then the on-call gets one message, CloudWatch's, with the alarm's description
    name = f"{platform.design.stack_name}-failover-failed"
    (message,) = wait_until(lambda: about(inbox, name))
    body = json.loads(message)
    assert (body["AlarmName"], body["NewStateValue"]) == (name, "ALARM")
    assert body["AlarmDescription"] == "A failover execution failed, timed out or was aborted."


def test_a_primary_region_alarm_is_forwarded_and_notifies_once_with_its_description(
    platform: Platform, inbox: Inbox
) -> None:
    # When a DynamoDB table's replication alarm goes to ALARM in us-east-1 (no topic there)
    suffix = f"dynamodb-replication-latency-{platform.design.tables[0]}"
    set_alarm(platform, platform.design.primary_region, suffix)

    # Then it arrives in us-west-2 and the on-call gets one message: the event, with the alarm's description
    name = f"{platform.design.stack_name}-{suffix}"
    (message,) = wait_until(lambda: about(inbox, name))
    event = json.loads(message)
    assert (event["region"], event["detail"]["state"]["value"]) == (platform.design.primary_region, "ALARM")
    assert event["detail"]["configuration"]["description"] == (
        f"Replication latency of the protected DynamoDB table {platform.design.tables[0]} to the recovery region"
        " is over 5 s."
    )


def test_a_failover_trigger_the_state_machine_refuses_waits_in_the_dead_letter_queue(platform: Platform) -> None:
    # Given Step Functions in us-west-2 refuses to start executions
    recovery = platform.design.recovery_region
    # (EventBridge's own delivery is not the application: the fault is aimed at every caller)
    platform.cloud.faults.inject(
        "stepfunctions", "StartExecution", "access-denied", times=None, region=recovery, everyone=True
    )

    # When the primary's health alarm fires and is forwarded
    platform.alarm_event("ALARM")

    # Then no failover runs, and the alarm event is in the recovery region's dead-letter queue, saying why
    sqs = platform.cloud.client("sqs", recovery)
    url = sqs.get_queue_url(QueueName=f"{platform.design.stack_name}-dead-letters")["QueueUrl"]

    def dead_letters() -> list[dict]:
        return sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"]).get("Messages", [])

    (message,) = wait_until(dead_letters)
    assert json.loads(message["Body"])["detail"]["alarmName"] == f"{platform.design.stack_name}-primary-health"
    attrs = {k: v["StringValue"] for k, v in message["MessageAttributes"].items()}
    assert attrs["TARGET_ARN"] == platform.stack.arn("FailoverStateMachine")
    assert "AccessDenied" in attrs["ERROR_CODE"]
    assert platform.cloud.executions(platform.stack.arn("FailoverStateMachine")) == []
