"""The protected resources' own settings as AWS Config recorded them: one advanced query per Region for the
whole run, instead of one read per resource.

The rule: with ``USE_AWS_CONFIG`` on (the template's ``UseAwsConfig``, default "true"), the verification
asks each Region of its resources once whether a configuration recorder records there
(DescribeConfigurationRecorderStatus) and, when one does, reads every recorded DynamoDB table, S3 bucket
and RDS DB cluster of the Region with ``SelectResourceConfig`` (pages of 100): the point-in-time recovery
setting (``supplementaryConfiguration.ContinuousBackupsDescription``), versioning and replication
(``supplementaryConfiguration.BucketVersioningConfiguration`` / ``BucketReplicationConfiguration``) and
the backup retention (``configuration.backupRetentionPeriod``), each with its
``configurationItemCaptureTime``. The items are turned back into the answers of the direct reads
(DescribeContinuousBackups, GetBucketVersioning, GetBucketReplication, DescribeDBClusters), so
``dr.backup_policy`` judges them exactly as it judges those.

An item is used when the Region's recorder is recording (an unchanged resource keeps its item however old:
AWS Config records on change) or, when it is not (stopped, failing), when the item was captured at most
``CONFIG_MAX_AGE_HOURS`` ago; otherwise the resource is read directly, reported as "stale configuration,
read directly". A resource Config has no usable item for (its type not recorded, not yet recorded, no
recorder, Config unreadable) is read directly too, reported as "not recorded by AWS Config, read directly".
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError
from pydantic import Field

from dr.aws import client, is_transient
from dr.backup_models import ProtectedResource
from dr.models import Strict
from dr.settings import EnvSettings

TYPES = {"DynamoDB": "AWS::DynamoDB::Table", "S3": "AWS::S3::Bucket", "Aurora": "AWS::RDS::DBCluster"}
FIELDS = (
    "resourceType",
    "arn",
    "configurationItemCaptureTime",
    "configuration.backupRetentionPeriod",
    "supplementaryConfiguration.ContinuousBackupsDescription",
    "supplementaryConfiguration.BucketVersioningConfiguration",
    "supplementaryConfiguration.BucketReplicationConfiguration",
)
QUERY = f"SELECT {', '.join(FIELDS)} WHERE resourceType IN ({', '.join(repr(t) for t in TYPES.values())})"
PAGE = 100  # SelectResourceConfig's maximum Limit
ATTEMPTS = 3
STALE = "stale configuration, read directly"
NOT_RECORDED = "not recorded by AWS Config, read directly"


class ConfigSettings(EnvSettings):
    """Whether the verification reads the settings from AWS Config, and how old an item of a recorder that
    is not recording may be (environment, set in template.yaml)."""

    use_aws_config: bool = Field(default=True, alias="USE_AWS_CONFIG")
    max_age_hours: float = Field(default=24, alias="CONFIG_MAX_AGE_HOURS", gt=0)


class Recorded(Strict):
    """One resource's settings as recorded, in the direct reads' shapes (``settings``), and when."""

    captured_at: datetime
    settings: dict[str, Any]


class Recording(Strict):
    """What AWS Config holds for one Region: whether a recorder records now, and the usable items by ARN."""

    recording: bool = False
    items: dict[str, Recorded] = Field(default_factory=dict)
    error: str | None = None  # why Config could not be read (every resource is then read directly)


def _json(value: Any) -> Any:
    """A supplementary configuration value: an object, or (as BatchGetResourceConfig gives it) JSON text."""
    return json.loads(value) if isinstance(value, str) else value


def settings_of(item: dict[str, Any]) -> dict[str, Any] | None:
    """An item turned into the answers of the direct reads; None when it lacks what the policy reads."""
    kind = item.get("resourceType")
    supplementary = item.get("supplementaryConfiguration") or {}
    if kind == TYPES["DynamoDB"]:
        described = _json(supplementary.get("ContinuousBackupsDescription"))
        if not isinstance(described, dict):
            return None
        pitr = described.get("pointInTimeRecoveryDescription") or {}
        return {
            "ContinuousBackupsDescription": {
                "ContinuousBackupsStatus": described.get("continuousBackupsStatus"),
                "PointInTimeRecoveryDescription": {"PointInTimeRecoveryStatus": pitr.get("pointInTimeRecoveryStatus")},
            }
        }
    if kind == TYPES["Aurora"]:
        days = (item.get("configuration") or {}).get("backupRetentionPeriod")
        return None if days is None else {"DBCluster": {"BackupRetentionPeriod": int(days)}}
    if kind == TYPES["S3"]:
        versioning = _json(supplementary.get("BucketVersioningConfiguration"))
        if not isinstance(versioning, dict):
            return None
        status = versioning.get("status")
        replication = _json(supplementary.get("BucketReplicationConfiguration"))
        rules = (replication or {}).get("rules") or {}
        return {
            "Versioning": {} if status in (None, "Off") else {"Status": status},
            "ReplicationConfiguration": None
            if not rules
            else {
                "Role": replication.get("roleARN"),
                "Rules": [
                    {
                        "ID": rule_id,
                        "Status": rule.get("status"),
                        "Destination": {
                            "Bucket": (rule.get("destinationConfig") or {}).get("bucketARN"),
                            "ReplicationTime": {
                                "Status": ((rule.get("destinationConfig") or {}).get("replicationTime") or {}).get(
                                    "status"
                                )
                            },
                        },
                    }
                    for rule_id, rule in rules.items()
                ],
            },
        }
    return None


def _recording(config: Any) -> tuple[bool, bool]:
    """(a recorder records now and is not failing, the Region has a recorder at all)."""
    statuses = config.describe_configuration_recorder_status().get("ConfigurationRecordersStatus", [])
    return any(s.get("recording") and s.get("lastStatus") != "FAILURE" for s in statuses), bool(statuses)


def read_region(region: str) -> Recording:
    """Region's recorder status and its recorded items (one status call, then pages of 100)."""
    config = client("config", region)
    last = ""
    for _ in range(ATTEMPTS):
        try:
            recording, has_recorder = _recording(config)
            if not has_recorder:
                return Recording()
            items: dict[str, Recorded] = {}
            paginator = config.get_paginator("select_resource_config")
            for page in paginator.paginate(Expression=QUERY, PaginationConfig={"PageSize": PAGE}):
                for row in page.get("Results", []):
                    item = json.loads(row)
                    settings = settings_of(item)
                    if settings is not None and item.get("arn") and item.get("configurationItemCaptureTime"):
                        captured = datetime.fromisoformat(str(item["configurationItemCaptureTime"]))
                        items[str(item["arn"])] = Recorded(captured_at=captured, settings=settings)
            return Recording(recording=recording, items=items)
        except ClientError as err:
            if not is_transient(err):
                return Recording(error=f"{err}")
            last = str(err)
    return Recording(error=f"AWS Config kept failing after {ATTEMPTS} attempts: {last}")


def read_recorded(resources: list[ProtectedResource], settings: ConfigSettings) -> dict[str, Recording]:
    """Region -> what AWS Config holds there, for the Regions of the resources of a type it records."""
    if not settings.use_aws_config:
        return {}
    regions = sorted({r.region for r in resources if r.type in TYPES})
    return {region: read_region(region) for region in regions}


class Provenance(Strict):
    """Where a resource's settings were read from, for the report."""

    source: str  # "aws-config" or "direct"
    captured_at: datetime | None = None
    age_hours: float | None = None
    note: str | None = None


def usable(
    resource: ProtectedResource, recordings: dict[str, Recording], now: datetime, max_age_hours: float
) -> tuple[dict[str, Any] | None, Provenance | None]:
    """(the recorded settings to judge, or None to read directly; where they come from, None when AWS
    Config is not used for this resource)."""
    if resource.type not in TYPES or resource.region not in recordings:
        return None, None
    recording = recordings[resource.region]
    item = recording.items.get(resource.arn)
    if item is None:
        return None, Provenance(source="direct", note=NOT_RECORDED)
    age = round((now - item.captured_at).total_seconds() / 3600, 2)
    if not recording.recording and age > max_age_hours:
        return None, Provenance(source="direct", captured_at=item.captured_at, age_hours=age, note=STALE)
    return item.settings, Provenance(source="aws-config", captured_at=item.captured_at, age_hours=age)
