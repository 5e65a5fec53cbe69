"""drctl preflight: check a deployment's parameters against the account before ``sam deploy``.

The rule: every name the parameters give must exist where the parameters say, in the shape the stack
needs, and the parameters must agree with each other; anything the stack itself or the replication setup
creates later (the replicas, the secondary Aurora cluster, the failover records and the traffic pin) is a
warning, not an error. Read-only: only Describe/Get/List calls, in the two regions the parameters name.

Parameters come from template.yaml's defaults, then a samconfig.toml environment (``--config-env``), then
``--parameter-overrides``, each name's last value winning (``sam deploy`` itself replaces samconfig's whole
list when given ``--parameter-overrides``: check what you will deploy). An error exits 1; warnings alone
exit 0.
"""

from __future__ import annotations

import re
import shlex
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "template.yaml"
SAMCONFIG = ROOT / "samconfig.toml"
MAX_TABLES, MAX_BUCKETS = 25, 10
MAX_SELECTED_NAME = 48  # AWS Backup selection names (t-NAME, b-NAME) are at most 50 characters
HEALTH_CHECK_METRICS_REGION = "us-east-1"  # Route 53 publishes HealthCheckStatus only there

Client = Callable[[str, str], Any]  # (service, region) -> a boto3 client
T = TypeVar("T")


@dataclass(frozen=True)
class Finding:
    check: str
    status: str  # ok | warning | error
    detail: str


def parameters(config_env: str | None = None, overrides: list[str] | None = None) -> dict[str, str]:
    """The parameters ``sam deploy`` would pass: template defaults < samconfig environment < overrides."""
    from localcloud.template import load_template  # the template parser (pure; no AWS)

    declared = load_template(TEMPLATE).get("Parameters") or {}
    values = {name: str(spec.get("Default", "")) for name, spec in declared.items()}
    if config_env:
        config = tomllib.loads(SAMCONFIG.read_text())
        if config_env not in config:
            raise ValueError(f"samconfig.toml has no environment [{config_env}]; it has {sorted(config)}")
        text = config[config_env].get("deploy", {}).get("parameters", {}).get("parameter_overrides", "")
        values.update(_pairs(shlex.split(text)))
    values.update(_pairs(overrides or []))
    unknown = sorted(set(values) - set(declared))
    if unknown:
        raise ValueError(f"parameters {unknown} are not declared in template.yaml")
    return values


def _pairs(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"parameter override {item!r} is not NAME=VALUE")
        out[name] = value
    return out


def _names(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def _code(err: Exception) -> str:
    if isinstance(err, ClientError):
        return str(err.response.get("Error", {}).get("Code", "ClientError"))
    return type(err).__name__


def found(read: Callable[[], T], *missing: str) -> T | None:
    """What ``read()`` answers, or None when AWS answers with one of the ``missing`` codes (the thing is not
    there, or not this account's). Any other error is the preflight's own failure and goes up."""
    try:
        return read()
    except ClientError as err:
        if _code(err) not in missing:
            raise
        return None


class Preflight:
    """The checks, in order; each appends Findings."""

    def __init__(self, client: Client, params: dict[str, str], stack_name: str) -> None:
        self.client, self.p, self.stack_name = client, params, stack_name
        self.primary, self.recovery = params["PrimaryRegion"], params["RecoveryRegion"]
        self.findings: list[Finding] = []

    def ok(self, check: str, detail: str) -> None:
        self.findings.append(Finding(check, "ok", detail))

    def warn(self, check: str, detail: str) -> None:
        self.findings.append(Finding(check, "warning", detail))

    def error(self, check: str, detail: str) -> None:
        self.findings.append(Finding(check, "error", detail))

    def run(self) -> list[Finding]:
        self.stack()
        self.regions()
        tables, buckets, replicas = (
            _names(self.p[k]) for k in ("ProtectedTables", "ProtectedBuckets", "ReplicaBuckets")
        )
        if self.lists(tables, buckets, replicas) and self.primary != self.recovery:
            for check in (
                lambda: self.tables(tables),
                lambda: self.buckets(buckets, replicas),
                self.aurora,
                self.health_checks,
                self.routing,
                self.vaults,
                self.dns,
                self.secret,
            ):
                try:
                    check()
                except (ClientError, BotoCoreError) as err:  # a check that cannot ask is an error, never a pass
                    self.error("access", f"{_code(err)}: {err}")
        return self.findings

    # -- parameters alone ------------------------------------------------------------------------------
    def stack(self) -> None:
        bucket = f"{self.stack_name}-reports-123456789012-{self.recovery}"  # ReportsBucket's name, account-sized
        if not re.fullmatch(r"[a-z][a-z0-9-]*", self.stack_name) or len(bucket) > 63:
            self.error(
                "stack",
                f"stack name {self.stack_name!r}: the reports bucket {self.stack_name}-reports-<account>-"
                f"{self.recovery} must be a lowercase S3 name of at most 63 characters",
            )
        else:
            self.ok("stack", f"{self.stack_name}, the same name in both regions")

    def regions(self) -> None:
        if self.primary == self.recovery:
            self.error("regions", f"PrimaryRegion and RecoveryRegion are both {self.primary}: they must differ")
        else:
            self.ok("regions", f"primary {self.primary}, recovery {self.recovery}")

    def lists(self, tables: list[str], buckets: list[str], replicas: list[str]) -> bool:
        good = True
        if not 1 <= len(tables) <= MAX_TABLES:
            self.error("lists", f"ProtectedTables has {len(tables)} names; 1 to {MAX_TABLES} are supported")
            good = False
        if not 1 <= len(buckets) <= MAX_BUCKETS:
            self.error("lists", f"ProtectedBuckets has {len(buckets)} names; 1 to {MAX_BUCKETS} are supported")
            good = False
        if len(buckets) != len(replicas):
            self.error(
                "lists",
                f"ProtectedBuckets has {len(buckets)} names and ReplicaBuckets {len(replicas)}: "
                "each protected bucket needs its replica, in the same order",
            )
            good = False
        for name, values in (("ProtectedTables", tables), ("ProtectedBuckets", buckets)):
            long = [v for v in values if len(v) > MAX_SELECTED_NAME]
            if long:  # each gets a backup selection named t-NAME / b-NAME, at most 50 characters
                self.error("lists", f"{name} has names longer than {MAX_SELECTED_NAME} characters: {long}")
                good = False
            ids = [re.sub(r"[^A-Za-z0-9]", "", v) for v in values]
            if len(set(ids)) != len(ids):
                self.error("lists", f"{name} has names that differ only in punctuation: {values}")
                good = False
        if good:
            self.ok("lists", f"{len(tables)} tables, {len(buckets)} bucket pairs")
        return good

    # -- the account -----------------------------------------------------------------------------------
    def tables(self, tables: list[str]) -> None:
        ddb = self.client("dynamodb", self.primary)
        for name in tables:
            answer = found(partial(ddb.describe_table, TableName=name), "ResourceNotFoundException")
            if answer is None:
                self.error("tables", f"table {name} does not exist in {self.primary}")
                continue
            replicas = {r.get("RegionName") for r in answer["Table"].get("Replicas") or []}
            if self.recovery in replicas:
                self.ok("tables", f"{name}: in {self.primary}, replica in {self.recovery}")
            else:
                self.warn("tables", f"{name}: no replica in {self.recovery} yet (`drctl setup replication` creates it)")

    def buckets(self, buckets: list[str], replicas: list[str]) -> None:
        for names, region, what in ((buckets, self.primary, "bucket"), (replicas, self.recovery, "replica bucket")):
            s3 = self.client("s3", region)
            for name in names:
                location = found(partial(s3.get_bucket_location, Bucket=name), "NoSuchBucket", "404", "AccessDenied")
                if location is None:
                    self.error("buckets", f"{what} {name} does not exist (or is not this account's)")
                    continue
                where = location.get("LocationConstraint") or "us-east-1"
                if where != region:
                    self.error("buckets", f"{what} {name} is in {where}, not in {region}")
                else:
                    self.ok("buckets", f"{what} {name} in {region}")

    def aurora(self) -> None:
        primary, secondary, global_id = (
            self.p["AuroraPrimaryClusterId"],
            self.p["AuroraSecondaryClusterId"],
            self.p["AuroraGlobalClusterId"],
        )
        rds, rds_recovery = self.client("rds", self.primary), self.client("rds", self.recovery)
        cluster = found(partial(rds.describe_db_clusters, DBClusterIdentifier=primary), "DBClusterNotFoundFault")
        primary_arn = cluster["DBClusters"][0]["DBClusterArn"] if cluster else ""
        if cluster:
            self.ok("aurora", f"cluster {primary} in {self.primary}")
        else:
            self.error("aurora", f"Aurora cluster {primary} does not exist in {self.primary}")
        read = partial(rds.describe_global_clusters, GlobalClusterIdentifier=global_id)
        global_db = found(read, "GlobalClusterNotFoundFault")
        if global_db is None:
            self.error("aurora", f"global database {global_id} does not exist")
            return
        members = {m["DBClusterArn"] for m in global_db["GlobalClusters"][0].get("GlobalClusterMembers") or []}
        if primary_arn and primary_arn not in members:
            self.error("aurora", f"cluster {primary} is not a member of the global database {global_id}")
        else:
            self.ok("aurora", f"global database {global_id}")
        read = partial(rds_recovery.describe_db_clusters, DBClusterIdentifier=secondary)
        if found(read, "DBClusterNotFoundFault"):
            self.ok("aurora", f"secondary cluster {secondary} in {self.recovery}")
        else:
            self.warn("aurora", f"secondary cluster {secondary} not in {self.recovery} yet (`drctl setup replication`)")

    def health_checks(self) -> None:
        route53 = self.client("route53", self.primary)
        primary_id = self.p["PrimaryHealthCheckId"]
        if not primary_id:
            self.error(
                "health checks", "PrimaryHealthCheckId is empty: the primary region's stack would have no health alarm"
            )
        elif self.primary != HEALTH_CHECK_METRICS_REGION:
            self.error(
                "health checks",
                f"the health alarm lives in the primary region ({self.primary}), but Route 53 publishes health-check "
                f"metrics only in {HEALTH_CHECK_METRICS_REGION}: it would never see a datapoint",
            )
        for name in ("PrimaryHealthCheckId", "RecoveryHealthCheckId"):
            check_id = self.p[name]
            if not check_id:
                continue
            if found(partial(route53.get_health_check, HealthCheckId=check_id), "NoSuchHealthCheck"):
                self.ok("health checks", f"{name} {check_id}")
            else:
                self.error("health checks", f"{name} {check_id} is not a Route 53 health check of this account")

    def routing(self) -> None:
        endpoints = self.p["ArcClusterEndpoints"]
        arns = {k: self.p[k] for k in ("PrimaryRoutingControlArn", "RecoveryRoutingControlArn")}
        if not endpoints:
            if any(arns.values()):
                self.error("routing", "routing control ARNs are given but ArcClusterEndpoints is empty")
            else:
                self.ok("routing", "no ARC: health-check failover records and the traffic pin move the traffic")
            return
        missing = [k for k, v in arns.items() if not v]
        if missing:
            self.error("routing", f"ArcClusterEndpoints is set but {missing} are empty")
            return
        arc = self.client("route53-recovery-control-config", "us-west-2")  # the ARC control plane's Region
        for name, arn in arns.items():
            if found(partial(arc.describe_routing_control, RoutingControlArn=arn), "ResourceNotFoundException"):
                self.ok("routing", f"{name} exists")
            else:
                self.error("routing", f"{name} {arn} does not exist")

    def vaults(self) -> None:
        manage = self.p["ManageBackupVaults"] == "true"
        for region, name in (
            (self.primary, self.p["BackupVaultName"]),
            (self.recovery, self.p["RecoveryBackupVaultName"]),
        ):
            read = partial(self.client("backup", region).describe_backup_vault, BackupVaultName=name)
            exists = found(read, "ResourceNotFoundException", "AccessDeniedException") is not None
            if manage and exists:
                self.error("vaults", f"vault {name} already exists in {region}: ManageBackupVaults=false adopts it")
            elif not manage and not exists:
                self.error("vaults", f"vault {name} does not exist in {region} (ManageBackupVaults=false adopts it)")
            else:
                self.ok("vaults", f"vault {name} in {region}: {'adopted' if exists else 'created by the stack'}")

    def dns(self) -> None:
        name = self.p["TrafficDnsName"].rstrip(".") + "."
        answers = dict(a.split("=", 1) for a in _names(self.p["TrafficDnsAnswers"]) if "=" in a)
        if answers and set(answers) != {self.primary, self.recovery}:
            self.error("dns", f"TrafficDnsAnswers names {sorted(answers)}, not the two regions")
        route53 = self.client("route53", self.primary)
        zones = [
            z
            for page in route53.get_paginator("list_hosted_zones").paginate()
            for z in page["HostedZones"]
            if name.endswith("." + z["Name"]) or name == z["Name"]
        ]
        if not zones:
            self.error("dns", f"no hosted zone of this account holds {name}")
            return
        zone = max(zones, key=lambda z: len(z["Name"]))
        records = route53.list_resource_record_sets(HostedZoneId=zone["Id"], StartRecordName=name, MaxItems="10")[
            "ResourceRecordSets"
        ]
        failover = {r.get("Failover") for r in records if r["Name"] == name}
        if {"PRIMARY", "SECONDARY"} <= failover:
            self.ok("dns", f"{name} has PRIMARY and SECONDARY failover records in {zone['Name']}")
        else:
            self.warn(
                "dns",
                f"{name} has no PRIMARY/SECONDARY failover records in {zone['Name']} yet "
                "(docs/setup-guide.md section 0: create them once the recovery stack exists)",
            )

    def secret(self) -> None:
        arn = self.p["RestoreValidationSecretArn"]
        if not arn:
            return
        parts = arn.split(":")  # a replica has the same ARN but for its Region
        replica = ":".join([*parts[:3], self.recovery, *parts[4:]])
        read = partial(self.client("secretsmanager", self.recovery).describe_secret, SecretId=replica)
        if found(read, "ResourceNotFoundException"):
            self.ok("secret", f"restore validation secret readable in {self.recovery}")
        else:
            self.error("secret", f"restore validation secret is not in {self.recovery} (replicate it there)")


def run(client: Client, params: dict[str, str], stack_name: str) -> list[Finding]:
    return Preflight(client, params, stack_name).run()


def render(findings: list[Finding]) -> str:
    marks = {"ok": "ok     ", "warning": "WARN   ", "error": "ERROR  "}
    lines = [f"{marks[f.status]}{f.check:<14} {f.detail}" for f in findings]
    errors = sum(f.status == "error" for f in findings)
    warnings = sum(f.status == "warning" for f in findings)
    lines.append(f"preflight: {errors} error(s), {warnings} warning(s)")
    return "\n".join(lines)
