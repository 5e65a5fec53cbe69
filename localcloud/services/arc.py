"""The Route 53 Application Recovery Controller routing-control data plane (route53-recovery-cluster).

moto has no ARC. ``RoutingControlSimulator`` answers the cluster API that a failover uses to move
traffic: ``GetRoutingControlState``, ``UpdateRoutingControlState``, ``UpdateRoutingControlStates``
and ``ListRoutingControls``. Clients reach it the way they reach a real cluster, through one of its
Regional endpoints, e.g. ``endpoint_url="https://host-abc.route53-recovery-cluster.us-west-2.amazonaws.com/v1"``
with ``region_name`` set to that endpoint's Region (the interceptor names the call from the request's
signature, so any such host works).

Modeled:
- routing controls (On/Off) in control panels, created by the ``add_control`` knob (the control
  plane, route53-recovery-control-config, is not simulated); the state is shared by every endpoint;
- assertion safety rules (``add_assertion_rule``: at least ``min_on`` of its controls On); an update
  that touches a rule's controls and would leave fewer than ``min_on`` On fails with
  ``ConflictException`` unless the request lists the rule's ARN in ``SafetyRulesToOverride``;
- ``UpdateRoutingControlStates`` is atomic: the rules are evaluated on the state after all entries,
  and either every entry is applied or none;
- unknown routing control or control panel ARNs: ``ResourceNotFoundException``; a state other than
  On/Off or a bad pagination token: ``ValidationException``;
- an endpoint that is down (``set_endpoint_available(region, False)``) answers
  ``EndpointTemporarilyUnavailableException``, so a caller's "try the next Regional endpoint" loop
  can be exercised;
- ``history``: every applied state update, as (virtual time, control ARN, state).

Not modeled: gating rules, wait periods of safety rules, the cluster's control plane, routing
control health checks (Route 53 health checks of type RECOVERY_CONTROL), tags, IAM.
"""

from __future__ import annotations

import base64
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from moto.core import DEFAULT_ACCOUNT_ID

from localcloud.clock import VirtualClock
from localcloud.interceptor import (
    AwsError,
    Call,
    Interceptor,
    Response,
    serialize_result,
    serialize_service_error,
)

SERVICE = "route53-recovery-cluster"
STATES = ("On", "Off")
DEFAULT_PAGE_SIZE = 100


@dataclass
class RoutingControl:
    arn: str
    name: str
    control_panel_arn: str
    control_panel_name: str
    state: str
    owner: str = DEFAULT_ACCOUNT_ID

    def describe(self) -> dict[str, Any]:
        return {
            "ControlPanelArn": self.control_panel_arn,
            "ControlPanelName": self.control_panel_name,
            "RoutingControlArn": self.arn,
            "RoutingControlName": self.name,
            "RoutingControlState": self.state,
            "Owner": self.owner,
        }


@dataclass
class AssertionRule:
    """An ARC assertion rule: at least ``min_on`` of ``control_arns`` must stay On."""

    name: str
    arn: str
    control_arns: tuple[str, ...]
    min_on: int
    rejections: int = field(default=0)


def _error(code: str, message: str, **fields: Any) -> AwsError:
    error = AwsError(code, message)
    for name, value in fields.items():
        setattr(error, name, value)  # modeled members (resourceId, reason, ...) are serialized too
    return error


class RoutingControlSimulator:
    """The routing controls of one ARC cluster and the safety rules that guard them."""

    def __init__(self, clock: VirtualClock) -> None:
        self.clock = clock
        self._controls: dict[str, RoutingControl] = {}
        self._rules: dict[str, AssertionRule] = {}
        self._down_regions: set[str] = set()
        self.history: list[tuple[datetime, str, str]] = []
        self._lock = threading.RLock()

    # -- knobs -------------------------------------------------------------------------------------
    def add_control(
        self,
        arn: str,
        name: str,
        control_panel_arn: str,
        state: str = "On",
        control_panel_name: str | None = None,
    ) -> RoutingControl:
        """Create a routing control (what the control-plane API would have done before the drill)."""
        if state not in STATES:
            raise ValueError(f"routing control {name!r}: state must be 'On' or 'Off', got {state!r}")
        panel_name = control_panel_name or control_panel_arn.rsplit("/", 1)[-1]
        with self._lock:
            control = RoutingControl(arn, name, control_panel_arn, panel_name, state)
            self._controls[arn] = control
            return control

    def add_assertion_rule(self, name: str, control_arns: list[str], min_on: int = 1) -> str:
        """Guard ``control_arns`` with "at least ``min_on`` On"; returns the rule's ARN."""
        with self._lock:
            unknown = [arn for arn in control_arns if arn not in self._controls]
            if unknown:
                raise ValueError(f"assertion rule {name!r}: add these routing controls first: {unknown}")
            if not 0 <= min_on <= len(control_arns):
                raise ValueError(
                    f"assertion rule {name!r}: min_on must be between 0 and {len(control_arns)}, got {min_on}"
                )
            panel = self._controls[control_arns[0]].control_panel_arn
            slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
            arn = f"{panel}/safetyrule/{slug}"
            self._rules[arn] = AssertionRule(name, arn, tuple(control_arns), min_on)
            return arn

    def set_endpoint_available(self, region: str, available: bool) -> None:
        """Take the cluster endpoint of ``region`` down (or bring it back)."""
        with self._lock:
            if available:
                self._down_regions.discard(region)
            else:
                self._down_regions.add(region)

    def state(self, arn: str) -> str:
        with self._lock:
            if arn not in self._controls:
                raise KeyError(f"no routing control {arn!r}; known: {sorted(self._controls)}")
            return self._controls[arn].state

    def rule(self, arn: str) -> AssertionRule:
        with self._lock:
            return self._rules[arn]

    # -- the API -----------------------------------------------------------------------------------
    def _get_state(self, call: Call) -> dict[str, Any]:
        control = self._control(call.params["RoutingControlArn"])
        return {
            "RoutingControlArn": control.arn,
            "RoutingControlState": control.state,
            "RoutingControlName": control.name,
        }

    def _update_state(self, call: Call) -> dict[str, Any]:
        params = call.params
        entry = {
            "RoutingControlArn": params["RoutingControlArn"],
            "RoutingControlState": params["RoutingControlState"],
        }
        self._apply([entry], params.get("SafetyRulesToOverride") or [])
        return {}

    def _update_states(self, call: Call) -> dict[str, Any]:
        params = call.params
        self._apply(params["UpdateRoutingControlStateEntries"], params.get("SafetyRulesToOverride") or [])
        return {}

    def _list(self, call: Call) -> dict[str, Any]:
        params = call.params
        panel = params.get("ControlPanelArn")
        controls = list(self._controls.values())
        if panel is not None:
            if not any(c.control_panel_arn == panel for c in controls):
                raise _error(
                    "ResourceNotFoundException",
                    f"Control panel {panel} not found: no routing control of this cluster is in it.",
                    resourceId=panel,
                    resourceType="ControlPanel",
                )
            controls = [c for c in controls if c.control_panel_arn == panel]
        start = _decode_token(params.get("NextToken"))
        size = int(params.get("MaxResults") or DEFAULT_PAGE_SIZE)
        page = controls[start : start + size]
        result: dict[str, Any] = {"RoutingControls": [c.describe() for c in page]}
        if start + size < len(controls):
            result["NextToken"] = _encode_token(start + size)
        return result

    # -- rules ---------------------------------------------------------------------------------------
    def _control(self, arn: str) -> RoutingControl:
        control = self._controls.get(arn)
        if control is None:
            raise _error(
                "ResourceNotFoundException",
                f"Routing control {arn} not found in this cluster.",
                resourceId=arn,
                resourceType="RoutingControl",
            )
        return control

    def _apply(self, entries: list[dict[str, Any]], overrides: list[str]) -> None:
        changes: dict[str, str] = {}
        for entry in entries:
            arn, state = entry["RoutingControlArn"], entry["RoutingControlState"]
            self._control(arn)
            if state not in STATES:
                raise _error(
                    "ValidationException",
                    f"RoutingControlState must be 'On' or 'Off', got {state!r} for {arn}.",
                    reason="fieldValidationFailed",
                    fields=[{"name": "RoutingControlState", "message": "Member must be On or Off"}],
                )
            changes[arn] = state
        for rule in self._rules.values():
            if rule.arn in overrides or not changes.keys() & set(rule.control_arns):
                continue
            after = {arn: changes.get(arn, self._controls[arn].state) for arn in rule.control_arns}
            on = sum(1 for state in after.values() if state == "On")
            if on < rule.min_on:
                rule.rejections += 1
                listing = ", ".join(f"{self._controls[a].name}={s}" for a, s in after.items())
                raise _error(
                    "ConflictException",
                    f"The update violates assertion rule {rule.name!r} ({rule.arn}): it requires at least "
                    f"{rule.min_on} of its routing controls On, and the update would leave {on} On "
                    f"({listing}). To override it, list the rule ARN in SafetyRulesToOverride.",
                    resourceId=rule.arn,
                    resourceType="SafetyRule",
                )
        now = self.clock.now()
        for arn, state in changes.items():
            self._controls[arn].state = state
            self.history.append((now, arn, state))

    # -- wiring --------------------------------------------------------------------------------------
    def _handler(self, operation: str) -> Callable[[Call], Response]:
        actions = {
            "GetRoutingControlState": self._get_state,
            "UpdateRoutingControlState": self._update_state,
            "UpdateRoutingControlStates": self._update_states,
            "ListRoutingControls": self._list,
        }
        action = actions[operation]

        def handle(call: Call) -> Response:
            with self._lock:
                try:
                    if call.region in self._down_regions:
                        raise _error(
                            "EndpointTemporarilyUnavailableException",
                            f"The cluster endpoint in {call.region} is temporarily unavailable; "
                            "retry the request on another Regional endpoint of the cluster.",
                        )
                    return serialize_result(call, action(call))
                except AwsError as error:
                    return serialize_service_error(call, error)

        return handle

    def register(self, interceptor: Interceptor) -> None:
        for operation in (
            "GetRoutingControlState",
            "UpdateRoutingControlState",
            "UpdateRoutingControlStates",
            "ListRoutingControls",
        ):
            interceptor.route(SERVICE, operation, self._handler(operation))


def _encode_token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def _decode_token(token: str | None) -> int:
    if token is None:
        return 0
    try:
        kind, _, value = base64.urlsafe_b64decode(token.encode()).decode().partition(":")
        if kind != "offset" or not value.isdigit():
            raise ValueError(token)
        return int(value)
    except ValueError as exc:  # binascii.Error and UnicodeDecodeError are ValueErrors
        raise _error(
            "ValidationException",
            f"NextToken {token!r} is not a token returned by ListRoutingControls.",
            reason="fieldValidationFailed",
            fields=[{"name": "NextToken", "message": "Invalid pagination token"}],
        ) from exc
