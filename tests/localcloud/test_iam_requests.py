"""What an API call asks IAM for (localcloud/iam/requests.py): the action names that differ from the
operation, the resources built from the request, and the extra actions some operations need."""

from __future__ import annotations

import pytest

from localcloud.iam.requests import Needed, Unmodeled, copy_source, needed

ACCOUNT = "123456789012"


def asked(service: str, operation: str, region: str = "us-west-2", **params: object) -> list[tuple[str, str]]:
    return [(n.action, n.resource) for n in needed(service, operation, params, region, ACCOUNT)]


def test_action_names_that_differ_from_the_operation() -> None:
    assert asked("s3", "GetBucketReplication", Bucket="b") == [("s3:GetReplicationConfiguration", "arn:aws:s3:::b")]
    assert asked("s3", "ListObjectVersions", Bucket="b") == [("s3:ListBucketVersions", "arn:aws:s3:::b")]
    assert asked("lambda", "Invoke", FunctionName="f") == [
        ("lambda:InvokeFunction", f"arn:aws:lambda:us-west-2:{ACCOUNT}:function:f")
    ]
    assert asked("stepfunctions", "GetExecutionHistory", executionArn="arn:x") == [
        ("states:GetExecutionHistory", "arn:x")
    ]


def test_a_copy_reads_the_source_version_and_writes_the_target() -> None:
    source = "src/dir/a%20b.bin?versionId=v1"
    assert copy_source(source) == ("src", "dir/a b.bin", "v1")
    assert asked("s3", "CopyObject", Bucket="dst", Key="k", CopySource=source, TaggingDirective="COPY") == [
        ("s3:GetObjectVersion", "arn:aws:s3:::src/dir/a b.bin"),
        ("s3:PutObject", "arn:aws:s3:::dst/k"),
        ("s3:GetObjectVersionTagging", "arn:aws:s3:::src/dir/a b.bin"),
    ]


def test_moving_a_global_cluster_is_authorized_on_it_and_on_the_target_cluster() -> None:
    target = f"arn:aws:rds:us-west-2:{ACCOUNT}:cluster:prod-dr"
    assert asked("rds", "FailoverGlobalCluster", GlobalClusterIdentifier="g", TargetDbClusterIdentifier=target) == [
        ("rds:FailoverGlobalCluster", f"arn:aws:rds::{ACCOUNT}:global-cluster:g"),
        ("rds:FailoverGlobalCluster", target),
    ]


def test_a_describe_without_an_identifier_is_authorized_on_every_resource_of_its_type() -> None:
    assert asked("rds", "DescribeDBInstances", Filters=[]) == [
        ("rds:DescribeDBInstances", f"arn:aws:rds:us-west-2:{ACCOUNT}:db:*")
    ]


def test_passing_a_role_is_its_own_permission_with_the_service_it_goes_to() -> None:
    out = needed(
        "backup",
        "StartRestoreJob",
        {"RecoveryPointArn": "arn:rp", "IamRoleArn": f"arn:aws:iam::{ACCOUNT}:role/restore"},
        "us-west-2",
        ACCOUNT,
    )
    assert out == [
        Needed("backup:StartRestoreJob", "arn:rp"),
        Needed("iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/restore", {"iam:PassedToService": "backup.amazonaws.com"}),
    ]


def test_an_operation_without_a_model_is_refused() -> None:
    with pytest.raises(Unmodeled, match="sqs:ListQueues"):
        needed("sqs", "ListQueues", {}, "us-west-2", ACCOUNT)
