"""Every end of every workflow leaves two records: the audit record (the state table) and the notification
(the DR topic). They are independent: one failing never stops the other, and each is retried on its own
(the SDK's standard retries, with more attempts than the steps' default client: a throttled or failing
topic at the end of a recovery is the moment to insist).

``finish`` returns what it could not do as warnings, and never raises for a failed write: the caller
decides what a lost record means (a verified recovery stays SUCCEEDED with warnings; a failure path puts
them in its Fail state's cause). When every record it was asked for failed, it also counts the
``BookkeepingFailed`` metric through EMF: the metric reaches CloudWatch through the function's logs, not
through an API call that could fail the same way, and an alarm on it pages.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from dr.aws import error_code, new_client
from dr.observability import logger, one_metric
from dr.settings import Settings

AUDIT_PREFIX = "audit#"
# More patience than the steps' clients (3 attempts), within the 60 s a failure handler's Task has: 5 attempts
# back off at most 1 + 2 + 4 + 8 s (on throttling or a 5xx). 8 attempts could back off 71 s on one call (jitter
# made it 35 s on average), so the Task timed out now and then while the handler still ran, and its fallback
# record raced the handler's (the fault matrix: failback sns.Publish throttle every, bad once in two runs).
_PATIENT = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=15)


@dataclass(frozen=True)
class Notification:
    subject: str
    message: str
    event: str  # the ``event`` message attribute subscribers filter on


@dataclass
class Bookkeeping:
    """What ``finish`` did: each record written or not, and why not."""

    audited: bool | None = None  # None: not asked for
    notified: bool | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def all_failed(self) -> bool:
        asked = [done for done in (self.audited, self.notified) if done is not None]
        return bool(asked) and not any(asked)

    def as_json(self) -> dict[str, Any]:
        return {"audited": self.audited, "notified": self.notified, "warnings": list(self.warnings)}


def _client(service: str, region: str) -> Any:
    return _patient(service, region, os.environ.get("AWS_ACCESS_KEY_ID"))


@lru_cache(maxsize=32)
def _patient(service: str, region: str, _access_key: str | None) -> Any:
    """Cached per execution-role access key too, as ``dr.aws`` does: where several functions share a
    process (localcloud), each writes its records with its own role's credentials."""
    return new_client(service, region, _PATIENT)


def _why(err: Exception) -> str:
    code = error_code(err) if isinstance(err, ClientError) else type(err).__name__
    return f"{code}: {err}"


def audit_item(report: dict[str, Any], body: dict[str, Any] | None = None) -> dict[str, Any]:
    """The audit record of a run: keyed by execution, with its workflow, status and finish time."""
    return {
        "pk": {"S": f"{AUDIT_PREFIX}{report['execution']}"},
        "workflow": {"S": str(report["workflow"])},
        "status": {"S": str(report["status"])},
        "finished_at": {"S": str(report.get("finished_at", ""))},
        "report": {"S": json.dumps(report if body is None else body, default=str)},
    }


def _write_record(report: dict[str, Any], body: dict[str, Any] | None, settings: Settings) -> None:
    _client("dynamodb", settings.recovery_region).put_item(
        TableName=settings.state_table, Item=audit_item(report, body)
    )


def _say_not_notified(
    report: dict[str, Any], audit_body: dict[str, Any] | None, done: Bookkeeping, settings: Settings
) -> None:
    """The audit record was written before the notification failed: write it again with the warning, so
    that whoever reads the record knows that nobody was told (the notification cannot say it itself)."""
    body = dict(report if audit_body is None else audit_body)
    body["warnings"] = [*(body.get("warnings") or []), *done.warnings]
    try:
        _write_record(report, body, settings)
    except (ClientError, BotoCoreError) as err:
        done.warnings.append(f"the audit record does not say that the notification was lost ({_why(err)})")


def finish(
    report: dict[str, Any],
    notification: Notification | None,
    settings: Settings,
    audit_body: dict[str, Any] | None = None,
    audit: bool = True,
) -> Bookkeeping:
    """Write the audit record of ``report`` (unless ``audit`` is False: the run's own record stands) and
    publish ``notification`` (when given), independently. A notification that could not be published is
    then said in the audit record too."""
    done = Bookkeeping()
    if audit:
        try:
            _write_record(report, audit_body, settings)
            done.audited = True
        except (ClientError, BotoCoreError) as err:
            done.audited = False
            done.warnings.append(f"the audit record was not written ({_why(err)})")
    if notification is not None:
        try:
            _client("sns", settings.recovery_region).publish(
                TopicArn=settings.topic_arn,
                Subject=notification.subject[:100],
                Message=notification.message,
                MessageAttributes={"event": {"DataType": "String", "StringValue": notification.event}},
            )
            done.notified = True
        except (ClientError, BotoCoreError) as err:
            done.notified = False
            done.warnings.append(f"the notification was not published ({_why(err)})")
            if done.audited:
                _say_not_notified(report, audit_body, done, settings)
    if done.all_failed:
        workflow = ("Workflow", str(report["workflow"]))
        one_metric("BookkeepingFailed", 1, MetricUnit.Count, workflow, settings.metrics_namespace)
    if done.warnings:
        # The logs are the last place the evidence can go: keep the whole report there when a record is lost.
        logger.error("bookkeeping incomplete", extra={"warnings": done.warnings, "report": report})
    return done
