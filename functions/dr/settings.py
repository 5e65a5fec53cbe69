"""Deployment settings from the environment (set in template.yaml), read when a handler runs, never at
import time, so a test or localcloud can give each invocation its own environment."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    stage: str = Field(default="dev", alias="STAGE")
    primary_region: str = Field(default="us-east-1", alias="PRIMARY_REGION")
    recovery_region: str = Field(default="us-west-2", alias="RECOVERY_REGION")
    rto_seconds: int = Field(default=3600, alias="RTO_SECONDS", gt=0)
    rpo_seconds: int = Field(default=900, alias="RPO_SECONDS", gt=0)
    state_table: str = Field(default="dr-state", alias="STATE_TABLE")
    topic_arn: str = Field(default="", alias="TOPIC_ARN")
    metrics_namespace: str = Field(default="RoadCallDR", alias="POWERTOOLS_METRICS_NAMESPACE")
    lease_seconds: int = Field(default=4 * 3600, alias="LEASE_SECONDS", gt=0)
    approval_timeout_seconds: int = Field(default=1800, alias="APPROVAL_TIMEOUT_SECONDS", gt=0)
    endpoint_timeout_seconds: float = Field(default=5.0, alias="ENDPOINT_TIMEOUT_SECONDS", gt=0)
    max_backup_age_hours: int = Field(default=26, alias="MAX_BACKUP_AGE_HOURS", gt=0)
    replication_latency_budget_seconds: int = Field(default=5, alias="REPLICATION_LATENCY_BUDGET_SECONDS", gt=0)


def get_settings() -> Settings:
    return Settings()
