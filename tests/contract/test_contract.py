"""template.yaml, the ASL files, the handlers and events/ agree with each other."""

from __future__ import annotations

import importlib
import inspect
import json
import re
from pathlib import Path
from typing import Any

import pytest
from dr import errors, heartbeat
from dr.bookkeeping import audit_item
from dr.models import AlarmEvent, ConsoleInput

from localcloud.template import expanded_template

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = expanded_template(ROOT / "template.yaml")
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
FUNCTIONS = {lid: r for lid, r in RESOURCES.items() if r["Type"] == "AWS::Serverless::Function"}
STATE_MACHINES = {lid: r for lid, r in RESOURCES.items() if r["Type"] == "AWS::Serverless::StateMachine"}
ERROR_CLASSES = {name for name, obj in inspect.getmembers(errors, inspect.isclass) if issubclass(obj, Exception)}


def _states(states: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for name, state in states.items():
        out.append((name, state))
        for branch in state.get("Branches", []):
            out.extend(_states(branch["States"]))
        if "ItemProcessor" in state:
            out.extend(_states(state["ItemProcessor"]["States"]))
    return out


@pytest.mark.parametrize("logical_id", sorted(FUNCTIONS))
def test_every_function_handler_imports_and_is_callable(logical_id: str) -> None:
    handler = FUNCTIONS[logical_id]["Properties"]["Handler"]
    module_name, _, attr = handler.rpartition(".")
    assert callable(getattr(importlib.import_module(module_name), attr))


@pytest.mark.parametrize("logical_id", sorted(STATE_MACHINES))
def test_every_placeholder_has_a_substitution_and_every_substitution_is_used(logical_id: str) -> None:
    props = STATE_MACHINES[logical_id]["Properties"]
    text = (ROOT / props["DefinitionUri"]).read_text()
    placeholders = set(re.findall(r"\$\{([A-Za-z0-9_]+)\}", text))
    assert placeholders == set(props["DefinitionSubstitutions"])


@pytest.mark.parametrize("logical_id", sorted(STATE_MACHINES))
def test_every_function_the_workflow_invokes_is_declared_and_allowed(logical_id: str) -> None:
    props = STATE_MACHINES[logical_id]["Properties"]
    invoked = {v["Fn::GetAtt"][0] for k, v in props["DefinitionSubstitutions"].items() if k.endswith("FunctionArn")}
    allowed = {
        p["LambdaInvokePolicy"]["FunctionName"]["Ref"]
        for p in props["Policies"]
        if isinstance(p, dict) and "LambdaInvokePolicy" in p
    }
    assert invoked <= set(FUNCTIONS)
    assert invoked == allowed


@pytest.mark.parametrize("logical_id", sorted(STATE_MACHINES))
def test_every_custom_error_the_workflow_names_is_an_exception_class(logical_id: str) -> None:
    definition = json.loads((ROOT / STATE_MACHINES[logical_id]["Properties"]["DefinitionUri"]).read_text())
    named = set()
    for _, state in _states(definition["States"]):
        for rule in state.get("Retry", []) + state.get("Catch", []):
            named |= {e for e in rule["ErrorEquals"] if not e.startswith(("States.", "Lambda.")) and "." not in e}
    assert named, "a workflow that names no error of its own retries nothing specific"
    assert named <= ERROR_CLASSES, f"not exception classes in dr.errors: {sorted(named - ERROR_CLASSES)}"


@pytest.mark.parametrize("logical_id", sorted(STATE_MACHINES))
def test_every_fail_state_handle_failure_can_choose_exists(logical_id: str) -> None:
    definition = json.loads((ROOT / STATE_MACHINES[logical_id]["Properties"]["DefinitionUri"]).read_text())
    choose = definition["States"].get("ChooseFailState")
    if choose is None:
        pytest.skip("this workflow has no shared failure handler")
    targets = {c["Next"] for c in choose["Choices"]} | {choose["Default"]}
    assert all(definition["States"][t]["Type"] == "Fail" for t in targets)


@pytest.mark.parametrize("logical_id", sorted(STATE_MACHINES))
def test_the_direct_audit_record_never_overwrites_the_failure_handlers_own(logical_id: str) -> None:
    # A failure handler whose Task timed out runs on and may have written its record: the state machine's
    # fallback writes only where there is none, and a refused write (the handler's record is there) notifies
    # on, saying the handler recorded (tests/workflows/test_failure_handling.py runs it in the failover)
    definition = json.loads((ROOT / STATE_MACHINES[logical_id]["Properties"]["DefinitionUri"]).read_text())
    direct = definition["States"]["AuditFailureDirectly"]
    # only where no record is, or where this state's own is (a retry after a write whose answer was lost)
    arguments = direct["Arguments"]
    assert arguments["ConditionExpression"] == "attribute_not_exists(pk) OR recorded_by = :direct"
    assert arguments["Item"]["recorded_by"] == arguments["ExpressionAttributeValues"][":direct"]
    assert "recorded_by" not in json.dumps(audit_item({"execution": "x", "workflow": "w", "status": "FAILED"}))
    first = direct["Catch"][0]
    assert first["ErrorEquals"] == ["DynamoDB.ConditionalCheckFailedException"]
    assert first["Next"] == direct["Next"] == "NotifyFailureDirectly"
    assert "'recorded': true" in first["Assign"]["handlerError"]
    for said in (
        definition["States"]["NotifyFailureDirectly"]["Arguments"]["Message"],
        definition["States"]["FailUnrecorded"]["Cause"],
    ):
        assert "$handlerError.recorded ?" in said


def test_the_alarm_samples_parse_as_alarm_events() -> None:
    for name in ("failover-alarm.json", "failover-alarm-ok.json"):
        event = AlarmEvent.model_validate(json.loads((ROOT / "events" / name).read_text()))
        assert event.detail.alarmName == "roadcall-dr-primary-health"


@pytest.mark.parametrize(
    "name",
    [
        "failover-planned.json",
        "failover-unplanned.json",
        "failover-dry-run.json",
        "failback-planned.json",
        "failback-dry-run.json",
    ],
)
def test_the_console_samples_parse_as_console_inputs(name: str) -> None:
    ConsoleInput.model_validate(json.loads((ROOT / "events" / name).read_text()))


def test_the_alarm_rule_matches_the_two_alarms_that_start_a_failover() -> None:
    # Route 53's checkers (an alarm in the primary region, forwarded) and the probe (the recovery region's own
    # evidence, which survives an outage of the primary region); the functions validate the same names.
    pattern = STATE_MACHINES["FailoverStateMachine"]["Properties"]["Events"]["PrimaryHealthAlarm"]["Properties"][
        "Pattern"
    ]
    alarms = [RESOURCES[a]["Properties"]["AlarmName"] for a in ("PrimaryHealthAlarm", "PrimaryProbeAlarm")]
    assert pattern["detail"]["alarmName"] == alarms
    assert pattern["detail"]["state"]["value"] == ["ALARM"]
    env = TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]
    assert [env["PRIMARY_HEALTH_ALARM_NAME"], env["PROBE_ALARM_NAME"]] == alarms


# -- backup verification and restore test ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "model"),
    [
        ("backup-verification.json", "VerificationInput"),
        ("restore-test-full.json", "RestoreTestInput"),
        ("restore-test-from-copies.json", "RestoreTestInput"),
        ("restore-test-dry-run.json", "RestoreTestInput"),
    ],
)
def test_the_backup_samples_parse_as_their_inputs(name: str, model: str) -> None:
    from dr import backup_models

    getattr(backup_models, model).model_validate(json.loads((ROOT / "events" / name).read_text()))


@pytest.mark.parametrize(
    ("logical_id", "model"),
    [("BackupVerificationStateMachine", "VerificationInput"), ("RestoreTestStateMachine", "RestoreTestInput")],
)
def test_the_backup_schedules_give_inputs_their_workflow_accepts(logical_id: str, model: str) -> None:
    from dr import backup_models

    for event in STATE_MACHINES[logical_id]["Properties"]["Events"].values():
        assert event["Type"] == "ScheduleV2"
        getattr(backup_models, model).model_validate(json.loads(event["Properties"]["Input"]))


def test_the_heartbeat_lag_assumes_the_writers_own_schedule() -> None:
    """CheckReplication's lag (dr.heartbeat) counts a missing heartbeat as in flight for INTERVAL_SECONDS
    after the one home holds: the WriteHeartbeat schedule must be that interval."""
    events = RESOURCES["WriteHeartbeatFunction"]["Properties"]["Events"]
    (expression,) = [e["Properties"]["ScheduleExpression"] for e in events.values() if e["Type"] == "ScheduleV2"]
    rate = re.fullmatch(r"rate\((\d+) (minute|minutes|second|seconds)\)", expression)
    assert rate is not None, f"WriteHeartbeat's schedule is {expression!r}: a rate() was expected"
    seconds = int(rate.group(1)) * (60 if rate.group(2).startswith("minute") else 1)
    assert seconds == heartbeat.INTERVAL_SECONDS
