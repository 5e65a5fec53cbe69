"""ARNs of the resources AWS Backup protects here, of vaults, recovery points and restored resources.

Modeled resource types (AWS Backup's ``ResourceType`` names) and the ARNs that identify them:

- ``DynamoDB``: ``arn:aws:dynamodb:<region>:<account>:table/<name>``
- ``Aurora``:   ``arn:aws:rds:<region>:<account>:cluster:<cluster-id>``
- ``S3``:       ``arn:aws:s3:::<bucket>`` (no Region in the ARN)

Recovery point ARNs follow what AWS Backup hands out for each type: a DynamoDB backup
(``...:table/<name>/backup/<14-digit epoch ms>-<8 hex>``), an Aurora cluster snapshot
(``...:cluster-snapshot:awsbackup:job-<uuid>``, ``copyjob-<uuid>`` for copies) and a Backup-managed
recovery point (``arn:aws:backup:<region>:<account>:recovery-point:<UUID>``) for S3 and for DynamoDB copies.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime

from moto.utilities.utils import get_partition

from localcloud.services.backup.errors import invalid_parameter

DYNAMODB, AURORA, S3 = "DynamoDB", "Aurora", "S3"
RESOURCE_TYPES = (DYNAMODB, AURORA, S3)

_DYNAMODB_ARN = re.compile(r"^arn:(aws[\w-]*):dynamodb:([a-z0-9-]+):(\d{12}):table/([A-Za-z0-9_.-]{3,255})$")
_AURORA_ARN = re.compile(r"^arn:(aws[\w-]*):rds:([a-z0-9-]+):(\d{12}):cluster:([a-z][a-z0-9-]{0,62})$")
_S3_ARN = re.compile(r"^arn:(aws[\w-]*):s3:::([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])$")
_VAULT_ARN = re.compile(r"^arn:(aws[\w-]*):backup:([a-z0-9-]+):(\d{12}):backup-vault:([A-Za-z0-9_.-]{2,50})$")


@dataclass(frozen=True)
class ResourceRef:
    """A protected resource, parsed from its ARN. ``region`` is None for S3 (bucket ARNs carry none)."""

    arn: str
    resource_type: str
    name: str
    region: str | None


def partition(region: str) -> str:
    return str(get_partition(region))


def parse_resource_arn(arn: str) -> ResourceRef:
    """The resource behind ``arn``; InvalidParameterValueException when it is not a modeled type."""
    if match := _DYNAMODB_ARN.match(arn):
        return ResourceRef(arn, DYNAMODB, match.group(4), match.group(2))
    if match := _AURORA_ARN.match(arn):
        return ResourceRef(arn, AURORA, match.group(4), match.group(2))
    if match := _S3_ARN.match(arn):
        return ResourceRef(arn, S3, match.group(2), None)
    raise invalid_parameter(
        f"ResourceArn '{arn}' is not a resource this AWS Backup supports; expected a DynamoDB table "
        "(arn:aws:dynamodb:<region>:<account>:table/<name>), an Aurora DB cluster "
        "(arn:aws:rds:<region>:<account>:cluster:<id>) or an S3 bucket (arn:aws:s3:::<bucket>)"
    )


def vault_arn(region: str, account_id: str, name: str) -> str:
    return f"arn:{partition(region)}:backup:{region}:{account_id}:backup-vault:{name}"


def parse_vault_arn(arn: str) -> tuple[str, str, str]:
    """(region, account id, vault name) of a backup vault ARN; InvalidParameterValueException otherwise."""
    match = _VAULT_ARN.match(arn)
    if not match:
        raise invalid_parameter(
            f"DestinationBackupVaultArn '{arn}' is not a backup vault ARN; expected "
            "arn:aws:backup:<region>:<account>:backup-vault:<name>"
        )
    return match.group(2), match.group(3), match.group(4)


def new_job_id() -> str:
    """A job id as AWS Backup writes them: an upper-case UUID."""
    return str(uuid.uuid4()).upper()


def new_recovery_point_arn(
    ref: ResourceRef, region: str, account_id: str, created_at: datetime, *, copy: bool = False
) -> str:
    """The ARN AWS Backup would give a new recovery point of ``ref`` in a vault in ``region``."""
    part = partition(region)
    if ref.resource_type == DYNAMODB and not copy:
        backup_id = f"{int(created_at.timestamp() * 1000):014d}-{uuid.uuid4().hex[:8]}"
        return f"arn:{part}:dynamodb:{region}:{account_id}:table/{ref.name}/backup/{backup_id}"
    if ref.resource_type == AURORA:
        prefix = "copyjob" if copy else "job"
        return f"arn:{part}:rds:{region}:{account_id}:cluster-snapshot:awsbackup:{prefix}-{uuid.uuid4()}"
    return f"arn:{part}:backup:{region}:{account_id}:recovery-point:{str(uuid.uuid4()).upper()}"


def restored_resource_arn(resource_type: str, region: str, account_id: str, name: str) -> str:
    """The ARN of a resource a restore job creates (the job's ``CreatedResourceArn``)."""
    part = partition(region)
    if resource_type == DYNAMODB:
        return f"arn:{part}:dynamodb:{region}:{account_id}:table/{name}"
    if resource_type == AURORA:
        return f"arn:{part}:rds:{region}:{account_id}:cluster:{name}"
    return f"arn:{part}:s3:::{name}"
