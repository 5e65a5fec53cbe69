"""drctl approve|reject on an approval that was already answered: one clear line, exit code 2, no traceback."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest

from drctl.cli import main
from localcloud.scenario import Platform
from localcloud.server import LocalCloudServer
from tests import forkserver


@pytest.fixture
@forkserver.fork_safe
def url(platform: Platform) -> Iterator[str]:
    server = LocalCloudServer(platform.cloud).start()
    yield server.endpoint_url
    server.stop()


def waiting_failover(platform: Platform) -> str:
    """A planned failover stopped at its approval gate (its approval record written)."""
    region = platform.design.recovery_region
    execution = platform.cloud.start_execution(platform.stack.arn("FailoverStateMachine"), {"mode": "planned"})
    ddb = platform.cloud.client("dynamodb", region)
    key = {"pk": {"S": f"approval#{execution}"}}
    deadline = time.monotonic() + 60
    while not ddb.get_item(TableName=platform.stack.physical("StateTable"), Key=key).get("Item"):
        assert time.monotonic() < deadline, "the failover never asked for approval"
        time.sleep(0.05)
    return execution


def test_rejecting_an_approved_failover_says_so_in_one_line_and_exits_2(
    platform: Platform, url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a failover an operator approved
    execution = waiting_failover(platform)
    assert main(["--endpoint-url", url, "approve", execution]) == 0
    capsys.readouterr()

    # When another operator rejects it
    code = main(["--endpoint-url", url, "reject", execution, "--reason", "too risky"])

    # Then drctl says the approval is closed and where the execution stands, on one line, and exits 2
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "Traceback" not in err
    assert re.fullmatch(
        rf"drctl: cannot reject {re.escape(execution)}: its approval is closed \(already answered, timed out, or "
        r"the execution ended\); Step Functions answered TaskTimedOut; the execution is (RUNNING|SUCCEEDED)\n",
        err,
    )
    # and the approval stands
    assert platform.cloud.wait(execution)["status"] == "SUCCEEDED"


def test_approving_a_rejected_failover_is_refused_the_same_way(
    platform: Platform, url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    execution = waiting_failover(platform)
    assert main(["--endpoint-url", url, "reject", execution, "--reason", "not now"]) == 0
    platform.cloud.wait(execution)
    capsys.readouterr()

    assert main(["--endpoint-url", url, "approve", execution]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"drctl: cannot approve {execution}: its approval is closed")
    assert err.endswith("Step Functions answered TaskTimedOut; the execution is FAILED\n")
