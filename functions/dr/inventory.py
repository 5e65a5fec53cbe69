"""What the platform is made of, by name, from the stack's parameters (never from code).

template.yaml passes the inventory to every function as environment variables; this module turns them
into one typed object, validated once per invocation with a clear error when something is missing.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import cached_property

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from dr.errors import InvalidInput
from dr.settings import Settings


def _split(name: str, env: Mapping[str, str] | None = None) -> list[str]:
    return [part.strip() for part in (os.environ if env is None else env).get(name, "").split(",") if part.strip()]


class AuroraInventory(BaseModel):
    model_config = ConfigDict(frozen=True)
    global_cluster_id: str
    primary_cluster_id: str
    secondary_cluster_id: str


class BucketPair(BaseModel):
    model_config = ConfigDict(frozen=True)
    source: str
    replica: str


class RoutingInventory(BaseModel):
    model_config = ConfigDict(frozen=True)
    primary_health_check_id: str = ""
    recovery_health_check_id: str = ""
    primary_endpoint_url: str
    recovery_endpoint_url: str
    arc_cluster_endpoints: dict[str, str] = Field(default_factory=dict)  # region -> endpoint URL
    primary_routing_control_arn: str = ""
    recovery_routing_control_arn: str = ""
    # Where users go, read through DNS (the Route 53 data plane): the failover record and what each
    # region's record answers; the resolver to ask ("" = the system's).
    traffic_dns_name: str = ""
    traffic_dns_answers: dict[str, str] = Field(default_factory=dict)  # region -> IP or host name
    dns_resolver: str = ""
    # The alarm the primary record's health check watches: ALARM pins users to the recovery region.
    traffic_pin_alarm_name: str = ""

    @property
    def uses_arc(self) -> bool:
        return bool(
            self.arc_cluster_endpoints and self.primary_routing_control_arn and self.recovery_routing_control_arn
        )

    @model_validator(mode="after")
    def _has_a_traffic_mechanism(self) -> RoutingInventory:
        if self.uses_arc:
            return self
        missing = [
            name
            for name, value in (
                ("TRAFFIC_DNS_NAME", self.traffic_dns_name),
                ("TRAFFIC_DNS_ANSWERS (REGION=VALUE for both regions)", len(self.traffic_dns_answers) >= 2),
                ("TRAFFIC_PIN_ALARM_NAME", self.traffic_pin_alarm_name),
            )
            if not value
        ]
        if missing:
            raise ValueError(
                "no traffic mechanism: set ARC_CLUSTER_ENDPOINTS with both routing control ARNs, or the "
                "health-check failover records (" + ", ".join(missing) + " missing)"
            )
        return self


class Inventory(BaseModel):
    model_config = ConfigDict(frozen=True)
    primary_region: str
    recovery_region: str
    tables: list[str]
    aurora: AuroraInventory
    buckets: list[BucketPair]
    routing: RoutingInventory
    backup_vault: str = ""
    recovery_backup_vault: str = ""

    def other_region(self, region: str) -> str:
        return self.recovery_region if region == self.primary_region else self.primary_region

    def aurora_cluster_in(self, region: str) -> str:
        if region == self.primary_region:
            return self.aurora.primary_cluster_id
        if region == self.recovery_region:
            return self.aurora.secondary_cluster_id
        raise InvalidInput(
            f"region {region!r} is neither the primary {self.primary_region} nor the recovery {self.recovery_region}"
        )

    def endpoint_url(self, region: str) -> str:
        return (
            self.routing.primary_endpoint_url if region == self.primary_region else self.routing.recovery_endpoint_url
        )

    def health_check_id(self, region: str) -> str:
        return (
            self.routing.primary_health_check_id
            if region == self.primary_region
            else self.routing.recovery_health_check_id
        )

    def routing_control_arn(self, region: str) -> str:
        return (
            self.routing.primary_routing_control_arn
            if region == self.primary_region
            else self.routing.recovery_routing_control_arn
        )

    def bucket_in(self, pair: BucketPair, region: str) -> str:
        return pair.source if region == self.primary_region else pair.replica

    @cached_property
    def table_names(self) -> tuple[str, ...]:
        return tuple(self.tables)


def _pairs(name: str, shape: str, env: Mapping[str, str] | None) -> dict[str, str]:
    out = {}
    for item in _split(name, env):
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise InvalidInput(f"{name} item {item!r}: expected {shape}")
        out[key.strip()] = value.strip()
    return out


def load_inventory(settings: Settings, env: Mapping[str, str] | None = None) -> Inventory:
    """The inventory from this process's environment, or from ``env`` (drctl reads a deployed function's)."""
    environ = os.environ if env is None else env
    sources, replicas = _split("PROTECTED_BUCKETS", env), _split("REPLICA_BUCKETS", env)
    if len(sources) != len(replicas):
        raise InvalidInput(
            f"PROTECTED_BUCKETS has {len(sources)} buckets but REPLICA_BUCKETS has {len(replicas)}; "
            "expected one replica per protected bucket, in the same order"
        )
    endpoints = _pairs("ARC_CLUSTER_ENDPOINTS", "REGION=URL", env)
    answers = _pairs("TRAFFIC_DNS_ANSWERS", "REGION=IP or REGION=HOST", env)
    try:
        return Inventory(
            primary_region=settings.primary_region,
            recovery_region=settings.recovery_region,
            tables=_split("PROTECTED_TABLES", env),
            aurora=AuroraInventory(
                global_cluster_id=environ.get("AURORA_GLOBAL_CLUSTER_ID", ""),
                primary_cluster_id=environ.get("AURORA_PRIMARY_CLUSTER_ID", ""),
                secondary_cluster_id=environ.get("AURORA_SECONDARY_CLUSTER_ID", ""),
            ),
            buckets=[BucketPair(source=s, replica=r) for s, r in zip(sources, replicas, strict=True)],
            routing=RoutingInventory(
                primary_health_check_id=environ.get("PRIMARY_HEALTH_CHECK_ID", ""),
                recovery_health_check_id=environ.get("RECOVERY_HEALTH_CHECK_ID", ""),
                primary_endpoint_url=environ.get("PRIMARY_ENDPOINT_URL", ""),
                recovery_endpoint_url=environ.get("RECOVERY_ENDPOINT_URL", ""),
                arc_cluster_endpoints=endpoints,
                primary_routing_control_arn=environ.get("PRIMARY_ROUTING_CONTROL_ARN", ""),
                recovery_routing_control_arn=environ.get("RECOVERY_ROUTING_CONTROL_ARN", ""),
                traffic_dns_name=environ.get("TRAFFIC_DNS_NAME", ""),
                traffic_dns_answers=answers,
                dns_resolver=environ.get("DNS_RESOLVER", ""),
                traffic_pin_alarm_name=environ.get("TRAFFIC_PIN_ALARM_NAME", ""),
            ),
            backup_vault=environ.get("BACKUP_VAULT_NAME", ""),
            recovery_backup_vault=environ.get("RECOVERY_BACKUP_VAULT_NAME", ""),
        )
    except ValidationError as err:
        raise InvalidInput(f"the platform inventory in the function's environment is incomplete: {err}") from err
