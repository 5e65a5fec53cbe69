"""The contract of every workflow input and every step's input and output (Parser/pydantic models).

A step validates what it receives with ``parse`` below: a payload that does not match ends the workflow
early with ``InvalidInput`` and a message that names the field and what was expected.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dr.errors import InvalidInput

Mode = Literal["unplanned", "planned", "dry-run"]
Workflow = Literal["failover", "failback"]
Trigger = Literal["alarm", "console"]
Action = Literal["PROCEED", "ASK", "REFUSE", "SKIP", "DRY_RUN"]

M = TypeVar("M", bound=BaseModel)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Loose(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


def parse(model: type[M], payload: Any, what: str) -> M:
    """Validate ``payload`` as ``model``; a mismatch is InvalidInput naming each bad field."""
    try:
        return model.model_validate(payload)
    except ValidationError as err:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(root)'}: {e['msg']}"
            + (f" (got {e['input']!r})" if not isinstance(e.get("input"), dict | list) else "")
            for e in err.errors()
        )
        raise InvalidInput(f"{what} is not valid: {problems}") from err


# -- workflow inputs -------------------------------------------------------------------------------------
class ConsoleInput(Strict):
    """What a person gives the Step Functions console or ``drctl`` to start a workflow."""

    mode: Mode = "planned"
    reason: str = Field(default="", max_length=500)
    requested_by: str = Field(default="console", max_length=200)
    approval_timeout_seconds: int | None = Field(default=None, ge=60, le=86400)
    detected_at: datetime | None = None


class AlarmDetail(Loose):
    alarmName: str
    state: dict[str, Any]
    previousState: dict[str, Any] = Field(default_factory=dict)


class AlarmEvent(Loose):
    """EventBridge 'CloudWatch Alarm State Change' envelope."""

    source: Literal["aws.cloudwatch"]
    detail_type: Literal["CloudWatch Alarm State Change"] = Field(alias="detail-type")
    time: datetime
    region: str
    resources: list[str] = Field(default_factory=list)
    detail: AlarmDetail


class OperationRequest(Strict):
    """The validated request every later step receives."""

    workflow: Workflow
    mode: Mode
    trigger: Trigger
    detected_at: datetime
    source_region: str
    target_region: str
    reason: str
    requested_by: str
    alarm_name: str = ""
    execution: str
    approval_timeout_seconds: int


# -- lease -----------------------------------------------------------------------------------------------
class Lease(Loose):
    holder: str
    operation: str
    fence: int
    acquired_at: datetime
    expires_at: datetime


# -- readiness -------------------------------------------------------------------------------------------
class AuroraReadiness(Loose):
    global_cluster_id: str
    writer_region: str
    target_cluster_id: str
    target_is_member: bool
    target_status: str
    operation_in_progress: bool
    rpo_lag_seconds: float | None
    ready: bool
    problems: list[str] = Field(default_factory=list)


class TableReadiness(Loose):
    name: str
    status: str
    replica_regions: list[str]
    replication_latency_seconds: float | None


class DynamoReadiness(Loose):
    tables: list[TableReadiness]
    max_latency_seconds: float
    ready: bool
    problems: list[str] = Field(default_factory=list)


class BucketReadiness(Loose):
    source: str
    replica: str
    pending_operations: float | None
    latency_seconds: float | None
    replicating: bool


class S3Readiness(Loose):
    buckets: list[BucketReadiness]
    max_latency_seconds: float
    pending_operations: float
    ready: bool
    problems: list[str] = Field(default_factory=list)


class EndpointReadiness(Loose):
    target_url: str
    target_healthy: bool
    target_detail: str
    source_url: str
    source_healthy_direct: bool
    source_detail: str
    source_probe_healthy: bool | None
    traffic_region: str
    ready: bool
    problems: list[str] = Field(default_factory=list)


class BackupReadiness(Loose):
    vault: str
    newest_recovery_point_at: datetime | None
    newest_age_hours: float | None
    fresh: bool
    problems: list[str] = Field(default_factory=list)


class Readiness(Loose):
    aurora: AuroraReadiness
    dynamodb: DynamoReadiness
    s3: S3Readiness
    endpoints: EndpointReadiness
    backups: BackupReadiness


class Exposure(Loose):
    """Data a move would lose, per store, in seconds of writes; None when it cannot be measured."""

    aurora: float | None
    dynamodb: float | None
    s3: float | None

    @property
    def known(self) -> bool:
        return None not in (self.aurora, self.dynamodb, self.s3)

    @property
    def worst(self) -> float | None:
        values = [v for v in (self.aurora, self.dynamodb, self.s3) if v is not None]
        return max(values) if values else None


class Decision(Strict):
    action: Action
    reasons: list[str]
    exposure: Exposure
    within_budget: bool
    evidence_agrees: bool
    plan: list[str]


# -- promotion, traffic, verification --------------------------------------------------------------------
class AuroraPromotion(Loose):
    global_cluster_id: str
    kind: Literal["failover", "switchover", "none"]
    target_cluster_arn: str
    requested_at: datetime | None
    already_in_place: bool
    rpo_seconds: float


class WriterStatus(Loose):
    writer_region: str
    promoted: bool
    checked_at: datetime
    operation_in_progress: bool


class TrafficMove(Loose):
    mechanism: Literal["arc", "health-check", "none"]
    traffic_region: str
    changes: list[str]
    moved_at: datetime


class Verification(Loose):
    verified: bool
    verified_at: datetime
    traffic_region: str
    endpoint_status: int | None
    detail: str
