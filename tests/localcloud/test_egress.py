"""Nothing the SDK sends leaves loopback once an embedded AWS has run in the process (localcloud/egress.py),
and a cloud that stops lets a listener already running finish against it."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import EndpointConnectionError

from localcloud.cloud import LocalCloud
from localcloud.egress import EgressRefused, is_loopback

NO_RETRIES = Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=1, read_timeout=1)


@pytest.fixture
def looked_up(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every host name the process tries to resolve from now on (and none is resolved)."""
    hosts: list[str] = []

    def refuse(host: Any, *args: Any, **kwargs: Any) -> Any:
        hosts.append(str(host))
        raise socket.gaierror(socket.EAI_NONAME, "resolution switched off by the test")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    return hosts


def a_cloud_ran() -> None:
    """An embedded AWS that ran in this process and stopped."""
    with LocalCloud():
        pass


def aws_client(service: str, endpoint_url: str | None = None) -> Any:
    return boto3.client(
        service,
        region_name="us-east-1",
        endpoint_url=endpoint_url,
        aws_access_key_id="x",
        aws_secret_access_key="y",
        config=NO_RETRIES,
    )


def test_after_a_cloud_stops_a_request_to_aws_is_refused_before_any_lookup(looked_up: list[str]) -> None:
    # Given an embedded AWS that ran in this process and stopped
    a_cloud_ran()

    # When a client asks AWS for something
    with pytest.raises(EgressRefused, match=r"dynamodb\.us-east-1\.amazonaws\.com"):
        aws_client("dynamodb").list_tables()

    # Then no name was even looked up
    assert looked_up == []


def test_a_request_to_a_loopback_endpoint_still_goes_out(looked_up: list[str]) -> None:
    a_cloud_ran()
    with pytest.raises(EndpointConnectionError):
        aws_client("dynamodb", "http://localhost:9").list_tables()
    assert set(looked_up) == {"localhost"}


def test_the_step_functions_local_a_team_names_is_not_refused(
    looked_up: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SFN_LOCAL_ENDPOINT", "http://sfn-local.internal:8083")
    a_cloud_ran()
    with pytest.raises(EndpointConnectionError):
        aws_client("stepfunctions", "http://sfn-local.internal:8083").list_state_machines()
    assert set(looked_up) == {"sfn-local.internal"}


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.1.1", True),
        ("::1", True),
        ("localhost", True),
        ("10.0.0.1", False),
        ("s3.amazonaws.com", False),
        ("", False),
    ],
)
def test_loopback_is_the_loopback_range_and_localhost(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_a_listener_running_when_the_cloud_stops_finishes_against_it() -> None:
    # Given a clock listener (a schedule's target) that is running when its cloud is stopped
    started, results = threading.Event(), []

    def listener(_now: Any) -> None:
        started.set()
        time.sleep(0.3)
        try:
            results.append(cloud.client("dynamodb", "us-east-1").list_tables()["TableNames"])
        except Exception as err:  # what a stopped mock would give: the request refused
            results.append(err)

    cloud = LocalCloud().start()
    try:
        cloud.clock.listeners.append(listener)
        # a wait on the clock: the scheduler thread jumps to it and runs the listeners
        mover = threading.Thread(target=cloud.clock.sleep, args=(60,), daemon=True)
        mover.start()
        assert started.wait(10)
    finally:
        # When the cloud stops
        cloud.stop()

    # Then the listener had its answer from the cloud, not an error
    assert results == [[]]
