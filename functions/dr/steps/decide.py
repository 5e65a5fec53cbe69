"""Decide: proceed on its own, ask a person, refuse, or skip — from the readiness evidence. Pure logic.

- refuse when the target region is not ready (Aurora secondary, DynamoDB replicas, target endpoint);
- skip when the writer and the traffic are already in the target region (a repeated or flapping alarm);
- dry-run: report the plan and change nothing;
- planned (drill, migration, failback): always ask;
- unplanned: proceed alone only when the exposure of every store is known and inside the RPO budget AND
  two independent sources agree that the source region is down; otherwise ask.

The exposure at decision time is each store's last measure plus the time since it was taken
(``Measure.at``); an unknown store makes the exposure unknown, which asks.

The evidence rule (unplanned), exactly:
- the sources: **route53** — Route 53's health checkers, seen through the failover record's DNS answer
  while traffic is not pinned (the answer follows the checkers), or through the health alarm that started
  the run; **probe** — the recovery region's scheduled probe, through its newest datapoint when at most
  3 minutes old (the probe alarm is computed from the same datapoints and adds nothing); **direct** —
  the check made just now from the recovery region. Each says down, up or unknown
  (readiness.probe_witness / route53_witness).
- agreement: route53 says down AND probe says down AND the direct check does not see the source healthy.
- the direct check is the probe's vantage point, so it never counts as a second source: it can only veto.
- any source saying up: the evidence disagrees → ask. One source down and the other unknown (a silent
  probe, DNS unreadable, ARC without the health alarm) → one source only → ask.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from dr.inventory import load_inventory
from dr.models import Decision, Exposure, OperationRequest, Readiness, parse
from dr.settings import Settings, get_settings
from dr.steps._handler import lambda_step


def _plan(request: OperationRequest, readiness: Readiness, uses_arc: bool) -> list[str]:
    aurora = readiness.aurora
    api = "FailoverGlobalCluster(AllowDataLoss=true)" if request.mode == "unplanned" else "SwitchoverGlobalCluster"
    if uses_arc:
        traffic = f"ARC routing controls: {request.target_region} On, {request.source_region} Off"
    else:
        pin = "pin users to" if request.workflow == "failover" else "release the pin on"
        traffic = f"{pin} the recovery region's failover record (the traffic-pin alarm: a data-plane action)"
    return [
        f"Aurora: {api} on {aurora.global_cluster_id} → {aurora.target_cluster_id} ({request.target_region}); "
        "wait until it is the writer",
        f"DynamoDB: confirm {len(readiness.dynamodb.tables)} replicas in {request.target_region} take writes",
        f"S3: record the replication exposure of {len(readiness.s3.buckets)} buckets at promotion",
        f"Traffic: {traffic}",
        f"Verify: {readiness.endpoints.target_url} healthy and users sent to {request.target_region}",
    ]


def exposure_at(request: OperationRequest, readiness: Readiness, now: datetime) -> Exposure:
    """Each store's exposure now; a planned move switches Aurora over without loss (0 when measurable)."""
    aurora = readiness.aurora.exposure.at(now)
    if request.mode == "planned" and aurora is not None:
        aurora = 0.0
    return Exposure(aurora=aurora, dynamodb=readiness.dynamodb.exposure.at(now), s3=readiness.s3.exposure.at(now))


def evidence(readiness: Readiness) -> tuple[bool, dict[str, str], str]:
    """Whether the sources agree that the source region is down, what each says, and why not when not."""
    endpoints = readiness.endpoints
    direct = "up" if endpoints.source_healthy_direct else "down"
    said = {
        "route53": f"{endpoints.route53.says}: {endpoints.route53.basis}",
        "probe": f"{endpoints.probe.says}: {endpoints.probe.basis}",
        "direct": f"{direct}: {endpoints.source_detail}",
    }
    votes = {"route53": endpoints.route53.says, "probe": endpoints.probe.says}
    if direct == "up":
        return False, said, f"a direct check from the recovery region sees {endpoints.source_url} healthy now"
    up = [name for name, says in votes.items() if says == "up"]
    if up:
        return False, said, "the evidence disagrees: " + " and ".join(f"{n} ({said[n]})" for n in up)
    unknown = [name for name, says in votes.items() if says == "unknown"]
    if unknown:
        return False, said, "one source only: " + " and ".join(f"{n} ({said[n]})" for n in unknown)
    return True, said, ""


def decide(request: OperationRequest, readiness: Readiness, settings: Settings, uses_arc: bool) -> Decision:
    now = datetime.now(UTC)
    exposure = exposure_at(request, readiness, now)
    worst = exposure.worst
    within = exposure.known and worst is not None and worst <= settings.rpo_seconds
    agrees, said, disagreement = evidence(readiness) if request.mode == "unplanned" else (True, {}, "")
    plan = _plan(request, readiness, uses_arc)
    reasons: list[str] = []
    blockers = (
        [*readiness.aurora.problems, *readiness.dynamodb.problems, *readiness.endpoints.problems]
        if not (readiness.aurora.ready and readiness.dynamodb.ready and readiness.endpoints.ready)
        else []
    )

    def decision(action: str) -> Decision:
        return Decision(
            action=action,
            reasons=reasons,
            exposure=exposure,
            decided_at=now,
            within_budget=bool(within),
            evidence_agrees=agrees,
            evidence=said,
            plan=plan,
        )

    if (
        readiness.aurora.writer_region == request.target_region
        and readiness.endpoints.traffic_region == request.target_region
    ):
        reasons.append(f"the writer and the traffic are already in {request.target_region}: nothing to do")
        return decision("DRY_RUN" if request.mode == "dry-run" else "SKIP")
    if blockers:
        reasons.extend(f"not ready: {b}" for b in blockers)
        return decision("DRY_RUN" if request.mode == "dry-run" else "REFUSE")
    if not exposure.known:
        unknown = ", ".join(store for store, value in exposure.model_dump().items() if value is None)
        reasons.append(f"data-loss exposure unknown for {unknown}: it could not be measured from the target region")
    elif not within:
        reasons.append(f"exposure {worst:.0f} s is over the RPO budget of {settings.rpo_seconds} s")
    if disagreement:
        reasons.append(disagreement)
    if request.mode == "dry-run":
        reasons.append("dry-run: nothing will be changed")
        return decision("DRY_RUN")
    if request.mode == "planned":
        reasons.append("planned moves always ask a person")
        return decision("ASK")
    if within and agrees:
        reasons.append(f"exposure {worst:.0f} s is inside the RPO budget and two sources agree the source is down")
        return decision("PROCEED")
    return decision("ASK")


@lambda_step
def handler(event: dict[str, Any]) -> dict[str, Any]:
    request = parse(OperationRequest, event.get("request"), "request")
    readiness = parse(Readiness, event.get("readiness"), "readiness")
    settings = get_settings()
    uses_arc = load_inventory(settings).routing.uses_arc
    return decide(request, readiness, settings, uses_arc).model_dump(mode="json")
