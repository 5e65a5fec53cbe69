"""The backup policy of the DR design and how what AWS answers is judged against it. Pure functions: the
steps read AWS, these decide; each problem becomes a Finding with a severity and a plain-language reason.

The plan's rules (template.yaml, ``BackupPlan``): ``daily`` 02:00 UTC kept 35 days, ``weekly`` Sunday
03:00 UTC kept 90 days, ``monthly`` on the 1st 04:00 UTC kept 1 year and copied to the recovery region's
vault. A recovery point belongs to a rule by its ``CreatedBy`` (rule name, or rule id resolved through the
plan); one without a creator was taken on demand and is judged by no rule. Every check name is documented
in docs/findings.md with what it means and how to fix it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from dr.backup_models import Finding, ProtectedResource, Severity
from dr.settings import Settings

# The checks, by name (the ``check`` of a Finding). docs/findings.md explains each one.
RECOVERY_POINT_MISSING = "recovery-point-missing"
RECOVERY_POINT_STALE = "recovery-point-stale"
RECOVERY_POINT_NOT_COMPLETED = "recovery-point-not-completed"
RECOVERY_POINT_UNENCRYPTED = "recovery-point-unencrypted"
RETENTION_MISMATCH = "retention-mismatch"
COPY_MISSING = "copy-missing"
BACKUP_JOB_FAILED = "backup-job-failed"
COPY_JOB_FAILED = "copy-job-failed"
PITR_DISABLED = "pitr-disabled"
AURORA_RETENTION_SHORT = "aurora-retention-short"
VERSIONING_DISABLED = "versioning-disabled"
REPLICATION_DISABLED = "replication-disabled"
REPLICATION_RTC_DISABLED = "replication-rtc-disabled"
RESOURCE_UNREADABLE = "resource-unreadable"
VAULT_UNREADABLE = "vault-unreadable"

CHECKS = (
    RECOVERY_POINT_MISSING,
    RECOVERY_POINT_STALE,
    RECOVERY_POINT_NOT_COMPLETED,
    RECOVERY_POINT_UNENCRYPTED,
    RETENTION_MISMATCH,
    COPY_MISSING,
    BACKUP_JOB_FAILED,
    COPY_JOB_FAILED,
    PITR_DISABLED,
    AURORA_RETENTION_SHORT,
    VERSIONING_DISABLED,
    REPLICATION_DISABLED,
    REPLICATION_RTC_DISABLED,
    RESOURCE_UNREADABLE,
    VAULT_UNREADABLE,
)
SEVERITY_ORDER: dict[str, int] = {"HIGH": 0, "MEDIUM": 1, "LOW": 2}
FAILED_BACKUP_STATES = {"FAILED": "HIGH", "ABORTED": "HIGH", "EXPIRED": "HIGH", "PARTIAL": "MEDIUM"}
FAILED_COPY_STATES = {"FAILED": "HIGH", "ABORTED": "HIGH", "EXPIRED": "HIGH", "PARTIAL": "MEDIUM"}
COPY_WINDOW = timedelta(days=7)  # a copy is made after its source, within this long
CLOCK_SKEW = timedelta(hours=1)  # a copy may carry its source's creation time, or a little before it


@dataclass(frozen=True)
class Rule:
    """One rule of the backup plan, as verification judges it."""

    name: str
    schedule: str
    max_age_hours: float
    retention_days: int
    copy_required: bool


def rules(settings: Settings) -> tuple[Rule, ...]:
    return (
        Rule("daily", "every day at 02:00 UTC", settings.daily_max_age_hours, settings.daily_retention_days, False),
        Rule(
            "weekly",
            "every Sunday at 03:00 UTC",
            settings.weekly_max_age_hours,
            settings.weekly_retention_days,
            False,
        ),
        Rule(
            "monthly",
            "on the 1st of every month at 04:00 UTC",
            settings.monthly_max_age_hours,
            settings.monthly_retention_days,
            True,
        ),
    )


def _finding(
    resource: ProtectedResource,
    check: str,
    severity: Severity,
    reason: str,
    rule: str | None = None,
    point: str | None = None,
) -> Finding:
    return Finding(
        resource=resource.arn,
        resource_type=resource.type,
        check=check,
        severity=severity,
        reason=reason,
        rule=rule,
        recovery_point=point,
    )


def unreadable(resource: ProtectedResource, what: str, code: str, message: str) -> Finding:
    return _finding(
        resource,
        RESOURCE_UNREADABLE,
        "HIGH",
        f"{what} of {resource.name} could not be read ({code}): {message}. Until it can be read, nobody knows "
        "whether this resource can be recovered.",
    )


def _hours(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} days"


def _when(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value).replace("Z", "+00:00"))


# -- recovery points -------------------------------------------------------------------------------------
def rule_of(point: Mapping[str, Any], rule_names_by_id: Mapping[str, str], plan_name: str = "") -> str | None:
    """The name of the plan rule that made ``point``; None for an on-demand point or another plan's."""
    creator = point.get("CreatedBy") or {}
    if not creator.get("BackupPlanId"):
        return None
    if plan_name and creator.get("BackupPlanName") and creator["BackupPlanName"] != plan_name:
        return None
    name = creator.get("BackupRuleName") or rule_names_by_id.get(str(creator.get("BackupRuleId", "")))
    return str(name) if name else None


def _completed(points: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return [p for p in points if p.get("Status") == "COMPLETED"]


def _newest_first(points: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return sorted(points, key=lambda p: _when(p["CreationDate"]), reverse=True)


def evaluate_rule(
    resource: ProtectedResource,
    rule: Rule,
    points: Sequence[Mapping[str, Any]],
    now: datetime,
    vault: str,
) -> list[Finding]:
    """The findings for one rule's recovery points of one resource (``points`` made by that rule)."""
    ordered = _newest_first(points)
    completed = _completed(ordered)
    out: list[Finding] = []
    if not completed:
        out.append(
            _finding(
                resource,
                RECOVERY_POINT_MISSING,
                "HIGH",
                f"there is no completed {rule.name} recovery point of {resource.name} in vault {vault}: the "
                f"{rule.name} rule ({rule.schedule}) has not produced a backup this resource can be restored from",
                rule.name,
            )
        )
        return out
    newest = completed[0]
    arn = str(newest["RecoveryPointArn"])
    created = _when(newest["CreationDate"])
    age = now - created
    if age > timedelta(hours=rule.max_age_hours):
        out.append(
            _finding(
                resource,
                RECOVERY_POINT_STALE,
                "HIGH",
                f"the newest completed {rule.name} recovery point of {resource.name} was taken {_hours(age)} ago "
                f"({created.isoformat()}); the {rule.name} rule allows at most {rule.max_age_hours:g} h",
                rule.name,
                arn,
            )
        )
    if ordered[0] is not newest and ordered[0].get("Status") not in ("COMPLETED", "DELETING"):
        attempt = ordered[0]
        out.append(
            _finding(
                resource,
                RECOVERY_POINT_NOT_COMPLETED,
                "MEDIUM",
                f"the newest {rule.name} recovery point of {resource.name} "
                f"({_when(attempt['CreationDate']).isoformat()}) is {attempt.get('Status')}"
                + (f": {attempt['StatusMessage']}" if attempt.get("StatusMessage") else "")
                + "; an older completed one is the newest usable backup",
                rule.name,
                str(attempt["RecoveryPointArn"]),
            )
        )
    if not newest.get("IsEncrypted", bool(newest.get("EncryptionKeyArn"))):
        out.append(
            _finding(
                resource,
                RECOVERY_POINT_UNENCRYPTED,
                "HIGH",
                f"the newest {rule.name} recovery point of {resource.name} is not encrypted; every backup must be "
                "encrypted with the vault's KMS key",
                rule.name,
                arn,
            )
        )
    days = (newest.get("Lifecycle") or {}).get("DeleteAfterDays")
    if days is None:
        out.append(
            _finding(
                resource,
                RETENTION_MISMATCH,
                "LOW",
                f"the newest {rule.name} recovery point of {resource.name} is kept forever; the {rule.name} rule "
                f"keeps backups {rule.retention_days} days",
                rule.name,
                arn,
            )
        )
    elif int(days) != rule.retention_days:
        shorter = int(days) < rule.retention_days
        out.append(
            _finding(
                resource,
                RETENTION_MISMATCH,
                "HIGH" if shorter else "LOW",
                f"the newest {rule.name} recovery point of {resource.name} is kept {int(days)} days; the "
                f"{rule.name} rule keeps backups {rule.retention_days} days"
                + (" (it will be deleted too early)" if shorter else " (it costs more than the policy asks)"),
                rule.name,
                arn,
            )
        )
    return out


def evaluate_copies(
    resource: ProtectedResource,
    rule: Rule,
    points: Sequence[Mapping[str, Any]],
    copies: Sequence[Mapping[str, Any]],
    now: datetime,
    recovery_vault: str,
    grace_hours: float,
) -> list[Finding]:
    """Every completed recovery point of a copied rule has a completed copy in the recovery vault, made
    after it (within a week); a point younger than ``grace_hours`` may still be copying."""
    completed_copies = [_when(c["CreationDate"]) for c in _completed(copies)]
    out: list[Finding] = []
    for point in _completed(_newest_first(points)):
        created = _when(point["CreationDate"])
        if now - created < timedelta(hours=grace_hours):
            continue
        if any(created - CLOCK_SKEW <= c <= created + COPY_WINDOW for c in completed_copies):
            continue
        out.append(
            _finding(
                resource,
                COPY_MISSING,
                "HIGH",
                f"the {rule.name} recovery point of {resource.name} taken {created.isoformat()} has no completed "
                f"copy in the recovery region's vault {recovery_vault}: if the primary region is lost, so is "
                "this backup",
                rule.name,
                str(point["RecoveryPointArn"]),
            )
        )
    return out


def evaluate_recovery_points(
    resource: ProtectedResource,
    points: Sequence[Mapping[str, Any]],
    copies: Sequence[Mapping[str, Any]],
    policy: tuple[Rule, ...],
    now: datetime,
    *,
    vault: str,
    recovery_vault: str,
    copy_grace_hours: float,
    rule_names_by_id: Mapping[str, str] | None = None,
    plan_name: str = "",
) -> tuple[list[Finding], dict[str, str | None]]:
    """Every rule's findings for one resource, and the newest completed recovery point time per rule."""
    by_rule: dict[str, list[Mapping[str, Any]]] = {rule.name: [] for rule in policy}
    for point in points:
        name = rule_of(point, rule_names_by_id or {}, plan_name)
        if name in by_rule:
            by_rule[name].append(point)
    findings: list[Finding] = []
    newest: dict[str, str | None] = {}
    for rule in policy:
        findings += evaluate_rule(resource, rule, by_rule[rule.name], now, vault)
        if rule.copy_required:
            findings += evaluate_copies(
                resource, rule, by_rule[rule.name], copies, now, recovery_vault, copy_grace_hours
            )
        completed = _completed(_newest_first(by_rule[rule.name]))
        newest[rule.name] = _when(completed[0]["CreationDate"]).isoformat() if completed else None
    return findings, newest


# -- the resources' own protection ------------------------------------------------------------------------
def evaluate_table(resource: ProtectedResource, description: Mapping[str, Any]) -> list[Finding]:
    """DescribeContinuousBackups' ``ContinuousBackupsDescription``: point-in-time recovery must be on."""
    pitr = description.get("PointInTimeRecoveryDescription") or {}
    status = pitr.get("PointInTimeRecoveryStatus", "DISABLED")
    if status == "ENABLED":
        return []
    return [
        _finding(
            resource,
            PITR_DISABLED,
            "HIGH",
            f"point-in-time recovery of table {resource.name} is {status}: the table can only be restored to its "
            "last daily backup, not to any second of the last 35 days",
        )
    ]


def evaluate_cluster(resource: ProtectedResource, cluster: Mapping[str, Any], min_days: int) -> list[Finding]:
    days = int(cluster.get("BackupRetentionPeriod") or 0)
    if days >= min_days:
        return []
    return [
        _finding(
            resource,
            AURORA_RETENTION_SHORT,
            "HIGH",
            f"Aurora cluster {resource.name} keeps its automated backups {days} days; the DR design needs at "
            f"least {min_days} days of point-in-time restore",
        )
    ]


def evaluate_bucket(
    resource: ProtectedResource, versioning: Mapping[str, Any], replication: Mapping[str, Any] | None
) -> list[Finding]:
    """Versioning on, and an enabled replication rule with Replication Time Control (15 minutes)."""
    out: list[Finding] = []
    status = versioning.get("Status") or "never enabled"
    if status != "Enabled":
        out.append(
            _finding(
                resource,
                VERSIONING_DISABLED,
                "HIGH",
                f"versioning of bucket {resource.name} is {status}: AWS Backup cannot back up the bucket and "
                "an overwritten or deleted object cannot be recovered",
            )
        )
    enabled = [r for r in (replication or {}).get("Rules", []) if r.get("Status") == "Enabled"]
    if not enabled:
        out.append(
            _finding(
                resource,
                REPLICATION_DISABLED,
                "HIGH",
                f"bucket {resource.name} has no enabled replication rule: new objects are not copied to the "
                "recovery region",
            )
        )
    elif not any((r.get("Destination") or {}).get("ReplicationTime", {}).get("Status") == "Enabled" for r in enabled):
        out.append(
            _finding(
                resource,
                REPLICATION_RTC_DISABLED,
                "MEDIUM",
                f"replication of bucket {resource.name} runs without Replication Time Control: nothing bounds "
                "how far the replica may fall behind (the design promises 15 minutes)",
            )
        )
    return out


# -- jobs ------------------------------------------------------------------------------------------------
def _job_resource(job: Mapping[str, Any], known: Mapping[str, ProtectedResource], region: str) -> ProtectedResource:
    arn = str(job.get("ResourceArn", ""))
    if arn in known:
        return known[arn]
    return ProtectedResource(
        arn=arn,
        type=str(job.get("ResourceType", "unknown")),
        name=str(job.get("ResourceName") or arn.rsplit(":", 1)[-1].rsplit("/", 1)[-1]),
        region=region,
        in_inventory=False,
    )


def evaluate_jobs(
    backup_jobs: Iterable[Mapping[str, Any]],
    copy_jobs: Iterable[Mapping[str, Any]],
    known: Mapping[str, ProtectedResource],
    region: str,
    lookback_hours: float,
) -> list[Finding]:
    """Backup and copy jobs of the vault that ended FAILED, ABORTED, EXPIRED or PARTIAL in the window."""
    out: list[Finding] = []
    for kind, jobs, states, check, id_key in (
        ("backup", backup_jobs, FAILED_BACKUP_STATES, BACKUP_JOB_FAILED, "BackupJobId"),
        ("copy", copy_jobs, FAILED_COPY_STATES, COPY_JOB_FAILED, "CopyJobId"),
    ):
        for job in jobs:
            state = str(job.get("State", ""))
            if state not in states:
                continue
            resource = _job_resource(job, known, region)
            message = job.get("StatusMessage") or "no message"
            out.append(
                _finding(
                    resource,
                    check,
                    states[state],  # type: ignore[arg-type]
                    f"{kind} job {job.get(id_key)} of {resource.name} started {_when(job['CreationDate']).isoformat()} "
                    f"ended {state} within the last {lookback_hours:g} h: {message}",
                    rule=((job.get("CreatedBy") or {}).get("BackupRuleName")),
                    point=job.get("RecoveryPointArn") or job.get("SourceRecoveryPointArn"),
                )
            )
    return out


# -- the report ------------------------------------------------------------------------------------------
def error_message(error: Mapping[str, Any] | None) -> str:
    """A Step Functions error output (Error, Cause) as one line: a Lambda's Cause is its JSON payload."""
    if not error:
        return "unknown error"
    cause = str(error.get("Cause", ""))
    try:
        parsed = json.loads(cause)
        cause = str(parsed.get("errorMessage", cause)) if isinstance(parsed, dict) else cause
    except ValueError:
        pass
    return f"{error.get('Error', 'Error')}: {cause}"[:600]


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (SEVERITY_ORDER[f.severity], f.check, f.resource, f.recovery_point or ""))


def summarize(findings: list[Finding]) -> dict[str, dict[str, int]]:
    by_severity = {s: 0 for s in SEVERITY_ORDER}
    by_check: dict[str, int] = {}
    for finding in findings:
        by_severity[finding.severity] += 1
        by_check[finding.check] = by_check.get(finding.check, 0) + 1
    return {"by_severity": by_severity, "by_check": dict(sorted(by_check.items()))}
