"""What Logs and DynamoDB check of a customer managed key themselves, whoever asks (localcloud.services.resource_keys):
a log group takes a key only if its key policy lets CloudWatch Logs use it for that log group, and a table
takes only a key that exists and is enabled. A refusal creates nothing."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from localcloud.services.resource_keys import ResourceKeys
from tests.localcloud.conftest import Bare

REGION = "us-west-2"
ACCOUNT = "123456789012"
ROOT = {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "kms:*", "Resource": "*"}


def logs_statement(log_group_pattern: str) -> dict[str, Any]:
    return {
        "Effect": "Allow",
        "Principal": {"Service": f"logs.{REGION}.amazonaws.com"},
        "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
        "Resource": "*",
        "Condition": {
            "ArnLike": {
                "kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{log_group_pattern}"
            }
        },
    }


@pytest.fixture
def keys(bare: Bare) -> ResourceKeys:
    return bare.register(ResourceKeys())


def key_with(*statements: dict[str, Any]) -> str:
    policy = {"Version": "2012-10-17", "Statement": list(statements)}
    return str(boto3.client("kms", REGION).create_key(Policy=json.dumps(policy))["KeyMetadata"]["Arn"])


def log_groups() -> dict[str, Any]:
    return {g["logGroupName"]: g for g in boto3.client("logs", REGION).describe_log_groups()["logGroups"]}


@pytest.mark.usefixtures("keys")
def test_a_log_group_takes_a_key_only_when_its_policy_lets_logs_use_it_for_that_group() -> None:
    logs = boto3.client("logs", REGION)
    # Given a key whose policy only delegates to IAM: CloudWatch Logs may not use it; nothing is created
    bare_key = key_with(ROOT)
    with pytest.raises(ClientError) as refused:
        logs.create_log_group(logGroupName="/dr/steps", kmsKeyId=bare_key)
    error = refused.value.response["Error"]
    assert error["Code"] == "AccessDeniedException"
    assert error["Message"] == (
        "The specified KMS key does not exist or is not allowed to be used with Arn "
        f"'arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/dr/steps'"
    )
    assert "/dr/steps" not in log_groups()
    # Given a key for other log groups only (the encryption context condition): refused too
    other = key_with(ROOT, logs_statement("/other/*"))
    with pytest.raises(ClientError):
        logs.create_log_group(logGroupName="/dr/steps", kmsKeyId=other)
    # Given a key for this log group: created, and encrypted with that key
    good = key_with(ROOT, logs_statement("/dr/*"))
    logs.create_log_group(logGroupName="/dr/steps", kmsKeyId=good)
    assert log_groups()["/dr/steps"]["kmsKeyId"] == good
    # AssociateKmsKey on an existing group checks the same
    logs.create_log_group(logGroupName="/other/plain")
    with pytest.raises(ClientError):
        logs.associate_kms_key(logGroupName="/other/plain", kmsKeyId=good)
    logs.associate_kms_key(logGroupName="/other/plain", kmsKeyId=other)
    assert log_groups()["/other/plain"]["kmsKeyId"] == other


@pytest.mark.usefixtures("keys")
def test_a_disabled_key_or_one_from_another_region_is_refused() -> None:
    logs, kms = boto3.client("logs", REGION), boto3.client("kms", REGION)
    key = key_with(ROOT, logs_statement("*"))
    kms.disable_key(KeyId=key.rsplit("/", 1)[-1])  # moto 5.2.5 disables by key id only
    with pytest.raises(ClientError):
        logs.create_log_group(logGroupName="/dr/disabled", kmsKeyId=key)
    east = boto3.client("kms", "us-east-1").create_key(
        Policy=json.dumps({"Version": "2012-10-17", "Statement": [ROOT, logs_statement("*")]})
    )["KeyMetadata"]["Arn"]
    with pytest.raises(ClientError):
        logs.create_log_group(logGroupName="/dr/east-key", kmsKeyId=east)
    assert log_groups() == {}


@pytest.mark.usefixtures("keys")
def test_a_table_takes_only_an_enabled_key_of_its_region_and_reports_it_by_arn() -> None:
    ddb, kms = boto3.client("dynamodb", REGION), boto3.client("kms", REGION)
    table = {
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "BillingMode": "PAY_PER_REQUEST",
    }
    key = kms.create_key()["KeyMetadata"]
    kms.disable_key(KeyId=key["KeyId"])
    with pytest.raises(ClientError) as refused:
        ddb.create_table(
            TableName="t", SSESpecification={"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": key["KeyId"]}, **table
        )
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert ddb.list_tables()["TableNames"] == []
    kms.enable_key(KeyId=key["KeyId"])
    created = ddb.create_table(
        TableName="t", SSESpecification={"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": key["KeyId"]}, **table
    )["TableDescription"]
    assert created["SSEDescription"]["KMSMasterKeyArn"] == key["Arn"]
    assert ddb.describe_table(TableName="t")["Table"]["SSEDescription"]["KMSMasterKeyArn"] == key["Arn"]
