"""Step Functions as AWS enforces it: task tokens, StopExecution, history pages, status change events, and
executions of one definition sharing its parsed program.

Each test runs real executions of the test-only stack in fixtures/sfn on the embedded AWS.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from localcloud.cloud import LocalCloud
from localcloud.deployer import Stack

FIXTURE = Path(__file__).parent / "fixtures" / "sfn" / "template.yaml"
REGION = "us-west-2"


@pytest.fixture
def stack(cloud: LocalCloud) -> Stack:
    cloud.iam.enabled = False  # the fixture stack has no Policies: these tests are about Step Functions, not IAM
    return cloud.deploy(FIXTURE, REGION, "sfn")


@pytest.fixture
def steps() -> Iterator[Any]:
    from sfnfixture import steps as module  # the fixture's handlers, imported by the in-process runtime

    # Cleared before as well as after: an earlier test's cloud, stopping after this fixture's teardown,
    # aborts the executions that test left waiting, and the watcher rule records those ends too.
    module.RECORDED.clear()
    module.EVENTS.clear()
    yield module
    module.RECORDED.clear()
    module.EVENTS.clear()


def sfn(cloud: LocalCloud) -> Any:
    return cloud.client("stepfunctions", REGION)


def start(cloud: LocalCloud, stack: Stack, machine: str, payload: dict[str, Any]) -> str:
    return cloud.start_execution(stack.arn(machine), payload)


def token_of(steps: Any, execution: str) -> str:
    name = execution.rsplit(":", 1)[-1]
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if name in steps.TOKENS:
            return str(steps.TOKENS[name])
        time.sleep(0.01)
    raise AssertionError(f"{name} never handed out a task token")


def waiting_callback(cloud: LocalCloud, stack: Stack, steps: Any, path: str = "callback") -> tuple[str, str]:
    execution = start(cloud, stack, "CallbackStateMachine", {"path": path})
    return execution, token_of(steps, execution)


def recorded_for(steps: Any, execution: str) -> list[dict[str, Any]]:
    name = execution.rsplit(":", 1)[-1]
    return [r for r in steps.RECORDED if r.get("execution") == name]


def error_of(call: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as err:
        call()
    return err.value.response["Error"]["Code"], err.value.response["Error"]["Message"]


# -- task tokens -------------------------------------------------------------------------------------
def test_an_answered_token_is_refused_on_every_later_answer(cloud: LocalCloud, stack: Stack, steps: Any) -> None:
    # Given a task that was approved
    execution, token = waiting_callback(cloud, stack, steps)
    sfn(cloud).send_task_success(taskToken=token, output=json.dumps({"approved_by": "ops"}))

    # When the same token is answered again, in every way
    client = sfn(cloud)
    later = [
        error_of(lambda: client.send_task_failure(taskToken=token, error="ApprovalRejected", cause="too late")),
        error_of(lambda: client.send_task_success(taskToken=token, output="{}")),
        error_of(lambda: client.send_task_heartbeat(taskToken=token)),
    ]

    # Then each is refused as AWS refuses a closed task, and the first answer stands
    assert later == [("TaskTimedOut", "Task Timed Out: 'Provided task does not exist anymore'")] * 3
    result = cloud.wait(execution)
    assert result["status"] == "SUCCEEDED"
    assert json.loads(result["output"])["answer"] == {"approved_by": "ops"}


def test_approve_then_reject_leaves_the_approval_standing_and_reject_then_approve_the_rejection(
    cloud: LocalCloud, stack: Stack, steps: Any
) -> None:
    approved, approved_token = waiting_callback(cloud, stack, steps)
    rejected, rejected_token = waiting_callback(cloud, stack, steps)
    client = sfn(cloud)

    client.send_task_success(taskToken=approved_token, output="{}")
    with pytest.raises(client.exceptions.TaskTimedOut):
        client.send_task_failure(taskToken=approved_token, error="ApprovalRejected", cause="changed my mind")
    client.send_task_failure(taskToken=rejected_token, error="ApprovalRejected", cause="not today")
    with pytest.raises(client.exceptions.TaskTimedOut):
        client.send_task_success(taskToken=rejected_token, output="{}")

    assert cloud.wait(approved)["status"] == "SUCCEEDED"
    out = cloud.wait(rejected)
    assert (out["status"], out["error"], out["cause"]) == ("FAILED", "ApprovalRejected", "not today")


def test_of_answers_sent_at_once_exactly_one_is_accepted(cloud: LocalCloud, stack: Stack, steps: Any) -> None:
    execution, token = waiting_callback(cloud, stack, steps)
    client = sfn(cloud)
    outcomes: list[str] = []

    def answer(n: int) -> None:
        try:
            client.send_task_success(taskToken=token, output=json.dumps({"by": n}))
            outcomes.append("accepted")
        except client.exceptions.TaskTimedOut:
            outcomes.append("refused")

    threads = [threading.Thread(target=answer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["accepted"] + ["refused"] * 7
    assert cloud.wait(execution)["status"] == "SUCCEEDED"
    assert len(recorded_for(steps, execution)) == 1


@pytest.mark.parametrize("token", ["not-a-token", "6f1c2b1e-0000-4000-8000-000000000000"])
def test_a_token_step_functions_never_issued_is_an_invalid_token(cloud: LocalCloud, stack: Stack, token: str) -> None:
    client = sfn(cloud)
    for call in (
        lambda: client.send_task_success(taskToken=token, output="{}"),
        lambda: client.send_task_failure(taskToken=token, error="E"),
        lambda: client.send_task_heartbeat(taskToken=token),
    ):
        assert error_of(call) == ("InvalidToken", "Invalid Token: 'Invalid token'")


def test_a_token_from_another_region_is_an_invalid_token_there(cloud: LocalCloud, stack: Stack, steps: Any) -> None:
    execution, token = waiting_callback(cloud, stack, steps)
    with pytest.raises(cloud.client("stepfunctions", "us-east-1").exceptions.InvalidToken):
        cloud.client("stepfunctions", "us-east-1").send_task_success(taskToken=token, output="{}")
    sfn(cloud).send_task_success(taskToken=token, output="{}")
    assert cloud.wait(execution)["status"] == "SUCCEEDED"


def test_a_token_whose_task_timed_out_is_refused(cloud: LocalCloud, stack: Stack, steps: Any) -> None:
    # Given a callback task whose 600 s passed without an answer
    execution, token = waiting_callback(cloud, stack, steps)
    cloud.advance(601)
    result = cloud.wait(execution)
    assert (result["status"], result["error"]) == ("FAILED", "States.Timeout")

    # When the answer arrives late, then it is refused
    with pytest.raises(sfn(cloud).exceptions.TaskTimedOut):
        sfn(cloud).send_task_success(taskToken=token, output="{}")


def test_a_heartbeat_of_a_waiting_task_is_accepted_and_changes_nothing(
    cloud: LocalCloud, stack: Stack, steps: Any
) -> None:
    execution, token = waiting_callback(cloud, stack, steps)
    sfn(cloud).send_task_heartbeat(taskToken=token)  # no HeartbeatSeconds declared: AWS accepts it all the same
    assert cloud.describe(execution)["status"] == "RUNNING"
    sfn(cloud).send_task_success(taskToken=token, output='{"ok": true}')
    assert json.loads(cloud.wait(execution)["output"])["answer"] == {"ok": True}


def test_an_output_that_is_not_json_is_refused_and_the_task_keeps_waiting(
    cloud: LocalCloud, stack: Stack, steps: Any
) -> None:
    execution, token = waiting_callback(cloud, stack, steps)
    code, _ = error_of(lambda: sfn(cloud).send_task_success(taskToken=token, output="approved!"))
    assert code == "InvalidOutput"
    assert cloud.describe(execution)["status"] == "RUNNING"
    sfn(cloud).send_task_success(taskToken=token, output='"approved"')
    assert json.loads(cloud.wait(execution)["output"])["answer"] == "approved"


# -- StopExecution -----------------------------------------------------------------------------------
def test_stop_during_a_callback_aborts_at_once_with_the_error_and_cause(
    cloud: LocalCloud, stack: Stack, steps: Any
) -> None:
    # Given an execution waiting for an answer
    execution, token = waiting_callback(cloud, stack, steps)

    # When an operator stops it
    stopped = sfn(cloud).stop_execution(executionArn=execution, error="Operator.Stop", cause="drill cancelled")

    # Then it is ABORTED when the call returns, with what the operator gave, and its history ends there
    described = cloud.describe(execution)
    assert (described["status"], described["error"], described["cause"]) == (
        "ABORTED",
        "Operator.Stop",
        "drill cancelled",
    )
    assert described["stopDate"] == stopped["stopDate"]
    time.sleep(0.3)  # anything still unwinding has had time to try
    history = cloud.history(execution)
    assert history[-1]["type"] == "ExecutionAborted"
    assert history[-1]["executionAbortedEventDetails"] == {"error": "Operator.Stop", "cause": "drill cancelled"}
    assert [e["id"] for e in history] == list(range(1, len(history) + 1))
    assert not [e for e in history if e["type"] in ("TaskFailed", "TaskTimedOut", "ExecutionFailed")]
    # and nothing after it ran; its token is closed
    assert recorded_for(steps, execution) == []
    with pytest.raises(sfn(cloud).exceptions.TaskTimedOut):
        sfn(cloud).send_task_success(taskToken=token, output="{}")


def test_stop_during_a_wait_runs_nothing_after_it_and_leaves_no_timer(
    cloud: LocalCloud, stack: Stack, steps: Any
) -> None:
    # Given an execution in a one-hour Wait (the test holds the clock so the hour cannot pass yet)
    with cloud.clock.busy():
        started = cloud.clock.now()
        execution = start(cloud, stack, "CallbackStateMachine", {"path": "wait"})
        cloud.wait_for_state(execution, "WaitAnHour")

        # When it is stopped
        sfn(cloud).stop_execution(executionArn=execution)
        assert cloud.describe(execution)["status"] == "ABORTED"

    # Then the Wait let go of its timer: the hour never passes and the next state never runs
    time.sleep(0.3)
    assert cloud.clock.pending_timers == []
    assert (cloud.clock.now() - started).total_seconds() < 60
    assert recorded_for(steps, execution) == []
    entered = [e["stateEnteredEventDetails"]["name"] for e in cloud.history(execution) if e["type"].endswith("Entered")]
    assert entered == ["ChoosePath", "WaitAnHour"]


def test_stop_during_a_parallel_state_stops_every_branch(cloud: LocalCloud, stack: Stack, steps: Any) -> None:
    with cloud.clock.busy():
        execution, token = waiting_callback(cloud, stack, steps, path="parallel")
        cloud.wait_for_state(execution, "WaitInBranch")
        sfn(cloud).stop_execution(executionArn=execution, cause="stop both branches")

    time.sleep(0.3)
    assert cloud.describe(execution)["status"] == "ABORTED"
    assert cloud.history(execution)[-1]["type"] == "ExecutionAborted"
    assert cloud.clock.pending_timers == []
    assert recorded_for(steps, execution) == []
    with pytest.raises(sfn(cloud).exceptions.TaskTimedOut):
        sfn(cloud).send_task_success(taskToken=token, output="{}")


def test_stopping_an_ended_execution_changes_nothing(cloud: LocalCloud, stack: Stack, steps: Any) -> None:
    execution, token = waiting_callback(cloud, stack, steps)
    sfn(cloud).send_task_success(taskToken=token, output="{}")
    ended = cloud.wait(execution)

    stopped = sfn(cloud).stop_execution(executionArn=execution, error="Late")

    assert stopped["stopDate"] == ended["stopDate"]
    assert cloud.describe(execution)["status"] == "SUCCEEDED"
    assert cloud.history(execution)[-1]["type"] == "ExecutionSucceeded"


def test_stopping_an_execution_that_does_not_exist_is_refused(cloud: LocalCloud, stack: Stack) -> None:
    missing = stack.arn("CallbackStateMachine").replace(":stateMachine:", ":execution:") + ":nope"
    with pytest.raises(sfn(cloud).exceptions.ExecutionDoesNotExist):
        sfn(cloud).stop_execution(executionArn=missing)


# -- GetExecutionHistory -----------------------------------------------------------------------------
def _pages(cloud: LocalCloud, execution: str, reverse: bool, size: int) -> list[list[int]]:
    pages: list[list[int]] = []
    kwargs: dict[str, Any] = {"executionArn": execution, "reverseOrder": reverse, "maxResults": size}
    while True:
        page = sfn(cloud).get_execution_history(**kwargs)
        pages.append([e["id"] for e in page["events"]])
        if "nextToken" not in page:
            return pages
        kwargs["nextToken"] = page["nextToken"]


def test_history_pages_in_both_orders(cloud: LocalCloud, stack: Stack, steps: Any) -> None:
    execution, token = waiting_callback(cloud, stack, steps)
    sfn(cloud).send_task_success(taskToken=token, output="{}")
    cloud.wait(execution)
    total = len(cloud.history(execution))

    forward = _pages(cloud, execution, reverse=False, size=4)
    backward = _pages(cloud, execution, reverse=True, size=3)

    assert [i for page in forward for i in page] == list(range(1, total + 1))
    assert [i for page in backward for i in page] == list(range(total, 0, -1))
    assert all(len(page) == 4 for page in forward[:-1]) and all(len(page) == 3 for page in backward[:-1])
    newest = sfn(cloud).get_execution_history(executionArn=execution, reverseOrder=True, maxResults=1)["events"][0]
    assert newest["type"] == "ExecutionSucceeded"


def test_paging_backward_while_the_execution_runs_returns_each_event_once(
    cloud: LocalCloud, stack: Stack, steps: Any
) -> None:
    # Given a running execution and the first page of its history, newest first
    execution, token = waiting_callback(cloud, stack, steps)
    client = sfn(cloud)
    first = client.get_execution_history(executionArn=execution, reverseOrder=True, maxResults=2)

    # When the execution goes on and appends events before the next page is read
    client.send_task_success(taskToken=token, output="{}")
    cloud.wait(execution)
    ids = [e["id"] for e in first["events"]]
    kwargs = {"executionArn": execution, "reverseOrder": True, "maxResults": 2, "nextToken": first["nextToken"]}
    while True:
        page = client.get_execution_history(**kwargs)
        ids += [e["id"] for e in page["events"]]
        if "nextToken" not in page:
            break
        kwargs["nextToken"] = page["nextToken"]

    # Then the pages continue where the first stopped, down to the first event, with nothing twice
    assert ids == list(range(ids[0], 0, -1))


def test_a_page_token_is_only_valid_for_its_execution_and_order(cloud: LocalCloud, stack: Stack, steps: Any) -> None:
    execution, _ = waiting_callback(cloud, stack, steps)
    client = sfn(cloud)
    token = client.get_execution_history(executionArn=execution, maxResults=1)["nextToken"]
    with pytest.raises(client.exceptions.InvalidToken):
        client.get_execution_history(executionArn=execution, maxResults=1, reverseOrder=True, nextToken=token)
    with pytest.raises(client.exceptions.InvalidToken):
        client.get_execution_history(executionArn=execution, nextToken="garbage")


def test_history_without_execution_data_leaves_inputs_and_outputs_out(
    cloud: LocalCloud, stack: Stack, steps: Any
) -> None:
    execution, token = waiting_callback(cloud, stack, steps)
    sfn(cloud).send_task_success(taskToken=token, output="{}")
    cloud.wait(execution)
    events = sfn(cloud).get_execution_history(executionArn=execution, includeExecutionData=False)["events"]
    details = [v for e in events for k, v in e.items() if k.endswith("EventDetails")]
    assert details and not [d for d in details if "input" in d or "output" in d]
    assert any("input" in v for e in cloud.history(execution) for k, v in e.items() if k.endswith("EventDetails"))


# -- execution status change events -----------------------------------------------------------------
def sent_for(cloud: LocalCloud, execution: str) -> list[dict[str, Any]]:
    return [e for e in cloud.status_events.sent if e["detail"]["executionArn"] == execution]


def delivered_end(cloud: LocalCloud, *executions: str) -> None:
    """Wait until each execution's end has been sent as an event (the status is set a moment before) and
    every event sent has reached its rules' targets."""
    deadline = time.monotonic() + 10
    while not all(sent_for(cloud, e) and sent_for(cloud, e)[-1]["detail"]["status"] != "RUNNING" for e in executions):
        assert time.monotonic() < deadline, [sent_for(cloud, e) for e in executions]
        time.sleep(0.01)
    cloud.status_events.delivered()


def _millis(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def test_each_status_change_is_an_event_in_the_documented_shape(cloud: LocalCloud, stack: Stack, steps: Any) -> None:
    execution, token = waiting_callback(cloud, stack, steps)
    sfn(cloud).send_task_success(taskToken=token, output='{"approved_by": "ops"}')
    described = cloud.wait(execution)

    running, succeeded = sent_for(cloud, execution)
    assert {k: running[k] for k in ("detail-type", "source", "account", "region", "resources")} == {
        "detail-type": "Step Functions Execution Status Change",
        "source": "aws.states",
        "account": cloud.account_id,
        "region": REGION,
        "resources": [execution],
    }
    assert running["detail"] == {
        "executionArn": execution,
        "stateMachineArn": stack.arn("CallbackStateMachine"),
        "name": execution.rsplit(":", 1)[-1],
        "status": "RUNNING",
        "startDate": _millis(described["startDate"]),
        "stopDate": None,
        "input": '{"path": "callback"}',
        "inputDetails": {"included": True},
        "output": None,
        "outputDetails": None,
        "error": None,
        "cause": None,
        "redriveCount": 0,
        "redriveDate": None,
        "redriveStatus": "NOT_REDRIVABLE",
        "redriveStatusReason": "Execution is RUNNING and cannot be redriven",
    }
    assert {k: succeeded["detail"][k] for k in ("status", "stopDate", "outputDetails", "redriveStatus")} == {
        "status": "SUCCEEDED",
        "stopDate": _millis(described["stopDate"]),
        "outputDetails": {"included": True},
        "redriveStatus": "NOT_REDRIVABLE",
    }
    assert json.loads(succeeded["detail"]["output"]) == json.loads(described["output"])


def test_a_stopped_or_failed_execution_fires_the_rule_and_its_lambda_gets_the_event(
    cloud: LocalCloud, stack: Stack, steps: Any
) -> None:
    # Given a rule in the template: ended badly (FAILED, TIMED_OUT, ABORTED) -> the watcher function
    stopped, _ = waiting_callback(cloud, stack, steps)
    failed, failed_token = waiting_callback(cloud, stack, steps)
    fine, fine_token = waiting_callback(cloud, stack, steps)

    # When one is stopped, one is rejected, one succeeds
    sfn(cloud).stop_execution(executionArn=stopped, error="Operator.Stop", cause="cancelled")
    sfn(cloud).send_task_failure(taskToken=failed_token, error="ApprovalRejected", cause="no")
    sfn(cloud).send_task_success(taskToken=fine_token, output="{}")
    for execution in (stopped, failed, fine):
        cloud.wait(execution)
    delivered_end(cloud, stopped, failed, fine)

    # Then the watcher ran once for each bad end, with the status change event as its payload
    by_execution = {e["detail"]["executionArn"]: e for e in steps.EVENTS}
    assert set(by_execution) == {stopped, failed}
    assert {k: by_execution[stopped]["detail"][k] for k in ("status", "error", "cause", "redriveStatus")} == {
        "status": "ABORTED",
        "error": "Operator.Stop",
        "cause": "cancelled",
        "redriveStatus": "REDRIVABLE",
    }
    assert (by_execution[failed]["detail"]["status"], by_execution[failed]["detail"]["error"]) == (
        "FAILED",
        "ApprovalRejected",
    )
    assert by_execution[stopped] == sent_for(cloud, stopped)[-1]


def test_an_execution_is_listed_running_from_the_moment_it_was_accepted(
    cloud: LocalCloud, stack: Stack, steps: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a reader that lists the executions between StartExecution accepting one and the engine starting
    # it (moto adds it to the list first: another thread can read it there)
    from moto.stepfunctions.parser.backend.execution import Execution

    arn, listed = stack.arn("CallbackStateMachine"), []
    starting = Execution.start

    def start_after_a_look(execution: Execution) -> None:
        listed.append(sfn(cloud).list_executions(stateMachineArn=arn)["executions"])
        starting(execution)

    monkeypatch.setattr(Execution, "start", start_after_a_look)

    # When an execution starts
    execution = start(cloud, stack, "CallbackStateMachine", {})

    # Then the reader saw it RUNNING (moto alone answered a 500: its status was None until started)
    assert [(e["executionArn"], e["status"]) for e in listed[0]] == [(execution, "RUNNING")]
    assert sfn(cloud).describe_execution(executionArn=execution)["status"] == "RUNNING"


def test_an_execution_that_runs_out_of_time_sends_timed_out(cloud: LocalCloud, stack: Stack, steps: Any) -> None:
    # moto measures a state machine's own TimeoutSeconds in real time: hold the clock so the Wait cannot end first
    with cloud.clock.busy():
        execution = start(cloud, stack, "TimeoutStateMachine", {})
        assert cloud.wait(execution, timeout=10)["status"] == "TIMED_OUT"
    delivered_end(cloud, execution)  # the TIMED_OUT event has reached every rule it matches
    assert [e["detail"]["status"] for e in sent_for(cloud, execution)] == ["RUNNING", "TIMED_OUT"]
    assert steps.EVENTS == []  # the watcher's rule names the callback state machine only


# -- the parsed-program cache ------------------------------------------------------------------------
def test_concurrent_executions_of_one_definition_each_end_with_their_own_result(
    cloud: LocalCloud, stack: Stack
) -> None:
    # Given one definition (variables, a Parallel state, a Map state), parsed once when it was created
    arn = stack.arn("ConcurrentStateMachine")
    parses = cloud.program_cache.parses
    inputs = {seed: {"seed": seed, "items": list(range(seed % 4 + 1))} for seed in range(1, 9)}

    # When eight executions start at once
    executions: dict[int, str] = {}

    def run(seed: int) -> None:
        executions[seed] = cloud.start_execution(arn, inputs[seed])

    threads = [threading.Thread(target=run, args=(seed,)) for seed in inputs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Then each ends with the result of its own input, and none parsed the definition again
    for seed, execution in executions.items():
        result = cloud.wait(execution)
        assert result["status"] == "SUCCEEDED", result.get("cause")
        assert json.loads(result["output"]) == {
            "seed": seed,
            "doubled": seed * 2,
            "tens": seed * 10,
            "items": [item * 2 + seed for item in inputs[seed]["items"]],
        }
    assert cloud.program_cache.parses == parses


def test_a_definition_that_does_not_parse_fails_every_time_and_is_not_kept(cloud: LocalCloud) -> None:
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser, ASLParserException

    broken = json.dumps({"StartAt": "A", "States": {"A": {"Type": "Teleport", "End": True}}})
    for _ in range(2):
        with pytest.raises(ASLParserException, match="Teleport"):
            AmazonStateLanguageParser.parse(broken)
    assert cloud.program_cache.parses == 0


# -- timeouts on the clock ---------------------------------------------------------------------------
def test_work_that_ends_after_its_deadline_on_the_clock_timed_out_whichever_thread_runs_first() -> None:
    from localcloud.clock import VirtualClock, VirtualTimeoutEvent

    clock = VirtualClock()
    clock.install()
    try:
        VirtualTimeoutEvent.clock = clock
        late, early = VirtualTimeoutEvent(), VirtualTimeoutEvent()  # the work of each starts now
        early.set()
        clock.skip(31)  # the work took 31 s of virtual time (a read timeout inside it, say)
        late.set()

        # Then a 30 s wait that begins only now still counts from the start, and judges by the clock
        assert (early.wait(30), late.wait(30), late.wait(60)) == (True, False, True)
    finally:
        VirtualTimeoutEvent.clock = None
        clock.uninstall()
