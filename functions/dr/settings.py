"""Deployment settings from the environment (set in template.yaml), read when a handler runs, never at
import time, so a test or localcloud can give each invocation its own environment.

``EnvSettings`` is a pydantic model filled from the environment variables named by its fields' aliases
(what pydantic-settings did here, without its import cost: it was a fifth of a step's cold import).
Values are validated and converted as before (``RTO_SECONDS=3600`` → 3600, bounds enforced)."""

from __future__ import annotations

import os
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class EnvSettings(BaseModel):
    """A frozen model whose fields come from the environment variables their aliases name (case-insensitive,
    as pydantic-settings reads them); keyword arguments, when given, are used instead."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    def __init__(self, **values: Any) -> None:
        if not values:
            environ = {k.upper(): v for k, v in os.environ.items()}
            aliases = (f.alias for f in type(self).model_fields.values() if f.alias)
            values = {alias: environ[alias.upper()] for alias in aliases if alias.upper() in environ}
        super().__init__(**values)


class Settings(EnvSettings):
    stage: str = Field(default="dev", alias="STAGE")
    primary_region: str = Field(default="us-east-1", alias="PRIMARY_REGION")
    recovery_region: str = Field(default="us-west-2", alias="RECOVERY_REGION")
    rto_seconds: int = Field(default=3600, alias="RTO_SECONDS", gt=0)
    rpo_seconds: int = Field(default=900, alias="RPO_SECONDS", gt=0)
    state_table: str = Field(default="dr-state", alias="STATE_TABLE")
    topic_arn: str = Field(default="", alias="TOPIC_ARN")
    metrics_namespace: str = Field(default="RoadCallDR", alias="POWERTOOLS_METRICS_NAMESPACE")
    service_name: str = Field(default="roadcall-dr", alias="POWERTOOLS_SERVICE_NAME")
    lease_seconds: int = Field(default=4 * 3600, alias="LEASE_SECONDS", gt=0)
    # the two alarms that may start a failover: Route 53's checkers (primary region, forwarded) and the probe
    primary_health_alarm_name: str = Field(default="roadcall-dr-primary-health", alias="PRIMARY_HEALTH_ALARM_NAME")
    probe_alarm_name: str = Field(default="roadcall-dr-primary-probe", alias="PROBE_ALARM_NAME")
    approval_timeout_seconds: int = Field(default=1800, alias="APPROVAL_TIMEOUT_SECONDS", gt=0)
    endpoint_timeout_seconds: float = Field(default=5.0, alias="ENDPOINT_TIMEOUT_SECONDS", gt=0)
    max_backup_age_hours: int = Field(default=26, alias="MAX_BACKUP_AGE_HOURS", gt=0)
    replication_latency_budget_seconds: int = Field(default=5, alias="REPLICATION_LATENCY_BUDGET_SECONDS", gt=0)
    # backups: the plan's rules (template parameters), what verification allows, how restore tests run
    reports_bucket: str = Field(default="", alias="REPORTS_BUCKET")
    backup_plan_name: str = Field(default="", alias="BACKUP_PLAN_NAME")
    daily_retention_days: int = Field(default=35, alias="BACKUP_DAILY_RETENTION_DAYS", gt=0)
    weekly_retention_days: int = Field(default=90, alias="BACKUP_WEEKLY_RETENTION_DAYS", gt=0)
    monthly_retention_days: int = Field(default=365, alias="BACKUP_MONTHLY_RETENTION_DAYS", gt=0)
    daily_max_age_hours: float = Field(default=26, alias="BACKUP_DAILY_MAX_AGE_HOURS", gt=0)
    weekly_max_age_hours: float = Field(default=8 * 24, alias="BACKUP_WEEKLY_MAX_AGE_HOURS", gt=0)
    monthly_max_age_hours: float = Field(default=32 * 24, alias="BACKUP_MONTHLY_MAX_AGE_HOURS", gt=0)
    copy_grace_hours: float = Field(default=24, alias="BACKUP_COPY_GRACE_HOURS", ge=0)
    job_lookback_hours: float = Field(default=24, alias="BACKUP_JOB_LOOKBACK_HOURS", gt=0)
    verify_batch_size: int = Field(default=25, alias="VERIFY_BATCH_SIZE", ge=1, le=500)
    min_aurora_retention_days: int = Field(default=35, alias="MIN_AURORA_BACKUP_RETENTION_DAYS", gt=0)
    restore_role_arn: str = Field(default="", alias="RESTORE_ROLE_ARN")
    restore_max_polls: int = Field(default=60, alias="RESTORE_MAX_POLLS", gt=0)  # polls 2 min apart: 2 h
    # the network a restored Aurora cluster gets in each region (dr.restore_test.restore_metadata)
    restore_primary_subnet_group: str = Field(default="", alias="RESTORE_PRIMARY_SUBNET_GROUP")
    restore_primary_security_group_ids: str = Field(default="", alias="RESTORE_PRIMARY_SECURITY_GROUP_IDS")
    restore_recovery_subnet_group: str = Field(default="", alias="RESTORE_RECOVERY_SUBNET_GROUP")
    restore_recovery_security_group_ids: str = Field(default="", alias="RESTORE_RECOVERY_SECURITY_GROUP_IDS")
    restore_count_tolerance_percent: float = Field(default=1.0, alias="RESTORE_COUNT_TOLERANCE_PERCENT", ge=0)
    restore_changed_at_attribute: str = Field(default="updated_at", alias="RESTORE_CHANGED_AT_ATTRIBUTE")
    # restore tests of Aurora: the rows read through the Data API (template parameters RestoreValidation*)
    restore_validation_tables: str = Field(default="", alias="RESTORE_VALIDATION_TABLES")
    restore_validation_database: str = Field(default="postgres", alias="RESTORE_VALIDATION_DATABASE")
    restore_validation_secret_arn: str = Field(default="", alias="RESTORE_VALIDATION_SECRET_ARN")
    restore_validation_key_column: str = Field(default="id", alias="RESTORE_VALIDATION_KEY_COLUMN")
    restore_instance_class: str = Field(default="db.r6g.large", alias="RESTORE_INSTANCE_CLASS")
    restore_test_state_machine_arn: str = Field(default="", alias="RESTORE_TEST_STATE_MACHINE_ARN")


def get_settings() -> Settings:
    return Settings()
