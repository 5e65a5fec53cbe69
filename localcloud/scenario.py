"""The protected platform, seeded in both regions from its DR design, with knobs a test can turn.

us-east-1 (primary) and us-west-2 (recovery), by default:
- five DynamoDB global tables with a replica in the recovery region, streams and PITR on, items in them;
- an Aurora global database: the primary cluster (a writer and two readers) and a secondary cluster; the
  primary's database holds rows (``sql_tables``), readable through the RDS Data API with a secret (a
  Secrets Manager secret replicated to the recovery region) by the restore test;
- three S3 buckets, versioned, replicated with Replication Time Control to versioned replicas, with objects;
- the API's health endpoints (real HTTP servers on loopback) and a Route 53 health check for each;
- optionally ARC routing controls for both cells (``use_arc=True``);
- the AWS Backup vaults (primary and recovery copies) with daily recovery points of every resource;
- healthy replication everywhere, its lag visible as the CloudWatch metrics AWS publishes.

After ``deploy()`` (the alarm it watches is the stack's), the traffic routing users follow: a hosted zone
``roadcall.example.`` with failover records for ``api.roadcall.example`` — PRIMARY ``A 127.0.1.1`` behind a
``CALCULATED`` health check (both children healthy: the primary endpoint's HTTP check and a
``CLOUDWATCH_METRIC`` check on the ``{stack}-traffic-pin`` alarm in the recovery region), SECONDARY
``A 127.0.2.1`` behind the recovery endpoint's HTTP check — answered by the Route 53 DNS data plane at
``cloud.dns.address`` (the stack's ``DnsResolver``). The addresses are only compared, never connected to.

Knobs: ``primary_outage(profile, minutes, **options)`` (the outage profiles of ``localcloud.outage``:
``app``, ``region``, ``control-plane``, ``gray``, ``recovery-partial``; see docs/outages.md),
``primary_recovers()``, ``recovery_endpoint_unhealthy()``, ``set_replication_lag(seconds)``,
``stale_backups(hours)``; views: ``writer_region()``, ``traffic_region()``, ``snapshot()``.
CloudWatch alarms are evaluated on the clock when ``PlatformDesign(evaluate_alarms=True)`` (or after
``alarms.enable()``); otherwise tests inject alarm events with ``alarm_event()``.

Backups as the stack's plan would have made them (after ``deploy()``): ``seed_backup_history()``; and
knobs that each break one thing the backup verification or the restore test checks: ``backup_stale``,
``backup_job_failed``, ``backup_copy_missing``, ``backup_unencrypted``, ``backup_retention``,
``backup_corrupted``, ``pitr_off``, ``replication_off``, ``aurora_backup_retention`` (see
``localcloud.scenario_backups``). AWS Config records nothing until ``record_configuration()`` (then the
verification reads the settings from it); ``stop_recording_configuration()`` stops the recorder.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import dns.exception
import dns.resolver

from localcloud import scenario_backups
from localcloud.cloud import LocalCloud
from localcloud.deployer import Stack
from localcloud.design import PlatformDesign
from localcloud.endpoints import HealthEndpoint
from localcloud.outage import make_profile
from localcloud.services.alarms import AlarmEvaluator
from localcloud.services.arc import RoutingControlSimulator
from localcloud.services.aurora import AuroraGlobalSimulator
from localcloud.services.backup import BackupSimulator
from localcloud.services.config import MODELED, ConfigSimulator
from localcloud.services.global_tables import GlobalTablesSimulator
from localcloud.services.metrics import MetricsSimulator
from localcloud.services.rds_data import RdsDataSimulator
from localcloud.services.route53_health import Route53HealthSimulator
from localcloud.services.s3_replication import S3ReplicationSimulator
from localcloud.template import ACCOUNT_ID

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"
SETTLE_MINUTES = 4  # after deploy() with alarm evaluation on: the probe alarm (2 of 3 minutes) has its data


@dataclass
class Platform:
    cloud: LocalCloud
    design: PlatformDesign = field(default_factory=PlatformDesign)

    def __post_init__(self) -> None:
        clock, interceptor = self.cloud.clock, self.cloud.interceptor
        self.metrics = MetricsSimulator(clock)
        self.aurora = AuroraGlobalSimulator(clock, self.metrics)
        self.health = Route53HealthSimulator(clock, self.metrics, model_failure_threshold=False)
        self.arc = RoutingControlSimulator(clock)
        self.tables = GlobalTablesSimulator(clock, self.metrics)
        self.s3 = S3ReplicationSimulator(clock, self.metrics)
        self.backup = BackupSimulator(clock)
        self.config = ConfigSimulator(clock)
        self.rds_data = RdsDataSimulator(clock)
        self.alarms = AlarmEvaluator(clock, self.cloud.router, self.metrics, self.cloud.outage.alarms_evaluate)
        self.health.alarm_state = self.alarms.state_of
        self.cloud.dns.resolver.health = self.health
        for simulator in (
            self.metrics,
            self.aurora,
            self.health,
            self.arc,
            self.tables,
            self.s3,
            self.backup,
            self.config,
            self.rds_data,
            self.alarms,
        ):
            simulator.register(interceptor)
        if self.design.evaluate_alarms:
            self.alarms.enable()
        self.primary_endpoint = HealthEndpoint("primary")
        self.recovery_endpoint = HealthEndpoint("recovery")
        self.health_checks: dict[str, str] = {}
        self.dns_checks: dict[str, str] = {}  # traffic-pin (CLOUDWATCH_METRIC), primary-calculated
        self.hosted_zone_id = ""
        self.routing_controls: dict[str, str] = {}
        self.arc_endpoints: dict[str, str] = {}
        self.stacks: dict[str, Stack] = {}
        self.validation_secret_arn = ""

    # -- building ------------------------------------------------------------------------------------
    def seed(self) -> Platform:
        d = self.design
        self._tables()
        self.aurora.create_global_topology(
            d.global_cluster_id,
            (d.primary_region, d.primary_cluster_id),
            (d.recovery_region, d.secondary_cluster_id),
        )
        self._database()
        self._buckets()
        self._routing()
        self._backups()
        return self

    def _tables(self) -> None:
        d = self.design
        ddb = self.cloud.client("dynamodb", d.primary_region)
        for name in d.tables:
            ddb.create_table(
                TableName=name,
                BillingMode="PAY_PER_REQUEST",
                AttributeDefinitions=[
                    {"AttributeName": "pk", "AttributeType": "S"},
                    {"AttributeName": "sk", "AttributeType": "S"},
                ],
                KeySchema=[
                    {"AttributeName": "pk", "KeyType": "HASH"},
                    {"AttributeName": "sk", "KeyType": "RANGE"},
                ],
                StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
            )
            ddb.update_continuous_backups(
                TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
            )
            for n in range(d.items_per_table):
                ddb.put_item(
                    TableName=name,
                    Item={"pk": {"S": f"{name}#{n:04d}"}, "sk": {"S": "v1"}, "n": {"N": str(n)}},
                )
            self.tables.make_global(name, d.primary_region, [d.recovery_region])
        self.tables.pump()

    def _database(self) -> None:
        """Rows in the primary cluster's database (written long before any backup), a user that may read
        them, the Data API on, and the user's secret in Secrets Manager, replicated to the recovery region."""
        d = self.design
        written = self.cloud.clock.now() - timedelta(days=400)
        for table in d.sql_tables:
            self.rds_data.load_table(
                d.primary_region,
                d.primary_cluster_id,
                d.database,
                table,
                ["id", "body", "updated_at"],
                "id",
                [{"id": n, "body": f"{table} row {n}", "updated_at": written} for n in range(1, d.rows_per_table + 1)],
            )
        password = "restore-validator-password"
        self.rds_data.add_user(d.primary_region, d.primary_cluster_id, d.validation_user, password)
        rds = self.cloud.client("rds", d.primary_region)
        cluster = rds.describe_db_clusters(DBClusterIdentifier=d.primary_cluster_id)["DBClusters"][0]
        rds.enable_http_endpoint(ResourceArn=cluster["DBClusterArn"])
        self.validation_secret_arn = self.cloud.client("secretsmanager", d.primary_region).create_secret(
            Name=f"{d.stack_name}/restore-validation",
            SecretString=json.dumps({"username": d.validation_user, "password": password}),
            AddReplicaRegions=[{"Region": d.recovery_region}],
        )["ARN"]

    def _buckets(self) -> None:
        d = self.design
        east, west = self.cloud.client("s3", d.primary_region), self.cloud.client("s3", d.recovery_region)
        iam = self.cloud.client("iam", d.primary_region)
        role = iam.create_role(
            RoleName="roadcall-s3-replication",
            AssumeRolePolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "s3.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
            ),
        )["Role"]["Arn"]
        for source, replica in zip(d.buckets, d.replicas, strict=True):
            east.create_bucket(Bucket=source)
            west.create_bucket(Bucket=replica, CreateBucketConfiguration={"LocationConstraint": d.recovery_region})
            for client, bucket in ((east, source), (west, replica)):
                client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
            east.put_bucket_replication(
                Bucket=source, ReplicationConfiguration=replication_rule(role, replica, d.replication_rule_id)
            )
            for n in range(d.objects_per_bucket):
                east.put_object(Bucket=source, Key=f"seed/{n:04d}.bin", Body=f"{source} object {n}".encode())
        self.s3.sync_now()

    def _routing(self) -> None:
        d = self.design
        route53 = self.cloud.client("route53", "us-east-1")
        for role, endpoint in (("primary", self.primary_endpoint), ("recovery", self.recovery_endpoint)):
            check = route53.create_health_check(
                CallerReference=f"roadcall-{role}",
                HealthCheckConfig={
                    "Type": "HTTP",
                    "IPAddress": "127.0.0.1",
                    "Port": int(endpoint.url.split(":")[2].split("/")[0]),
                    "ResourcePath": "/health",
                    "RequestInterval": 10,
                    "FailureThreshold": 3,
                },
            )["HealthCheck"]
            self.health_checks[role] = check["Id"]
            self.health.set_endpoint_health(check["Id"], True, immediate=True)
        if d.use_arc:
            panel = f"arn:aws:route53-recovery-control::{ACCOUNT_ID}:controlpanel/roadcall"
            for role in ("primary", "recovery"):
                arn = f"{panel}/routingcontrol/roadcall-{role}"
                self.arc.add_control(arn, f"roadcall-{role}", panel, state="On" if role == "primary" else "Off")
                self.routing_controls[role] = arn
            self.arc.add_assertion_rule("at-least-one-cell-on", list(self.routing_controls.values()), min_on=1)
            self.arc_endpoints = {
                region: f"https://roadcall-{region}.route53-recovery-cluster.{region}.amazonaws.com/v1"
                for region in (d.recovery_region, d.primary_region)
            }

    def _backups(self) -> None:
        d = self.design
        backup_east = self.cloud.client("backup", d.primary_region)
        backup_west = self.cloud.client("backup", d.recovery_region)
        backup_east.create_backup_vault(BackupVaultName=d.backup_vault)
        backup_west.create_backup_vault(BackupVaultName=d.recovery_backup_vault)
        now = self.cloud.clock.now()
        for arn, kind in self.resource_arns():
            for days in range(3):
                self.backup.seed_recovery_point(
                    d.backup_vault,
                    d.primary_region,
                    arn,
                    kind,
                    created_at=now - timedelta(hours=4 + 24 * days),
                )

    def resource_arns(self) -> list[tuple[str, str]]:
        d = self.design
        tables = [(f"arn:aws:dynamodb:{d.primary_region}:{ACCOUNT_ID}:table/{t}", "DynamoDB") for t in d.tables]
        aurora = [(f"arn:aws:rds:{d.primary_region}:{ACCOUNT_ID}:cluster:{d.primary_cluster_id}", "Aurora")]
        buckets = [(f"arn:aws:s3:::{b}", "S3") for b in d.buckets]
        return tables + aurora + buckets

    # -- deploying the app ---------------------------------------------------------------------------
    def parameters(self, stage: str = "dev") -> dict[str, str]:
        d = self.design
        params = {
            "Stage": stage,
            "PrimaryRegion": d.primary_region,
            "RecoveryRegion": d.recovery_region,
            "ProtectedTables": ",".join(d.tables),
            "AuroraGlobalClusterId": d.global_cluster_id,
            "AuroraPrimaryClusterId": d.primary_cluster_id,
            "AuroraSecondaryClusterId": d.secondary_cluster_id,
            "ProtectedBuckets": ",".join(d.buckets),
            "ReplicaBuckets": ",".join(d.replicas),
            "ReplicationRuleId": d.replication_rule_id,
            "PrimaryHealthCheckId": self.health_checks.get("primary", ""),
            "RecoveryHealthCheckId": self.health_checks.get("recovery", ""),
            "PrimaryEndpointUrl": self.primary_endpoint.url,
            "RecoveryEndpointUrl": self.recovery_endpoint.url,
            "TrafficDnsName": d.traffic_name,
            "TrafficDnsAnswers": f"{d.primary_region}={d.primary_answer},{d.recovery_region}={d.recovery_answer}",
            "DnsResolver": self.cloud.dns.address,
            "BackupVaultName": d.backup_vault,
            "RecoveryBackupVaultName": d.recovery_backup_vault,
            "ManageBackupVaults": "false",  # the vaults exist already, with their history (_backups)
            "RestoreValidationTables": ",".join(d.sql_tables),
            "RestoreValidationDatabase": d.database,
            "RestoreValidationSecretArn": self.validation_secret_arn,
        }
        if d.use_arc:
            params.update(
                {
                    "ArcClusterEndpoints": ",".join(f"{r}={u}" for r, u in self.arc_endpoints.items()),
                    "PrimaryRoutingControlArn": self.routing_controls["primary"],
                    "RecoveryRoutingControlArn": self.routing_controls["recovery"],
                }
            )
        return params

    def deploy(self, template: Path = TEMPLATE, stage: str = "dev") -> Stack:
        """Deploy the app as an operator would: in the recovery region (the orchestrator) and in the
        primary region (its alarm forwarding). Returns the recovery region's stack."""
        d = self.design
        for region in (d.primary_region, d.recovery_region):
            self.stacks[region] = self.cloud.deploy(template, region, d.stack_name, self.parameters(stage))
        self._traffic_records()
        if self.alarms.enabled:
            # The platform has been running before the app was deployed: its AWS metrics have a history, and
            # the probe runs a few minutes so the new alarms settle (AWS starts them INSUFFICIENT_DATA).
            self.metrics.backfill(SETTLE_MINUTES * 2)
            for _ in range(SETTLE_MINUTES):
                self.cloud.advance(60)
        else:
            # The probe's first runs (a datapoint for the second opinion) and the first heartbeats, replicated
            # to the other region before anything else happens (dr.heartbeat: the RPO measure).
            for _ in range(2):
                self.cloud.advance(60)
        return self.stacks[d.recovery_region]

    def _traffic_records(self) -> None:
        """The failover records users resolve, with the health checks the recovery region controls."""
        d = self.design
        route53 = self.cloud.client("route53", "us-east-1")
        zone = route53.create_hosted_zone(Name=d.hosted_zone, CallerReference="roadcall-zone")["HostedZone"]
        self.hosted_zone_id = str(zone["Id"]).rsplit("/", 1)[-1]
        pin = route53.create_health_check(
            CallerReference="roadcall-traffic-pin",
            HealthCheckConfig={
                "Type": "CLOUDWATCH_METRIC",
                "AlarmIdentifier": {"Region": d.recovery_region, "Name": f"{d.stack_name}-traffic-pin"},
                "InsufficientDataHealthStatus": "Healthy",
            },
        )["HealthCheck"]["Id"]
        calculated = route53.create_health_check(
            CallerReference="roadcall-primary-calculated",
            HealthCheckConfig={
                "Type": "CALCULATED",
                "ChildHealthChecks": [self.health_checks["primary"], pin],
                "HealthThreshold": 2,
            },
        )["HealthCheck"]["Id"]
        self.dns_checks = {"traffic-pin": pin, "primary-calculated": calculated}
        records = [
            ("primary", "PRIMARY", d.primary_answer, calculated),
            ("recovery", "SECONDARY", d.recovery_answer, self.health_checks["recovery"]),
        ]
        route53.change_resource_record_sets(
            HostedZoneId=self.hosted_zone_id,
            ChangeBatch={
                "Changes": [
                    {
                        "Action": "CREATE",
                        "ResourceRecordSet": {
                            "Name": d.traffic_name,
                            "Type": "A",
                            "SetIdentifier": role,
                            "Failover": failover,
                            "TTL": 60,
                            "ResourceRecords": [{"Value": answer}],
                            "HealthCheckId": check,
                        },
                    }
                    for role, failover, answer, check in records
                ]
            },
        )

    @property
    def stack(self) -> Stack:
        return self.stacks[self.design.recovery_region]

    # -- knobs ---------------------------------------------------------------------------------------
    def primary_outage(
        self, profile: str = "app", minutes: float = 3, replication_stops: bool = True, **options: Any
    ) -> None:
        """The primary region is impaired as outage ``profile`` says (docs/outages.md), then ``minutes``
        pass (the health alarm's evaluation: 2 of 3 minutes), so the probe in the recovery region has
        seen it too by the time the alarm fires.

        Every profile starts with the application outage: the primary's API stops answering, Route 53
        sees it, replication out of the primary stops (unless ``replication_stops=False``). Then:
        ``region`` — every AWS endpoint of the region fails for the application (connection errors and
        timeouts), its metrics, alarms and EventBridge stop, Aurora's lag grows, a switchover is refused;
        ``control-plane`` — its control planes fail (5xx / timeouts); ``gray`` — ``share`` (0.4) of the
        application's calls to it fail, its metrics arrive ``metrics_delay_minutes`` (5) late (or stop:
        ``metrics="stopped"``), the endpoint flaps instead of being down, replication slows instead of
        stopping (``replication_slowdown`` seconds of lag per second, 0.1); ``recovery-partial`` — one
        service of the recovery region (``service``, ``rds``) fails every call. ``seed`` makes the
        draws of ``gray`` (and the choice of failure kinds) reproducible; ``failures`` pins them."""
        d = self.design
        metrics_mode = str(options.pop("metrics", "late"))
        delay_minutes = float(options.pop("metrics_delay_minutes", 5))
        slowdown = float(options.pop("replication_slowdown", 0.1))
        outage = make_profile(profile, d.primary_region, d.recovery_region, **options)
        if profile == "gray":
            share = outage.share
            self.primary_endpoint.flap(share, outage.seed)
            self.health.set_endpoint_flapping(self.health_checks["primary"], share, outage.seed)
            if replication_stops:
                self.tables.slow_replication(d.primary_region, slowdown)
                self.s3.slow_replication(d.primary_region, slowdown)
                self.aurora.pause_replication(d.primary_region, rate=slowdown)
            if metrics_mode == "stopped":
                self.metrics.stop_region(d.primary_region)
            else:
                self.metrics.delay_region(d.primary_region, delay_minutes * 60)
        else:
            self.primary_endpoint.set_healthy(False)
            self.health.set_endpoint_health(self.health_checks["primary"], False, immediate=True)
            if replication_stops:
                self.tables.pause_replication(d.primary_region)
                self.s3.pause_replication(d.primary_region)
        if profile == "region":
            self.aurora.pause_replication(d.primary_region)
            self.aurora.set_region_reachable(d.primary_region, False)
            self.metrics.stop_region(d.primary_region)
        self.cloud.outage.start(outage)
        for _ in range(int(minutes)):  # minute by minute: each probe run and alarm evaluation sees its minute
            self.cloud.advance(60)
        if minutes % 1:
            self.cloud.advance((minutes % 1) * 60)

    def primary_recovers(self) -> None:
        """Whatever outage is active ends: the region answers again and replication resumes."""
        d = self.design
        self.cloud.outage.end()
        self.primary_endpoint.set_healthy(True)
        self.health.set_endpoint_health(self.health_checks["primary"], True, immediate=True)
        self.tables.resume_replication(d.primary_region)
        self.s3.resume_replication(d.primary_region)
        self.aurora.resume_replication(d.primary_region)
        self.aurora.set_region_reachable(d.primary_region, True)
        self.metrics.resume_region(d.primary_region)

    def recovery_endpoint_unhealthy(self) -> None:
        self.recovery_endpoint.set_healthy(False)
        self.health.set_endpoint_health(self.health_checks["recovery"], False, immediate=True)

    def set_replication_lag(self, seconds: float) -> None:
        """Every store lags ``seconds`` behind the primary (Aurora, DynamoDB, S3)."""
        d = self.design
        self.aurora.set_replication_lag(d.global_cluster_id, seconds)
        self.tables.set_replication_latency(seconds)
        self.s3.set_replication_latency(seconds)

    def alarm_event(self, state: str = "ALARM") -> None:
        """The primary's health alarm changes state in us-east-1, as CloudWatch would emit it."""
        d = self.design
        now = self.cloud.clock.now()
        name = f"{d.stack_name}-primary-health"
        self.cloud.put_event(
            d.primary_region,
            "aws.cloudwatch",
            "CloudWatch Alarm State Change",
            {
                "alarmName": name,
                "state": {
                    "value": state,
                    "reason": "Threshold Crossed (localcloud scenario)",
                    "timestamp": now.strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
                },
                "previousState": {"value": "OK" if state == "ALARM" else "ALARM"},
            },
            resources=[f"arn:aws:cloudwatch:{d.primary_region}:{ACCOUNT_ID}:alarm:{name}"],
        )

    # -- backups: what the plan would have made, and knobs that break one thing each ------------------
    def seed_backup_history(self) -> int:
        """Daily/weekly/monthly recovery points with their retention, monthly copies in the recovery
        vault, the last day's completed jobs (after ``deploy()``: the plan is the stack's). See
        localcloud.scenario_backups."""
        return scenario_backups.seed_history(self)

    def table_arn(self, name: str | None = None) -> str:
        d = self.design
        return f"arn:aws:dynamodb:{d.primary_region}:{ACCOUNT_ID}:table/{name or d.tables[0]}"

    def bucket_arn(self, name: str | None = None) -> str:
        return f"arn:aws:s3:::{name or self.design.buckets[0]}"

    def cluster_arn(self) -> str:
        d = self.design
        return f"arn:aws:rds:{d.primary_region}:{ACCOUNT_ID}:cluster:{d.primary_cluster_id}"

    def backup_stale(self, resource_arn: str, rule: str = "daily", hours: float = 30.0) -> list[str]:
        """The resource's newest ``rule`` recovery point is more than ``hours`` old."""
        return scenario_backups.make_stale(self, resource_arn, rule, hours)

    def backup_job_failed(self, resource_arn: str, state: str = "FAILED", hours_ago: float = 2.0) -> str:
        return scenario_backups.fail_job(self, resource_arn, state, hours_ago)

    def backup_copy_missing(self, resource_arn: str) -> str:
        """The newest monthly recovery point of the resource has no copy in the recovery vault."""
        return scenario_backups.drop_copy(self, resource_arn)

    def backup_unencrypted(self, resource_arn: str) -> str:
        """The resource's newest daily recovery point is not encrypted."""
        return scenario_backups.newest_daily(self, resource_arn, encrypted=False)

    def backup_retention(self, resource_arn: str, days: int) -> str:
        """The resource's newest daily recovery point is kept ``days`` days."""
        return scenario_backups.newest_daily(self, resource_arn, delete_after_days=days)

    def backup_corrupted(self, resource_arn: str) -> str:
        """The resource's newest recovery point holds data that does not match its source."""
        snapshot = self.backup.snapshot_of(resource_arn, self.design.primary_region)
        return scenario_backups.newest_daily(
            self, resource_arn, snapshot=scenario_backups.corrupted(snapshot), minutes_ago=30
        )

    def record_configuration(self, resource_types: tuple[str, ...] = MODELED) -> None:
        """AWS Config records ``resource_types`` in the primary Region (a recorder, its delivery channel,
        started): the verification then reads the resources' settings from it (localcloud.services.config)."""
        config = self.cloud.client("config", self.design.primary_region)
        config.put_configuration_recorder(
            ConfigurationRecorder={
                "name": "default",
                "roleARN": f"arn:aws:iam::{ACCOUNT_ID}:role/aws-service-role/config.amazonaws.com/"
                "AWSServiceRoleForConfig",
                "recordingGroup": {"allSupported": False, "resourceTypes": list(resource_types)},
            }
        )
        config.put_delivery_channel(DeliveryChannel={"name": "default", "s3BucketName": f"config-{ACCOUNT_ID}"})
        config.start_configuration_recorder(ConfigurationRecorderName="default")

    def stop_recording_configuration(self) -> None:
        """The primary Region's recorder stops: its items keep what they were and age on the clock."""
        self.cloud.client("config", self.design.primary_region).stop_configuration_recorder(
            ConfigurationRecorderName="default"
        )

    def pitr_off(self, table: str | None = None) -> None:
        self.cloud.client("dynamodb", self.design.primary_region).update_continuous_backups(
            TableName=table or self.design.tables[0],
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False},
        )

    def replication_off(self, bucket: str | None = None) -> None:
        self.cloud.client("s3", self.design.primary_region).delete_bucket_replication(
            Bucket=bucket or self.design.buckets[0]
        )

    def aurora_backup_retention(self, days: int) -> None:
        self.cloud.client("rds", self.design.primary_region).modify_db_cluster(
            DBClusterIdentifier=self.design.primary_cluster_id, BackupRetentionPeriod=days, ApplyImmediately=True
        )

    # -- views ---------------------------------------------------------------------------------------
    def writer_region(self) -> str:
        return self.aurora.writer_region(self.design.global_cluster_id)

    def traffic_region(self) -> str:
        d = self.design
        if d.use_arc:
            if self.arc.state(self.routing_controls["primary"]) == "On":
                return d.primary_region
            return d.recovery_region if self.arc.state(self.routing_controls["recovery"]) == "On" else "none"
        if not self.hosted_zone_id:  # not deployed yet: no records, the primary's health check decides
            return d.primary_region if self.health.is_healthy(self.health_checks["primary"]) else d.recovery_region
        answers = {d.primary_answer: d.primary_region, d.recovery_answer: d.recovery_region}
        return answers.get(self.resolve(d.traffic_name), "none")

    def resolve(self, name: str) -> str:
        """The first A answer for ``name`` from the Route 53 DNS data plane (``cloud.dns``), or ``""``."""
        resolver = dns.resolver.Resolver(configure=False)
        host, port = self.cloud.dns.address.rsplit(":", 1)
        resolver.nameservers, resolver.port = [host], int(port)
        try:
            answer = resolver.resolve(name, "A", lifetime=5)
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer, dns.exception.Timeout, dns.resolver.NoNameservers):
            return ""
        return str(answer[0])

    def snapshot(self) -> dict[str, Any]:
        """The platform's observable state, for before/after comparisons."""
        d = self.design
        route53 = self.cloud.client("route53", "us-east-1")
        ddb = {r: self.cloud.client("dynamodb", r) for r in (d.primary_region, d.recovery_region)}
        return {
            "writer_region": self.writer_region(),
            "traffic_region": self.traffic_region(),
            "promotions": len(self.aurora.promotion_events(d.global_cluster_id)),
            "health_checks": {
                role: route53.get_health_check(HealthCheckId=hc)["HealthCheck"]["HealthCheckConfig"].get(
                    "Inverted", False
                )
                for role, hc in self.health_checks.items()
            },
            "routing_controls": {role: self.arc.state(arn) for role, arn in self.routing_controls.items()},
            "items": {f"{r}:{t}": ddb[r].scan(TableName=t, Select="COUNT")["Count"] for r in ddb for t in d.tables},
        }

    def close(self) -> None:
        self.primary_endpoint.stop()
        self.recovery_endpoint.stop()


def replication_rule(role_arn: str, replica: str, rule_id: str) -> dict[str, Any]:
    """The replication configuration the DR design asks for: everything, RTC 15 min, metrics, deletes."""
    return {
        "Role": role_arn,
        "Rules": [
            {
                "ID": rule_id,
                "Priority": 1,
                "Status": "Enabled",
                "Filter": {"Prefix": ""},
                "DeleteMarkerReplication": {"Status": "Enabled"},
                "Destination": {
                    "Bucket": f"arn:aws:s3:::{replica}",
                    "ReplicationTime": {"Status": "Enabled", "Time": {"Minutes": 15}},
                    "Metrics": {"Status": "Enabled", "EventThreshold": {"Minutes": 15}},
                },
            }
        ],
    }
