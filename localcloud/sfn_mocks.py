"""Step Functions Local's mocked service integrations, on localcloud: the same MockConfigFile.json, the same
``<state machine ARN>#<test case>`` to start a test case, run by the real ASL on moto's engine.

The format (AWS, "Using mocked service integrations for testing in Step Functions Local" and "Configuration
file for mocked service integrations"):

    {"StateMachines": {"<state machine name>": {"TestCases": {"<test case>": {"<state>": "<response>"}}}},
     "MockedResponses": {"<response>": {"0": {"Return": <result>},
                                        "1-2": {"Throw": {"Error": "<name>", "Cause": "<text>"}}}}}

What is modeled, as Step Functions Local documents it:
- StartExecution on ``arn:...:stateMachine:<name>#<test case>`` runs the state machine ``<name>`` with that
  test case; the execution is the state machine's own (its ARN has no ``#``).
- A Task state the test case names never calls its service: its n-th invocation in the execution answers
  with response ``"n"`` (``Return``: the task's result, e.g. Lambda's ``{"StatusCode", "Payload"}``;
  ``Throw``: the task fails with that Error and Cause, which Retry and Catch see as they would the real
  one). Invocations are counted per state across the whole execution: each retry attempt, each pass of a
  polling loop and each Map iteration takes the next number (Step Functions Local's documentation: a
  response for every invocation; with a Map, set MaxConcurrency to 1 for a predictable order). An
  invocation with no response left fails with ``States.Runtime``. A mocked ``.waitForTaskToken`` Task
  returns its response without waiting for a token.
- States the test case does not name run for real (the "hybrid" path).
- The file is checked when loaded: every response a test case names exists, each response's invocation
  numbers run from 0 without a gap (``"0"``, ``"1-2"``, ``"3"``), each has exactly one of ``Return`` or
  ``Throw``, and a ``Throw`` has string ``Error`` and ``Cause``. An unknown test case is ``InvalidName``.
Not modeled: Step Functions Local's endpoint overrides (localcloud is the endpoint). Known difference: AWS
fails the execution on ``States.Runtime`` whatever its Catch says; moto's engine lets a ``States.ALL``
Catch take it (a gap of moto 5.2.5's ErrorEqualsDecl, not of this adapter).

moto 5.2.5 carries LocalStack's evaluation of mocked responses (``Environment.is_mocked_mode``; the Task's
result replaced by the response, or the response's error raised) but not its loader
(``load_mock_test_case_for`` answers None) and indexes responses by the state's retry count, so a loop or
a Map iteration would start again at "0". This adapter loads the file, hands the test case to the
execution, and counts invocations per state; the tests in tests/sfn_mocks fail if moto changes under it.
"""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path
from typing import Any

from moto.stepfunctions.exceptions import InvalidName
from moto.stepfunctions.parser.asl.eval.environment import Environment
from moto.stepfunctions.parser.backend.execution import Execution
from moto.stepfunctions.parser.mocking.mock_config import (
    MockedResponse,
    MockedResponseReturn,
    MockedResponseThrow,
    MockTestCase,
    StateMockedResponses,
)
from moto.stepfunctions.parser.models import StepFunctionsParserBackend

from localcloud.adapters.patching import PatchSet


class MockConfigError(ValueError):
    """The mock configuration file is not what Step Functions Local accepts; the message says where."""


_RANGE = re.compile(r"^(\d+)(?:-(\d+))?$")


def _responses(name: str, raw: Any) -> list[MockedResponse]:
    if not isinstance(raw, dict) or not raw:
        raise MockConfigError(f"MockedResponses.{name}: expected an object of invocation numbers, got {raw!r}")
    out: list[MockedResponse] = []
    for numbers, response in raw.items():
        match = _RANGE.match(numbers)
        if not match:
            raise MockConfigError(f'MockedResponses.{name}: {numbers!r} is not an invocation number or range ("1-2")')
        first, last = int(match.group(1)), int(match.group(2) or match.group(1))
        if last < first:
            raise MockConfigError(f"MockedResponses.{name}: range {numbers!r} ends before it starts")
        if not isinstance(response, dict) or len(set(response) & {"Return", "Throw"}) != 1 or len(response) != 1:
            raise MockConfigError(f"MockedResponses.{name}.{numbers}: exactly one of Return or Throw, got {response!r}")
        if "Return" in response:
            out.append(MockedResponseReturn(first, last, response["Return"]))
            continue
        throw = response["Throw"]
        if not isinstance(throw, dict) or not all(isinstance(throw.get(k), str) for k in ("Error", "Cause")):
            raise MockConfigError(f"MockedResponses.{name}.{numbers}.Throw: Error and Cause must be strings")
        out.append(MockedResponseThrow(first, last, throw["Error"], throw["Cause"]))
    out.sort(key=lambda r: r.range_start)
    expected = 0
    for response in out:
        if response.range_start != expected:
            raise MockConfigError(
                f"MockedResponses.{name}: invocation {expected} has no response (numbers must run from 0 without a gap)"
            )
        expected = response.range_end + 1
    return out


class CountingTestCase(MockTestCase):
    """One execution's test case: the mocked responses, and how many times each state has been invoked."""

    def __init__(self, state_machine: str, name: str, states: list[StateMockedResponses]) -> None:
        super().__init__(state_machine, name, states)
        self._used: dict[str, int] = {}
        self._lock = threading.Lock()

    def next_response(self, state: str) -> MockedResponse | None:
        """The response to the next invocation of ``state``; None when the test case has none left."""
        with self._lock:
            number = self._used.get(state, 0)
            self._used[state] = number + 1
        responses = self.state_mocked_responses[state].mocked_responses
        return responses[number] if number < len(responses) else None

    def invocations(self, state: str) -> int:
        with self._lock:
            return self._used.get(state, 0)


class MockConfig:
    """A MockConfigFile.json, checked; ``test_case`` gives a fresh (uncounted) test case per execution."""

    def __init__(self, raw: dict[str, Any], source: str = "<mock config>") -> None:
        self.raw, self.source = raw, source
        machines = raw.get("StateMachines")
        responses = raw.get("MockedResponses")
        if not isinstance(machines, dict) or not isinstance(responses, dict):
            raise MockConfigError(f"{source}: expected the top-level objects StateMachines and MockedResponses")
        self.responses = {name: _responses(name, value) for name, value in responses.items()}
        for machine, config in machines.items():
            cases = (config or {}).get("TestCases") if isinstance(config, dict) else None
            if not isinstance(cases, dict):
                raise MockConfigError(f"{source}: StateMachines.{machine} needs a TestCases object")
            for case, states in cases.items():
                for state, response in (states or {}).items():
                    if response not in self.responses:
                        raise MockConfigError(
                            f"{source}: StateMachines.{machine}.TestCases.{case}.{state} names the mocked response "
                            f"{response!r}, which MockedResponses does not define"
                        )

    @classmethod
    def load(cls, path: str | Path) -> MockConfig:
        return cls(json.loads(Path(path).read_text()), str(path))

    def cases(self, state_machine: str) -> dict[str, dict[str, str]]:
        """Test case -> {state: mocked response} of ``state_machine`` (empty when the file has none)."""
        return dict((self.raw["StateMachines"].get(state_machine) or {}).get("TestCases") or {})

    def test_case(self, state_machine: str, name: str) -> CountingTestCase:
        states = self.cases(state_machine).get(name)
        if states is None:
            raise InvalidName(
                f"Invalid mock test case name '{name}' for state machine '{state_machine}': "
                f"the mock configuration {self.source} does not define it"
            )
        return CountingTestCase(
            state_machine,
            name,
            [StateMockedResponses(state, response, self.responses[response]) for state, response in states.items()],
        )


class SfnMocksAdapter:
    """Runs ``<state machine ARN>#<test case>`` with the loaded MockConfigFile.json (``load``, or the
    ``SFN_MOCK_CONFIG`` file LocalCloud reads at start, as Step Functions Local does)."""

    name = "sfn-mocks"

    def __init__(self) -> None:
        self.config: MockConfig | None = None
        self._patches = PatchSet()
        self._pending = threading.local()

    def load(self, path: str | Path) -> MockConfig:
        self.config = MockConfig.load(path)
        return self.config

    def install(self) -> None:
        adapter = self
        start_execution = StepFunctionsParserBackend.start_execution
        make_worker = Execution._get_start_execution_worker
        by_retry_count = Environment.get_current_mocked_response

        def start(backend: Any, state_machine_arn: str, *args: Any, **kwargs: Any) -> Any:
            arn, _, case = state_machine_arn.partition("#")
            if not case:
                return start_execution(backend, state_machine_arn, *args, **kwargs)
            if adapter.config is None:
                raise InvalidName(f"Invalid mock test case name '{case}': no mock configuration is loaded")
            machine = backend.describe_state_machine(arn)
            adapter._pending.case = adapter.config.test_case(machine.name, case)
            try:
                return start_execution(backend, arn, *args, **kwargs)
            finally:
                adapter._pending.case = None

        def worker(execution: Any) -> Any:
            made = make_worker(execution)
            case = getattr(adapter._pending, "case", None)
            if case is not None:
                made._mock_test_case = case
            return made

        def mocked_response(env: Environment) -> MockedResponse:
            case = env.mock_test_case
            if not isinstance(case, CountingTestCase):
                return by_retry_count(env)
            state = env.next_state_name
            response = case.next_response(state)
            if response is None:
                # moto reports an exception of the engine as States.Runtime, the error AWS fails the execution with
                raise RuntimeError(
                    f"test case '{case.test_case_name}' has no mocked response for invocation "
                    f"{case.invocations(state) - 1} of state '{state}'"
                )
            return response

        self._patches.add(StepFunctionsParserBackend, "start_execution", start)
        self._patches.add(Execution, "_get_start_execution_worker", worker)
        self._patches.add(Environment, "get_current_mocked_response", mocked_response)

    def uninstall(self) -> None:
        self._patches.undo_all()
