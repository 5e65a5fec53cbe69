"""Replication setup of S3 (replication rules), idempotently (dr.replication runs it with the other stores).

S3: versioning Enabled on both buckets of each pair, a replication rule (the inventory's rule id) on the
``from_region`` bucket toward the ``to_region`` bucket with Replication Time Control (15 minutes),
replication metrics and delete-marker replication, using an IAM role that S3 can assume with a
least-privilege inline policy on the protected buckets only (created or corrected when needed). A rule
replicates only what is written after it exists; objects already in the bucket that never reached the
other side (written while the rule was missing, or FAILED) are copied onto themselves so the rule carries
them: the "copy in place" way of replicating existing objects. For buckets of millions of objects, S3
Batch Replication does the same at scale; this function handles ``backfill_limit`` objects per run.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

from botocore.exceptions import ClientError

from dr import heartbeat
from dr.aws import aws_errors, client
from dr.errors import ReplicationNotConfigured
from dr.inventory import Inventory
from dr.replication_common import ClientFactory, SetupResult, SetupRun, missing, partition

RTC_MINUTES = 15
ROLE_POLICY_NAME = "dr-s3-replication"
MAX_COPY_BYTES = 5 * 1024**3  # CopyObject's limit; bigger objects need Batch Replication


def replication_rule(rule_id: str, destination_bucket: str, region: str, priority: int = 1) -> dict[str, Any]:
    """The rule the DR design asks for: every object, RTC 15 minutes, metrics, delete markers."""
    return {
        "ID": rule_id,
        "Priority": priority,
        "Status": "Enabled",
        "Filter": {"Prefix": ""},
        "DeleteMarkerReplication": {"Status": "Enabled"},
        "Destination": {
            "Bucket": f"arn:{partition(region)}:s3:::{destination_bucket}",
            "ReplicationTime": {"Status": "Enabled", "Time": {"Minutes": RTC_MINUTES}},
            "Metrics": {"Status": "Enabled", "EventThreshold": {"Minutes": RTC_MINUTES}},
        },
    }


def rule_differences(rule: dict[str, Any] | None, destination_bucket: str) -> list[str]:
    """What keeps ``rule`` from being the rule the DR design asks for (empty when it is)."""
    if rule is None:
        return ["missing"]
    out = []
    destination = rule.get("Destination") or {}
    if rule.get("Status") != "Enabled":
        out.append(f"status {rule.get('Status')}")
    if not str(destination.get("Bucket", "")).endswith(f":::{destination_bucket}"):
        out.append(f"destination {destination.get('Bucket')}")
    flt = rule.get("Filter")
    every_object = flt == {} or (flt is not None and flt.get("Prefix") == "" and set(flt) == {"Prefix"})
    if not every_object and not (flt is None and rule.get("Prefix") == ""):
        out.append("does not cover every object")
    if (rule.get("DeleteMarkerReplication") or {}).get("Status") != "Enabled":
        out.append("no delete-marker replication")
    rtc = destination.get("ReplicationTime") or {}
    if rtc.get("Status") != "Enabled" or (rtc.get("Time") or {}).get("Minutes") != RTC_MINUTES:
        out.append("no Replication Time Control (15 min)")
    if (destination.get("Metrics") or {}).get("Status") != "Enabled":
        out.append("no replication metrics")
    return out


def role_policy(buckets: list[str], region: str) -> dict[str, Any]:
    """Least privilege for S3 replication between the protected buckets, and nothing else."""
    arns = [f"arn:{partition(region)}:s3:::{b}" for b in sorted(buckets)]
    objects = [f"{a}/*" for a in arns]
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadReplicationConfiguration",
                "Effect": "Allow",
                "Action": ["s3:GetReplicationConfiguration", "s3:ListBucket"],
                "Resource": arns,
            },
            {
                "Sid": "ReadSourceVersions",
                "Effect": "Allow",
                "Action": [
                    "s3:GetObjectVersionForReplication",
                    "s3:GetObjectVersionAcl",
                    "s3:GetObjectVersionTagging",
                ],
                "Resource": objects,
            },
            {
                "Sid": "WriteReplicas",
                "Effect": "Allow",
                "Action": ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"],
                "Resource": objects,
            },
        ],
    }


TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


def _document(raw: Any) -> dict[str, Any]:
    if isinstance(raw, str):
        return dict(json.loads(unquote(raw)))
    return dict(raw or {})


def _trusts_s3(document: dict[str, Any]) -> bool:
    for statement in document.get("Statement", []):
        principal = (statement.get("Principal") or {}).get("Service")
        services = principal if isinstance(principal, list) else [principal]
        if statement.get("Effect") == "Allow" and "s3.amazonaws.com" in services:
            return True
    return False


def ensure_role(run: SetupRun, iam: Any, role_name: str, buckets: list[str], region: str) -> str:
    """The role S3 replicates with: trusted by S3, with exactly the least-privilege inline policy."""
    try:
        role = iam.get_role(RoleName=role_name)["Role"]
        arn = str(role["Arn"])
        if _trusts_s3(_document(role.get("AssumeRolePolicyDocument"))):
            run.found.append(f"role {role_name} exists and S3 may assume it")
        else:
            run.act(
                f"let S3 assume role {role_name}",
                lambda: iam.update_assume_role_policy(RoleName=role_name, PolicyDocument=json.dumps(TRUST)),
            )
    except ClientError as err:
        if not missing(err, "NoSuchEntity"):
            raise
        arn = f"arn:{partition(region)}:iam::ACCOUNT:role/{role_name}"
        if run.dry_run:
            run.changes.append(f"would create role {role_name} for S3 replication")
        else:
            arn = str(
                iam.create_role(
                    RoleName=role_name,
                    AssumeRolePolicyDocument=json.dumps(TRUST),
                    Description="S3 replication between the DR-protected buckets (drctl setup replication)",
                )["Role"]["Arn"]
            )
            run.changes.append(f"create role {role_name} for S3 replication")
    wanted = role_policy(buckets, region)
    try:
        current = _document(iam.get_role_policy(RoleName=role_name, PolicyName=ROLE_POLICY_NAME)["PolicyDocument"])
    except ClientError as err:
        if not missing(err, "NoSuchEntity"):
            raise
        current = {}
    if current == wanted:
        run.found.append(f"role {role_name} has the least-privilege replication policy")
    else:
        run.act(
            f"{'correct' if current else 'attach'} the least-privilege replication policy {ROLE_POLICY_NAME} "
            f"of role {role_name} ({len(buckets)} buckets)",
            lambda: iam.put_role_policy(
                RoleName=role_name, PolicyName=ROLE_POLICY_NAME, PolicyDocument=json.dumps(wanted)
            ),
        )
    return arn


def setup_s3(
    inv: Inventory,
    from_region: str,
    to_region: str,
    *,
    rule_id: str,
    role_name: str,
    dry_run: bool = False,
    backfill_limit: int = 10000,
    clients: ClientFactory = client,
) -> SetupResult:
    run = SetupRun(dry_run)
    buckets = [b for pair in inv.buckets for b in (pair.source, pair.replica)]
    with aws_errors(f"set up S3 replication {from_region} → {to_region}", ReplicationNotConfigured):
        role_arn = ensure_role(run, clients("iam", from_region), role_name, buckets, from_region)
        for pair in inv.buckets:
            source, destination = inv.bucket_in(pair, from_region), inv.bucket_in(pair, to_region)
            src, dst = clients("s3", from_region), clients("s3", to_region)
            for s3, bucket, region in ((src, source, from_region), (dst, destination, to_region)):
                _versioning(run, s3, bucket, region)
            _rule(run, src, source, destination, from_region, rule_id, role_arn)
            _backfill(run, src, dst, source, destination, backfill_limit)
    return run.result("s3", from_region, to_region)


def _versioning(run: SetupRun, s3: Any, bucket: str, region: str) -> None:
    try:
        status = s3.get_bucket_versioning(Bucket=bucket).get("Status")
    except ClientError as err:
        if missing(err, "NoSuchBucket"):
            raise ReplicationNotConfigured(
                f"bucket {bucket} does not exist in {region}; expected it (create it first: docs/setup-guide.md)"
            ) from err
        raise
    if status == "Enabled":
        run.found.append(f"{bucket}: versioning Enabled")
        return
    run.act(
        f"enable versioning of {bucket} in {region} (was {status or 'off'})",
        lambda: s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"}),
    )


def _rule(run: SetupRun, src: Any, source: str, destination: str, region: str, rule_id: str, role_arn: str) -> None:
    try:
        config = src.get_bucket_replication(Bucket=source)["ReplicationConfiguration"]
    except ClientError as err:
        if not missing(err, "ReplicationConfigurationNotFoundError"):
            raise
        config = {"Rules": []}
    rules = list(config.get("Rules", []))
    ours = next((r for r in rules if r.get("ID") == rule_id), None)
    problems = rule_differences(ours, destination)
    if not problems:
        run.found.append(f"{source}: rule {rule_id} → {destination} with RTC, metrics and delete markers")
        return
    others = [r for r in rules if r.get("ID") != rule_id]
    priority = (ours or {}).get("Priority") or max([int(r.get("Priority") or 0) for r in others] + [0]) + 1
    # One role serves every rule of a bucket: keep the one other rules already use, else ours.
    wanted = {
        "Role": config.get("Role") if others and config.get("Role") else role_arn,
        "Rules": [*others, replication_rule(rule_id, destination, region, priority)],
    }
    run.act(
        f"{'put' if ours is None else 'correct'} replication rule {rule_id} of {source} → {destination} "
        f"({', '.join(problems)})",
        lambda: src.put_bucket_replication(Bucket=source, ReplicationConfiguration=wanted),
    )


def object_versions(s3: Any, bucket: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    versions: list[dict[str, Any]] = []
    markers: list[dict[str, Any]] = []
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        versions.extend(page.get("Versions", []))
        markers.extend(page.get("DeleteMarkers", []))
    return versions, markers


def _backfill(run: SetupRun, src: Any, dst: Any, source: str, destination: str, limit: int) -> None:
    """Objects the rule will never carry (written before it existed, or FAILED): copy them onto themselves."""
    versions, markers = object_versions(src, source)
    there_versions, there_markers = object_versions(dst, destination)
    present = {str(v["VersionId"]) for v in there_versions + there_markers}
    live_there = {str(v["Key"]) for v in there_versions if v.get("IsLatest")}
    copied = in_flight = 0
    # The DR heartbeat is not copied: it is rewritten every minute, and the next one replicates with the rule.
    candidates = (
        v
        for v in versions
        if v.get("IsLatest")
        and str(v["VersionId"]) not in present
        and not str(v["Key"]).startswith(heartbeat.OBJECT_PREFIX)
    )
    for version in candidates:
        key, version_id = str(version["Key"]), str(version["VersionId"])
        head = src.head_object(Bucket=source, Key=key, VersionId=version_id)
        status = head.get("ReplicationStatus")
        if status == "REPLICA":
            continue  # it came from the other side; replicas are never replicated back
        if status in ("PENDING", "COMPLETED"):
            in_flight += 1
            continue
        if copied >= limit:
            run.pending.append(
                f"{source}: more than {limit} objects to backfill; run again (or use S3 Batch Replication)"
            )
            break
        if int(head.get("ContentLength") or 0) > MAX_COPY_BYTES:
            run.pending.append(f"{source}/{key} is over 5 GB: replicate it with S3 Batch Replication")
            continue
        copied += 1
        extra: dict[str, Any] = {"Metadata": head.get("Metadata") or {}, "MetadataDirective": "REPLACE"}
        if head.get("ContentType"):
            extra["ContentType"] = head["ContentType"]
        if not run.dry_run:
            src.copy_object(
                Bucket=source,
                Key=key,
                CopySource={"Bucket": source, "Key": key, "VersionId": version_id},
                TaggingDirective="COPY",
                **extra,
            )
    replayed = _replay_deletes(run, src, source, markers, present, live_there)
    if copied:
        run.changes.append(
            f"{'would copy' if run.dry_run else 'copied'} {copied} object(s) of {source} onto themselves so that "
            f"replication carries them to {destination} (written before the rule existed, or FAILED)"
        )
    if replayed:
        run.changes.append(
            f"{'would replay' if run.dry_run else 'replayed'} {replayed} delete(s) in {source} "
            f"so that they reach {destination}"
        )
    if in_flight:
        run.found.append(f"{source}: {in_flight} object(s) on their way to {destination}")
    if not (copied or replayed or in_flight):
        run.found.append(f"{source}: every object is in {destination}")


def _replay_deletes(
    run: SetupRun, src: Any, source: str, markers: list[dict[str, Any]], present: set[str], live_there: set[str]
) -> int:
    """Deletes made before the rule existed: delete again, so the new delete marker is replicated."""
    replayed = 0
    for marker in (m for m in markers if m.get("IsLatest") and str(m["VersionId"]) not in present):
        if str(marker["Key"]) in live_there:
            replayed += 1
            if not run.dry_run:
                src.delete_object(Bucket=source, Key=str(marker["Key"]))
    return replayed
