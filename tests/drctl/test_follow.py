"""drctl's follow reads only the events it has not printed yet, and reads them less often while nothing moves."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from drctl import operations
from drctl.operations import events_after, follow
from drctl.target import Target

ARN = "arn:aws:states:us-west-2:123456789012:execution:roadcall-dr-failover:drill"
STARTED = datetime(2026, 11, 30, tzinfo=UTC)


def event(n: int, state: str = "Decide") -> dict[str, Any]:
    return {
        "id": n,
        "timestamp": STARTED,
        "type": "TaskStateEntered",
        "stateEnteredEventDetails": {"name": f"{state}{n}" if state == "Decide" else state},
    }


def history(events: list[dict[str, Any]], token: str | None = None) -> dict[str, Any]:
    return {"events": events, **({"nextToken": token} if token else {})}


def newest_first(token: str | None = None, size: int = 25) -> dict[str, Any]:
    return {"executionArn": ARN, "reverseOrder": True, "maxResults": size, **({"nextToken": token} if token else {})}


@pytest.fixture
def sfn() -> Any:
    return boto3.client("stepfunctions", region_name="us-west-2", aws_access_key_id="k", aws_secret_access_key="s")


def test_the_events_after_the_last_seen_are_read_newest_first_and_given_oldest_first(sfn: Any) -> None:
    with Stubber(sfn) as stub:
        # 250 events, 3 printed: pages of 25 of the newest are read, and the tenth stops at event 3
        for first in range(250, 0, -25):
            page = history([event(n) for n in range(first, first - 25, -1)], f"p{first - 25}" if first > 25 else None)
            stub.add_response("get_execution_history", page, newest_first(f"p{first}" if first < 250 else None))
        assert [e["id"] for e in events_after(sfn, ARN, 3)] == list(range(4, 251))
        # none printed yet (the first read): pages of 100
        for first, token, asked in ((250, "p2", None), (150, "p3", "p2"), (50, None, "p3")):
            page = history([event(n) for n in range(first, max(first - 100, 0), -1)], token)
            stub.add_response("get_execution_history", page, newest_first(asked, size=100))
        assert [e["id"] for e in events_after(sfn, ARN, 0)] == list(range(1, 251))
        # nothing new: one page, nothing returned
        stub.add_response("get_execution_history", history([event(250), event(249)], "more"), newest_first())
        assert events_after(sfn, ARN, 250) == []
        stub.assert_no_pending_responses()


def test_follow_prints_each_event_once_backs_off_while_nothing_moves_and_ends_with_the_execution(
    sfn: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = Target(region="us-west-2", stack_name="roadcall-dr")
    target._clients[("stepfunctions", "us-west-2")] = sfn
    sleeps: list[float] = []
    monkeypatch.setattr(operations.time, "sleep", sleeps.append)
    running, done = {"status": "RUNNING"}, {"status": "SUCCEEDED"}
    with Stubber(sfn) as stub:
        for read, (status, newest) in enumerate(((running, 2), (running, 2), (running, 2), (running, 3), (done, 4))):
            stub.add_response("describe_execution", {**_described(), **status}, {"executionArn": ARN})
            page = history([event(n) for n in range(newest, 0, -1)])
            stub.add_response("get_execution_history", page, newest_first(size=25 if read else 100))
        printed: list[str] = []
        out = follow(target, ARN, printed.append, approver=None)
        stub.assert_no_pending_responses()

    assert out["status"] == "SUCCEEDED"
    assert [line.split("-> ")[1] for line in printed] == ["Decide1", "Decide2", "Decide3", "Decide4"]
    assert sleeps == pytest.approx(
        [0.05, 0.075, 0.1125, 0.05]
    )  # backs off while nothing moves, back to 50 ms when it does


def _described() -> dict[str, Any]:
    return {
        "executionArn": ARN,
        "stateMachineArn": ARN.replace(":execution:", ":stateMachine:").rsplit(":", 1)[0],
        "status": "RUNNING",
        "startDate": STARTED,
    }
