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
``localcloud.scenario_backups``).

The rest of the design's posture, which the readiness evaluation checks (docs/readiness.md): deletion
protection on both Aurora clusters, the primary's PostgreSQL log exported and enhanced monitoring on its
instances, and (after ``deploy()``) the on-call's SQS queue subscribed to the DR topic. The tables' replicas
in the recovery region have no PITR (the failback's re-protection turns it on). Knobs that each break one
thing the evaluation checks: ``remove_replica``, ``replication_changed(rtc=False | delete_markers=False)``,
``detach_policy``, ``unsubscribe_topic``, ``lambda_concurrency_limit``, ``reserve_concurrency``,
``deletion_protection_off``, ``remove_reader``, ``log_exports_off``, ``enhanced_monitoring_off``,
``remove_secondary_instances``, ``delete_health_check``, ``pin_traffic`` (and the backup knobs above). The
simulators the evaluation needs are registered here: IAM's ``SimulatePrincipalPolicy``, Lambda's
``GetAccountSettings``, the AWS/States execution metrics. AWS Config records nothing until
``record_configuration()`` (then the verification reads the settings from it);
``stop_recording_configuration()`` stops the recorder.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import dns.exception
import dns.resolver
from moto.rds.models import rds_backends

from localcloud import scenario_backups
from localcloud.cloud import LocalCloud
from localcloud.deployer import Stack
from localcloud.design import PlatformDesign
from localcloud.endpoints import HealthEndpoint
from localcloud.iam.roles import trust
from localcloud.iam.simulate import PolicySimulator
from localcloud.outage import make_profile
from localcloud.services.alarms import AlarmEvaluator
from localcloud.services.arc import RoutingControlSimulator
from localcloud.services.aurora import AuroraGlobalSimulator
from localcloud.services.backup import BackupSimulator
from localcloud.services.config import MODELED, ConfigSimulator
from localcloud.services.global_tables import GlobalTablesSimulator
from localcloud.services.lambda_account import LambdaAccountSimulator
from localcloud.services.metrics import MetricsSimulator
from localcloud.services.rds_data import RdsDataSimulator
from localcloud.services.route53_health import Route53HealthSimulator
from localcloud.services.s3_replication import S3ReplicationSimulator
from localcloud.services.states_metrics import StatesMetricsSimulator
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
        self.lambda_account = LambdaAccountSimulator()
        self.states_metrics = StatesMetricsSimulator()
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
            self.lambda_account,
            self.states_metrics,
            PolicySimulator(),
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
        self.oncall_queue_url = ""

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
        self._aurora_posture()
        self._buckets()
        self._routing()
        self._backups()
        return self

    def _aurora_posture(self) -> None:
        """What the DR design promises of the clusters beside their topology: deletion protection on both,
        the primary's PostgreSQL log exported to CloudWatch Logs, enhanced monitoring on its instances."""
        d = self.design
        iam = self.cloud.client("iam", d.primary_region)
        monitoring_role = iam.create_role(
            RoleName="rds-monitoring-role",
            AssumeRolePolicyDocument=json.dumps(trust("monitoring.rds.amazonaws.com")),
        )["Role"]["Arn"]
        clusters = ((d.primary_region, d.primary_cluster_id), (d.recovery_region, d.secondary_cluster_id))
        for region, cluster_id in clusters:
            self.cloud.client("rds", region).modify_db_cluster(
                DBClusterIdentifier=cluster_id, DeletionProtection=True, ApplyImmediately=True
            )
        # moto's ModifyDBCluster drops CloudwatchLogsExportConfiguration (it reads another parameter name):
        # the cluster's exports are set on moto's object, as the API would have set them.
        rds_backends[ACCOUNT_ID][d.primary_region].clusters[d.primary_cluster_id].enabled_cloudwatch_logs_exports = [
            "postgresql"
        ]
        rds = self.cloud.client("rds", d.primary_region)
        for instance in rds.describe_db_instances(
            Filters=[{"Name": "db-cluster-id", "Values": [d.primary_cluster_id]}]
        )["DBInstances"]:
            rds.modify_db_instance(
                DBInstanceIdentifier=instance["DBInstanceIdentifier"],
                MonitoringInterval=60,
                MonitoringRoleArn=monitoring_role,
                ApplyImmediately=True,
            )

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
            AssumeRolePolicyDocument=json.dumps(trust("s3.amazonaws.com")),
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
        self._oncall()
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

    def _oncall(self) -> None:
        """The on-call's subscription to the DR topic (an SQS queue their pager reads: confirmed at once)."""
        d = self.design
        sqs = self.cloud.client("sqs", d.recovery_region)
        self.oncall_queue_url = sqs.create_queue(QueueName=f"{d.stack_name}-oncall")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=self.oncall_queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        self.cloud.client("sns", d.recovery_region).subscribe(
            TopicArn=self.stack.physical("EventsTopic"), Protocol="sqs", Endpoint=arn
        )

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

    # -- readiness: knobs that each break one thing the readiness evaluation checks ------------------------
    def remove_replica(self, table: str | None = None) -> None:
        """The table's replica in the recovery region is deleted (UpdateTable ReplicaUpdates Delete)."""
        d = self.design
        self.cloud.client("dynamodb", d.primary_region).update_table(
            TableName=table or d.tables[0], ReplicaUpdates=[{"Delete": {"RegionName": d.recovery_region}}]
        )

    def replication_changed(self, bucket: str | None = None, rtc: bool = True, delete_markers: bool = True) -> None:
        """The bucket's replication rule is rewritten without Replication Time Control (``rtc=False``) or
        without delete-marker replication (``delete_markers=False``)."""
        d = self.design
        source = bucket or d.buckets[0]
        s3 = self.cloud.client("s3", d.primary_region)
        config = s3.get_bucket_replication(Bucket=source)["ReplicationConfiguration"]
        for rule in config["Rules"]:
            if not rtc:
                rule["Destination"].pop("ReplicationTime", None)
                rule["Destination"].pop("Metrics", None)
            if not delete_markers:
                rule["DeleteMarkerReplication"] = {"Status": "Disabled"}
        s3.put_bucket_replication(Bucket=source, ReplicationConfiguration=config)

    def detach_policy(self, function: str, policy: str = "ReadPlatformPolicy") -> str:
        """The managed policy ``policy`` (a logical id of the stack) is detached from the role of the stack's
        function ``function`` (a logical id); returns the role's name."""
        d = self.design
        role = f"{d.stack_name}-{function}Role"
        self.cloud.client("iam", "us-east-1").detach_role_policy(RoleName=role, PolicyArn=self.stack.physical(policy))
        return role

    def unsubscribe_topic(self) -> None:
        """Every subscription of the DR topic is removed."""
        sns = self.cloud.client("sns", self.design.recovery_region)
        topic = self.stack.physical("EventsTopic")
        for sub in sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]:
            sns.unsubscribe(SubscriptionArn=sub["SubscriptionArn"])

    def lambda_concurrency_limit(self, limit: int) -> None:
        """The recovery region's Lambda concurrency quota (new accounts have 10)."""
        self.lambda_account.set_concurrency_limit(self.design.recovery_region, limit)

    def reserve_concurrency(self, function: str, reserved: int) -> None:
        """The stack's function ``function`` (a logical id) gets ``reserved`` concurrent executions (0 throttles it)."""
        self.cloud.client("lambda", self.design.recovery_region).put_function_concurrency(
            FunctionName=self.stack.physical(function), ReservedConcurrentExecutions=reserved
        )

    def deletion_protection_off(self) -> None:
        d = self.design
        self.cloud.client("rds", d.primary_region).modify_db_cluster(
            DBClusterIdentifier=d.primary_cluster_id, DeletionProtection=False, ApplyImmediately=True
        )

    def remove_reader(self) -> str:
        """One reader of the primary cluster is deleted; returns its identifier."""
        d = self.design
        rds = self.cloud.client("rds", d.primary_region)
        cluster = rds.describe_db_clusters(DBClusterIdentifier=d.primary_cluster_id)["DBClusters"][0]
        reader = next(m["DBInstanceIdentifier"] for m in cluster["DBClusterMembers"] if not m["IsClusterWriter"])
        rds.delete_db_instance(DBInstanceIdentifier=reader, SkipFinalSnapshot=True)
        return str(reader)

    def log_exports_off(self) -> None:
        """The primary cluster exports no log to CloudWatch Logs (set on moto's object: its ModifyDBCluster
        drops CloudwatchLogsExportConfiguration, see ``_aurora_posture``)."""
        d = self.design
        rds_backends[ACCOUNT_ID][d.primary_region].clusters[d.primary_cluster_id].enabled_cloudwatch_logs_exports = []

    def enhanced_monitoring_off(self) -> str:
        """Enhanced monitoring is turned off on the primary cluster's writer; returns its identifier."""
        d = self.design
        rds = self.cloud.client("rds", d.primary_region)
        cluster = rds.describe_db_clusters(DBClusterIdentifier=d.primary_cluster_id)["DBClusters"][0]
        writer = next(m["DBInstanceIdentifier"] for m in cluster["DBClusterMembers"] if m["IsClusterWriter"])
        rds.modify_db_instance(DBInstanceIdentifier=writer, MonitoringInterval=0, ApplyImmediately=True)
        return str(writer)

    def remove_secondary_instances(self) -> None:
        """Every instance of the Aurora secondary is deleted: a headless cluster in the recovery region."""
        d = self.design
        rds = self.cloud.client("rds", d.recovery_region)
        cluster = rds.describe_db_clusters(DBClusterIdentifier=d.secondary_cluster_id)["DBClusters"][0]
        for member in cluster["DBClusterMembers"]:
            rds.delete_db_instance(DBInstanceIdentifier=member["DBInstanceIdentifier"], SkipFinalSnapshot=True)

    def delete_health_check(self, role: str = "recovery") -> str:
        """The Route 53 health check of the ``role`` endpoint (primary or recovery) is deleted (Route 53 lets
        a health check a record uses be deleted); returns its id."""
        check_id = self.health_checks[role]
        self.cloud.client("route53", "us-east-1").delete_health_check(HealthCheckId=check_id)
        return check_id

    def pin_traffic(self) -> None:
        """Users are pinned to the recovery region as MoveTraffic pins them (TrafficPinnedToRecovery = 1 and
        the pin alarm in ALARM), and nothing released the pin."""
        d = self.design
        cloudwatch = self.cloud.client("cloudwatch", d.recovery_region)
        cloudwatch.put_metric_data(
            Namespace="RoadCallDR",
            MetricData=[
                {
                    "MetricName": "TrafficPinnedToRecovery",
                    "Dimensions": [{"Name": "Record", "Value": d.traffic_name}],
                    "Value": 1.0,
                }
            ],
        )
        cloudwatch.set_alarm_state(
            AlarmName=f"{d.stack_name}-traffic-pin", StateValue="ALARM", StateReason="pinned by hand, never released"
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
        """The first A answer for ``name`` from the Route 53 DNS data plane (``cloud.dns``), or ``""`` when
        there is none. A query that times out is asked again (up to 3 times 5 s): the embedded DNS server is a
        thread of this process, and on a loaded machine a timeout says nothing about the records."""
        resolver = dns.resolver.Resolver(configure=False)
        host, port = self.cloud.dns.address.rsplit(":", 1)
        resolver.nameservers, resolver.port = [host], int(port)
        for _ in range(3):
            try:
                return str(resolver.resolve(name, "A", lifetime=5)[0])
            except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer, dns.resolver.NoNameservers):
                return ""
            except dns.exception.Timeout:
                continue
        return ""

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

    def suspend(self) -> datetime:
        """Stop the platform's threads (its cloud's, then its endpoints) for a fork; returns the clock's moment.
        The clock stops first, so that no probe fires at an endpoint that no longer answers."""
        moment = self.cloud.suspend()
        self.primary_endpoint.pause()
        self.recovery_endpoint.pause()
        return moment

    def resume(self, at: datetime) -> None:
        """In a fork of a suspended platform: everything runs again, from the moment ``suspend`` returned. The
        endpoints answer before the clock runs: a probe fired by the first tick finds them answering."""
        self.primary_endpoint.resume()
        self.recovery_endpoint.resume()
        self.cloud.resume(at)

    def close(self) -> None:
        """Close the endpoints, the clock's schedules stopped first (as ``suspend`` does): a probe fired as an
        endpoint closed waited out its whole timeout (5 s, real) on a port nobody answered any more, and in a
        fork of the test suite's fork server the port is still open (the server holds it) so the connection
        is taken and never answered."""
        self.cloud.clock.halt()
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
