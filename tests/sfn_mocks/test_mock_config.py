"""Step Functions Local mock configurations on localcloud: every test case of MockConfigFile.json runs on
the real ASL of its workflow and takes its path; the file is current with cases.py and names only states
that exist; invocations, retries and loops consume the numbered responses; a bad file is refused with a
message that says where."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from localcloud.cloud import LocalCloud
from localcloud.scenario import PlatformDesign
from localcloud.server import LocalCloudServer
from localcloud.sfn_mocks import MockConfig, MockConfigError
from localcloud.template import expanded_template
from tests.sfn_mocks import runner
from tests.sfn_mocks.cases import CASES, CONFIG, MACHINES, Case, render

# every test here shares the module fixture: one worker builds it (make test runs --dist loadgroup)
pytestmark = pytest.mark.xdist_group("sfn-mock-machines")

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def mocked() -> Iterator[tuple[LocalCloud, dict[str, str]]]:
    """One embedded AWS for every case: a mocked execution calls nothing, so no case can change another's."""
    with LocalCloud() as cloud:
        cloud.sfn_mocks.load(CONFIG)
        yield cloud, runner.create_state_machines(cloud.client("stepfunctions", runner.REGION))


def sfn(cloud: LocalCloud) -> Any:
    return cloud.client("stepfunctions", runner.REGION)


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.workflow}#{c.name}")
def test_every_case_takes_its_path_on_the_real_asl(mocked: tuple[LocalCloud, dict[str, str]], case: Case) -> None:
    cloud, arns = mocked
    described, history = runner.run(sfn(cloud), arns[case.workflow], case)
    assert runner.problems(case, described, history) == []
    # and no mocked state reached a function or a service: the cases need nothing but the ASL
    assert not [e for e in history if e["type"] == "LambdaFunctionScheduled"]


def test_a_retried_state_and_a_polling_loop_consume_the_numbered_responses(
    mocked: tuple[LocalCloud, dict[str, str]],
) -> None:
    # Given the unplanned case: MoveTraffic throttled once ("0") then answering ("1"), the writer polled twice
    cloud, arns = mocked
    [case] = [c for c in CASES if (c.workflow, c.name) == ("failover", "UnplannedProceed")]

    described, history = runner.run(sfn(cloud), arns["failover"], case)

    # Then the throttled attempt failed, the retry took the next response, and each poll its own
    assert described["status"] == "SUCCEEDED"
    assert outcomes(history, "MoveTraffic") == [
        ("TaskFailed", "Lambda.TooManyRequestsException"),
        ("TaskSucceeded", ""),
    ]
    assert outcomes(history, "CheckAuroraWriter") == [("TaskSucceeded", "")] * 2


def outcomes(history: list[dict[str, Any]], state: str) -> list[tuple[str, str]]:
    """(TaskSucceeded or TaskFailed, the error) of each invocation of the Task state ``state``, in order; each
    event is traced back to the state it belongs to (parallel branches interleave their events)."""
    by_id = {e["id"]: e for e in history}

    def owner(event: dict[str, Any]) -> str:
        while event["type"] != "TaskStateEntered":
            event = by_id[event["previousEventId"]]
        return str(event["stateEnteredEventDetails"]["name"])

    return [
        (e["type"], (e.get("taskFailedEventDetails") or {}).get("error", ""))
        for e in history
        if e["type"] in ("TaskSucceeded", "TaskFailed") and owner(e) == state
    ]


def test_an_invocation_without_a_response_fails_with_states_runtime(
    mocked: tuple[LocalCloud, dict[str, str]], tmp_path: Path
) -> None:
    # Given a test case that mocks the backup verification's first step for one invocation only, and a retry
    # that asks for a second
    cloud, arns = mocked
    config = json.loads(CONFIG.read_text())
    config["StateMachines"][MACHINES["backup-verification"][0]]["TestCases"]["Short"] = {"ValidateInput": "Short"}
    config["MockedResponses"]["Short"] = {"0": {"Throw": {"Error": "Lambda.ServiceException", "Cause": "once"}}}
    (tmp_path / "short.json").write_text(json.dumps(config))
    cloud.sfn_mocks.load(tmp_path / "short.json")
    try:
        short = Case("backup-verification", "Short", {}, {}, ())
        _, history = runner.run(sfn(cloud), arns["backup-verification"], short)
    finally:
        cloud.sfn_mocks.load(CONFIG)

    # Then the retry, the second invocation, fails with States.Runtime, naming the state and the invocation
    assert outcomes(history, "ValidateInput") == [
        ("TaskFailed", "Lambda.ServiceException"),
        ("TaskFailed", "States.Runtime"),
    ]
    causes = [e["taskFailedEventDetails"]["cause"] for e in history if e["type"] == "TaskFailed"]
    assert "test case 'Short' has no mocked response for invocation 1 of state 'ValidateInput'" in causes[1]


def test_a_case_runs_the_same_over_http_as_make_test_sfn_local_runs_it(
    mocked: tuple[LocalCloud, dict[str, str]],
) -> None:
    # Given localcloud behind a loopback port, where Step Functions Local would be (SFN_LOCAL_ENDPOINT)
    cloud, _ = mocked
    server = LocalCloudServer(cloud).start()
    try:
        client = boto3.client("stepfunctions", region_name=runner.REGION, endpoint_url=server.endpoint_url)
        arns = runner.create_state_machines(client)  # the runner finds and updates what is already there
        [case] = [c for c in CASES if (c.workflow, c.name) == ("restore-test", "Passed")]

        described, history = runner.run(client, arns[case.workflow], case)
    finally:
        server.stop()

    assert runner.problems(case, described, history) == []


def test_an_unknown_test_case_is_invalid_name(mocked: tuple[LocalCloud, dict[str, str]]) -> None:
    cloud, arns = mocked
    with pytest.raises(ClientError) as error:
        sfn(cloud).start_execution(stateMachineArn=f"{arns['failover']}#NoSuchCase", input="{}")
    assert error.value.response["Error"]["Code"] == "InvalidName"
    assert "NoSuchCase" in error.value.response["Error"]["Message"]


# -- the file --------------------------------------------------------------------------------------------
def test_the_mock_config_file_is_generated_from_the_cases() -> None:
    assert CONFIG.read_text() == render(), "run: .venv/bin/python -m tests.sfn_mocks.cases"


def test_every_state_a_case_names_exists_in_its_workflow() -> None:
    missing: dict[str, list[str]] = {}
    for case in CASES:
        states = _all_states(runner.asl(case.workflow)["States"])
        tasks = {name for name, state in states.items() if state["Type"] == "Task"}
        gone = sorted(case.depends_on() - set(states)) + sorted(f"{s} (not a Task)" for s in set(case.mocks) - tasks)
        if gone:
            missing[f"{case.workflow}#{case.name}"] = gone
    assert missing == {}, f"cases naming states their ASL does not have (update tests/sfn_mocks/cases.py): {missing}"


def _all_states(states: dict[str, Any]) -> dict[str, Any]:
    out = dict(states)
    for state in states.values():
        for branch in state.get("Branches", []):
            out |= _all_states(branch["States"])
        if "ItemProcessor" in state:
            out |= _all_states(state["ItemProcessor"]["States"])
    return out


def test_the_state_machine_names_are_the_ones_the_stack_deploys() -> None:
    resources = expanded_template(ROOT / "template.yaml")["Resources"]
    deployed = {
        str(r["Properties"]["DefinitionUri"]).rsplit("/", 1)[-1]: str(r["Properties"]["Name"]["Fn::Sub"]).replace(
            "${AWS::StackName}", PlatformDesign().stack_name
        )
        for r in resources.values()
        if r["Type"] == "AWS::Serverless::StateMachine"
    }
    assert {file: name for name, file in MACHINES.values()} == deployed


@pytest.mark.parametrize(
    ("responses", "message"),
    [
        ({"R": {"0": {"Return": {}}, "2": {"Return": {}}}}, "invocation 1 has no response"),
        ({"R": {"1": {"Return": {}}}}, "invocation 0 has no response"),
        ({"R": {"0": {"Return": {}, "Throw": {"Error": "E", "Cause": "C"}}}}, "exactly one of Return or Throw"),
        ({"R": {"0": {"Throw": {"Error": "E"}}}}, "Error and Cause must be strings"),
        ({"R": {"0-x": {"Return": {}}}}, "is not an invocation number or range"),
        ({"R": {"3-1": {"Return": {}}}}, "ends before it starts"),
        ({}, "names the mocked response 'R', which MockedResponses does not define"),
    ],
)
def test_a_bad_mock_config_is_refused_saying_where(responses: dict[str, Any], message: str) -> None:
    raw = {"StateMachines": {"sm": {"TestCases": {"Happy": {"Task": "R"}}}}, "MockedResponses": responses}
    with pytest.raises(MockConfigError, match=message):
        MockConfig(raw)


def test_ranges_repeat_a_response_for_each_invocation_they_cover() -> None:
    raw = {
        "StateMachines": {"sm": {"TestCases": {"Retry": {"Task": "R"}}}},
        "MockedResponses": {"R": {"0-2": {"Throw": {"Error": "E", "Cause": "C"}}, "3": {"Return": {"ok": True}}}},
    }
    case = MockConfig(raw).test_case("sm", "Retry")
    answers = [case.next_response("Task") for _ in range(5)]
    assert [type(a).__name__ for a in answers] == ["MockedResponseThrow"] * 3 + ["MockedResponseReturn", "NoneType"]
