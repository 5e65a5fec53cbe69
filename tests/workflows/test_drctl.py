"""drctl end to end: the drill on the embedded AWS, and the same commands through a localcloud server."""

from __future__ import annotations

import json
import socket
import sys

import pytest
from dr import lease as lease_ops

from drctl.cli import main
from localcloud.scenario import Platform
from localcloud.server import LocalCloudServer
from tests.workflows.conftest import approval_token, lease, start, wait_until

EXECUTIONS = "arn:aws:states:us-west-2:123456789012:execution:roadcall-dr-failover"


def test_drill_failover_json_reports_success_with_objectives_met(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["drill", "failover", "--output", "json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0
    assert (report["workflow"], report["mode"], report["status"]) == ("failover", "planned", "SUCCEEDED")
    assert report["rto"]["met"] is True and report["rpo"]["met"] is True
    assert (report["writer_region"], report["traffic_region"]) == ("us-west-2", "us-west-2")
    assert set(report["rpo"]["by_store"]) == {"aurora", "dynamodb", "s3"}
    names = [s["name"] for s in report["steps"]]
    assert names[:3] == ["InitializeVariables", "ValidateInput", "AcquireLease"] and names[-1] == "FailoverSucceeded"
    assert all({"name", "started_at", "finished_at", "status"} <= set(s) for s in report["steps"])
    assert report["state_transitions"] == len(report["steps"])
    for key in ("execution", "started_at", "finished_at"):
        assert report[key]


def test_the_same_commands_work_against_a_localcloud_server(
    platform: Platform, capsys: pytest.CaptureFixture[str]
) -> None:
    server = LocalCloudServer(platform.cloud).start()
    try:
        url = server.endpoint_url
        assert main(["--endpoint-url", url, "drill", "failover", "--mode", "dry-run", "--output", "json"]) == 0
        report = json.loads(capsys.readouterr().out.split("\n", 0)[0])
        assert report["status"] == "DRY_RUN"
        assert main(["--endpoint-url", url, "report", report["execution"], "--output", "markdown"]) == 0
        markdown = capsys.readouterr().out
        assert markdown.startswith("# Failover report: DRY_RUN")
        assert "| ValidateInput |" in markdown
        assert main(["--endpoint-url", url, "lease", "show"]) == 0
        assert json.loads(capsys.readouterr().out)["state"] == "RELEASED"
    finally:
        server.stop()


def test_commands_that_need_a_target_say_how_to_give_one(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["approve", "arn:aws:states:us-west-2:123456789012:execution:x:y"]) == 2
    assert "needs a target: --stack NAME --region R" in capsys.readouterr().err


def test_approve_ask_without_a_terminal_is_refused_before_anything_starts(
    platform: Platform, capsys: pytest.CaptureFixture[str]
) -> None:
    assert not sys.stdin.isatty()  # pytest's stdin, as in CI, cron or a pipe
    server = LocalCloudServer(platform.cloud).start()
    try:
        code = main(["--endpoint-url", server.endpoint_url, "drill", "failover", "--approve", "ask"])
    finally:
        server.stop()
    assert code == 2
    assert "--approve ask needs a terminal" in capsys.readouterr().err
    # nothing started: no execution waits at its approval gate holding the lease (one did, before)
    assert platform.cloud.executions(platform.stack.arn("FailoverStateMachine")) == []


def test_lease_clear_refuses_while_the_holder_runs_and_clears_once_it_ended_or_with_force(
    platform: Platform, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a planned failover waiting at its approval gate: it holds the lease and is RUNNING
    execution = start(platform, "failover", {"mode": "planned", "reason": "drill", "requested_by": "sre"})
    approval_token(platform, execution)
    assert (lease(platform)["state"], lease(platform)["holder"]) == ("HELD", execution)
    server = LocalCloudServer(platform.cloud).start()
    try:
        url = server.endpoint_url
        # When the on-call clears it: refused, naming the running holder; the lease is untouched
        assert main(["--endpoint-url", url, "lease", "clear", "--reason", "looks stuck"]) == 2
        err = capsys.readouterr().err
        assert f"the lease is HELD by failover (planned) {execution}, which is RUNNING; nothing was cleared" in err
        assert (lease(platform)["state"], lease(platform)["holder"]) == ("HELD", execution)
        # --force clears it anyway (the on-call has decided), and the running holder loses it
        assert main(["--endpoint-url", url, "lease", "clear", "--reason", "stopping it", "--force"]) == 0
        assert capsys.readouterr().out.strip() == "lease was HELD; now RELEASED"
        assert lease(platform)["state"] == "RELEASED"
        assert lease(platform)["note"].endswith(": stopping it")
        # A lease whose holder has ended clears without --force
        assert main(["--endpoint-url", url, "reject", execution, "--reason", "drill over"]) == 0
        wait_until(lambda: platform.cloud.describe(execution)["status"] != "RUNNING")
        assert main(["--endpoint-url", url, "lease", "clear", "--reason", "checked by sre"]) == 0
        assert lease(platform)["note"].endswith(": checked by sre")
    finally:
        server.stop()


def test_lease_clear_leaves_a_lease_taken_after_it_was_read(
    platform: Platform, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the on-call's lease clear read a RELEASED lease, and a failover took it just after that read
    execution = start(platform, "failover", {"mode": "planned", "reason": "drill", "requested_by": "sre"})
    approval_token(platform, execution)
    held = lease(platform)
    read = iter([{**held, "state": "RELEASED", "fence": held["fence"] - 1, "holder": "an-earlier-run"}])
    real = lease_ops.describe_with
    lease_ops.describe_with = lambda ddb, table: next(read, None) or real(ddb, table)  # type: ignore[assignment]
    server = LocalCloudServer(platform.cloud).start()
    try:
        # When it clears what it read
        assert main(["--endpoint-url", server.endpoint_url, "lease", "clear", "--reason", "was free"]) == 2
    finally:
        server.stop()
        lease_ops.describe_with = real
    # Then nothing is cleared: the running failover keeps its lease, and the on-call is told why
    err = capsys.readouterr().err
    assert f"the lease changed since it was read: it is now HELD by {execution}" in err
    assert "nothing was cleared" in err
    assert (lease(platform)["state"], lease(platform)["holder"]) == ("HELD", execution)


@pytest.mark.parametrize(
    ("arn", "hint"),
    [
        (f"{EXECUTIONS}:drctl-failover-typo", "check the execution ARN"),
        ("drctl-failover-typo", "an execution ARN looks like arn:aws:states:REGION:ACCOUNT:execution:"),
    ],
)
def test_a_report_of_an_execution_that_does_not_exist_is_one_line_saying_what_to_check(
    platform: Platform, capsys: pytest.CaptureFixture[str], arn: str, hint: str
) -> None:
    server = LocalCloudServer(platform.cloud).start()
    try:
        assert main(["--endpoint-url", server.endpoint_url, "report", arn]) == 2
    finally:
        server.stop()
    err = capsys.readouterr().err
    assert err.startswith("drctl: An error occurred (") and hint in err  # it was a botocore traceback
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("regions", "said"),
    [
        (("us-west-2", "us-west-2"), "--from and --to are both us-west-2; expected two regions"),
        (("eu-west-9", "us-east-1"), "region eu-west-9 is neither the primary us-east-1 nor the recovery us-west-2"),
    ],
)
def test_setup_replication_between_regions_that_are_not_the_platforms_is_refused_in_one_line(
    platform: Platform, capsys: pytest.CaptureFixture[str], regions: tuple[str, str], said: str
) -> None:
    server = LocalCloudServer(platform.cloud).start()
    try:
        command = ["--endpoint-url", server.endpoint_url, "setup", "replication", "--from", regions[0], "--to"]
        assert main([*command, regions[1]]) == 2
    finally:
        server.stop()
    assert capsys.readouterr().err == f"drctl: ReplicationNotConfigured: {said}\n"  # it was a traceback


def test_a_local_drill_that_outlasts_its_timeout_says_to_run_it_longer(capsys: pytest.CaptureFixture[str]) -> None:
    # the embedded AWS ends with the drill: "follow it with drctl report" would point at nothing
    assert main(["drill", "failover", "--timeout", "0"]) == 2
    err = capsys.readouterr().err
    assert "still RUNNING after 0 s; the embedded AWS ends with this drill: run it again with a longer --timeout" in err


def test_a_server_that_does_not_answer_is_a_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as probe:  # a loopback port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert main(["--endpoint-url", f"http://127.0.0.1:{port}", "status"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"drctl: no localcloud server answers at http://127.0.0.1:{port} (")
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_drill_restore_test_json_shows_the_data_each_restore_read_and_that_it_matched(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["drill", "restore-test", "--output", "json"])
    report = json.loads(capsys.readouterr().out)

    assert (code, report["workflow"], report["status"], report["leftover_resources"]) == (
        0,
        "restore-test",
        "SUCCEEDED",
        0,
    )
    checked = {r["resource_type"]: r["data_checked"] for r in report["results"]}
    assert sorted(checked) == ["Aurora", "DynamoDB", "S3"]
    assert all(c["count"] > 0 and c["matched"] is True for c in checked.values())
    assert {c["kind"] for c in checked.values()} == {"rows", "items", "objects"}


def test_drill_restore_test_of_a_corrupted_backup_shows_matched_false_and_a_failed_validation(
    platform: Platform, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the newest backup of the Aurora cluster and of every bucket does not match its source
    platform.seed_backup_history()
    platform.backup_corrupted(platform.cluster_arn())
    for bucket in platform.design.buckets:
        platform.backup_corrupted(platform.bucket_arn(bucket))
    server = LocalCloudServer(platform.cloud).start()
    try:
        code = main(
            ["--endpoint-url", server.endpoint_url, "drill", "restore-test", "--output", "json", "--timeout", "300"]
        )
        report = json.loads(capsys.readouterr().out)
        assert main(["--endpoint-url", server.endpoint_url, "report", report["execution"]]) == 1
        text = capsys.readouterr().out
    finally:
        server.stop()

    assert (code, report["status"], report["error"]) == (1, "FAILED", "ValidationFailed")
    results = {r["resource_type"]: r for r in report["results"]}
    for kind in ("Aurora", "S3"):
        assert (results[kind]["status"], results[kind]["data_checked"]["matched"]) == ("VALIDATION_FAILED", False)
        assert results[kind]["validation_status"] == "FAILED" and results[kind]["validation_reported"] is True
    assert results["DynamoDB"]["data_checked"]["matched"] is True
    assert "matched False  AWS Backup told FAILED" in text
