"""WriteVerificationReport: the end of a verification that ran. Gather every finding, write the JSON report
and the Markdown summary to the reports bucket, publish the findings as metrics, then write the audit
record and notify the findings (``dr.bookkeeping.finish``: each independent of the other, each retried).

The rule: once the checks are gathered, nothing lost at the end turns the verification into a failure. A
report that cannot be stored, an audit record or a notification that cannot be written, each becomes a
line of ``warnings`` in the output (and the whole report goes to the logs); the execution still ends
SUCCEEDED with its findings. Only reading the batches' results can fail the step (TransientAwsError,
retried by the state machine) — before anything was written. A clean verification is recorded, not
notified: only findings page the on-call."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from dr import backup_policy as policy
from dr import backup_reports
from dr.backup_models import BackupRequest, Finding, ProtectedResource, ResourceCheck
from dr.backup_verification import load_checks
from dr.bookkeeping import Notification, finish
from dr.models import parse
from dr.observability import logger, metrics, one_metric
from dr.recorded_config import ConfigSettings
from dr.settings import Settings
from dr.steps._handler import lambda_step


def gather(checks: list[ResourceCheck], extra: list[Finding]) -> list[Finding]:
    """Every finding: each resource's, a failed iteration as ``resource-unreadable``, and the vault's."""
    findings = list(extra)
    for check in checks:
        findings += check.findings
        if check.error is not None:
            name = check.resource.rsplit(":", 1)[-1].rsplit("/", 1)[-1]
            resource = ProtectedResource(arn=check.resource, type=check.resource_type, name=name, region="")
            findings.append(
                policy.unreadable(
                    resource,
                    "the backup state",
                    "CheckFailed",
                    f"the check failed after its retries: {policy.error_message(check.error)}",
                )
            )
    return policy.sort_findings(findings)


# What the report repeats of the request (who asked, why, which vaults), as the request has it.
_FROM_REQUEST = {
    *("mode", "execution", "trigger", "requested_by", "reason"),
    *("primary_region", "recovery_region", "vault", "recovery_vault"),
}


def build(event: dict[str, Any], settings: Settings, now: datetime) -> dict[str, Any]:
    request = parse(BackupRequest, event.get("request"), "request")
    listing = event.get("resources") or {}
    checks = [c for summary in event.get("checks") or [] for c in load_checks(request, summary, settings)]
    jobs = event.get("jobs") or {}
    extra = [parse(Finding, f, "finding") for f in listing.get("findings", []) + jobs.get("findings", [])]
    findings = gather(checks, extra)
    return {
        "workflow": "backup-verification",
        "status": "FINDINGS" if findings else "SUCCEEDED",
        "passed": not findings,
        **request.model_dump(include=_FROM_REQUEST),
        "started_at": request.started_at.isoformat(),
        "finished_at": now.isoformat(),
        "resources_checked": len(checks),
        "recovery_points_checked": sum(c.recovery_points for c in checks),
        "copies_checked": sum(c.copies for c in checks),
        "jobs": {
            "backup_jobs": jobs.get("backup_jobs", 0),
            "copy_jobs": jobs.get("copy_jobs", 0),
            "lookback_hours": jobs.get("lookback_hours", settings.job_lookback_hours),
        },
        "findings": [f.model_dump(mode="json") for f in findings],
        "summary": policy.summarize(findings),
        "configuration": configuration_summary(checks),
        "resources": [
            {"resource": c.resource, "type": c.resource_type, "findings": len(c.findings), "newest": c.newest}
            | ({"configuration": c.configuration} if c.configuration else {})
            for c in checks
        ],
    }


def configuration_summary(checks: list[ResourceCheck]) -> dict[str, Any]:
    """Where the resources' settings were read: from AWS Config (and how old its items were), or directly
    (each reason counted: not recorded, stale configuration)."""
    read = [c.configuration for c in checks if c.configuration]
    recorded = [c for c in read if c.get("source") == "aws-config"]
    ages = [float(c["age_hours"]) for c in read if c.get("age_hours") is not None]
    direct: dict[str, int] = {}
    for c in read:
        if c.get("source") == "direct":
            direct[str(c.get("note"))] = direct.get(str(c.get("note")), 0) + 1
    return {
        "from_aws_config": len(recorded),
        "read_directly": direct,
        "oldest_item_hours": max(ages, default=None),
        "stale_limit_hours": ConfigSettings().max_age_hours,
    }


def publish(report: dict[str, Any], settings: Settings) -> None:
    metrics.add_dimension(name="Workflow", value="backup-verification")
    metrics.add_metric(name="BackupFindings", unit=MetricUnit.Count, value=len(report["findings"]))
    metrics.add_metric(name="BackupResourcesVerified", unit=MetricUnit.Count, value=report["resources_checked"])
    for severity, count in report["summary"]["by_severity"].items():
        severities = ("Severity", severity)
        one_metric("BackupFindingsBySeverity", count, MetricUnit.Count, severities, settings.metrics_namespace)


def end(report: dict[str, Any], request: BackupRequest, settings: Settings) -> dict[str, Any]:
    """Store the report, count the findings, record and notify: what could not be done is a warning."""
    markdown = backup_reports.verification_markdown(report)
    warnings = backup_reports.store_or_warn(report, markdown, request.started_at, settings)
    report["warnings"] = warnings  # the audit record keeps them
    publish(report, settings)
    message = backup_reports.verification_message(report) if report["findings"] else None
    notification = (
        Notification(message["subject"], message["message"], "backup-verification-findings") if message else None
    )
    done = finish(report, notification, settings, audit_body=backup_reports.compact(report))
    out = backup_reports.compact(report)  # the state's output stays small, whatever the platform's size
    out["warnings"] = [*warnings, *done.warnings]
    out["bookkeeping"] = done.as_json()
    return out


@lambda_step
def handler(event: dict[str, Any]) -> dict[str, Any]:
    report, request, settings = backup_reports.assemble(event, build)
    out = end(report, request, settings)
    counts = {"findings": len(report["findings"]), "resources": report["resources_checked"]}
    if out["warnings"]:  # the logs are the last place the evidence can go
        logger.error(
            "backup verification recorded in part", extra={**counts, "warnings": out["warnings"], "report": report}
        )
    else:
        logger.info("backup verification recorded", extra=counts)
    return out
