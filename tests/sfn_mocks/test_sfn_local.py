"""The same test cases against a real Step Functions Local (``make test-sfn-local``), for teams that keep
their MockConfigFile.json tests there: set ``SFN_LOCAL_ENDPOINT`` (e.g. http://localhost:8083) to a Step
Functions Local started with ``SFN_MOCK_CONFIG`` pointing at tests/sfn_mocks/MockConfigFile.json. Without
it, every case is skipped and says why. docs/testing.md has the setup and the TestState mapping."""

from __future__ import annotations

import os
from typing import Any

import boto3
import pytest

from tests.sfn_mocks import runner
from tests.sfn_mocks.cases import CASES, Case

ENDPOINT = os.environ.get("SFN_LOCAL_ENDPOINT", "")
pytestmark = [
    pytest.mark.skipif(
        not ENDPOINT,
        reason="SFN_LOCAL_ENDPOINT is not set: no Step Functions Local to run the cases against "
        "(start one with SFN_MOCK_CONFIG=tests/sfn_mocks/MockConfigFile.json; see docs/testing.md)",
    ),
    pytest.mark.xdist_group("sfn-local-machines"),  # the module fixture's state machines: one worker makes them
]


@pytest.fixture(scope="module")
def sfn_local() -> tuple[Any, dict[str, str]]:
    client = boto3.client("stepfunctions", region_name=runner.REGION, endpoint_url=ENDPOINT)
    return client, runner.create_state_machines(client)


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.workflow}#{c.name}")
def test_every_case_takes_its_path_on_step_functions_local(sfn_local: tuple[Any, dict[str, str]], case: Case) -> None:
    client, arns = sfn_local
    described, history = runner.run(client, arns[case.workflow], case)
    assert runner.problems(case, described, history) == []
