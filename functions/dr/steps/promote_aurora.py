"""PromoteAurora: move the Aurora writer to the target region. Unplanned failover uses
FailoverGlobalCluster with AllowDataLoss; planned moves and every failback use SwitchoverGlobalCluster
(no data loss). Idempotent: a writer already there, or a move already under way toward it, is not
requested again."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from dr import probes
from dr.aws import aws_errors, client
from dr.errors import DataLossRefused, PromotionFailed
from dr.inventory import load_inventory
from dr.models import AuroraPromotion, AuroraReadiness, OperationRequest, parse
from dr.observability import logger
from dr.settings import get_settings
from dr.steps._handler import lambda_step


def promote(request: OperationRequest, readiness: AuroraReadiness, allow_data_loss: bool) -> AuroraPromotion:
    inv = load_inventory(get_settings())
    if request.workflow == "failback" and allow_data_loss:
        raise DataLossRefused("failback never allows data loss: it switches over only when replication has caught up")
    rds = client("rds", request.target_region)
    target_id = inv.aurora_cluster_in(request.target_region)
    with aws_errors(f"rds:DescribeDBClusters {target_id}", PromotionFailed):
        target_arn = str(rds.describe_db_clusters(DBClusterIdentifier=target_id)["DBClusters"][0]["DBClusterArn"])
        cluster = probes.global_cluster(inv, request.target_region)
    kind = "failover" if allow_data_loss else "switchover"
    # A failover loses what had not replicated: the exposure measured by readiness, aged to now (None:
    # unknown, never 0). A switchover waits for the secondary to catch up: nothing is lost.
    rpo = readiness.exposure.at(datetime.now(UTC)) if allow_data_loss else 0.0
    if probes.writer_region(cluster) == request.target_region:
        return AuroraPromotion(
            global_cluster_id=inv.aurora.global_cluster_id,
            kind="none",
            target_cluster_arn=target_arn,
            requested_at=None,
            already_in_place=True,
            rpo_seconds=0.0,
        )
    state = cluster.get("FailoverState") or {}
    if state.get("ToDbClusterArn") == target_arn:
        logger.info("a promotion toward the target is already under way; not requesting another")
    else:
        action = "rds:FailoverGlobalCluster" if allow_data_loss else "rds:SwitchoverGlobalCluster"
        with aws_errors(f"{action} {inv.aurora.global_cluster_id} → {target_id}", PromotionFailed):
            if allow_data_loss:
                rds.failover_global_cluster(
                    GlobalClusterIdentifier=inv.aurora.global_cluster_id,
                    TargetDbClusterIdentifier=target_arn,
                    AllowDataLoss=True,
                )
            else:
                rds.switchover_global_cluster(
                    GlobalClusterIdentifier=inv.aurora.global_cluster_id, TargetDbClusterIdentifier=target_arn
                )
    return AuroraPromotion(
        global_cluster_id=inv.aurora.global_cluster_id,
        kind=kind,
        target_cluster_arn=target_arn,
        requested_at=datetime.now(UTC),
        already_in_place=False,
        rpo_seconds=rpo,
    )


@lambda_step
def handler(event: dict[str, Any]) -> dict[str, Any]:
    request = parse(OperationRequest, event.get("request"), "request")
    readiness = parse(AuroraReadiness, event.get("aurora"), "aurora readiness")
    allow = bool(event.get("allowDataLoss", request.mode == "unplanned"))
    return promote(request, readiness, allow).model_dump(mode="json")
