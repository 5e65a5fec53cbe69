"""Replication setup as code: make the platform replicate from one region toward the other, idempotently.

Used for the first setup of the platform (primary → recovery) and for re-protection after a failover
(recovery → old primary), by ``drctl setup replication`` (with the operator's credentials) and by the
failback workflow's Reprotect* steps. Each ``setup_*`` function looks at what is there, changes only what
is missing or wrong, and returns a ``SetupResult``: the changes it made (empty when there was nothing to
do), what it found, and what is still converging (``pending``: a replica CREATING, a cluster being
created). Run it again until nothing is pending; a run on a complete platform changes nothing. With
``dry_run`` nothing is changed and ``changes`` lists what would be done.

What "replicating toward ``to_region``" means is each store's module's docstring: dr.replication_dynamodb
(global tables), dr.replication_aurora (global database), dr.replication_s3 (replication rules); what they
share is dr.replication_common. This module holds the settings and ``setup_all``, and keeps the public names
importable from ``dr.replication``.
"""

from __future__ import annotations

from pydantic import Field

from dr.aws import client
from dr.errors import ReplicationNotConfigured
from dr.inventory import Inventory
from dr.replication_aurora import setup_aurora
from dr.replication_common import ClientFactory, SetupResult, partition
from dr.replication_dynamodb import setup_dynamodb
from dr.replication_s3 import TRUST, object_versions, replication_rule, role_policy, rule_differences, setup_s3
from dr.settings import EnvSettings

__all__ = [
    "TRUST",
    "ClientFactory",
    "ReplicationSettings",
    "SetupResult",
    "object_versions",
    "partition",
    "replication_rule",
    "role_policy",
    "rule_differences",
    "setup_all",
    "setup_aurora",
    "setup_dynamodb",
    "setup_s3",
]


class ReplicationSettings(EnvSettings):
    """What replication setup needs beyond the inventory (environment, set in template.yaml)."""

    rule_id: str = Field(default="dr-replication", alias="REPLICATION_RULE_ID")
    role_name: str = Field(default="roadcall-s3-replication", alias="REPLICATION_ROLE_NAME")
    aurora_primary_readers: int = Field(default=2, alias="AURORA_PRIMARY_READERS", ge=0)
    lag_budget_seconds: float = Field(default=5, alias="REPLICATION_LATENCY_BUDGET_SECONDS", gt=0)
    s3_budget_seconds: float = Field(default=900, alias="S3_REPLICATION_BUDGET_SECONDS", gt=0)
    wait_seconds: int = Field(default=1800, alias="REPLICATION_WAIT_SECONDS", gt=0)
    backfill_limit: int = Field(default=10000, alias="S3_BACKFILL_LIMIT", gt=0)
    changed_at_attribute: str = Field(default="updated_at", alias="ITEM_CHANGED_AT_ATTRIBUTE")
    outage_lookback_hours: float = Field(default=24, alias="OUTAGE_LOOKBACK_HOURS", gt=0)

    def aurora_instances(self, inv: Inventory, region: str) -> int:
        """The primary region's cluster carries the writer and its readers; the recovery region's at least one."""
        return 1 + self.aurora_primary_readers if region == inv.primary_region else 1


def setup_all(
    inv: Inventory,
    from_region: str,
    to_region: str,
    settings: ReplicationSettings,
    *,
    dry_run: bool = False,
    clients: ClientFactory = client,
) -> list[SetupResult]:
    """One pass over the three stores (what ``drctl setup replication`` runs until nothing is pending)."""
    for region in (from_region, to_region):
        if region not in (inv.primary_region, inv.recovery_region):
            raise ReplicationNotConfigured(
                f"region {region} is neither the primary {inv.primary_region} nor the recovery {inv.recovery_region}"
            )
    if from_region == to_region:
        raise ReplicationNotConfigured(f"--from and --to are both {from_region}; expected two regions")
    return [
        setup_dynamodb(inv, from_region, to_region, dry_run=dry_run, clients=clients),
        setup_aurora(
            inv,
            from_region,
            to_region,
            min_instances=settings.aurora_instances(inv, to_region),
            lag_budget_seconds=settings.lag_budget_seconds,
            dry_run=dry_run,
            clients=clients,
        ),
        setup_s3(
            inv,
            from_region,
            to_region,
            rule_id=settings.rule_id,
            role_name=settings.role_name,
            dry_run=dry_run,
            backfill_limit=settings.backfill_limit,
            clients=clients,
        ),
    ]
