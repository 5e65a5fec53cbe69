"""HandleFailure: every failure path of the failover and the failback comes here before its named Fail state.

What changed is computed from what was observed, never assumed:
- a run that never entered a step that changes the platform (the promotion, the traffic move) changed
  nothing, by construction: the lease is RELEASED and no region needs to answer for that to be known;
- a run that did is compared, writer and traffic, with the baseline it saw before acting, read now from the
  target region's data planes. A difference is a change; what cannot be read (or has no baseline) is
  *unknown*, which is not a change but is not "nothing" either: the lease is BLOCKED for a person, with
  what is known in its note, whenever anything moved, is moving, or is unknown.

Then, independently (one failing never stops the others): the lease is settled (only if this run still
holds it: never after LeaseHeld or LeaseLost), the audit record is written, the topic is notified. What
could not be done is in ``warnings``; when neither record could be written, the Fail state's cause says so
and the ``BookkeepingFailed`` metric pages.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from botocore.exceptions import BotoCoreError, ClientError

from dr import bookkeeping, failure, lease, probes, traffic_pin
from dr.inventory import load_inventory
from dr.models import OperationRequest
from dr.observability import logger, metrics
from dr.settings import Settings, get_settings
from dr.steps._handler import lambda_step

FAIL_STATES = {
    "InvalidInput": "FailInvalidInput",
    "InputTooLarge": "FailInvalidInput",
    "LeaseHeld": "FailLeaseHeld",
    "LeaseLost": "FailLeaseLost",
    "NotReady": "FailNotReady",
    "PlatformNotHealthy": "FailNotReady",
    "ApprovalRejected": "FailRejected",
    "States.Timeout": "FailApprovalTimedOut",
    "PromotionFailed": "FailPromotion",
    "PromotionTimedOut": "FailPromotion",
    "DataLossRefused": "FailPromotion",
    "TrafficMoveFailed": "FailTrafficMove",
    "RecoveryNotVerified": "FailVerification",
    "ReplicationNotConfigured": "FailReprotect",
    "ReplicationLagTooHigh": "FailReplicationLag",
}
APPROVAL_PHASE = "RequestApproval"  # the waitForTaskToken whose States.Timeout is ApprovalTimedOut
NOT_OURS = ("LeaseHeld", "LeaseLost")  # the lease belongs to someone else: never settle it


def _cause(raw: str) -> str:
    """A Lambda error's Cause is the JSON payload; show its message, not the stack trace."""
    try:
        return str(json.loads(raw).get("errorMessage", raw))
    except (ValueError, AttributeError):
        return raw


def named(name: str, cause: str, phase: str) -> tuple[str, str]:
    """The error as the run reports it. The target region could not be read, even after retries: that is
    NotReady (nothing was changed), with the original error in the cause. A States.Timeout is the approval
    timing out only in the approval wait; anywhere else a step did not answer within its TimeoutSeconds
    (its AWS calls kept timing out), and the cause says which."""
    if phase != APPROVAL_PHASE:
        name, cause = failure.step_timed_out(name, cause, phase)
    if name not in FAIL_STATES and phase == "AssessReadiness":
        return "NotReady", f"the target region could not be read ({name}): {cause}"
    return name, cause


def fail_state(name: str, phase: str) -> str:
    return FAIL_STATES.get(named(name, "", phase)[0], "FailUnexpected")


def observe(request: OperationRequest, settings: Settings) -> dict[str, str | None]:
    """Where the writer and the traffic are now, from the target region's side; None where unreadable."""
    inv = load_inventory(settings)
    seen: dict[str, str | None] = {
        "writer_region": None,
        "traffic_region": None,
        "in_progress": None,
        "traffic_pinned_to": None,
    }
    try:
        cluster = probes.global_cluster(inv, request.target_region)
        seen["writer_region"] = probes.writer_region(cluster)
        seen["in_progress"] = "yes" if cluster.get("FailoverState") else "no"
    except (ClientError, BotoCoreError, probes.NotFound) as err:
        logger.warning("writer unreadable", extra={"error": str(err)})
    try:
        seen["traffic_region"] = probes.traffic_region(inv)
    except probes.TrafficUnknown as err:
        logger.warning("traffic unreadable", extra={"error": str(err)})
    if not inv.routing.uses_arc:
        try:
            seen["traffic_pinned_to"] = traffic_pin.heading(settings, request.execution)
        except (ClientError, BotoCoreError) as err:
            logger.warning("traffic-pin intent unreadable", extra={"error": str(err)})
    return seen


def what_changed(
    attempted: list[str], baseline: dict[str, Any], seen: dict[str, str | None]
) -> tuple[list[str], list[str], list[str]]:
    """(changed, unchanged, unknown) of the writer and the traffic, from what was observed."""
    if not attempted:
        return [], ["nothing: the run stopped before any step that changes the platform"], []
    changed: list[str] = []
    unchanged: list[str] = []
    unknown: list[str] = []
    for key, what in (("writer_region", "Aurora writer"), ("traffic_region", "traffic")):
        before, now = baseline.get(key), seen.get(key)
        heading = seen.get("traffic_pinned_to") if key == "traffic_region" else None
        if heading and heading != now:
            where = f"DNS answers {now} now" if now and now != "unknown" else "DNS could not be read now"
            unknown.append(
                f"traffic: moving to {heading}, not there yet ({where}): this run recorded the pin toward "
                f"{heading}, which KeepTrafficPin publishes every minute (DNS follows in about 3 minutes)"
            )
        elif now is None or now == "unknown":
            unknown.append(f"{what}: could not be read now" + (f" (it was in {before})" if before else ""))
        elif not before or before == "unknown":
            unknown.append(f"{what}: in {now} now, no baseline to compare with")
        elif before == now and key == "writer_region" and seen.get("in_progress") == "yes":
            # a switchover or failover the run started is still under way: the writer may yet move
            unknown.append(f"{what}: in {now} now, with a promotion in progress: it may still move")
        elif before == now:
            unchanged.append(f"{what}: still in {now}")
        else:
            changed.append(f"{what}: moved from {before} to {now}")
    if seen.get("in_progress") == "yes":
        changed.append("Aurora: a promotion is still in progress")
    return changed, unchanged, unknown


def _settle(request: OperationRequest, state: str, note: str, facts: list[str], settings: Settings) -> str:
    try:
        held = lease.settle(settings.state_table, settings.recovery_region, request.execution, state, note, facts)
    except (ClientError, BotoCoreError) as err:
        return f"unsettled ({type(err).__name__}: {err})"
    return state if held else "not held"


def _message(out: dict[str, Any]) -> bookkeeping.Notification:
    blocked = " — a person must check the platform, then run `drctl lease clear`" if out["lease"] == "BLOCKED" else ""
    subject, message, event = failure.compose(out, [f"Lease: {out['lease']}{blocked}"])
    return bookkeeping.Notification(subject=subject, message=message, event=event)


def handle(event: dict[str, Any], settings: Settings) -> dict[str, Any]:
    error = event.get("error") or {}
    phase = str(event.get("phase", "?"))
    name, cause = named(str(error.get("Error", "Unknown")), _cause(str(error.get("Cause", ""))), phase)
    execution = str(event.get("execution", ""))
    raw_request = event.get("request")
    request = OperationRequest.model_validate(raw_request) if isinstance(raw_request, dict) else None
    workflow = request.workflow if request else str(event.get("workflow", "failover"))
    attempted = [str(a) for a in event.get("attempted") or []]
    changed: list[str] = []
    unknown: list[str] = []
    unchanged: list[str] = ["nothing was attempted: the request was not valid"] if request is None else []
    lease_state = "not held"
    if request is not None:
        seen = observe(request, settings) if attempted else {}
        changed, unchanged, unknown = what_changed(attempted, event.get("baseline") or {}, seen)
        changed += [str(c) for c in event.get("changes") or []]  # what the workflow itself reports it changed
        moved = [c for c in changed if "moved" in c or "progress" in c]
        if name not in NOT_OURS:
            state = "BLOCKED" if moved or unknown else "RELEASED"
            note = f"{workflow} failed in {phase}: {name}: {cause}"[:900]
            lease_state = _settle(request, state, note, changed + [f"unknown: {u}" for u in unknown], settings)
    out = {
        **failure.ending(workflow, execution, phase, (name, cause), fail_state(name, phase), changed, unchanged),
        "attempted": attempted,
        "unknown": unknown,
        "lease": lease_state,
    }
    done = bookkeeping.finish(out, _message(out), settings)
    warnings = list(done.warnings)
    if lease_state.startswith("unsettled"):
        warnings.append(f"the lease could not be settled: {lease_state}")
    out["warnings"] = warnings
    out["cause"] = failure.with_what_was_lost(cause, done.audited, done.notified, list(done.warnings))
    metrics.add_dimension(name="Workflow", value=workflow)
    metrics.add_metric(
        name="".join(p.capitalize() for p in workflow.split("-")) + "Failed", unit=MetricUnit.Count, value=1
    )
    logger.error("workflow failed", extra={"error": name, "cause": cause, "changed": changed, "phase": phase})
    return out


@lambda_step
def handler(event: dict[str, Any]) -> dict[str, Any]:
    return handle(event, get_settings())
