"""Fidelity of the embedded AWS on a test-only state machine that uses every ASL feature the app uses.

Each test asserts the exact output and the execution history, so a moto upgrade that changes how any of
these features behaves fails here first.
"""

from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from localcloud.cloud import LocalCloud
from localcloud.deployer import Stack

FIXTURE = Path(__file__).parent / "fixtures" / "fidelity" / "template.yaml"
TEXT = 'say "hi" \\ and\ngoodbye'


@pytest.fixture
def stack(cloud: LocalCloud) -> Stack:
    # IAM enforcement off: this fixture stack tests ASL features; its state machine and functions carry no
    # Policies, so AWS (and localcloud with enforcement on) would deny every Lambda invoke and write.
    cloud.iam.enabled = False
    return cloud.deploy(FIXTURE, "us-west-2", "fid")


def start(cloud: LocalCloud, stack: Stack, **overrides: Any) -> str:
    payload = {"value": 4, "items": ["a", "b"], "text": TEXT, "callback": "skip", "failures": 1, **overrides}
    return cloud.start_execution(stack.arn("FidelityStateMachine"), payload)


def entered(cloud: LocalCloud, execution: str) -> list[str]:
    return [e["stateEnteredEventDetails"]["name"] for e in cloud.history(execution) if "stateEnteredEventDetails" in e]


def event_time(cloud: LocalCloud, execution: str, kind: str, name: str) -> datetime:
    detail = "stateEnteredEventDetails" if kind.endswith("Entered") else "stateExitedEventDetails"
    return next(e["timestamp"] for e in cloud.history(execution) if e["type"] == kind and e[detail]["name"] == name)


def test_every_feature_produces_the_exact_output(cloud: LocalCloud, stack: Stack) -> None:
    # Given a value that doubles past 5, two items that each fail once, and text that needs escaping
    execution = start(cloud, stack)

    # When the execution runs
    result = cloud.wait(execution)

    # Then the output is exactly what every feature computes
    assert result["status"] == "SUCCEEDED"
    assert json.loads(result["output"]) == {
        "caught": "PermanentError",
        "cause": "cannot process the widget: it is not there",
        "text": TEXT,
        "tableStatus": "ACTIVE",
        "approval": None,
        "hash": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        "partition": [[1, 2], [3, 4], [5]],
        "range": [1, 5, 9],
    }
    # Parallel branches and Map items enter in any order; everything else in exactly this order.
    states = entered(cloud, execution)
    assert states[:5] == ["AssignInputs", "DoubleValue", "ChooseWait", "WaitAnHour", "FanOut"]
    assert sorted(states[5:8]) == ["DoubleInRed", "PublishNotice", "PutResult"]
    assert states[8:] == [
        "ProcessItems",
        "RunFlaky",
        "RunFlaky",
        "DescribeResults",
        "ChooseCallback",
        "FailOnPurpose",
        "Summarize",
        "Done",
    ]


def test_parallel_branches_write_publish_and_see_their_own_environment(cloud: LocalCloud, stack: Stack) -> None:
    queue = cloud.client("sqs", "us-west-2").create_queue(QueueName="notices")["QueueUrl"]
    queue_arn = cloud.client("sqs", "us-west-2").get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    cloud.client("sns", "us-west-2").subscribe(
        TopicArn=stack.physical("NoticeTopic"), Protocol="sqs", Endpoint=queue_arn
    )

    execution = start(cloud, stack, value=2)
    assert cloud.wait(execution)["status"] == "SUCCEEDED"

    item = cloud.client("dynamodb", "us-west-2").get_item(
        TableName="fidelity-results-us-west-2", Key={"pk": {"S": execution.rsplit(":", 1)[-1]}}
    )["Item"]
    assert item == {"pk": {"S": execution.rsplit(":", 1)[-1]}, "value": {"N": "4"}, "text": {"S": TEXT}}
    messages = cloud.client("sqs", "us-west-2").receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    assert [json.loads(m["Body"])["Message"] for m in messages] == ["value is 4"]
    fan_out = next(e for e in cloud.history(execution) if e["type"] == "ParallelStateExited")[
        "stateExitedEventDetails"
    ]["output"]
    assert json.loads(fan_out) == {
        "value": 4,
        "stored": "stored",
        "published": True,
        "colors": ["blue", "red"],
    }


def test_a_wait_of_one_hour_moves_the_virtual_clock_not_the_real_one(cloud: LocalCloud, stack: Stack) -> None:
    started = time.monotonic()
    execution = start(cloud, stack, value=4, items=[])
    assert cloud.wait(execution)["status"] == "SUCCEEDED"
    real_seconds = time.monotonic() - started

    waited = event_time(cloud, execution, "WaitStateExited", "WaitAnHour") - event_time(
        cloud, execution, "WaitStateEntered", "WaitAnHour"
    )
    assert 3600 <= waited.total_seconds() < 3600 + real_seconds  # the jump, and the clock's real-time ticking
    assert real_seconds < 30  # the hour was not slept: a real sleep would take 3600 s


def test_choice_skips_the_wait_for_small_values(cloud: LocalCloud, stack: Stack) -> None:
    execution = start(cloud, stack, value=1, items=[])
    assert cloud.wait(execution)["status"] == "SUCCEEDED"
    assert "WaitAnHour" not in entered(cloud, execution)


def test_retry_carries_each_map_item_through_its_transient_failures(cloud: LocalCloud, stack: Stack) -> None:
    execution = start(cloud, stack, value=1, items=["a", "b", "c"], failures=2)
    assert cloud.wait(execution)["status"] == "SUCCEEDED"
    history = cloud.history(execution)
    failures = [
        e
        for e in history
        if e["type"] == "LambdaFunctionFailed"
        or (e["type"] == "TaskFailed" and e["taskFailedEventDetails"]["error"] == "TransientError")
    ]
    assert len(failures) == 6  # two failed attempts per item, each retried
    map_exit = next(e for e in history if e["type"] == "MapStateExited")["stateExitedEventDetails"]["output"]
    assert sorted(json.loads(map_exit)["processed"], key=lambda p: p["item"]) == [
        {"item": "a", "attempts": 3},
        {"item": "b", "attempts": 3},
        {"item": "c", "attempts": 3},
    ]


def _token(cloud: LocalCloud, execution: str) -> str:
    cloud.wait_for_state(execution, "WaitForCallback")
    from fidelity import steps  # the fixture's handler module, imported by the in-process runtime

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if steps.TOKENS:
            return steps.TOKENS.pop()
        time.sleep(0.01)
    raise AssertionError("the callback step never received its task token")


def test_wait_for_task_token_resumes_on_send_task_success(cloud: LocalCloud, stack: Stack) -> None:
    execution = start(cloud, stack, value=1, items=[], callback="wait")
    token = _token(cloud, execution)
    cloud.client("stepfunctions", "us-west-2").send_task_success(
        taskToken=token, output=json.dumps({"approved_by": "ops"})
    )
    result = cloud.wait(execution)
    assert result["status"] == "SUCCEEDED"
    assert json.loads(result["output"])["approval"] == {"approved_by": "ops"}


def test_wait_for_task_token_is_caught_on_send_task_failure(cloud: LocalCloud, stack: Stack) -> None:
    execution = start(cloud, stack, value=1, items=[], callback="wait")
    token = _token(cloud, execution)
    cloud.client("stepfunctions", "us-west-2").send_task_failure(taskToken=token, error="Rejected", cause="not today")
    result = cloud.wait(execution)
    assert (result["status"], result["error"], result["cause"]) == ("FAILED", "CallbackRejected", "not today")


def test_wait_for_task_token_times_out_on_the_virtual_clock(cloud: LocalCloud, stack: Stack) -> None:
    execution = start(cloud, stack, value=1, items=[], callback="wait")
    _token(cloud, execution)
    time.sleep(0.2)
    assert cloud.describe(execution)["status"] == "RUNNING"  # 600 s timeout, nothing advanced the clock yet
    cloud.advance(601)
    result = cloud.wait(execution)
    assert (result["status"], result["error"], result["cause"]) == (
        "FAILED",
        "CallbackTimedOut",
        "States.Timeout",
    )


def test_an_event_matching_the_rule_pattern_starts_the_state_machine(cloud: LocalCloud, stack: Stack) -> None:
    arn = stack.arn("FidelityStateMachine")
    cloud.put_event("us-west-2", "fidelity.test", "Ping", {"go": "no"})
    cloud.put_event("us-west-2", "fidelity.test", "Ping", {"go": "yes"})
    deadline = time.monotonic() + 10
    while not cloud.executions(arn) and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.2)
    executions = cloud.executions(arn)
    assert len(executions) == 1
    assert json.loads(cloud.describe(executions[0]["executionArn"])["input"])["detail"] == {"go": "yes"}


def test_a_schedule_fires_when_the_virtual_clock_passes_it(cloud: LocalCloud, stack: Stack) -> None:
    arn = stack.arn("FidelityStateMachine")
    now = cloud.clock.now()
    next_two_am = now.replace(hour=2, minute=0, second=0, microsecond=0)
    if next_two_am <= now:
        next_two_am = (
            next_two_am.replace(day=now.day) + (next_two_am - next_two_am) + __import__("datetime").timedelta(days=1)
        )
    cloud.advance((next_two_am - now).total_seconds() - 5)
    assert cloud.executions(arn) == []
    cloud.advance(10)
    executions = cloud.executions(arn)
    assert len(executions) == 1
    assert json.loads(cloud.describe(executions[0]["executionArn"])["input"])["text"] == "scheduled"
