"""What drctl says when it cannot reach the stack it was pointed at: one line naming the cause (no
credentials, no such stack), not a traceback, and not "not found" when the stack was never asked for."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from drctl.cli import main
from drctl.target import Target


def test_no_credentials_is_said_as_such_before_any_request(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no instance-metadata lookup either
    assert main(["--stack", "roadcall-dr", "--region", "us-west-2", "status"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("drctl: no AWS credentials to read stack roadcall-dr in us-west-2 with: sign in")
    assert "not found" not in err  # it said "stack roadcall-dr not found ...: Unable to locate credentials"


def test_a_stack_that_does_not_exist_is_not_found(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # CloudFormation's answer for a stack that does not exist (a real client, its answer stubbed: the
    # embedded AWS does not serve CloudFormation's API, and nothing may leave this machine)
    cfn = boto3.client("cloudformation", region_name="us-west-2")
    stubber = Stubber(cfn)
    stubber.add_client_error(
        "describe_stacks",
        service_error_code="ValidationError",
        service_message="Stack with id roadcall-dr-typo does not exist",
        http_status_code=400,
        expected_params={"StackName": "roadcall-dr-typo"},
    )

    def client(self: Target, service: str, region: str | None = None) -> Any:
        assert service == "cloudformation"
        return cfn

    monkeypatch.setattr(Target, "client", client)
    with stubber:
        assert main(["--stack", "roadcall-dr-typo", "--region", "us-west-2", "status"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("drctl: stack roadcall-dr-typo not found in us-west-2: ")
    assert "does not exist" in err and len(err.strip().splitlines()) == 1
