"""The project's own ASL conventions check (tools/asl_conventions.py, run by ``make lint``): the state
machines pass it, and each rule it enforces reports a definition that breaks it."""

from __future__ import annotations

import copy
import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("asl_conventions", ROOT / "tools" / "asl_conventions.py")
assert _spec is not None and _spec.loader is not None
asl_conventions = importlib.util.module_from_spec(_spec)
sys.modules["asl_conventions"] = asl_conventions
_spec.loader.exec_module(asl_conventions)

GOOD: dict[str, Any] = {
    "QueryLanguage": "JSONata",
    "StartAt": "CallStep",
    "States": {
        "CallStep": {
            "Type": "Task",
            "Comment": "Call the step.",
            "Resource": "arn:aws:states:::lambda:invoke",
            "TimeoutSeconds": 30,
            "Retry": [
                {
                    "ErrorEquals": ["Lambda.ServiceException"],
                    "MaxAttempts": 3,
                    "MaxDelaySeconds": 10,
                    "JitterStrategy": "FULL",
                },
                {  # a wait for the platform to settle: a fixed schedule
                    "ErrorEquals": ["RecoveryNotVerified"],
                    "MaxAttempts": 10,
                    "MaxDelaySeconds": 60,
                    "JitterStrategy": "NONE",
                },
            ],
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "FailStep"}],
            "Next": "ChooseEnd",
        },
        "ChooseEnd": {
            "Type": "Choice",
            "Comment": "Done?",
            "Choices": [{"Condition": "{% true %}", "Next": "Done"}],
            "Default": "FailStep",
        },
        "Done": {"Type": "Succeed", "Comment": "Done."},
        "FailStep": {"Type": "Fail", "Comment": "Failed.", "Error": "StepFailed"},
    },
}


def broken(change: str) -> dict[str, Any]:
    definition = copy.deepcopy(GOOD)
    task, choice = definition["States"]["CallStep"], definition["States"]["ChooseEnd"]
    if change == "query-language":
        del definition["QueryLanguage"]
    elif change == "comment":
        del task["Comment"]
    elif change == "default":
        del choice["Default"]
    elif change == "timeout":
        del task["TimeoutSeconds"]
    elif change == "token-timeout":
        task.update(Resource="arn:aws:states:::lambda:invoke.waitForTaskToken", HeartbeatSeconds=60)
        del task["TimeoutSeconds"]
    elif change == "retry-all":
        task["Retry"][0]["ErrorEquals"] = ["States.ALL"]
    elif change in ("MaxAttempts", "MaxDelaySeconds", "JitterStrategy"):
        del task["Retry"][0][change]
    elif change == "settling-jitter":
        task["Retry"][1]["JitterStrategy"] = "FULL"
    elif change == "mixed-jitter":
        task["Retry"][0].update(ErrorEquals=["Lambda.ServiceException", "RecoveryNotVerified"], JitterStrategy="NONE")
    elif change == "fail-error":
        del definition["States"]["FailStep"]["Error"]
    elif change == "target":
        task["Catch"][0]["Next"] = "Nowhere"
    elif change == "name":
        definition["States"]["call_step"] = definition["States"].pop("CallStep")
        definition["StartAt"] = "call_step"
    return definition


def test_the_state_machines_follow_the_conventions(capsys: pytest.CaptureFixture[str]) -> None:
    assert asl_conventions.main(["asl_conventions.py", str(ROOT)]) == 0, capsys.readouterr().out


def test_a_definition_that_follows_every_rule_has_no_finding() -> None:
    assert asl_conventions.check(GOOD) == []


@pytest.mark.parametrize(
    ("change", "finding"),
    [
        ("query-language", "QueryLanguage is not JSONata"),
        ("comment", "CallStep: no Comment"),
        ("default", "ChooseEnd: Choice without Default"),
        ("timeout", "CallStep: Task without TimeoutSeconds"),
        ("token-timeout", "CallStep: waitForTaskToken without TimeoutSeconds"),
        ("retry-all", "CallStep: Retry on States.ALL"),
        ("MaxAttempts", "without MaxAttempts"),
        ("MaxDelaySeconds", "without MaxDelaySeconds"),
        ("JitterStrategy", "without JitterStrategy FULL"),
        ("settling-jitter", "waits for the platform to settle without JitterStrategy NONE"),
        ("mixed-jitter", "without JitterStrategy FULL"),
        ("fail-error", "FailStep: Fail state without an Error name"),
        ("target", "goes to 'Nowhere'"),
        ("name", "call_step: state name is not PascalCase"),
    ],
)
def test_each_broken_rule_is_reported(change: str, finding: str) -> None:
    # Given a definition that breaks one rule; When it is checked; Then that rule is reported
    problems = asl_conventions.check(broken(change))
    assert any(finding in p for p in problems), problems


def test_a_project_without_state_machines_fails(tmp_path: Path) -> None:
    (tmp_path / "statemachines").mkdir()
    assert asl_conventions.main(["asl_conventions.py", str(tmp_path)]) == 1
