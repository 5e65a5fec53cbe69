"""Readiness evaluation: the DR posture, checked every 30 minutes from the recovery region, so that what rots
between drills (a replica removed, PITR turned off, an RTC rule deleted, a permission lost, a topic nobody
reads) shows up here and not during a failover.

The rule of the evaluation:
- **One source of truth.** What a failover will need is judged from what the failover's own readiness
  code returns (``dr.readiness``: aurora, dynamodb, s3, endpoints, backups) for a failover from the primary
  to the recovery region; the posture the design promises from ``dr.posture_platform`` (which reuses the
  backup verification's rules); the orchestrator's own needs from ``dr.posture_orchestrator``; the drill
  calendar from ``dr.drill_calendar``.
- **Unknown is a finding, never a crash.** Every read that fails is a ``could-not-check`` finding naming
  what, where and why; it never stops the other checks. It is HIGH when the recovery region did not answer
  (the failover depends on it), MEDIUM for the primary region and the global control planes (IAM, the
  Route 53 API): an impaired primary is why the failover exists, and it must not page twice.
- **Measures carry their age.** The replication exposure of each store is the value measured plus the
  time since it was measured (``Measure.at``), compared with the RPO.
- **A region that does not answer is not asked again.** After ``SILENT_AFTER`` network failures in a row,
  the rest of that region's reads in this evaluation are could-not-check at once ("not asked"): each read
  of a dead region costs its timeouts and adds load to a region in trouble.
- **Page on change.** ``dr.posture_report`` ends each evaluation: ``ReadinessFindings`` per severity (an
  alarm pages on HIGH), the audit record (workflow ``readiness``), and a notification only when the set of
  findings (severity, check, resource) differs from the last evaluation's.
Every check name is explained, with its fix, in docs/findings.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any, Literal, Protocol, TypeVar

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import Field

from dr import drill_calendar, probes, readiness
from dr import posture_orchestrator as orchestrator
from dr import posture_platform as promised
from dr.aws import client, error_code, source_client
from dr.backup_models import Finding, ProtectedResource, Severity
from dr.backup_policy import SEVERITY_ORDER
from dr.errors import DrError
from dr.inventory import Inventory
from dr.models import BucketReadiness, Measure, OperationRequest, Strict, TableReadiness
from dr.settings import EnvSettings, Settings

T = TypeVar("T")


class _Exposed(Protocol):
    @property
    def exposure(self) -> Measure: ...


R = TypeVar("R", bound=_Exposed)
WORKFLOW = "readiness"
STATE_KEY = "readiness#state"
GLOBAL = "global"  # where IAM and the Route 53 API answer from (us-east-1's control planes)
SILENT_AFTER = 2  # network failures in a row after which a region is not asked again in one evaluation

# What a failover will need (from dr.readiness)
REPLICA_MISSING = "replica-missing"
REPLICA_NOT_READY = "replica-not-ready"
EXPOSURE_OVER_RPO = "exposure-over-rpo"
EXPOSURE_UNKNOWN = "exposure-unknown"
RECOVERY_ENDPOINT_UNHEALTHY = "recovery-endpoint-unhealthy"
TRAFFIC_PINNED = "traffic-pinned"
ROUTING_UNEXPECTED = "routing-unexpected"
HEALTH_CHECK_MISSING = "health-check-missing"
PROBE_SILENT = "probe-silent"
BACKUP_STALE = "backup-stale"
DRILL_OVERDUE = "drill-overdue"
COULD_NOT_CHECK = "could-not-check"

CHECKS = (
    REPLICA_MISSING,
    REPLICA_NOT_READY,
    EXPOSURE_OVER_RPO,
    EXPOSURE_UNKNOWN,
    RECOVERY_ENDPOINT_UNHEALTHY,
    TRAFFIC_PINNED,
    ROUTING_UNEXPECTED,
    HEALTH_CHECK_MISSING,
    PROBE_SILENT,
    BACKUP_STALE,
    *promised.CHECKS,
    *orchestrator.CHECKS,
    DRILL_OVERDUE,
    COULD_NOT_CHECK,
)
# Errors a read can end in: AWS's, botocore's (no connection, a timeout), the readiness code's named ones.
READ_ERRORS = (ClientError, BotoCoreError, DrError, probes.NotFound, probes.TrafficUnknown)
_NOT_FOUND = {
    "ResourceNotFoundException",
    "TableNotFoundException",
    "DBClusterNotFoundFault",
    "NoSuchBucket",
    "NoSuchHealthCheck",
    "NotFound",
}


class PostureSettings(EnvSettings):
    """What the evaluation reads beyond ``Settings`` (template parameters of the readiness block)."""

    failover_state_machine_arn: str = Field(default="", alias="FAILOVER_STATE_MACHINE_ARN")
    aurora_primary_readers: int = Field(default=2, alias="AURORA_PRIMARY_READERS", ge=0)
    pitr_days: int = Field(default=35, alias="PITR_RECOVERY_PERIOD_DAYS", gt=0)
    drill_monthly_days: int = Field(default=35, alias="DRILL_MONTHLY_MAX_DAYS", gt=0)
    drill_quarterly_days: int = Field(default=95, alias="DRILL_QUARTERLY_MAX_DAYS", gt=0)
    drill_yearly_days: int = Field(default=380, alias="DRILL_YEARLY_MAX_DAYS", gt=0)


class ReadinessInput(Strict):
    """What the schedule (or a person, or drctl) gives the evaluation. ``reminder``: a calendar reminder
    instead of an evaluation (the quarterly "game day due" and the yearly game day)."""

    trigger: Literal["schedule", "console"] = "console"
    reminder: Literal["game-day-due", "game-day"] | None = None
    requested_by: str = Field(default="console", max_length=200)
    reason: str = Field(default="", max_length=500)


# -- the evaluation's state --------------------------------------------------------------------------
@dataclass
class Evaluation:
    """What one evaluation found: findings, what could not be checked, the exposures it measured."""

    now: datetime
    settings: Settings
    posture: PostureSettings
    inventory: Inventory
    findings: list[Finding] = field(default_factory=list)
    unchecked: list[dict[str, str]] = field(default_factory=list)
    exposures: dict[str, Measure] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)
    network_failures: dict[str, int] = field(default_factory=dict)  # region -> network failures in a row
    silent: dict[str, str] = field(default_factory=dict)  # region -> why it is not asked any more

    @property
    def account(self) -> str:
        return self.settings.topic_arn.split(":")[4] if self.settings.topic_arn.count(":") >= 5 else ""

    @property
    def partition(self) -> str:
        return self.settings.topic_arn.split(":")[1] if self.settings.topic_arn.startswith("arn:") else "aws"

    def add(self, found: list[Finding]) -> None:
        self.findings += found

    def flag(self, check: str, severity: Severity, resource: str, resource_type: str, reason: str) -> None:
        self.findings.append(
            Finding(resource=resource, resource_type=resource_type, check=check, severity=severity, reason=reason)
        )

    def could_not(self, what: str, region: str, why: str, resource: str = "") -> None:
        """``what`` could not be read in ``region``: a finding, HIGH when the recovery region is the one that
        did not answer."""
        severity: Severity = "HIGH" if region == self.settings.recovery_region else "MEDIUM"
        self.unchecked.append({"what": what, "region": region, "why": why})
        self.findings.append(
            Finding(
                resource=resource or what,
                resource_type="check",
                check=COULD_NOT_CHECK,
                severity=severity,
                reason=f"{what} could not be checked ({region}): {why}",
            )
        )

    def read(
        self,
        what: str,
        region: str,
        fn: Callable[[], T],
        resource: str = "",
        missing: Callable[[str], None] | None = None,
    ) -> T | None:
        """``fn()``, or None with what happened recorded: ``missing(code)`` when AWS says the thing does not
        exist (and ``missing`` is given), a could-not-check otherwise. A region whose endpoints failed at
        the network level ``SILENT_AFTER`` times in a row is not asked again in this evaluation: every read
        of a region that does not answer costs its timeouts (seconds each), and adds load to it."""
        if region in self.silent:
            self.could_not(what, region, f"not asked: {self.silent[region]}", resource)
            return None
        try:
            value = fn()
        except READ_ERRORS as err:
            if missing is not None and not_found(err):
                missing(code(err))
                return None
            self.could_not(what, region, why(err), resource)
            if isinstance(err, BotoCoreError):
                self.network_failures[region] = self.network_failures.get(region, 0) + 1
                if self.network_failures[region] >= SILENT_AFTER:
                    self.silent[region] = (
                        f"{region} did not answer {SILENT_AFTER} reads in a row (the last: {why(err)})"
                    )
            return None
        self.network_failures[region] = 0
        return value

    def resource(self, kind: str, name: str, region: str) -> ProtectedResource:
        p, acct = self.partition, self.account
        arn = {
            "DynamoDB": f"arn:{p}:dynamodb:{region}:{acct}:table/{name}",
            "Aurora": f"arn:{p}:rds:{region}:{acct}:cluster:{name}",
            "S3": f"arn:{p}:s3:::{name}",
        }[kind]
        return ProtectedResource(arn=arn, type=kind, name=name, region=region)


def code(err: BaseException) -> str:
    return error_code(err) if isinstance(err, ClientError) else type(err).__name__


def why(err: BaseException) -> str:
    return f"{code(err)}: {err}"[:400]


def not_found(err: BaseException) -> bool:
    return isinstance(err, ClientError) and error_code(err) in _NOT_FOUND


def finding(check: str, severity: Severity, resource: str, resource_type: str, reason: str) -> Finding:
    return Finding(resource=resource, resource_type=resource_type, check=check, severity=severity, reason=reason)


# -- 1. what a failover will need (dr.readiness) --------------------------------------------------------
def failover_request(ev: Evaluation) -> OperationRequest:
    s = ev.settings
    return OperationRequest(
        workflow="failover",
        mode="dry-run",
        trigger="console",
        detected_at=ev.now,
        source_region=s.primary_region,
        target_region=s.recovery_region,
        reason="readiness evaluation",
        requested_by="readiness",
        execution=f"readiness-{ev.now:%Y%m%dT%H%M%SZ}",
        approval_timeout_seconds=s.approval_timeout_seconds,
    )


def exposure(ev: Evaluation, store: str, measure: Measure, resource: str, resource_type: str) -> None:
    """A store's exposure, aged to now, against the RPO."""
    rpo = ev.settings.rpo_seconds
    value = measure.at(ev.now)
    if value is None:
        ev.flag(
            EXPOSURE_UNKNOWN,
            "MEDIUM",
            resource,
            resource_type,
            f"the replication exposure of {store} cannot be measured ({measure.note or measure.source}): a "
            "failover now would not know how much data it leaves behind, and would ask a person",
        )
    elif value > rpo:
        taken = f"measured {measure.measured_at:%H:%M:%S} UTC" if measure.measured_at else "measured"
        ev.flag(
            EXPOSURE_OVER_RPO,
            "HIGH",
            resource,
            resource_type,
            f"{store} in {ev.settings.recovery_region} may be missing the last {value:.0f} s of writes "
            f"({measure.source}, {taken}); the RPO is {rpo} s",
        )


def check_aurora(ev: Evaluation, request: OperationRequest) -> None:
    inv, region = ev.inventory, ev.settings.recovery_region
    target = ev.resource("Aurora", inv.aurora.secondary_cluster_id, region)
    got = ev.read("Aurora readiness", region, lambda: readiness.aurora(request, inv), target.arn)
    if got is None:
        return
    ev.facts["writer_region"] = got.writer_region
    ev.exposures["aurora"] = got.exposure
    detail = "; ".join(got.problems)
    if got.writer_region == "unknown":
        if any("not found" in p for p in got.problems):
            ev.flag(REPLICA_MISSING, "HIGH", target.arn, "Aurora", f"the global database is gone: {detail}")
        else:
            ev.could_not(f"Aurora global cluster {inv.aurora.global_cluster_id}", region, detail, target.arn)
        return
    if got.target_status == "missing" or not got.target_is_member:
        ev.flag(
            REPLICA_MISSING,
            "HIGH",
            target.arn,
            "Aurora",
            f"Aurora cluster {target.name} is {got.target_status} and "
            f"{'a' if got.target_is_member else 'not a'} member of {got.global_cluster_id}: {detail}",
        )
    elif got.target_status == "unknown":
        ev.could_not(f"Aurora cluster {target.name}", region, detail, target.arn)
    elif got.target_status != "available" or got.operation_in_progress:
        ev.flag(REPLICA_NOT_READY, "HIGH", target.arn, "Aurora", detail)
    if got.writer_region != region:
        exposure(ev, "Aurora", got.exposure, target.arn, "Aurora")


def replica_readiness(ev: Evaluation, store: str, kind: str, read: Callable[[], R]) -> R | None:
    """A store's readiness in the recovery region, its exposure noted; None when it could not be read."""
    got = ev.read(f"{kind} readiness", ev.settings.recovery_region, read)
    if got is not None:
        ev.exposures[store] = got.exposure
    return got


def said_of(
    ev: Evaluation, kind: str, name: str, arn: str, problems: list[str], unread: tuple[str, str] | None
) -> list[str]:
    """What the readiness reads said of one replica. ``unread`` is (the error code that means it does not
    exist, the finding then) when its state could not be read: it is then flagged missing when the error
    says so, otherwise noted as a check that could not be made."""
    said = [p for p in problems if name in p]
    if unread is not None and any(unread[0] in p for p in said):
        ev.flag(REPLICA_MISSING, "HIGH", arn, kind, f"{unread[1]}: " + "; ".join(said))
    elif unread is not None:
        ev.could_not(f"{kind} {name}", ev.settings.recovery_region, "; ".join(said) or "unknown state", arn)
    return said


def check_dynamodb(ev: Evaluation, request: OperationRequest) -> None:
    got = replica_readiness(ev, "dynamodb", "DynamoDB", lambda: readiness.dynamodb(request, ev.inventory))
    if got is not None:
        for table in got.tables:
            check_table(ev, request, table, got.problems)


def check_table(ev: Evaluation, request: OperationRequest, table: TableReadiness, problems: list[str]) -> None:
    region = ev.settings.recovery_region
    arn = ev.resource("DynamoDB", table.name, region).arn
    unread = ("ResourceNotFoundException", f"table {table.name} has no replica in {region}")
    said = said_of(ev, "DynamoDB", table.name, arn, problems, unread if table.status == "unknown" else None)
    if table.status == "unknown":
        return
    if table.status != "ACTIVE":
        ev.flag(REPLICA_NOT_READY, "HIGH", arn, "DynamoDB", "; ".join(said))
    elif request.source_region not in table.replica_regions:
        reason = f"table {table.name} in {region} no longer replicates with {request.source_region}"
        ev.flag(REPLICA_MISSING, "HIGH", arn, "DynamoDB", f"{reason}: " + "; ".join(said))
    else:
        exposure(ev, f"DynamoDB table {table.name}", table.exposure, arn, "DynamoDB")


def check_s3(ev: Evaluation, request: OperationRequest) -> None:
    got = replica_readiness(ev, "s3", "S3", lambda: readiness.s3(request, ev.inventory))
    if got is not None:
        for bucket in got.buckets:
            check_bucket(ev, bucket, got.problems)


def check_bucket(ev: Evaluation, bucket: BucketReadiness, problems: list[str]) -> None:
    arn = f"arn:{ev.partition}:s3:::{bucket.replica}"
    unread = ("NoSuchBucket", f"the replica bucket {bucket.replica} does not exist in {ev.settings.recovery_region}")
    said_of(ev, "S3", bucket.replica, arn, problems, unread if bucket.versioning == "unknown" else None)
    if bucket.versioning == "unknown":
        return
    if bucket.versioning != "Enabled":
        why = f"versioning of the replica bucket {bucket.replica} is {bucket.versioning}: replication into it stops"
        ev.flag("versioning-disabled", "HIGH", arn, "S3", why)
    exposure(ev, f"S3 bucket {bucket.replica}", bucket.exposure, arn, "S3")


def check_endpoints(ev: Evaluation, request: OperationRequest) -> None:
    s, inv = ev.settings, ev.inventory
    got = ev.read("endpoint readiness", s.recovery_region, lambda: readiness.endpoints(request, inv, s))
    if got is None:
        return
    if not got.target_healthy:
        ev.flag(
            RECOVERY_ENDPOINT_UNHEALTHY,
            "HIGH",
            got.target_url,
            "endpoint",
            f"the recovery region's endpoint {got.target_url} is not healthy ({got.target_detail}): traffic "
            "moved there would fail",
        )
    primary_serves = ev.facts.get("writer_region") == s.primary_region
    if got.traffic_region == "unknown":
        ev.could_not("where users are sent (DNS / ARC)", s.recovery_region, "; ".join(got.problems))
    elif primary_serves and got.traffic_region != s.primary_region:
        mechanism = "the routing controls send" if inv.routing.uses_arc else "DNS sends"
        ev.flag(
            ROUTING_UNEXPECTED,
            "HIGH",
            inv.routing.traffic_dns_name or "routing-controls",
            "routing",
            f"{mechanism} users to {got.traffic_region} while the Aurora writer is in "
            f"{s.primary_region}: the routing is not in the state a failover starts from",
        )
    if not inv.routing.uses_arc:
        pin = (
            f"arn:{ev.partition}:cloudwatch:{s.recovery_region}:{ev.account}:alarm:{inv.routing.traffic_pin_alarm_name}"
        )
        if got.pinned is None:
            said = [p for p in got.problems if "pin alarm" in p]
            if any("does not exist" in p for p in said):
                ev.flag(promised.RESOURCE_MISSING, "HIGH", pin, "CloudWatch alarm", "; ".join(said))
            else:
                ev.could_not("the traffic-pin alarm", s.recovery_region, "; ".join(said) or "no state", pin)
        elif got.pinned and primary_serves:
            ev.flag(
                TRAFFIC_PINNED,
                "HIGH",
                pin,
                "CloudWatch alarm",
                f"the traffic-pin alarm is in ALARM while the primary ({s.primary_region}) holds the writer: "
                "users are held in the recovery region; a failback or a manual pin left it set",
            )
    if got.probe.says == "unknown":
        ev.flag(
            PROBE_SILENT,
            "MEDIUM",
            s.probe_alarm_name,
            "probe",
            f"the recovery region's probe of the primary has no fresh datapoint ({got.probe.basis}): an "
            "unplanned failover has one source of evidence fewer and will ask a person",
        )


def check_health_checks(ev: Evaluation) -> None:
    """The Route 53 health checks the routing relies on exist (Route 53's API: a global control plane)."""
    route53 = source_client("route53", "us-east-1")
    for role, check_id in (
        ("primary", ev.inventory.routing.primary_health_check_id),
        ("recovery", ev.inventory.routing.recovery_health_check_id),
    ):
        if not check_id:
            continue
        arn = f"arn:{ev.partition}:route53:::healthcheck/{check_id}"

        def gone(error: str, role: str = role, check_id: str = check_id, arn: str = arn) -> None:
            reason = f"the {role} endpoint's Route 53 health check {check_id} does not exist ({error})"
            ev.flag(HEALTH_CHECK_MISSING, "HIGH", arn, "Route 53 health check", reason)

        ev.read(
            f"the {role} Route 53 health check",
            GLOBAL,
            partial(route53.get_health_check, HealthCheckId=check_id),
            arn,
            missing=gone,
        )


def check_backups(ev: Evaluation) -> None:
    got = readiness.backups(ev.inventory, ev.settings)  # informational: never raises
    if got.fresh is True:
        return
    vault = got.vault or "backup vault"
    if got.fresh is False:
        reason = "; ".join(got.problems) + " (the backup verification's report says which resources)"
        ev.flag(BACKUP_STALE, "MEDIUM", vault, "AWS Backup vault", reason)
    else:
        ev.could_not("the newest recovery point", got.region or GLOBAL, "; ".join(got.problems), vault)


# -- 2. the posture the design promises (dr.posture_platform) -------------------------------------------
def check_aurora_posture(ev: Evaluation) -> None:
    inv, s = ev.inventory, ev.settings
    primary = ev.resource("Aurora", inv.aurora.primary_cluster_id, s.primary_region)
    rds_primary = source_client("rds", s.primary_region)

    def gone(error: str, resource: ProtectedResource = primary) -> None:
        ev.add([promised.missing(resource, error)])

    cluster = ev.read(
        f"Aurora cluster {primary.name}",
        s.primary_region,
        lambda: rds_primary.describe_db_clusters(DBClusterIdentifier=primary.name)["DBClusters"][0],
        primary.arn,
        missing=gone,
    )
    instances = ev.read(
        f"the instances of Aurora cluster {primary.name}",
        s.primary_region,
        lambda: rds_primary.describe_db_instances(Filters=[{"Name": "db-cluster-id", "Values": [primary.name]}])[
            "DBInstances"
        ],
        primary.arn,
    )
    if cluster is not None and instances is not None:
        readers, days = ev.posture.aurora_primary_readers, s.min_aurora_retention_days
        ev.add(promised.primary_cluster(primary, cluster, instances, readers, days))
    secondary = ev.resource("Aurora", inv.aurora.secondary_cluster_id, s.recovery_region)
    rds = client("rds", s.recovery_region)
    global_cluster = ev.read(
        f"Aurora global cluster {inv.aurora.global_cluster_id}",
        s.recovery_region,
        lambda: probes.global_cluster(inv, s.recovery_region),
    )
    described = ev.read(
        f"Aurora cluster {secondary.name}",
        s.recovery_region,
        lambda: rds.describe_db_clusters(DBClusterIdentifier=secondary.name)["DBClusters"][0],
        secondary.arn,
        missing=lambda _error: None,  # a missing secondary is the failover check's replica-missing
    )
    if described is not None:
        ev.add(promised.secondary_cluster(secondary, described, global_cluster))


def check_tables_posture(ev: Evaluation) -> None:
    s = ev.settings
    for region, reader in ((s.primary_region, source_client), (s.recovery_region, client)):
        ddb = reader("dynamodb", region)
        for name in ev.inventory.tables:
            table = ev.resource("DynamoDB", name, region)

            def gone(error: str, table: ProtectedResource = table) -> None:
                if table.region == s.primary_region:  # a missing replica is the failover check's replica-missing
                    ev.add([promised.missing(table, error)])

            described = ev.read(
                f"point-in-time recovery of table {name}",
                region,
                partial(ddb.describe_continuous_backups, TableName=name),
                table.arn,
                missing=gone,
            )
            if described is not None:
                described = described["ContinuousBackupsDescription"]
                replica = region != s.primary_region
                ev.add(promised.table(table, described, ev.posture.pitr_days, replica=replica))


def bucket_protection(s3: Any, bucket: str) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """(versioning, replication configuration or None) of a bucket."""
    versioning = s3.get_bucket_versioning(Bucket=bucket)
    try:
        return versioning, s3.get_bucket_replication(Bucket=bucket)["ReplicationConfiguration"]
    except ClientError as err:
        if error_code(err) != "ReplicationConfigurationNotFoundError":
            raise
        return versioning, None


def check_buckets_posture(ev: Evaluation) -> None:
    s = ev.settings
    s3 = source_client("s3", s.primary_region)
    for pair in ev.inventory.buckets:
        bucket = ev.resource("S3", pair.source, s.primary_region)

        def gone(error: str, bucket: ProtectedResource = bucket) -> None:
            ev.add([promised.missing(bucket, error)])

        got = ev.read(
            f"versioning and replication of bucket {pair.source}",
            s.primary_region,
            partial(bucket_protection, s3, pair.source),
            bucket.arn,
            missing=gone,
        )
        if got is not None:
            ev.add(promised.bucket(bucket, *got))


# -- 3. the orchestrator's own needs (dr.posture_orchestrator) ------------------------------------------
@dataclass
class FailoverFunctions:
    """The failover's functions as Lambda describes them: roles (with their steps), reserved concurrency."""

    roles: dict[str, orchestrator.RoleCheck] = field(default_factory=dict)
    reserved: dict[str, int | None] = field(default_factory=dict)
    arns: dict[str, str] = field(default_factory=dict)


def failover_functions(ev: Evaluation, definition: dict[str, Any]) -> FailoverFunctions:
    region, lam = ev.settings.recovery_region, client("lambda", ev.settings.recovery_region)
    out = FailoverFunctions()
    for name in orchestrator.functions(definition):
        short = name.rsplit(":", 1)[-1] if name.startswith("arn:") else name

        def gone(error: str, name: str = name, short: str = short) -> None:
            reason = f"the failover invokes {short}, which does not exist ({error})"
            ev.flag(promised.RESOURCE_MISSING, "HIGH", name, "Lambda function", reason)

        config = ev.read(
            f"function {short}", region, partial(lam.get_function_configuration, FunctionName=name), name, gone
        )
        concurrency = ev.read(
            f"the concurrency of {short}", region, partial(lam.get_function_concurrency, FunctionName=name), name
        )
        if config is None or concurrency is None:
            continue
        out.arns[short] = str(config["FunctionArn"])
        out.reserved[short] = concurrency.get("ReservedConcurrentExecutions")
        role = out.roles.setdefault(str(config["Role"]), orchestrator.RoleCheck(str(config["Role"]), []))
        role.steps.append(str(config["Handler"]))
    return out


def check_orchestrator(ev: Evaluation) -> None:
    s, inv, region = ev.settings, ev.inventory, ev.settings.recovery_region
    arn = ev.posture.failover_state_machine_arn
    if not arn:
        ev.could_not("the failover's permissions and concurrency", region, "FAILOVER_STATE_MACHINE_ARN is not set")
        return
    sfn = client("stepfunctions", region)
    described = ev.read(
        "the failover state machine", region, partial(sfn.describe_state_machine, stateMachineArn=arn), arn
    )
    if described is None:
        return
    definition = orchestrator.definition_of(described)
    found = failover_functions(ev, definition)
    needs: dict[str, list[orchestrator.Need]] = {
        role: [n for h in check.steps for n in orchestrator.NEEDS.get(h, ()) if orchestrator.applies(n, inv)]
        for role, check in found.roles.items()
    }
    unknown = sorted({h for c in found.roles.values() for h in c.steps if h not in orchestrator.NEEDS})
    if unknown:
        ev.could_not("the permissions of " + ", ".join(unknown), region, "no entry in posture_orchestrator.NEEDS")
    machine_role = str(described["roleArn"])
    found.roles.setdefault(machine_role, orchestrator.RoleCheck(machine_role, ["the state machine"]))
    needs.setdefault(machine_role, []).extend(
        orchestrator.state_machine_needs(definition, region, ev.account, ev.partition)
    )
    ev.facts["failover_roles"] = len(found.roles)
    sns = client("sns", region)
    attributes = ev.read(
        "the DR topic's key", region, lambda: sns.get_topic_attributes(TopicArn=s.topic_arn)["Attributes"], s.topic_arn
    )
    key = orchestrator.topic_key_arn(attributes or {}, s.topic_arn)
    ddb = client("dynamodb", region)
    table = ev.read(
        "the state table's key", region, lambda: ddb.describe_table(TableName=s.state_table)["Table"], s.state_table
    )
    resources = orchestrator.Resources(
        inv, s, ev.account, ev.partition, key, arn.rsplit(":", 1)[-1], orchestrator.table_key_arn(table or {})
    )
    check_permissions(ev, found.roles, needs, resources)
    peak = orchestrator.peak_concurrency(definition)
    ev.facts["failover_peak_concurrency"] = peak
    account = ev.read("the account's Lambda concurrency", region, client("lambda", region).get_account_settings)
    if account is not None:
        ev.add(orchestrator.concurrency_findings(account, found.reserved, peak, found.arns))


def check_permissions(
    ev: Evaluation,
    roles: dict[str, orchestrator.RoleCheck],
    needs: dict[str, list[orchestrator.Need]],
    resources: orchestrator.Resources,
) -> None:
    """SimulatePrincipalPolicy for each role. A role that no longer exists is a missing permission; IAM not
    answering (a timeout, a 5xx, throttling) is one could-not-check for all of them: asking again for each
    role would only add the same timeouts."""
    what = "the failover roles' permissions (IAM SimulatePrincipalPolicy)"
    if GLOBAL in ev.silent:
        ev.could_not(what, GLOBAL, f"not asked: {ev.silent[GLOBAL]}")
        return
    iam = source_client("iam", "us-east-1")
    for role_arn, check in roles.items():
        try:
            for actions, arns, context in orchestrator.simulation_calls(needs.get(role_arn, []), resources):
                check.asked += len(actions) * len(arns)
                check.denied += orchestrator.simulate(iam, role_arn, actions, arns, context)
        except READ_ERRORS as err:
            if code(err) == "NoSuchEntity":
                check.denied.append(orchestrator.Denied("every action", role_arn, f"the role is gone: {why(err)}"))
            else:
                ev.could_not(what, GLOBAL, why(err))
                if isinstance(err, BotoCoreError):
                    ev.silent[GLOBAL] = f"IAM did not answer ({why(err)})"
                return
        if check.denied:
            ev.add([orchestrator.permission_finding(check)])
    ev.facts["permissions_asked"] = sum(c.asked for c in roles.values())


def check_topic(ev: Evaluation) -> None:
    s = ev.settings
    sns = client("sns", s.recovery_region)
    subscriptions = ev.read(
        "the DR topic's subscriptions",
        s.recovery_region,
        lambda: [
            sub
            for page in sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=s.topic_arn)
            for sub in page.get("Subscriptions", [])
        ],
        s.topic_arn,
    )
    if subscriptions is not None:
        ev.add(orchestrator.topic_findings(s.topic_arn, subscriptions))


# -- 4. the drill calendar ------------------------------------------------------------------------------
def calendar(ev: Evaluation, watched_since: datetime) -> None:
    p = ev.posture
    kinds = drill_calendar.kinds(p.drill_monthly_days, p.drill_quarterly_days, p.drill_yearly_days)
    workflows = {w for k in kinds for w, _ in k.needs}
    region = ev.settings.recovery_region
    runs = ev.read(
        "the audit records of the drills",
        region,
        lambda: drill_calendar.audit_runs(client("dynamodb", region), ev.settings.state_table, workflows),
    )
    if runs is None:
        return
    ev.facts["drills"] = drill_calendar.last_runs(kinds, runs)
    for late in drill_calendar.overdue(kinds, runs, ev.now, watched_since):
        ev.flag(DRILL_OVERDUE, "MEDIUM", f"drill:{late.kind.name}", "drill", late.reason(ev.now))


SECTIONS: tuple[tuple[str, Callable[[Evaluation, OperationRequest], None]], ...] = (
    ("aurora", check_aurora),
    ("dynamodb", check_dynamodb),
    ("s3", check_s3),
    ("endpoints", check_endpoints),
    ("health-checks", lambda ev, _r: check_health_checks(ev)),
    ("backups", lambda ev, _r: check_backups(ev)),
    ("aurora-posture", lambda ev, _r: check_aurora_posture(ev)),
    ("tables-posture", lambda ev, _r: check_tables_posture(ev)),
    ("buckets-posture", lambda ev, _r: check_buckets_posture(ev)),
    ("orchestrator", lambda ev, _r: check_orchestrator(ev)),
    ("topic", lambda ev, _r: check_topic(ev)),
)


def evaluate(ev: Evaluation, watched_since: datetime) -> Evaluation:
    """Every check, in order; a check that fails to read records what it could not check and the next runs."""
    request = failover_request(ev)
    for _name, section in SECTIONS:
        section(ev, request)
    calendar(ev, watched_since)
    ev.findings = sorted(ev.findings, key=lambda f: (SEVERITY_ORDER[f.severity], f.check, f.resource))
    return ev
