"""The readiness evaluation on localcloud: the deployed ReadinessFunction, with IAM enforced, on the seeded
platform, broken by the scenario's knobs, in outages, and on its schedules."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta
from typing import Any

import pytest
from dr import posture_orchestrator as orchestrator

from drctl import evidence
from drctl.cli import main
from drctl.target import local_target
from localcloud.scenario import Platform, PlatformDesign
from localcloud.server import LocalCloudServer
from localcloud.template import ACCOUNT_ID, expanded_template
from tests.workflows.conftest import Inbox, audit, run_to_end, start

RECOVERY, PRIMARY = "us-west-2", "us-east-1"
# The seeded platform has no PITR on its tables' replicas in us-west-2 (the failback's re-protection turns it
# on): the one thing its posture lacks, a MEDIUM finding per table.
SEEDED_GAPS = {
    ("pitr-disabled", f"arn:aws:dynamodb:{RECOVERY}:{ACCOUNT_ID}:table/{t}") for t in PlatformDesign().tables
}
RPO_SECONDS = 900


def evaluate(platform: Platform, **payload: Any) -> dict[str, Any]:
    """Invoke the deployed ReadinessFunction as its schedule does; its report."""
    response = platform.cloud.client("lambda", RECOVERY).invoke(
        FunctionName=platform.stack.physical("ReadinessFunction"),
        Payload=json.dumps({"trigger": "schedule", **payload}).encode(),
    )
    out: dict[str, Any] = json.loads(response["Payload"].read())
    assert not response.get("FunctionError"), out
    return out


def found(report: dict[str, Any]) -> set[tuple[str, str]]:
    return {(f["check"], f["resource"]) for f in report["findings"]}


def latest(platform: Platform, metric: str, dimensions: dict[str, str]) -> list[float]:
    now = platform.cloud.clock.now()
    out = platform.cloud.client("cloudwatch", RECOVERY).get_metric_data(
        MetricDataQueries=[
            {
                "Id": "m",
                "MetricStat": {
                    "Metric": {
                        "Namespace": "RoadCallDR",
                        "MetricName": metric,
                        "Dimensions": [
                            {"Name": k, "Value": v} for k, v in {**dimensions, "service": "roadcall-dr"}.items()
                        ],
                    },
                    "Period": 60,
                    "Stat": "Maximum",
                },
            }
        ],
        StartTime=now - timedelta(hours=2),
        EndTime=now + timedelta(minutes=1),
        ScanBy="TimestampAscending",
    )
    return [float(v) for v in out["MetricDataResults"][0]["Values"]]


def put_audit(platform: Platform, execution: str, workflow: str, status: str, finished: datetime) -> None:
    platform.cloud.client("dynamodb", RECOVERY).put_item(
        TableName=platform.stack.physical("StateTable"),
        Item={
            "pk": {"S": f"audit#{execution}"},
            "workflow": {"S": workflow},
            "status": {"S": status},
            "finished_at": {"S": finished.isoformat()},
            "report": {"S": "{}"},
        },
    )


def test_a_healthy_platform_is_ready_and_the_on_call_hears_only_of_changes(platform: Platform, inbox: Inbox) -> None:
    # Given the seeded platform of the DR design
    # When the evaluation runs twice
    first, second = evaluate(platform), evaluate(platform)

    # Then it is ready: nothing but the seeded replicas' PITR, each store's exposure measured with its age
    assert found(first) == SEEDED_GAPS and {f["severity"] for f in first["findings"]} == {"MEDIUM"}
    assert (first["ready"], first["could_not_check"]) == (True, [])
    for store in ("aurora", "dynamodb", "s3"):
        exposure = first["exposures"][store]
        assert exposure["measured_at"] and 0 <= exposure["seconds_now"] < RPO_SECONDS
    assert first["facts"]["failover_roles"] == 20 and first["facts"]["permissions_asked"] > 80
    assert first["facts"]["failover_peak_concurrency"] == 5
    # both are recorded, only the first is notified (the findings did not change)
    assert (first["changed"], second["changed"]) == (True, False)
    assert audit(platform, first["execution"])["workflow"] == "readiness"
    assert audit(platform, second["execution"])["summary"]["by_severity"] == {"HIGH": 0, "MEDIUM": 5, "LOW": 0}
    assert [s for s in inbox.subjects() if "readiness" in s] == ["[DR] readiness READY: 0 HIGH, 5 MEDIUM"]
    # and its metrics: no HIGH finding in either evaluation, the exposure of each store
    assert set(latest(platform, "ReadinessFindings", {"Severity": "HIGH"})) == {0.0}
    assert set(latest(platform, "ReadinessFindings", {"Severity": "MEDIUM"})) == {5.0}
    assert latest(platform, "ReplicationExposureSeconds", {"Store": "dynamodb"})


def test_the_calendar_reads_the_drills_audit_records(platform: Platform, inbox: Inbox) -> None:
    # Given the calendar watched for 100 days (a first evaluation, moved back), a real dry-run failover today,
    # a backup verification yesterday, the last restore test 40 days ago and the last failback dry-run 120
    evaluate(platform)
    now = platform.cloud.clock.now()
    platform.cloud.client("dynamodb", RECOVERY).update_item(
        TableName=platform.stack.physical("StateTable"),
        Key={"pk": {"S": "readiness#state"}},
        UpdateExpression="SET first_evaluated_at = :t",
        ExpressionAttributeValues={":t": {"S": (now - timedelta(days=100)).isoformat()}},
    )
    rehearsal = run_to_end(platform, start(platform, "failover", {"mode": "dry-run"}))
    assert json.loads(rehearsal["output"])["status"] == "DRY_RUN"
    put_audit(platform, "verification-1", "backup-verification", "FINDINGS", now - timedelta(days=1))
    put_audit(platform, "restore-1", "restore-test", "SUCCEEDED", now - timedelta(days=40))
    put_audit(platform, "failback-1", "failback", "DRY_RUN", now - timedelta(days=120))

    # When the evaluation runs
    report = evaluate(platform)

    # Then the restore test (monthly) and the failback rehearsal (quarterly) are overdue; the game day not yet
    overdue = {f["resource"]: f for f in report["findings"] if f["check"] == "drill-overdue"}
    assert set(overdue) == {"drill:restore-test", "drill:failback-rehearsal"}
    assert "40 days ago" in overdue["drill:restore-test"]["reason"]
    assert report["facts"]["drills"]["failover-rehearsal"] is not None  # the real dry-run counted
    # and the change is notified, naming what is new
    message = next(
        m for m in inbox.messages() if m["subject"].startswith("[DR] readiness") and "drill-overdue" in m["message"]
    )
    assert "+ MEDIUM|drill-overdue|drill:restore-test" in message["message"]


def test_each_thing_broken_is_found_on_exactly_its_resource(platform: Platform, inbox: Inbox) -> None:
    d = platform.design
    platform.alarms.enable()  # CloudWatch alarms evaluated every virtual minute
    evaluate(platform)  # the healthy baseline
    # Given the platform broken in ten ways, each on a different resource
    platform.pitr_off(d.tables[0])
    platform.remove_replica(d.tables[1])
    platform.replication_changed(d.buckets[1], rtc=False)
    platform.replication_changed(d.buckets[2], delete_markers=False)
    role = platform.detach_policy("PromoteAuroraFunction", "ReadPlatformPolicy")
    platform.unsubscribe_topic()
    platform.reserve_concurrency("DecideFunction", 0)
    platform.lambda_concurrency_limit(7)
    platform.deletion_protection_off()
    platform.remove_reader()

    # When the evaluation runs
    report = evaluate(platform)

    # Then each broken thing is one finding on the resource broken, and nothing else changed
    primary_cluster = f"arn:aws:rds:{PRIMARY}:{ACCOUNT_ID}:cluster:{d.primary_cluster_id}"
    expected = {
        ("pitr-disabled", f"arn:aws:dynamodb:{PRIMARY}:{ACCOUNT_ID}:table/{d.tables[0]}"),
        ("replica-missing", f"arn:aws:dynamodb:{RECOVERY}:{ACCOUNT_ID}:table/{d.tables[1]}"),
        ("replication-rtc-disabled", f"arn:aws:s3:::{d.buckets[1]}"),
        ("delete-marker-replication-off", f"arn:aws:s3:::{d.buckets[2]}"),
        ("permission-missing", f"arn:aws:iam::{ACCOUNT_ID}:role/{role}"),
        ("topic-unsubscribed", platform.stack.physical("EventsTopic")),
        ("concurrency-headroom", platform.stack.arn("DecideFunction")),
        ("concurrency-headroom", "lambda:account-concurrency:7"),
        ("deletion-protection-off", primary_cluster),
        ("aurora-readers", primary_cluster),
    }
    # (the deleted replica's PITR is not read: the replica is gone, which replica-missing says)
    gaps = SEEDED_GAPS - {("pitr-disabled", f"arn:aws:dynamodb:{RECOVERY}:{ACCOUNT_ID}:table/{d.tables[1]}")}
    assert found(report) == expected | gaps
    by_check = {f["check"]: f for f in report["findings"]}
    assert "rds:DescribeGlobalClusters" in by_check["permission-missing"]["reason"]
    assert "rds:FailoverGlobalCluster" not in by_check["permission-missing"]["reason"]  # still granted inline
    assert report["ready"] is False and report["summary"]["by_severity"]["HIGH"] == 7
    assert latest(platform, "ReadinessFindings", {"Severity": "HIGH"})[-1] == 7.0
    # and once the alarm's 30-minute period is complete, it pages
    now = platform.cloud.clock.now().timestamp()
    platform.cloud.advance(1800 - now % 1800 + 60)
    alarm = platform.cloud.client("cloudwatch", RECOVERY).describe_alarms(AlarmNames=["roadcall-dr-readiness-findings"])
    assert alarm["MetricAlarms"][0]["StateValue"] == "ALARM"


def test_each_further_knob_adds_exactly_its_finding(platform: Platform) -> None:
    d = platform.design
    primary_cluster = f"arn:aws:rds:{PRIMARY}:{ACCOUNT_ID}:cluster:{d.primary_cluster_id}"
    recovery_check = platform.health_checks["recovery"]
    # Given the healthy platform's findings (the seeded replicas' PITR gaps)
    before = found(evaluate(platform))
    assert before == SEEDED_GAPS
    secondary = f"arn:aws:rds:{RECOVERY}:{ACCOUNT_ID}:cluster:{d.secondary_cluster_id}"

    def lagging() -> None:  # Aurora's secondary 20 minutes behind, for a minute (AuroraGlobalDBRPOLag)
        platform.set_replication_lag(1200)
        platform.cloud.advance(60)

    def pinned() -> None:  # the pin, and the minute in which Route 53 reads it
        platform.pin_traffic()
        platform.cloud.advance(60)

    knobs: list[tuple[str, Any, set[tuple[str, str]]]] = [
        ("replication 20 minutes behind", lagging, {("exposure-over-rpo", secondary)}),
        ("log exports off", platform.log_exports_off, {("log-exports-off", primary_cluster)}),
        ("enhanced monitoring off", platform.enhanced_monitoring_off, {("enhanced-monitoring-off", primary_cluster)}),
        (
            "backups kept 7 days",
            lambda: platform.aurora_backup_retention(7),
            {("aurora-retention-short", primary_cluster)},
        ),
        (
            "a headless secondary",
            platform.remove_secondary_instances,
            {("aurora-secondary-no-instance", secondary)},
        ),
        (
            "a bucket's replication rule deleted",
            lambda: platform.replication_off(d.buckets[0]),
            {("replication-disabled", f"arn:aws:s3:::{d.buckets[0]}")},
        ),
        (
            "the recovery endpoint unhealthy",
            platform.recovery_endpoint_unhealthy,
            {("recovery-endpoint-unhealthy", platform.recovery_endpoint.url)},
        ),
        (
            "the recovery endpoint's health check deleted",
            platform.delete_health_check,
            {("health-check-missing", f"arn:aws:route53:::healthcheck/{recovery_check}")},
        ),
        (  # last: with the recovery endpoint unhealthy (above), Route 53 keeps answering the primary however
            # long the pin holds; before them, it followed the pin within a minute, and whether the evaluation
            # saw that (a routing-unexpected finding too) depended on when the every-minute schedule fired
            "the traffic pinned and never released",
            pinned,
            {("traffic-pinned", f"arn:aws:cloudwatch:{RECOVERY}:{ACCOUNT_ID}:alarm:{d.stack_name}-traffic-pin")},
        ),
    ]
    for what, knob, expected in knobs:
        # When one more thing is broken and the evaluation runs again
        knob()
        now = found(evaluate(platform))
        # Then exactly that thing's finding appeared, and none went away
        assert (what, now - before, before - now) == (what, expected, set())
        before = now


@pytest.mark.parametrize("outage_platform", ["region"], indirect=True)
def test_under_a_region_outage_it_completes_and_says_what_it_could_not_check(outage_platform: Platform) -> None:
    d = outage_platform.design
    # When the evaluation runs while us-east-1 does not answer
    report = evaluate(outage_platform)

    # Then it completed: everything of us-east-1 and of the global control planes is "could not be checked"
    # (MEDIUM), nothing of the recovery region is
    unchecked = report["could_not_check"]
    assert {u["region"] for u in unchecked} == {PRIMARY, "global"}
    could_not = [f for f in report["findings"] if f["check"] == "could-not-check"]
    assert could_not and {f["severity"] for f in could_not} == {"MEDIUM"}
    named = " ".join(u["what"] for u in unchecked)
    assert f"Aurora cluster {d.primary_cluster_id}" in named
    assert "IAM SimulatePrincipalPolicy" in named
    assert all(f"table {t}" in named for t in d.tables)
    # and what the recovery region answers was still judged: the exposures, measured long ago, aging
    for store in ("dynamodb", "s3"):
        assert report["exposures"][store]["seconds_now"] > 120
    assert ("topic-unsubscribed", outage_platform.stack.physical("EventsTopic")) not in found(report)
    assert report["facts"]["failover_roles"] == 20  # the failover's definition and roles, from us-west-2


@pytest.mark.parametrize("outage_platform", ["region"], indirect=True)
def test_an_operators_evaluation_in_a_region_outage_completes(outage_platform: Platform) -> None:
    # When an operator's call invokes the evaluation (drctl readiness: the application's call, so the outage
    # applies to it) while us-east-1 is down, the function's first run in its environment
    done: list[dict[str, Any]] = []

    def operator() -> None:
        with outage_platform.cloud.outage.as_application():
            done.append(evaluate(outage_platform))

    worker = threading.Thread(target=operator, daemon=True)
    worker.start()
    worker.join(timeout=120)
    # Then it completes: Lambda gets the function's credentials in us-west-2's own way, not from us-east-1's
    # STS as the application would (that call failed, and its retry's back-off on the virtual clock held a
    # lock the clock's own thread needed: it never ended, and `drctl readiness --outage region` hung)
    assert not worker.is_alive(), "the evaluation did not end"
    assert done, "the evaluation failed"  # (only the lock freed: the function could not get its credentials)
    assert {u["region"] for u in done[0]["could_not_check"]} == {PRIMARY, "global"}


@pytest.mark.parametrize("outage_platform", ["app", "control-plane", ("gray", {"seed": 3})], indirect=True)
def test_under_every_primary_outage_profile_it_completes_and_the_recovery_region_is_still_judged(
    outage_platform: Platform,
) -> None:
    profile = outage_platform.cloud.outage.name
    # When the evaluation runs while the primary's application is down (and, by profile, its control planes
    # fail, or a share of its calls)
    report = evaluate(outage_platform)

    # Then it completed: what failed to answer is a MEDIUM "could not be checked" of us-east-1 or of a global
    # control plane, each one a finding; the recovery region's checks all ran (the seeded replicas' PITR gaps)
    unchecked = report["could_not_check"]
    assert {u["region"] for u in unchecked} <= {PRIMARY, "global"}
    could_not = [f for f in report["findings"] if f["check"] == "could-not-check"]
    assert len(could_not) == len(unchecked) and {f["severity"] for f in could_not} <= {"MEDIUM"}
    assert found(report) >= SEEDED_GAPS
    # users sent to the recovery region while the writer is still in us-east-1 is said (Route 53 failed over;
    # under gray the primary's endpoint flaps, and so does the answer)
    routing = ("routing-unexpected", outage_platform.design.traffic_name)
    assert routing in found(report) or profile == "gray"
    named = " ".join(u["what"] for u in unchecked)
    if profile == "app":  # AWS answers: nothing is unknown
        assert unchecked == []
    elif profile == "control-plane":  # Describe*/Get* and IAM are control planes; the data planes answer
        assert (
            "IAM SimulatePrincipalPolicy" in named
            and f"Aurora cluster {outage_platform.design.primary_cluster_id}" in named
        )
        assert report["exposures"]["aurora"]["seconds_now"] is not None
    else:  # gray: some of the reads failed, the others were judged
        assert 0 < len(unchecked) < 10


@pytest.mark.parametrize("outage_platform", [("recovery-partial", {"service": "rds"})], indirect=True)
def test_a_recovery_region_service_that_fails_is_a_high_could_not_check(outage_platform: Platform) -> None:
    report = evaluate(outage_platform)
    secondary = f"arn:aws:rds:{RECOVERY}:{ACCOUNT_ID}:cluster:{outage_platform.design.secondary_cluster_id}"
    high = {(f["check"], f["resource"]) for f in report["findings"] if f["severity"] == "HIGH"}
    assert ("could-not-check", secondary) in high
    assert report["ready"] is False


def test_what_a_failover_needs_covers_every_permission_a_drill_was_granted(platform: Platform) -> None:
    # Given a planned failover drill, IAM enforced, with every permission it used recorded
    platform.cloud.iam.granted.clear()
    result = run_to_end(platform, start(platform, "failover", {"mode": "planned"}))
    assert result["status"] == "SUCCEEDED", result

    # Then every action a step's role was granted is among that step's needs (what the evaluation simulates)
    resources = expanded_template(platform.stack.template_path)["Resources"]
    handlers = {
        f"{platform.design.stack_name}-{lid}Role": r["Properties"]["Handler"]
        for lid, r in resources.items()
        if r["Type"] == "AWS::Serverless::Function"
    }
    missing = {}
    for role, action, _resource in platform.cloud.iam.granted:
        handler = handlers.get(role)
        if handler in orchestrator.NEEDS and action not in {n.action for n in orchestrator.NEEDS[handler]}:
            missing.setdefault(handler, set()).add(action)
    assert missing == {}
    used = {handlers.get(role) for role, _a, _r in platform.cloud.iam.granted}
    assert len(used & set(orchestrator.NEEDS)) >= 12, "the drill's grants were not seen"


def test_the_calendar_is_scheduled_and_runs_as_the_template_says(platform: Platform, inbox: Inbox) -> None:
    schedules = {s.name: s for s in platform.cloud.router.schedules if s.region == RECOVERY}
    readiness = schedules["roadcall-dr-ReadinessFunctionEveryHalfHour"]
    assert (readiness.expression, readiness.enabled) == ("rate(30 minutes)", True)
    assert readiness.target_arn == platform.stack.arn("ReadinessFunction")
    failover = schedules["roadcall-dr-failover-rehearsal"]
    failback = schedules["roadcall-dr-failback-rehearsal"]
    assert (failover.expression, failover.target_arn) == (
        "cron(0 14 3 1,4,7,10 ? *)",
        platform.stack.arn("FailoverStateMachine"),
    )
    assert failback.target_arn == platform.stack.arn("FailbackStateMachine")
    assert (
        json.loads(failover.input_json or "{}")["mode"] == json.loads(failback.input_json or "{}")["mode"] == "dry-run"
    )
    due = schedules["roadcall-dr-ReadinessFunctionGameDayDue"]
    assert json.loads(due.input_json or "{}")["reminder"] == "game-day-due"
    reminder = schedules["roadcall-dr-ReadinessFunctionGameDayReminder"]
    assert json.loads(reminder.input_json or "{}")["reminder"] == "game-day"

    # When half an hour passes, the evaluation runs on its schedule
    table = platform.stack.physical("StateTable")
    platform.cloud.advance(1800)
    ddb = platform.cloud.client("dynamodb", RECOVERY)
    records = ddb.scan(
        TableName=table,
        FilterExpression="workflow = :w",
        ExpressionAttributeValues={":w": {"S": "readiness"}},
    )["Items"]
    assert [json.loads(r["report"]["S"])["trigger"] for r in records] == ["schedule"]

    # When the quarterly rehearsals start with their schedules' inputs, they change nothing
    # (the failover reports its plan; the failback finds the platform at home)
    before = platform.snapshot()
    for schedule, status in ((failover, "DRY_RUN"), (failback, "SKIPPED")):
        execution = platform.cloud.start_execution(schedule.target_arn, schedule.input_json or "{}")
        result = run_to_end(platform, execution)
        assert (result["status"], json.loads(result["output"])["status"]) == ("SUCCEEDED", status), result
    assert platform.snapshot() == before

    # When the "game day due" reminder fires, the on-call is told, with the last drills
    evaluate(platform, **json.loads(due.input_json or "{}"))
    reminder = next(m for m in inbox.messages() if m["subject"] == "[DR] Game day due this quarter")
    assert "failover-rehearsal: 20" in reminder["message"]  # the rehearsal just run (a 20xx date)
    assert "failback-rehearsal: 20" in reminder["message"]
    assert "game-day: never" in reminder["message"]


def test_drctl_readiness_on_the_embedded_aws_names_the_table_with_pitr_off(capsys: pytest.CaptureFixture[str]) -> None:
    # When an operator breaks PITR on one table of the embedded platform and asks for the readiness
    code = main(["readiness", "--output", "json", "--break", "pitr-off"])
    report = json.loads(capsys.readouterr().out)

    # Then that table is the one HIGH finding, and the exit code says the platform is not ready
    table = PlatformDesign().tables[0]
    high = {(f["check"], f["resource"]) for f in report["findings"] if f["severity"] == "HIGH"}
    assert high == {("pitr-disabled", f"arn:aws:dynamodb:{PRIMARY}:{ACCOUNT_ID}:table/{table}")}
    assert code == 1 and report["ready"] is False
    assert report["scenario"]["broken"] == ["pitr-off: point-in-time recovery off on the first table (primary)"]


def test_drctl_readiness_of_a_healthy_platform_has_no_high_finding(
    platform: Platform, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the healthy platform behind a localcloud server (as a deployed stack is reached)
    server = LocalCloudServer(platform.cloud).start()
    try:
        # When drctl asks the deployed evaluation, as JSON then as Markdown
        code = main(["--endpoint-url", server.endpoint_url, "readiness", "--output", "json"])
        report = json.loads(capsys.readouterr().out)
        assert main(["--endpoint-url", server.endpoint_url, "readiness", "--output", "markdown"]) == 0
        markdown = capsys.readouterr().out
    finally:
        server.stop()

    # Then there is no HIGH finding, and the Markdown is a table of the findings
    assert code == 0 and report["summary"]["by_severity"]["HIGH"] == 0
    assert found(report) == SEEDED_GAPS
    assert markdown.startswith("# DR readiness: READY")
    assert "| MEDIUM | `pitr-disabled` |" in markdown


def test_the_evidence_pack_counts_each_evaluation_and_reads_whether_it_was_ready(platform: Platform) -> None:
    # Given a healthy evaluation, then one with PITR off on a table of the primary
    since = platform.cloud.clock.now() - timedelta(minutes=1)
    evaluate(platform)
    platform.cloud.advance(60)
    platform.pitr_off()
    evaluate(platform)

    # When drctl gathers the evidence pack of the period
    pack = evidence.gather(local_target(platform.cloud, platform.design.stack_name, RECOVERY), since)

    # Then both evaluations are in it, the first ready, the last not, and that is a gap of the pack
    items = sorted((i for i in pack["evidence"] if i["kind"] == "readiness"), key=lambda i: str(i["at"]))
    assert [i["passed"] for i in items] == [True, False]
    assert pack["summary"]["readiness"] == {"runs": 2, "passed": 1}
    (gap,) = [g["gap"] for g in pack["gaps"] if g["kind"] == "readiness"]
    table = f"arn:aws:dynamodb:{PRIMARY}:{ACCOUNT_ID}:table/{platform.design.tables[0]}"
    assert gap.startswith(
        f"the latest readiness evaluation ({items[-1]['at'][:10]}) found the recovery region not ready: "
        f"HIGH pitr-disabled {table}; MEDIUM pitr-disabled "
    )
