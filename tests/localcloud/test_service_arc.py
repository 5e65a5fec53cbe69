"""Fidelity of the simulated Route 53 ARC routing-control data plane."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from localcloud.clock import VirtualClock
from localcloud.services.arc import RoutingControlSimulator
from tests.localcloud.conftest import Bare

PANEL = "arn:aws:route53-recovery-control::123456789012:controlpanel/0123456789abcdef"
EAST = f"{PANEL}/routingcontrol/aaaaaaaaaaaa0001"
WEST = f"{PANEL}/routingcontrol/aaaaaaaaaaaa0002"
OTHER_PANEL = "arn:aws:route53-recovery-control::123456789012:controlpanel/fedcba9876543210"
SPARE = f"{OTHER_PANEL}/routingcontrol/bbbbbbbbbbbb0001"


@pytest.fixture
def env(bare: Bare) -> tuple[VirtualClock, RoutingControlSimulator]:
    sim = bare.register(RoutingControlSimulator(bare.clock))
    sim.add_control(EAST, "roadcall-api-us-east-1", PANEL, "On", control_panel_name="roadcall-dr")
    sim.add_control(WEST, "roadcall-api-us-west-2", PANEL, "Off", control_panel_name="roadcall-dr")
    return bare.clock, sim


def _client(region: str) -> Any:
    return boto3.client(
        "route53-recovery-cluster",
        region_name=region,
        endpoint_url=f"https://host-abc123.route53-recovery-cluster.{region}.amazonaws.com/v1",
    )


def _code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


def test_get_routing_control_state_through_a_regional_endpoint(env: Any) -> None:
    # Given two controls, east On and west Off
    # When each is read through the us-west-2 endpoint
    client = _client("us-west-2")
    east = client.get_routing_control_state(RoutingControlArn=EAST)
    west = client.get_routing_control_state(RoutingControlArn=WEST)

    # Then the states and names are reported
    assert {k: east[k] for k in ("RoutingControlArn", "RoutingControlState", "RoutingControlName")} == {
        "RoutingControlArn": EAST,
        "RoutingControlState": "On",
        "RoutingControlName": "roadcall-api-us-east-1",
    }
    assert west["RoutingControlState"] == "Off"


def test_update_on_one_endpoint_is_seen_on_another(env: Any) -> None:
    # Given the west control Off
    clock, sim = env

    # When it is turned On through the us-east-1 endpoint
    _client("us-east-1").update_routing_control_state(RoutingControlArn=WEST, RoutingControlState="On")

    # Then the us-west-2 endpoint reports it On, and the change is in the history at the virtual time
    assert _client("us-west-2").get_routing_control_state(RoutingControlArn=WEST)["RoutingControlState"] == "On"
    assert sim.state(WEST) == "On"
    assert [(arn, state) for _, arn, state in sim.history] == [(WEST, "On")]
    assert abs((sim.history[0][0] - clock.now()).total_seconds()) < 5


def test_update_states_moves_traffic_atomically(env: Any) -> None:
    # Given an assertion rule: at least one region On
    _clock, sim = env
    sim.add_assertion_rule("at-least-one-region", [EAST, WEST], min_on=1)

    # When east goes Off and west On in one request
    _client("us-west-2").update_routing_control_states(
        UpdateRoutingControlStateEntries=[
            {"RoutingControlArn": EAST, "RoutingControlState": "Off"},
            {"RoutingControlArn": WEST, "RoutingControlState": "On"},
        ]
    )

    # Then both changed (the rule holds on the final state)
    assert (sim.state(EAST), sim.state(WEST)) == ("Off", "On")
    assert [(arn, state) for _, arn, state in sim.history] == [(EAST, "Off"), (WEST, "On")]


def test_assertion_rule_rejects_turning_everything_off(env: Any) -> None:
    # Given the rule "at least one region On" and only east On
    _clock, sim = env
    rule = sim.add_assertion_rule("at-least-one-region", [EAST, WEST], min_on=1)

    # When east is turned Off
    with pytest.raises(ClientError) as error:
        _client("us-west-2").update_routing_control_state(RoutingControlArn=EAST, RoutingControlState="Off")

    # Then the update is refused with ConflictException naming the rule, and nothing changed
    assert _code(error) == "ConflictException"
    assert error.value.response["resourceId"] == rule
    assert rule == f"{PANEL}/safetyrule/at-least-one-region"
    assert "would leave 0 On" in error.value.response["Error"]["Message"]
    assert sim.state(EAST) == "On"
    assert sim.history == []
    assert sim.rule(rule).rejections == 1


def test_batch_violating_a_rule_changes_nothing(env: Any) -> None:
    # Given the rule and a batch that turns east Off and west Off
    _clock, sim = env
    sim.add_assertion_rule("at-least-one-region", [EAST, WEST], min_on=1)

    # When the batch is sent
    with pytest.raises(ClientError) as error:
        _client("us-east-1").update_routing_control_states(
            UpdateRoutingControlStateEntries=[
                {"RoutingControlArn": WEST, "RoutingControlState": "On"},
                {"RoutingControlArn": EAST, "RoutingControlState": "Off"},
                {"RoutingControlArn": WEST, "RoutingControlState": "Off"},
            ]
        )

    # Then it is rejected as a whole
    assert _code(error) == "ConflictException"
    assert (sim.state(EAST), sim.state(WEST)) == ("On", "Off")


def test_listing_the_rule_in_safety_rules_to_override_bypasses_it(env: Any) -> None:
    # Given the rule
    _clock, sim = env
    rule = sim.add_assertion_rule("at-least-one-region", [EAST, WEST], min_on=1)

    # When east is turned Off with the rule overridden ("break glass")
    _client("us-west-2").update_routing_control_state(
        RoutingControlArn=EAST, RoutingControlState="Off", SafetyRulesToOverride=[rule]
    )

    # Then the update is applied
    assert sim.state(EAST) == "Off"


def test_a_rule_is_only_checked_when_its_controls_change(env: Any) -> None:
    # Given a rule over the other panel's control, already violated (Off with min_on=1)
    _clock, sim = env
    sim.add_control(SPARE, "spare", OTHER_PANEL, "Off")
    sim.add_assertion_rule("spare-on", [SPARE], min_on=1)

    # When an unrelated control is updated
    _client("us-west-2").update_routing_control_state(RoutingControlArn=WEST, RoutingControlState="On")

    # Then the unrelated rule does not block it
    assert sim.state(WEST) == "On"


def test_unknown_routing_control_is_resource_not_found(env: Any) -> None:
    # Given an ARN the cluster does not know
    missing = f"{PANEL}/routingcontrol/ffffffffffffffff"

    # When it is read and updated
    with pytest.raises(ClientError) as read:
        _client("us-west-2").get_routing_control_state(RoutingControlArn=missing)
    with pytest.raises(ClientError) as batch:
        _client("us-west-2").update_routing_control_states(
            UpdateRoutingControlStateEntries=[
                {"RoutingControlArn": WEST, "RoutingControlState": "On"},
                {"RoutingControlArn": missing, "RoutingControlState": "On"},
            ]
        )

    # Then both fail with ResourceNotFoundException naming it, and the batch applied nothing
    _clock, sim = env
    assert (_code(read), read.value.response["resourceId"], read.value.response["resourceType"]) == (
        "ResourceNotFoundException",
        missing,
        "RoutingControl",
    )
    assert _code(batch) == "ResourceNotFoundException"
    assert sim.state(WEST) == "Off"


def test_invalid_state_is_a_validation_error(env: Any) -> None:
    # When a state other than On/Off is sent
    with pytest.raises(ClientError) as error:
        _client("us-west-2").update_routing_control_state(RoutingControlArn=WEST, RoutingControlState="ON")

    # Then ValidationException
    assert _code(error) == "ValidationException"
    assert error.value.response["reason"] == "fieldValidationFailed"


def test_list_routing_controls_paginates(env: Any) -> None:
    # Given three controls in two panels
    _clock, sim = env
    sim.add_control(SPARE, "spare", OTHER_PANEL, "Off")
    client = _client("us-east-1")

    # When listed two at a time, and filtered by panel
    first = client.list_routing_controls(MaxResults=2)
    second = client.list_routing_controls(MaxResults=2, NextToken=first["NextToken"])
    paged = [c["RoutingControlArn"] for c in first["RoutingControls"] + second["RoutingControls"]]
    by_panel = client.list_routing_controls(ControlPanelArn=PANEL)["RoutingControls"]
    everything = [
        c["RoutingControlArn"]
        for page in client.get_paginator("list_routing_controls").paginate(PaginationConfig={"PageSize": 1})
        for c in page["RoutingControls"]
    ]

    # Then every control comes once, with its panel and state
    assert paged == [EAST, WEST, SPARE]
    assert "NextToken" not in second
    assert everything == [EAST, WEST, SPARE]
    assert by_panel == [
        {
            "ControlPanelArn": PANEL,
            "ControlPanelName": "roadcall-dr",
            "RoutingControlArn": EAST,
            "RoutingControlName": "roadcall-api-us-east-1",
            "RoutingControlState": "On",
            "Owner": "123456789012",
        },
        {
            "ControlPanelArn": PANEL,
            "ControlPanelName": "roadcall-dr",
            "RoutingControlArn": WEST,
            "RoutingControlName": "roadcall-api-us-west-2",
            "RoutingControlState": "Off",
            "Owner": "123456789012",
        },
    ]


def test_list_errors(env: Any) -> None:
    # When an unknown panel or a forged token is given
    client = _client("us-east-1")
    with pytest.raises(ClientError) as panel:
        client.list_routing_controls(ControlPanelArn=f"{PANEL}0")
    with pytest.raises(ClientError) as token:
        client.list_routing_controls(NextToken="not-a-token")

    # Then ResourceNotFoundException and ValidationException
    assert (_code(panel), panel.value.response["resourceType"]) == (
        "ResourceNotFoundException",
        "ControlPanel",
    )
    assert _code(token) == "ValidationException"


def test_an_endpoint_that_is_down_sends_callers_to_another(env: Any) -> None:
    # Given the us-east-1 cluster endpoint down
    _clock, sim = env
    sim.set_endpoint_available("us-east-1", False)

    # When the update is tried there, then on us-west-2
    with pytest.raises(ClientError) as error:
        _client("us-east-1").update_routing_control_state(RoutingControlArn=WEST, RoutingControlState="On")
    _client("us-west-2").update_routing_control_state(RoutingControlArn=WEST, RoutingControlState="On")

    # Then the first fails as temporarily unavailable and the second is applied
    assert _code(error) == "EndpointTemporarilyUnavailableException"
    assert sim.state(WEST) == "On"
