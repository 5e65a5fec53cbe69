"""Two functions running at once in localcloud's threads each log with their own Lambda context and
correlation id, as two Lambda processes would; outside invocations the logger is as Powertools made it."""

from __future__ import annotations

import io
import json
import logging
import threading
import uuid
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from aws_lambda_powertools import Logger

from localcloud.adapters import log_keys
from localcloud.adapters.lambda_runtime import InProcessLambdaRuntime, LambdaContext
from localcloud.adapters.log_keys import LogKeysAdapter, own_keys


@pytest.fixture
def adapter() -> Iterator[LogKeysAdapter]:
    installed = LogKeysAdapter()
    installed.install()
    yield installed
    installed.uninstall()


def two_invocations_at_once(stream: io.StringIO) -> list[dict[str, Any]]:
    """Function a takes its context, then b takes its own, then a logs: a's line must still be a's."""
    logger = Logger(service=f"log-keys-{uuid.uuid4().hex[:8]}", logger_handler=logging.StreamHandler(stream))
    a_has_context, b_has_context = threading.Event(), threading.Event()

    @logger.inject_lambda_context(clear_state=True)
    def a(_event: dict[str, Any], _context: Any) -> None:
        logger.set_correlation_id("execution-a")
        a_has_context.set()
        assert b_has_context.wait(5)
        logger.info("a logs after b took its context")

    @logger.inject_lambda_context(clear_state=True)
    def b(_event: dict[str, Any], _context: Any) -> None:
        assert a_has_context.wait(5)
        logger.set_correlation_id("execution-b")
        b_has_context.set()
        logger.info("b logs")

    def run(handler: Any, name: str) -> None:
        with own_keys():
            handler(
                {},
                LambdaContext(
                    function_name=name,
                    function_version="1",
                    invoked_function_arn=f"arn:{name}",
                    memory_limit_in_mb=128,
                    timeout_seconds=3,
                    log_group_name=f"/aws/lambda/{name}",
                ),
            )

    threads = [
        threading.Thread(target=run, args=(a, "function-a")),
        threading.Thread(target=run, args=(b, "function-b")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    logger.info("outside any invocation")
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_each_invocation_logs_with_its_own_function_and_correlation_id(adapter: LogKeysAdapter) -> None:
    lines = two_invocations_at_once(io.StringIO())
    by_message = {line["message"]: line for line in lines}
    a, b = by_message["a logs after b took its context"], by_message["b logs"]
    assert (a["function_name"], a["correlation_id"]) == ("function-a", "execution-a")
    assert (b["function_name"], b["correlation_id"]) == ("function-b", "execution-b")
    # what the invocations added stays with them
    assert "function_name" not in by_message["outside any invocation"]


def test_without_the_adapter_the_keys_are_the_processes(adapter: LogKeysAdapter) -> None:
    # the bleed the adapter removes: the same two invocations, one shared formatter state
    adapter.uninstall()
    try:
        lines = two_invocations_at_once(io.StringIO())
    finally:
        adapter.install()
    a = next(line for line in lines if line["message"] == "a logs after b took its context")
    assert (a["function_name"], a["correlation_id"]) == ("function-b", "execution-b")


def test_the_runtime_runs_each_invocation_with_log_keys_of_its_own(tmp_path: Any, adapter: LogKeysAdapter) -> None:
    (tmp_path / "keys_probe.py").write_text(
        "from localcloud.adapters import log_keys\n"
        "def handler(event, context):\n"
        "    return {'own': log_keys._formats() is not None}\n"
    )
    runtime = InProcessLambdaRuntime()
    runtime.install()
    try:
        runtime.register("probe", str(tmp_path), "keys_probe.handler", "test", {}, "us-west-2")
        fn = SimpleNamespace(
            function_name="probe",
            version="1",
            function_arn="arn:probe",
            memory_size=128,
            timeout=3,
            region="us-west-2",
            run_time="python3.13",
            handler="keys_probe.handler",
            environment_vars={},
            role=None,
        )
        body, failed, _logs = runtime.invoke(fn, {})  # type: ignore[arg-type]
    finally:
        runtime.uninstall()
    assert (json.loads(body), failed) == ({"own": True}, False)
    assert log_keys._formats() is None  # and the thread's own keys are gone when it ends
