"""The contract of the backup workflows (backup verification, restore test): their inputs, the request
every step receives, the protected resources, findings and restore results (Parser/pydantic models).

Kept beside ``dr.models`` (the failover and failback contract); ``parse`` from there validates them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field, field_validator

from dr.models import Loose, Strict

BackupWorkflow = Literal["backup-verification", "restore-test"]
RestoreMode = Literal["full", "dry-run"]
TestedType = Literal["DynamoDB", "Aurora", "S3"]
Severity = Literal["HIGH", "MEDIUM", "LOW"]
RestoreStatus = Literal[
    "SUCCEEDED",
    "RESTORE_FAILED",
    "RESTORE_TIMED_OUT",
    "VALIDATION_FAILED",  # the data was read and does not match: the backup is not trustworthy
    "VALIDATION_ERROR",  # the data could not be read or compared: nothing is known about the backup
    "ERROR",
    "PLANNED",
    "NOT_RUN",
]
ValidationVerdict = Literal["SUCCESSFUL", "FAILED"]

TESTED_TYPES: tuple[TestedType, ...] = ("DynamoDB", "Aurora", "S3")


# -- workflow inputs -------------------------------------------------------------------------------------
class VerificationInput(Strict):
    """What a person (or the daily schedule) gives the backup verification."""

    reason: str = Field(default="", max_length=500)
    requested_by: str = Field(default="console", max_length=200)


class RestoreTestInput(Strict):
    """What a person (or the monthly schedule) gives the restore test."""

    mode: RestoreMode = "full"
    from_copies: bool = False
    resource_types: list[TestedType] = Field(default_factory=lambda: list(TESTED_TYPES), min_length=1)
    reason: str = Field(default="", max_length=500)
    requested_by: str = Field(default="console", max_length=200)

    @field_validator("resource_types")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError(f"each resource type at most once, got {value}")
        return value


class BackupRequest(Strict):
    """The validated request every step of a backup workflow receives."""

    workflow: BackupWorkflow
    mode: Literal["verify", "full", "dry-run"]
    trigger: Literal["schedule", "console"]
    execution: str
    started_at: datetime
    reason: str
    requested_by: str
    primary_region: str
    recovery_region: str
    vault: str
    recovery_vault: str
    from_copies: bool = False
    resource_types: list[TestedType] = Field(default_factory=list)
    max_polls: int = Field(default=60, gt=0)

    @property
    def execution_name(self) -> str:
        return self.execution.rsplit(":", 1)[-1]


# -- verification ----------------------------------------------------------------------------------------
class ProtectedResource(Strict):
    """One resource the backup plan protects: from the inventory, or found in the vault."""

    arn: str
    type: str
    name: str
    region: str
    in_inventory: bool = True


class Finding(Strict):
    """One thing the verification found wrong, with how bad it is and why, in plain language."""

    resource: str
    resource_type: str
    check: str
    severity: Severity
    reason: str
    rule: str | None = None
    recovery_point: str | None = None


class ResourceCheck(Loose):
    """What the verification found for one resource (the output of one Map iteration)."""

    resource: str
    resource_type: str
    recovery_points: int = 0
    copies: int = 0
    newest: dict[str, str | None] = Field(default_factory=dict)  # rule -> newest completed recovery point time
    findings: list[Finding] = Field(default_factory=list)
    error: dict[str, Any] | None = None  # set when the iteration failed after its retries
    configuration: dict[str, Any] | None = None  # where its settings were read (dr.recorded_config.Provenance)


# -- restore test ----------------------------------------------------------------------------------------
class RestorePlanItem(Strict):
    """One restore the test will run: which recovery point, where, into which temporary resource."""

    resource_arn: str
    resource_type: TestedType
    resource_name: str
    source_region: str
    recovery_point_arn: str
    recovery_point_created_at: datetime
    recovery_point_completed_at: datetime | None = None
    vault: str
    region: str
    restore_name: str


class DataChecked(Loose):
    """What the validation read and compared: how many records of the restored resource, and whether they
    matched the source's at the recovery point (with each side's checksum)."""

    kind: Literal["rows", "items", "objects"]
    count: int
    matched: bool
    source_count: int = 0
    changed_since: int = 0
    differences: int = 0
    checksum: str = ""
    source_checksum: str = ""


class RestoreResult(Loose):
    """What happened to one plan item: restored, validated, reported to AWS Backup."""

    resource_arn: str
    resource_type: str
    recovery_point_arn: str
    status: RestoreStatus
    restore_job_id: str | None = None
    restored_resource: str | None = None
    restore_seconds: float | None = None
    within_rto: bool | None = None
    validated: bool = False
    validation_status: ValidationVerdict | None = None  # the verdict for AWS Backup (None: there is none)
    validation_reported: bool = False  # whether AWS Backup has been told ``validation_status``
    checks: list[dict[str, Any]] = Field(default_factory=list)
    data_checked: DataChecked | None = None
    message: str = ""
    error: dict[str, Any] | None = None  # the Step Functions error output, when a step of the restore failed
