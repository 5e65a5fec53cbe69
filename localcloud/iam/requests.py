"""What an AWS API call asks IAM for: each (action, resource ARN, context keys) AWS authorizes it against.

The Service Authorization Reference is the source: an operation's IAM action (``s3:GetReplicationConfiguration``
for GetBucketReplication, ``lambda:InvokeFunction`` for Invoke...), the resource types it is authorized on
(the ARN built from the request's parameters, ``*`` for actions without resource-level permissions), and
the extra actions some operations need (CopyObject reads the source and writes the target; StartRestoreJob
and PutBucketReplication pass a role, ``iam:PassRole``). Implicit KMS uses are added by the enforcer
(it knows which resources are encrypted with which key).

Only the operations an app principal makes here are modeled; an unmodeled operation made by a role is
answered with a clear localcloud error (never silently allowed): add it to ``_RULES``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from localcloud.iam.policy import ContextValue


@dataclass(frozen=True)
class Needed:
    """One permission a call needs."""

    action: str
    resource: str
    context: Mapping[str, ContextValue] = field(default_factory=dict)


class Unmodeled(Exception):
    """The call has no authorization model in localcloud."""


@dataclass(frozen=True)
class Where:
    region: str
    account: str
    partition: str = "aws"

    def arn(self, service: str, resource: str, region: str | None = None, account: str | None = None) -> str:
        reg = self.region if region is None else region
        acct = self.account if account is None else account
        return f"arn:{self.partition}:{service}:{reg}:{acct}:{resource}"


Rule = Callable[[Mapping[str, Any], Where], list[Needed]]


def _one(action: str, resource: Callable[[Mapping[str, Any], Where], str]) -> Rule:
    return lambda p, w: [Needed(action, resource(p, w))]


def _any(action: str) -> Rule:
    """An action without resource-level permissions: authorized on ``*``."""
    return lambda p, w: [Needed(action, "*")]


# -- ARNs of each service's resources ----------------------------------------------------------------
def table(name: str, w: Where) -> str:
    return name if name.startswith("arn:") else w.arn("dynamodb", f"table/{name}")


def bucket(name: str, w: Where) -> str:
    return f"arn:{w.partition}:s3:::{name}"


def obj(name: str, key: str, w: Where) -> str:
    return f"arn:{w.partition}:s3:::{name}/{key}"


def cluster(identifier: str, w: Where) -> str:
    return identifier if identifier.startswith("arn:") else w.arn("rds", f"cluster:{identifier}")


def global_cluster(identifier: str, w: Where) -> str:
    return identifier if identifier.startswith("arn:") else w.arn("rds", f"global-cluster:{identifier}", region="")


def role(name: str, w: Where) -> str:
    return name if name.startswith("arn:") else f"arn:{w.partition}:iam::{w.account}:role/{name}"


def vault(name: str, w: Where) -> str:
    return w.arn("backup", f"backup-vault:{name}")


def function(name: str, w: Where) -> str:
    """FunctionName may be a name, a partial ARN (ACCOUNT:function:NAME) or a full ARN, with a qualifier."""
    if name.startswith("arn:"):
        return name
    if ":function:" in name:
        account, _, rest = name.partition(":function:")
        return w.arn("lambda", f"function:{rest}", account=account)
    return w.arn("lambda", f"function:{name}")


def _table_rule(action: str) -> Rule:
    return _one(action, lambda p, w: table(p["TableName"], w))


def _bucket_rule(action: str) -> Rule:
    return _one(action, lambda p, w: bucket(p["Bucket"], w))


def _cluster_rule(action: str) -> Rule:
    return _one(action, lambda p, w: cluster(p["DBClusterIdentifier"], w))


def _vault_rule(action: str) -> Rule:
    return _one(action, lambda p, w: vault(p["BackupVaultName"], w))


def _health_check_rule(action: str) -> Rule:
    return _one(action, lambda p, w: f"arn:{w.partition}:route53:::healthcheck/{p['HealthCheckId']}")


def _role_rule(action: str) -> Rule:
    return _one(action, lambda p, w: role(p["RoleName"], w))


# -- operations whose permissions are more than one action on one resource --------------------------
def _batch_get(p: Mapping[str, Any], w: Where) -> list[Needed]:
    return [Needed("dynamodb:BatchGetItem", table(name, w)) for name in p.get("RequestItems") or {}]


def _batch_write(p: Mapping[str, Any], w: Where) -> list[Needed]:
    return [Needed("dynamodb:BatchWriteItem", table(name, w)) for name in p.get("RequestItems") or {}]


def _update_table(p: Mapping[str, Any], w: Where) -> list[Needed]:
    """Adding a replica also needs dynamodb:CreateTableReplica on the table (DynamoDB Developer Guide,
    "IAM for global tables")."""
    needed = [Needed("dynamodb:UpdateTable", table(p["TableName"], w))]
    for update in p.get("ReplicaUpdates") or []:
        if "Create" in update:
            needed.append(Needed("dynamodb:CreateTableReplica", table(p["TableName"], w)))
        if "Delete" in update:
            needed.append(Needed("dynamodb:DeleteTableReplica", table(p["TableName"], w)))
    return needed


def _object_read(p: Mapping[str, Any], w: Where) -> list[Needed]:
    action = "s3:GetObjectVersion" if p.get("VersionId") else "s3:GetObject"
    return [Needed(action, obj(p["Bucket"], p["Key"], w))]


def copy_source(source: Any) -> tuple[str, str, str | None]:
    """(bucket, key, version id or None) of CopyObject's CopySource, as a string or a mapping."""
    if isinstance(source, Mapping):
        return str(source["Bucket"]), str(source["Key"]), source.get("VersionId")
    text, _, query = str(source).lstrip("/").partition("?")
    name, _, key = text.partition("/")
    version = query.split("versionId=", 1)[1].split("&")[0] if "versionId=" in query else None
    return name, unquote(key), version


def _copy_object(p: Mapping[str, Any], w: Where) -> list[Needed]:
    """CopyObject: read the source (version), write the target; tags copied need the tagging actions."""
    name, key, version = copy_source(p["CopySource"])
    needed = [
        Needed("s3:GetObjectVersion" if version else "s3:GetObject", obj(name, key, w)),
        Needed("s3:PutObject", obj(p["Bucket"], p["Key"], w)),
    ]
    if p.get("TaggingDirective", "COPY") == "COPY":
        needed.append(Needed("s3:GetObjectVersionTagging" if version else "s3:GetObjectTagging", obj(name, key, w)))
    if p.get("TaggingDirective") == "REPLACE" or p.get("Tagging"):
        needed.append(Needed("s3:PutObjectTagging", obj(p["Bucket"], p["Key"], w)))
    return needed


def _delete_objects(p: Mapping[str, Any], w: Where) -> list[Needed]:
    needed = []
    for entry in (p.get("Delete") or {}).get("Objects") or []:
        action = "s3:DeleteObjectVersion" if entry.get("VersionId") else "s3:DeleteObject"
        needed.append(Needed(action, obj(p["Bucket"], entry["Key"], w)))
    return needed


def _delete_object(p: Mapping[str, Any], w: Where) -> list[Needed]:
    action = "s3:DeleteObjectVersion" if p.get("VersionId") else "s3:DeleteObject"
    return [Needed(action, obj(p["Bucket"], p["Key"], w))]


def _pass_role(role_arn: str, service: str) -> Needed:
    return Needed("iam:PassRole", role_arn, {"iam:PassedToService": service})


def _put_replication(p: Mapping[str, Any], w: Where) -> list[Needed]:
    needed = [Needed("s3:PutReplicationConfiguration", bucket(p["Bucket"], w))]
    role_arn = (p.get("ReplicationConfiguration") or {}).get("Role")
    if role_arn:
        needed.append(_pass_role(role_arn, "s3.amazonaws.com"))
    return needed


def _describe_clusters(p: Mapping[str, Any], w: Where) -> list[Needed]:
    identifier = p.get("DBClusterIdentifier")
    return [Needed("rds:DescribeDBClusters", cluster(identifier, w) if identifier else w.arn("rds", "cluster:*"))]


def _describe_instances(p: Mapping[str, Any], w: Where) -> list[Needed]:
    identifier = p.get("DBInstanceIdentifier")
    return [Needed("rds:DescribeDBInstances", w.arn("rds", f"db:{identifier}" if identifier else "db:*"))]


def _describe_globals(p: Mapping[str, Any], w: Where) -> list[Needed]:
    identifier = p.get("GlobalClusterIdentifier")
    resource = global_cluster(identifier, w) if identifier else w.arn("rds", "global-cluster:*", region="")
    return [Needed("rds:DescribeGlobalClusters", resource)]


def _describe_snapshots(p: Mapping[str, Any], w: Where) -> list[Needed]:
    if p.get("DBClusterSnapshotIdentifier"):
        resource = w.arn("rds", f"cluster-snapshot:{p['DBClusterSnapshotIdentifier']}")
    elif p.get("DBClusterIdentifier"):
        resource = cluster(p["DBClusterIdentifier"], w)
    else:
        resource = w.arn("rds", "cluster-snapshot:*")
    return [Needed("rds:DescribeDBClusterSnapshots", resource)]


def _global_move(action: str) -> Rule:
    """Failover/SwitchoverGlobalCluster are authorized on the global cluster and on the target cluster."""
    return lambda p, w: [
        Needed(action, global_cluster(p["GlobalClusterIdentifier"], w)),
        Needed(action, cluster(p["TargetDbClusterIdentifier"], w)),
    ]


def _create_cluster(p: Mapping[str, Any], w: Where) -> list[Needed]:
    needed = [Needed("rds:CreateDBCluster", cluster(p["DBClusterIdentifier"], w))]
    if p.get("GlobalClusterIdentifier"):
        needed.append(Needed("rds:CreateDBCluster", global_cluster(p["GlobalClusterIdentifier"], w)))
    if p.get("DBSubnetGroupName"):
        needed.append(Needed("rds:CreateDBCluster", w.arn("rds", f"subgrp:{p['DBSubnetGroupName']}")))
    return needed


def _create_instance(p: Mapping[str, Any], w: Where) -> list[Needed]:
    needed = [Needed("rds:CreateDBInstance", w.arn("rds", f"db:{p['DBInstanceIdentifier']}"))]
    if p.get("DBClusterIdentifier"):
        needed.append(Needed("rds:CreateDBInstance", cluster(p["DBClusterIdentifier"], w)))
    return needed


def _delete_cluster(p: Mapping[str, Any], w: Where) -> list[Needed]:
    needed = [Needed("rds:DeleteDBCluster", cluster(p["DBClusterIdentifier"], w))]
    if p.get("FinalDBSnapshotIdentifier") and not p.get("SkipFinalSnapshot"):
        snapshot = w.arn("rds", f"cluster-snapshot:{p['FinalDBSnapshotIdentifier']}")
        needed += [Needed("rds:DeleteDBCluster", snapshot), Needed("rds:CreateDBClusterSnapshot", snapshot)]
    return needed


def _create_cluster_snapshot(p: Mapping[str, Any], w: Where) -> list[Needed]:
    return [
        Needed("rds:CreateDBClusterSnapshot", cluster(p["DBClusterIdentifier"], w)),
        Needed("rds:CreateDBClusterSnapshot", w.arn("rds", f"cluster-snapshot:{p['DBClusterSnapshotIdentifier']}")),
    ]


def _start_restore(p: Mapping[str, Any], w: Where) -> list[Needed]:
    return [
        Needed("backup:StartRestoreJob", p["RecoveryPointArn"]),
        _pass_role(p["IamRoleArn"], "backup.amazonaws.com"),
    ]


def _routing_states(p: Mapping[str, Any], w: Where) -> list[Needed]:
    return [
        Needed("route53-recovery-cluster:UpdateRoutingControlStates", entry["RoutingControlArn"])
        for entry in p.get("UpdateRoutingControlStateEntries") or []
    ]


def _service_linked_role(p: Mapping[str, Any], w: Where) -> list[Needed]:
    service = str(p["AWSServiceName"])
    name = {"replication.dynamodb.amazonaws.com": "AWSServiceRoleForDynamoDBReplication"}.get(service, "*")
    arn = f"arn:{w.partition}:iam::{w.account}:role/aws-service-role/{service}/{name}"
    return [Needed("iam:CreateServiceLinkedRole", arn, {"iam:AWSServiceName": service})]


def _describe_alarms(p: Mapping[str, Any], w: Where) -> list[Needed]:
    """Authorized on each alarm named (``alarm:*`` when none is: every alarm of the Region)."""
    names = p.get("AlarmNames") or ["*"]
    return [Needed("cloudwatch:DescribeAlarms", w.arn("cloudwatch", f"alarm:{name}")) for name in names]


def _put_metric_data(p: Mapping[str, Any], w: Where) -> list[Needed]:
    return [Needed("cloudwatch:PutMetricData", "*", {"cloudwatch:namespace": str(p.get("Namespace", ""))})]


_RULES: dict[tuple[str, str], Rule] = {
    # DynamoDB
    **{
        ("dynamodb", op): _table_rule(f"dynamodb:{op}")
        for op in (
            "GetItem",
            "PutItem",
            "UpdateItem",
            "DeleteItem",
            "Query",
            "Scan",
            "DescribeTable",
            "DeleteTable",
            "CreateTable",
            "DescribeContinuousBackups",
            "UpdateContinuousBackups",
            "DescribeTimeToLive",
            "UpdateTimeToLive",
        )
    },
    ("dynamodb", "BatchGetItem"): _batch_get,
    ("dynamodb", "BatchWriteItem"): _batch_write,
    ("dynamodb", "UpdateTable"): _update_table,
    ("dynamodb", "TagResource"): _one("dynamodb:TagResource", lambda p, w: table(p["ResourceArn"], w)),
    ("dynamodb", "ListTables"): _any("dynamodb:ListTables"),
    ("dynamodb", "ListTagsOfResource"): _one("dynamodb:ListTagsOfResource", lambda p, w: table(p["ResourceArn"], w)),
    # S3
    ("s3", "GetObject"): _object_read,
    ("s3", "HeadObject"): _object_read,
    ("s3", "PutObject"): _one("s3:PutObject", lambda p, w: obj(p["Bucket"], p["Key"], w)),
    ("s3", "CopyObject"): _copy_object,
    ("s3", "DeleteObject"): _delete_object,
    ("s3", "DeleteObjects"): _delete_objects,
    ("s3", "GetObjectTagging"): lambda p, w: [
        Needed(
            "s3:GetObjectVersionTagging" if p.get("VersionId") else "s3:GetObjectTagging", obj(p["Bucket"], p["Key"], w)
        )
    ],
    ("s3", "PutObjectTagging"): lambda p, w: [
        Needed(
            "s3:PutObjectVersionTagging" if p.get("VersionId") else "s3:PutObjectTagging", obj(p["Bucket"], p["Key"], w)
        )
    ],
    ("s3", "ListObjects"): _bucket_rule("s3:ListBucket"),
    ("s3", "ListObjectsV2"): _bucket_rule("s3:ListBucket"),
    ("s3", "HeadBucket"): _bucket_rule("s3:ListBucket"),
    ("s3", "ListObjectVersions"): _bucket_rule("s3:ListBucketVersions"),
    ("s3", "GetBucketReplication"): _bucket_rule("s3:GetReplicationConfiguration"),
    ("s3", "PutBucketReplication"): _put_replication,
    ("s3", "GetBucketVersioning"): _bucket_rule("s3:GetBucketVersioning"),
    ("s3", "PutBucketVersioning"): _bucket_rule("s3:PutBucketVersioning"),
    ("s3", "PutBucketTagging"): _bucket_rule("s3:PutBucketTagging"),
    ("s3", "GetBucketTagging"): _bucket_rule("s3:GetBucketTagging"),
    ("s3", "GetBucketLocation"): _bucket_rule("s3:GetBucketLocation"),
    ("s3", "DeleteBucket"): _bucket_rule("s3:DeleteBucket"),
    ("s3", "ListBuckets"): _any("s3:ListAllMyBuckets"),
    # RDS
    ("rds", "DescribeDBClusters"): _describe_clusters,
    ("rds", "DescribeDBInstances"): _describe_instances,
    ("rds", "DescribeGlobalClusters"): _describe_globals,
    ("rds", "DescribeDBClusterSnapshots"): _describe_snapshots,
    ("rds", "FailoverGlobalCluster"): _global_move("rds:FailoverGlobalCluster"),
    ("rds", "SwitchoverGlobalCluster"): _global_move("rds:SwitchoverGlobalCluster"),
    ("rds", "CreateDBCluster"): _create_cluster,
    ("rds", "ModifyDBCluster"): _cluster_rule("rds:ModifyDBCluster"),
    ("rds", "DeleteDBCluster"): _delete_cluster,
    ("rds", "CreateDBClusterSnapshot"): _create_cluster_snapshot,
    ("rds", "CreateDBInstance"): _create_instance,
    ("rds", "DeleteDBInstance"): _one(
        "rds:DeleteDBInstance", lambda p, w: w.arn("rds", f"db:{p['DBInstanceIdentifier']}")
    ),
    ("rds", "EnableHttpEndpoint"): _one("rds:EnableHttpEndpoint", lambda p, w: str(p["ResourceArn"])),
    # RDS Data API: the statement on the cluster, and the caller's own read of the credentials' secret
    ("rds-data", "ExecuteStatement"): lambda p, w: [
        Needed("rds-data:ExecuteStatement", str(p["resourceArn"])),
        Needed("secretsmanager:GetSecretValue", str(p["secretArn"])),
    ],
    ("rds", "AddTagsToResource"): _one("rds:AddTagsToResource", lambda p, w: str(p["ResourceName"])),
    ("rds", "RemoveFromGlobalCluster"): lambda p, w: [
        Needed("rds:RemoveFromGlobalCluster", global_cluster(p["GlobalClusterIdentifier"], w)),
        Needed("rds:RemoveFromGlobalCluster", cluster(p["DbClusterIdentifier"], w)),
    ],
    # AWS Backup (List*Jobs, DescribeRestoreJob, PutRestoreValidationResult: no resource-level permissions)
    ("backup", "ListRecoveryPointsByBackupVault"): _vault_rule("backup:ListRecoveryPointsByBackupVault"),
    ("backup", "ListProtectedResourcesByBackupVault"): _vault_rule("backup:ListProtectedResourcesByBackupVault"),
    ("backup", "DescribeBackupVault"): _vault_rule("backup:DescribeBackupVault"),
    ("backup", "GetBackupPlan"): _one(
        "backup:GetBackupPlan", lambda p, w: w.arn("backup", f"backup-plan:{p['BackupPlanId']}")
    ),
    ("backup", "ListBackupPlans"): _any("backup:ListBackupPlans"),
    ("backup", "ListBackupJobs"): _any("backup:ListBackupJobs"),
    ("backup", "ListCopyJobs"): _any("backup:ListCopyJobs"),
    ("backup", "ListRestoreJobs"): _any("backup:ListRestoreJobs"),
    ("backup", "DescribeRestoreJob"): _any("backup:DescribeRestoreJob"),
    ("backup", "PutRestoreValidationResult"): _any("backup:PutRestoreValidationResult"),
    ("backup", "StartRestoreJob"): _start_restore,
    ("backup", "GetRecoveryPointRestoreMetadata"): _one(
        "backup:GetRecoveryPointRestoreMetadata", lambda p, w: str(p["RecoveryPointArn"])
    ),
    ("backup", "DescribeRecoveryPoint"): _one("backup:DescribeRecoveryPoint", lambda p, w: str(p["RecoveryPointArn"])),
    # CloudWatch
    ("cloudwatch", "GetMetricData"): _any("cloudwatch:GetMetricData"),
    ("cloudwatch", "GetMetricStatistics"): _any("cloudwatch:GetMetricStatistics"),
    ("cloudwatch", "PutMetricData"): _put_metric_data,
    ("cloudwatch", "DescribeAlarms"): _describe_alarms,
    ("cloudwatch", "SetAlarmState"): _one(
        "cloudwatch:SetAlarmState", lambda p, w: w.arn("cloudwatch", f"alarm:{p['AlarmName']}")
    ),
    # Route 53 and ARC
    ("route53", "GetHealthCheck"): _health_check_rule("route53:GetHealthCheck"),
    ("route53", "GetHealthCheckStatus"): _health_check_rule("route53:GetHealthCheckStatus"),
    ("route53", "UpdateHealthCheck"): _health_check_rule("route53:UpdateHealthCheck"),
    ("route53-recovery-cluster", "GetRoutingControlState"): _one(
        "route53-recovery-cluster:GetRoutingControlState", lambda p, w: str(p["RoutingControlArn"])
    ),
    ("route53-recovery-cluster", "UpdateRoutingControlState"): _one(
        "route53-recovery-cluster:UpdateRoutingControlState", lambda p, w: str(p["RoutingControlArn"])
    ),
    ("route53-recovery-cluster", "UpdateRoutingControlStates"): _routing_states,
    ("route53-recovery-cluster", "ListRoutingControls"): _any("route53-recovery-cluster:ListRoutingControls"),
    # SNS, Lambda, Step Functions, EventBridge
    ("sns", "Publish"): _one("sns:Publish", lambda p, w: str(p["TopicArn"])),
    ("lambda", "Invoke"): _one("lambda:InvokeFunction", lambda p, w: function(str(p["FunctionName"]), w)),
    ("lambda", "GetFunctionConfiguration"): _one(
        "lambda:GetFunctionConfiguration", lambda p, w: function(str(p["FunctionName"]), w)
    ),
    ("lambda", "GetFunctionConcurrency"): _one(
        "lambda:GetFunctionConcurrency", lambda p, w: function(str(p["FunctionName"]), w)
    ),
    ("lambda", "GetAccountSettings"): _any("lambda:GetAccountSettings"),
    ("sns", "ListSubscriptionsByTopic"): _one("sns:ListSubscriptionsByTopic", lambda p, w: str(p["TopicArn"])),
    ("sns", "GetTopicAttributes"): _one("sns:GetTopicAttributes", lambda p, w: str(p["TopicArn"])),
    ("stepfunctions", "DescribeStateMachine"): _one(
        "states:DescribeStateMachine", lambda p, w: str(p["stateMachineArn"])
    ),
    ("stepfunctions", "GetExecutionHistory"): _one("states:GetExecutionHistory", lambda p, w: str(p["executionArn"])),
    ("stepfunctions", "DescribeExecution"): _one("states:DescribeExecution", lambda p, w: str(p["executionArn"])),
    ("stepfunctions", "StartExecution"): _one("states:StartExecution", lambda p, w: str(p["stateMachineArn"])),
    ("stepfunctions", "ListExecutions"): _one("states:ListExecutions", lambda p, w: str(p["stateMachineArn"])),
    ("stepfunctions", "SendTaskSuccess"): _any("states:SendTaskSuccess"),
    ("stepfunctions", "SendTaskFailure"): _any("states:SendTaskFailure"),
    ("stepfunctions", "SendTaskHeartbeat"): _any("states:SendTaskHeartbeat"),
    ("events", "PutEvents"): lambda p, w: [
        Needed("events:PutEvents", w.arn("events", f"event-bus/{e.get('EventBusName') or 'default'}"))
        for e in p.get("Entries") or []
    ],
    # IAM (global: no region in the ARN)
    ("iam", "GetRole"): _role_rule("iam:GetRole"),
    ("iam", "CreateRole"): _one(
        "iam:CreateRole", lambda p, w: f"arn:{w.partition}:iam::{w.account}:role{p.get('Path') or '/'}{p['RoleName']}"
    ),
    ("iam", "UpdateAssumeRolePolicy"): _role_rule("iam:UpdateAssumeRolePolicy"),
    ("iam", "GetRolePolicy"): _role_rule("iam:GetRolePolicy"),
    ("iam", "PutRolePolicy"): _role_rule("iam:PutRolePolicy"),
    ("iam", "CreateServiceLinkedRole"): _service_linked_role,
    ("iam", "SimulatePrincipalPolicy"): _one("iam:SimulatePrincipalPolicy", lambda p, w: str(p["PolicySourceArn"])),
    # STS: GetCallerIdentity needs no permission
    ("sts", "GetCallerIdentity"): lambda p, w: [],
}


def needed(service: str, operation: str, params: Mapping[str, Any], region: str, account: str) -> list[Needed]:
    """The permissions ``operation`` with ``params`` needs (``Unmodeled`` when localcloud has no rule)."""
    rule = _RULES.get((service, operation))
    if rule is None:
        raise Unmodeled(f"{service}:{operation}")
    return rule(params, Where(region, account))


def modeled() -> frozenset[tuple[str, str]]:
    return frozenset(_RULES)
