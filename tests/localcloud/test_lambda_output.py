"""What a handler prints reaches its log group, and its EMF metrics reach CloudWatch, even when something
(a test runner's output capture) replaced sys.stdout after localcloud started."""

from __future__ import annotations

import io
import json
import sys
from collections import Counter
from datetime import timedelta
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


def test_each_invocation_gets_a_stream_and_its_emf_lines_become_metric_data_without_an_api_call(
    cloud: LocalCloud,
) -> None:
    stack = cloud.deploy(FIXTURE, "us-west-2", "fid")
    emf = {
        "_aws": {
            "Timestamp": 0,
            "CloudWatchMetrics": [
                {"Namespace": "Fid", "Dimensions": [["Service"]], "Metrics": [{"Name": "Said", "Unit": "Count"}]}
            ],
        },
        "Service": "say",
        "Said": [1, 2],
    }
    before = Counter(cloud.interceptor.calls)
    for _ in range(2):
        cloud.client("lambda", "us-west-2").invoke(
            FunctionName=stack.physical("SayFunction"), Payload=json.dumps({"text": json.dumps(emf)}).encode()
        )
    # Lambda's own delivery is no caller's API call: no request to Logs or CloudWatch was made
    made = Counter(cloud.interceptor.calls) - before
    assert made[("lambda", "Invoke")] == 2 and not [call for call in made if call[0] in ("logs", "cloudwatch")]
    logs = cloud.client("logs", "us-west-2")
    streams = logs.describe_log_streams(logGroupName="/aws/lambda/fid-SayFunction")["logStreams"]
    assert len(streams) == 2  # a stream per invocation (a new execution environment each, here)
    now = cloud.clock.now()
    stats = cloud.client("cloudwatch", "us-west-2").get_metric_statistics(
        Namespace="Fid",
        MetricName="Said",
        Dimensions=[{"Name": "Service", "Value": "say"}],
        StartTime=now - timedelta(hours=1),
        EndTime=now + timedelta(minutes=1),
        Period=3600,
        Statistics=["Sum", "SampleCount"],
        Unit="Count",
    )["Datapoints"]
    assert [(p["Sum"], p["SampleCount"]) for p in stats] == [(6.0, 4.0)]  # 1 + 2, twice
