"""Decide: proceed on its own, ask a person, refuse, or skip — from the readiness evidence. Pure logic.

- refuse when the target region is not ready (Aurora secondary, DynamoDB replicas, target endpoint);
- skip when the writer and the traffic are already in the target region (a repeated or flapping alarm);
- dry-run: report the plan and change nothing;
- planned (drill, migration, failback): always ask;
- unplanned: proceed alone only when the exposure is measured and inside the RPO budget AND the two
  sources of evidence agree that the source region is down; otherwise ask.
"""

from __future__ import annotations

from typing import Any

from dr.inventory import load_inventory
from dr.models import Decision, Exposure, OperationRequest, Readiness, parse
from dr.settings import Settings, get_settings
from dr.steps._handler import lambda_step


def _plan(request: OperationRequest, readiness: Readiness, uses_arc: bool) -> list[str]:
    aurora = readiness.aurora
    api = "FailoverGlobalCluster(AllowDataLoss=true)" if request.mode == "unplanned" else "SwitchoverGlobalCluster"
    traffic = (
        "ARC routing controls: {t} On, {s} Off" if uses_arc else "Route 53 health-check failover records toward {t}"
    ).format(t=request.target_region, s=request.source_region)
    return [
        f"Aurora: {api} on {aurora.global_cluster_id} → {aurora.target_cluster_id} ({request.target_region}); "
        "wait until it is the writer",
        f"DynamoDB: confirm {len(readiness.dynamodb.tables)} replicas in {request.target_region} take writes",
        f"S3: record the replication backlog of {len(readiness.s3.buckets)} buckets at promotion",
        f"Traffic: {traffic}",
        f"Verify: {readiness.endpoints.target_url} healthy and traffic in {request.target_region}",
    ]


def decide(request: OperationRequest, readiness: Readiness, settings: Settings, uses_arc: bool) -> Decision:
    exposure = Exposure(
        aurora=0.0
        if request.mode == "planned" and readiness.aurora.rpo_lag_seconds is not None
        else readiness.aurora.rpo_lag_seconds,
        dynamodb=readiness.dynamodb.max_latency_seconds
        if all(t.replication_latency_seconds is not None for t in readiness.dynamodb.tables)
        else None,
        s3=readiness.s3.max_latency_seconds
        if all(b.latency_seconds is not None for b in readiness.s3.buckets)
        else None,
    )
    worst = exposure.worst
    within = exposure.known and worst is not None and worst <= settings.rpo_seconds
    source_down_direct = not readiness.endpoints.source_healthy_direct
    probe = readiness.endpoints.source_probe_healthy
    evidence = request.mode != "unplanned" or (source_down_direct and probe is not True)
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
            within_budget=bool(within),
            evidence_agrees=evidence,
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
        reasons.append("data-loss exposure could not be measured for every store")
    elif not within:
        reasons.append(f"exposure {worst:.0f} s is over the RPO budget of {settings.rpo_seconds} s")
    if not evidence:
        witness = "a direct check" if not source_down_direct else "the probe"
        reasons.append(
            f"the evidence disagrees: the alarm says {request.source_region} is down but "
            f"{witness} from {settings.recovery_region} sees it healthy"
        )
    if request.mode == "dry-run":
        reasons.append("dry-run: nothing will be changed")
        return decision("DRY_RUN")
    if request.mode == "planned":
        reasons.append("planned moves always ask a person")
        return decision("ASK")
    if within and evidence:
        reasons.append(f"exposure {worst:.0f} s is inside the RPO budget and the evidence agrees")
        return decision("PROCEED")
    return decision("ASK")


@lambda_step
def handler(event: dict[str, Any]) -> dict[str, Any]:
    request = parse(OperationRequest, event.get("request"), "request")
    readiness = parse(Readiness, event.get("readiness"), "readiness")
    settings = get_settings()
    uses_arc = load_inventory(settings).routing.uses_arc
    return decide(request, readiness, settings, uses_arc).model_dump(mode="json")
