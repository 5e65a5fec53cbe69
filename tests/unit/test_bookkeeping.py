"""dr.bookkeeping: the audit record and the notification of a run's end are independent and retried."""

from __future__ import annotations

import json

import pytest
from dr import bookkeeping
from dr.settings import Settings

from localcloud.cloud import LocalCloud

REGION = "us-west-2"
REPORT = {
    "workflow": "failover",
    "status": "SUCCEEDED",
    "execution": "arn:exec:1",
    "finished_at": "2026-11-30T00:00:00",
}
NOTE = bookkeeping.Notification(subject="[DR] failover SUCCEEDED", message="done", event="failover-succeeded")


def audited(cloud: LocalCloud) -> dict | None:
    item = cloud.client("dynamodb", REGION).get_item(TableName="dr-state", Key={"pk": {"S": "audit#arn:exec:1"}})
    return json.loads(item["Item"]["report"]["S"]) if "Item" in item else None


def published(cloud: LocalCloud) -> list[str]:
    sqs = cloud.client("sqs", REGION)
    url = sqs.get_queue_url(QueueName="inbox")["QueueUrl"]
    return [m["Body"] for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])]


def test_both_records_are_written(cloud: LocalCloud, settings: Settings) -> None:
    done = bookkeeping.finish(REPORT, NOTE, settings)
    assert (done.audited, done.notified, done.warnings, done.all_failed) == (True, True, [], False)
    assert audited(cloud) == REPORT
    assert published(cloud) == ["done"]


def test_a_denied_audit_record_does_not_stop_the_notification(cloud: LocalCloud, settings: Settings) -> None:
    cloud.faults.inject("dynamodb", "PutItem", "access-denied", times=None, everyone=True)
    done = bookkeeping.finish(REPORT, NOTE, settings)
    assert (done.audited, done.notified, done.all_failed) == (False, True, False)
    assert len(done.warnings) == 1 and done.warnings[0].startswith("the audit record was not written (AccessDenied")
    assert published(cloud) == ["done"]


def test_a_failing_topic_does_not_stop_the_audit_record_and_the_record_says_nobody_was_told(
    cloud: LocalCloud, settings: Settings
) -> None:
    cloud.faults.inject("sns", "Publish", "5xx", times=None, everyone=True)
    done = bookkeeping.finish(REPORT, NOTE, settings)
    assert (done.audited, done.notified) == (True, False)
    assert [w.split(" (")[0] for w in done.warnings] == ["the notification was not published"]
    assert audited(cloud) == {**REPORT, "warnings": done.warnings}


def test_transient_failures_are_retried_through(cloud: LocalCloud, settings: Settings) -> None:
    # more than the 3 attempts a step's client makes, fewer than the bookkeeping's
    cloud.faults.inject("dynamodb", "PutItem", "throttle", times=4, everyone=True)
    cloud.faults.inject("sns", "Publish", "5xx", times=4, everyone=True)
    done = bookkeeping.finish(REPORT, NOTE, settings)
    assert (done.audited, done.notified, done.warnings) == (True, True, [])


def test_both_lost_is_all_failed(cloud: LocalCloud, settings: Settings) -> None:
    cloud.faults.inject("dynamodb", "PutItem", "access-denied", times=None, everyone=True)
    cloud.faults.inject("sns", "Publish", "access-denied", times=None, everyone=True)
    done = bookkeeping.finish(REPORT, NOTE, settings)
    assert done.all_failed and len(done.warnings) == 2


def test_without_a_notification_only_the_audit_counts(cloud: LocalCloud, settings: Settings) -> None:
    done = bookkeeping.finish(REPORT, None, settings)
    assert (done.audited, done.notified, done.all_failed) == (True, None, False)
    assert published(cloud) == []


def test_each_execution_role_records_with_its_own_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    # Where functions share a process (localcloud), each one's records go out with its own role's keys
    bookkeeping._patient.cache_clear()
    signed_with = {}
    for key in ("ASIAROLEONE", "ASIAROLETWO"):
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", key)
        made = bookkeeping._client("dynamodb", "us-west-2")
        assert bookkeeping._client("dynamodb", "us-west-2") is made  # kept for the role's next record
        signed_with[key] = made._request_signer._credentials.access_key
    bookkeeping._patient.cache_clear()
    assert signed_with == {"ASIAROLEONE": "ASIAROLEONE", "ASIAROLETWO": "ASIAROLETWO"}
