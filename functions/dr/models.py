"""The contract of every workflow input and every step's input and output (Parser/pydantic models).

A step validates what it receives with ``parse`` below: a payload that does not match ends the workflow
early with ``InvalidInput`` and a message that names the field and what was expected.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar

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
    """Validate ``payload`` as ``model``; a mismatch is InvalidInput naming each bad field. The call ledger a
    step adds to its result (``aws_calls``) is not part of any contract and is set aside."""
    if isinstance(payload, dict) and "aws_calls" in payload:
        payload = {k: v for k, v in payload.items() if k != "aws_calls"}
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
    """What a person gives the Step Functions console or ``drctl`` to start a workflow. Strict: a value of
    the wrong type is refused, not coerced ("600" is not 600, "yes" is not true)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    mode: Mode = "planned"
    reason: str = Field(default="", max_length=500)
    requested_by: str = Field(default="console", max_length=200)
    approval_timeout_seconds: int | None = Field(default=None, ge=60, le=86400)
    detected_at: Annotated[datetime | None, Field(strict=False)] = None  # ISO-8601 text, as JSON carries it


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
    account: str = ""
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
class Measure(Loose):
    """The data-loss exposure of one store as measured: ``seconds`` of writes that may not be in the target
    region at ``measured_at`` (when the evidence was taken). ``seconds`` None is unknown, never 0. Read at
    a later moment, the exposure is the value plus the time since it was taken (``at``)."""

    seconds: float | None
    measured_at: datetime | None
    source: str
    note: str = ""

    def at(self, now: datetime) -> float | None:
        if self.seconds is None or self.measured_at is None:
            return None
        return round(self.seconds + max(0.0, (now - self.measured_at).total_seconds()), 3)

    @property
    def known(self) -> bool:
        return self.seconds is not None and self.measured_at is not None


def worst(measures: list[Measure], source: str) -> Measure:
    """The worst of several stores' measures at the newest moment any was taken; unknown if any is."""
    unknown = [m for m in measures if not m.known]
    if unknown or not measures:
        note = "; ".join(m.note for m in unknown if m.note) or "nothing to measure"
        return Measure(seconds=None, measured_at=None, source=source, note=note)
    newest = max(m.measured_at for m in measures if m.measured_at is not None)
    return Measure(seconds=max(m.at(newest) or 0.0 for m in measures), measured_at=newest, source=source)


class AuroraReadiness(Loose):
    global_cluster_id: str
    writer_region: str
    target_cluster_id: str
    target_is_member: bool
    target_status: str
    operation_in_progress: bool
    rpo_lag_seconds: float | None
    exposure: Measure
    ready: bool
    problems: list[str] = Field(default_factory=list)


class TableReadiness(Loose):
    name: str
    status: str
    replica_regions: list[str]
    exposure: Measure


class DynamoReadiness(Loose):
    tables: list[TableReadiness]
    exposure: Measure
    ready: bool
    problems: list[str] = Field(default_factory=list)


class BucketReadiness(Loose):
    source: str
    replica: str
    versioning: str
    exposure: Measure


class S3Readiness(Loose):
    buckets: list[BucketReadiness]
    exposure: Measure
    ready: bool
    problems: list[str] = Field(default_factory=list)


Health = Literal["down", "up", "unknown"]


class Witness(Loose):
    """One source of evidence about the source region's endpoint: what it says, and on what basis."""

    says: Health
    basis: str


class EndpointReadiness(Loose):
    target_url: str
    target_healthy: bool
    target_detail: str
    source_url: str
    source_healthy_direct: bool
    source_detail: str
    probe: Witness  # the recovery region's scheduled probe (its metric, or its alarm)
    route53: Witness  # Route 53's health checkers (the DNS answer, or the health alarm)
    dns_region: str  # what the failover record answers now ("n/a" with ARC, "unknown" when unreadable)
    pinned: bool | None  # traffic pinned to the recovery region (the pin alarm in ALARM); None: unknown
    traffic_region: str
    ready: bool
    problems: list[str] = Field(default_factory=list)


class BackupReadiness(Loose):
    """Informational (never blocks a move): the newest completed recovery point, from wherever it answers."""

    vault: str
    region: str = ""
    newest_recovery_point_at: datetime | None
    newest_age_hours: float | None
    fresh: bool | None
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
    decided_at: datetime | None = None
    within_budget: bool
    evidence_agrees: bool
    evidence: dict[str, str] = Field(default_factory=dict)  # source -> what it says, and why
    plan: list[str]


# -- promotion, traffic, verification --------------------------------------------------------------------
class AuroraPromotion(Loose):
    global_cluster_id: str
    kind: Literal["failover", "switchover", "none"]
    target_cluster_arn: str
    requested_at: datetime | None
    already_in_place: bool
    rpo_seconds: float | None  # None: the exposure at promotion could not be measured


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
