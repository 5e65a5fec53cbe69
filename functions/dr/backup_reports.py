"""The evidence the backup workflows leave: a JSON report and a short Markdown summary in the reports
bucket, the audit record in the state table (what ``drctl report`` reads), and the notification text.

Keys in the reports bucket: ``<workflow>/<YYYY>/<MM>/<DD>/<execution name>.json`` and ``.md``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from dr.aws import aws_errors, client
from dr.backup_models import BackupRequest
from dr.errors import DrError, TransientAwsError
from dr.models import parse
from dr.settings import Settings, get_settings

AUDIT_MAX_FINDINGS = 200  # a DynamoDB item holds 400 KB; the full list is in the reports bucket
MESSAGE_MAX_LINES = 20


def key(workflow: str, execution_name: str, started_at: datetime, suffix: str) -> str:
    return f"{workflow}/{started_at:%Y/%m/%d}/{execution_name}.{suffix}"


def store(report: dict[str, Any], markdown: str, started_at: datetime, settings: Settings) -> dict[str, str]:
    """Write the JSON report and the Markdown summary; returns their s3:// locations."""
    if not settings.reports_bucket:
        return {}
    s3 = client("s3", settings.recovery_region)
    name = str(report["execution"]).rsplit(":", 1)[-1]
    locations: dict[str, str] = {}
    for suffix, body, content_type in (
        ("json", json.dumps(report, indent=2, default=str), "application/json"),
        ("md", markdown, "text/markdown; charset=utf-8"),
    ):
        object_key = key(str(report["workflow"]), name, started_at, suffix)
        with aws_errors(f"s3:PutObject {settings.reports_bucket}/{object_key}", TransientAwsError):
            s3.put_object(Bucket=settings.reports_bucket, Key=object_key, Body=body.encode(), ContentType=content_type)
        locations["json" if suffix == "json" else "markdown"] = f"s3://{settings.reports_bucket}/{object_key}"
    return locations


Build = Callable[[dict[str, Any], Settings, datetime], dict[str, Any]]


def assemble(event: dict[str, Any], build: Build) -> tuple[dict[str, Any], BackupRequest, Settings]:
    """The workflow's report, built from the step's input now, with the execution's own timeline."""
    from dr import timeline  # noqa: PLC0415 - only the two report steps need it, not HandleBackupFailure's cold start

    settings = get_settings()
    report = build(event, settings, datetime.now(UTC))
    request = parse(BackupRequest, event.get("request"), "request")
    report.update(timeline.of_execution(request.execution, request.started_at, report["finished_at"]))
    return report, request, settings


def store_or_warn(report: dict[str, Any], markdown: str, started_at: datetime, settings: Settings) -> list[str]:
    """Store the report and set its ``report_location``. A report that could not be stored is a warning
    (the audit record and the logs still hold it), never the run's failure."""
    try:
        report["report_location"] = store(report, markdown, started_at, settings)
    except DrError as err:
        return [f"the report was not stored in the reports bucket ({err})"]
    return []


def compact(report: dict[str, Any]) -> dict[str, Any]:
    """The report as the audit record keeps it: at most AUDIT_MAX_FINDINGS findings, no per-resource list."""
    out = {k: v for k, v in report.items() if k != "resources"}
    findings = report.get("findings") or []
    if len(findings) > AUDIT_MAX_FINDINGS:
        out["findings"] = findings[:AUDIT_MAX_FINDINGS]
        out["findings_truncated"] = len(findings) - AUDIT_MAX_FINDINGS
    return out


def audit(report: dict[str, Any], settings: Settings) -> None:
    with aws_errors("write the audit record", TransientAwsError):
        client("dynamodb", settings.recovery_region).put_item(
            TableName=settings.state_table,
            Item={
                "pk": {"S": f"audit#{report['execution']}"},
                "workflow": {"S": str(report["workflow"])},
                "status": {"S": str(report["status"])},
                "finished_at": {"S": str(report.get("finished_at", ""))},
                "report": {"S": json.dumps(compact(report), default=str)},
            },
        )


# -- backup verification ---------------------------------------------------------------------------------
def _configuration_line(summary: dict[str, Any] | None) -> list[str]:
    """Where the resources' settings were read (AWS Config, its oldest item; directly, and why)."""
    if not summary or not (summary.get("from_aws_config") or summary.get("read_directly")):
        return []
    oldest = summary.get("oldest_item_hours")
    direct = ", ".join(f"{count} {why}" for why, count in sorted(summary["read_directly"].items()))
    return [
        f"- settings: {summary['from_aws_config']} from AWS Config"
        + (f" (oldest item {oldest:g} h)" if oldest is not None else "")
        + (f"; {direct}" if direct else "")
    ]


def verification_markdown(report: dict[str, Any]) -> str:
    summary = report["summary"]["by_severity"]
    lines = [
        f"# Backup verification: {report['status']}",
        "",
        f"- execution: `{report['execution']}`",
        f"- started: {report['started_at']} by {report['requested_by']} ({report['trigger']})",
        f"- vault: {report['vault']} ({report['primary_region']}), copies: {report['recovery_vault']} "
        f"({report['recovery_region']})",
        f"- resources checked: {report['resources_checked']}; backup jobs {report['jobs']['backup_jobs']}, "
        f"copy jobs {report['jobs']['copy_jobs']} in the last {report['jobs']['lookback_hours']:g} h",
        f"- findings: {len(report['findings'])} (HIGH {summary['HIGH']}, MEDIUM {summary['MEDIUM']}, "
        f"LOW {summary['LOW']})",
        *_configuration_line(report.get("configuration")),
        "",
    ]
    if not report["findings"]:
        lines.append(
            "Every protected resource has fresh, complete, encrypted recovery points with the copies and "
            "retention the policy demands."
        )
    else:
        lines += ["| severity | resource | check | reason |", "| --- | --- | --- | --- |"]
        for finding in report["findings"]:
            name = str(finding["resource"]).rsplit(":", 1)[-1].rsplit("/", 1)[-1]
            reason = str(finding["reason"]).replace("|", "\\|")
            lines.append(f"| {finding['severity']} | {name} | {finding['check']} | {reason} |")
        lines += ["", "What each check means and how to fix it: docs/findings.md"]
    return "\n".join(lines) + "\n"


def verification_message(report: dict[str, Any]) -> dict[str, str]:
    """The SNS subject and message when the verification found something."""
    findings = report["findings"]
    summary = report["summary"]["by_severity"]
    lines = [
        f"Backup verification found {len(findings)} problem(s) in {report['resources_checked']} protected resources "
        f"(HIGH {summary['HIGH']}, MEDIUM {summary['MEDIUM']}, LOW {summary['LOW']}).",
        "",
    ]
    for finding in findings[:MESSAGE_MAX_LINES]:
        lines.append(f"[{finding['severity']}] {finding['check']}: {finding['reason']}")
    if len(findings) > MESSAGE_MAX_LINES:
        lines.append(f"... and {len(findings) - MESSAGE_MAX_LINES} more")
    lines += [
        "",
        f"Report: {report.get('report_location', {}).get('markdown', 'drctl report ' + str(report['execution']))}",
        f"Execution: {report['execution']}",
        "What each finding means and how to fix it: docs/findings.md",
    ]
    return {
        "subject": f"[DR] backup verification: {len(findings)} finding(s)"[:100],
        "message": "\n".join(lines),
    }


# -- restore test ----------------------------------------------------------------------------------------
def restore_markdown(report: dict[str, Any]) -> str:
    known = "" if report.get("leftover_known", True) else " (not all known)"
    lines = [
        f"# Restore test ({report['mode']}): {report['status']}",
        "",
        f"- execution: `{report['execution']}`",
        f"- started: {report['started_at']} by {report['requested_by']} ({report['trigger']})",
        f"- restored from: vault {report['source_vault']} in {report['restore_region']}"
        + (" (the recovery region's copies)" if report["from_copies"] else ""),
        f"- RTO objective: {report['rto_objective_seconds']} s",
        f"- resources left behind: {report['leftover_resources']}{known}",
        f"- swept (left by earlier tests): {len(report.get('swept') or [])}",
        "",
        "| resource | type | status | restore time | within RTO | data read | matched | AWS Backup told |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for result in report["results"]:
        seconds = result.get("restore_seconds")
        data = result.get("data_checked") or {}
        told = result.get("validation_status") if result.get("validation_reported") else "nothing"
        read = f"{data.get('count')} {data.get('kind')}" if data else "none"
        lines.append(
            f"| {str(result['resource_arn']).rsplit(':', 1)[-1].rsplit('/', 1)[-1]} | {result['resource_type']} "
            f"| {result['status']} | {'n/a' if seconds is None else f'{seconds:.0f} s'} "
            f"| {result.get('within_rto')} | {read} | {data.get('matched', 'n/a')} | {told} |"
        )
    for result in report["results"]:
        if result.get("message"):
            lines.append(f"\n- {result['resource_type']}: {result['message']}")
    if report.get("leftover"):
        lines += ["", "Left behind (delete by hand): " + ", ".join(report["leftover"])]
    if report.get("leftover_unchecked"):
        lines += ["", "Not looked at: " + "; ".join(report["leftover_unchecked"])]
    if report.get("swept"):
        lines += ["", "Swept: " + ", ".join(f"{e['kind']} {e['name']} ({e.get('state')})" for e in report["swept"])]
    return "\n".join(lines) + "\n"
