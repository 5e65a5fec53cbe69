"""What a handler prints reaches its log group, and its EMF metrics reach CloudWatch, even when something
(a test runner's output capture) replaced sys.stdout after localcloud started."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

from localcloud.cloud import LocalCloud

FIXTURE = Path(__file__).parent / "fixtures" / "fidelity" / "template.yaml"


def test_invocation_output_is_captured_after_sys_stdout_was_replaced(cloud: LocalCloud) -> None:
    stack = cloud.deploy(FIXTURE, "us-west-2", "fid")
    replaced, elsewhere = sys.stdout, io.StringIO()
    sys.stdout = elsewhere  # what a test runner's capture does between tests
    try:
        out = cloud.client("lambda", "us-west-2").invoke(
            FunctionName=stack.physical("SayFunction"), Payload=json.dumps({"text": "hello from the handler"}).encode()
        )
    finally:
        sys.stdout = replaced
    assert json.loads(out["Payload"].read()) == {"said": "hello from the handler"}
    assert cloud.runtime.invocations[-1].logs == "hello from the handler\n"
    assert elsewhere.getvalue() == ""  # nothing leaked past the invocation's capture
    events = cloud.client("logs", "us-west-2").filter_log_events(logGroupName="/aws/lambda/fid-SayFunction")["events"]
    assert [e["message"] for e in events] == ["hello from the handler"]
