"""Run the cases of tests/sfn_mocks/cases.py on any Step Functions endpoint that reads MockConfigFile.json
(localcloud, or a Step Functions Local started with ``SFN_MOCK_CONFIG``) and say how each went.

The state machines are created from the real ASL files under the names the stack gives them; every
``${Placeholder}`` gets a stand-in value of the right kind (a mocked state never calls what it names).
"""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from localcloud.template import expanded_template
from tests.sfn_mocks.cases import MACHINES, Case

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT, REGION = "123456789012", "us-west-2"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/sfn-mocks"
TERMINAL = {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}


def _stand_in(key: str) -> str:
    if key.endswith("FunctionArn"):
        return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:sfn-mocks-{key.removesuffix('Arn')}"
    if key == "TopicArn":
        return f"arn:aws:sns:{REGION}:{ACCOUNT}:sfn-mocks-events"
    return f"sfn-mocks-{key}"


def asl(workflow: str) -> dict[str, Any]:
    return dict(json.loads((ROOT / "statemachines" / MACHINES[workflow][1]).read_text()))


def definition(workflow: str) -> str:
    """The workflow's ASL with each placeholder its template substitutes replaced by a stand-in."""
    file = MACHINES[workflow][1]
    resources = expanded_template(ROOT / "template.yaml")["Resources"]
    [props] = [
        r["Properties"]
        for r in resources.values()
        if r["Type"] == "AWS::Serverless::StateMachine" and str(r["Properties"].get("DefinitionUri", "")).endswith(file)
    ]
    text = (ROOT / "statemachines" / file).read_text()
    for key in props.get("DefinitionSubstitutions", {}):
        text = text.replace("${" + key + "}", _stand_in(key))
    return text


def create_state_machines(sfn: Any) -> dict[str, str]:
    """Workflow -> the ARN of its state machine on ``sfn``, created (or updated) from the ASL files."""
    existing = {
        m["name"]: m["stateMachineArn"]
        for page in sfn.get_paginator("list_state_machines").paginate()
        for m in page["stateMachines"]
    }
    arns = {}
    for workflow, (name, _) in MACHINES.items():
        if name in existing:
            sfn.update_state_machine(stateMachineArn=existing[name], definition=definition(workflow), roleArn=ROLE)
            arns[workflow] = existing[name]
        else:
            created = sfn.create_state_machine(name=name, definition=definition(workflow), roleArn=ROLE)
            arns[workflow] = created["stateMachineArn"]
    return arns


def run(sfn: Any, state_machine_arn: str, case: Case, timeout: float = 600.0) -> tuple[dict[str, Any], list[Any]]:
    """Start ``case`` (``<arn>#<case>``) and wait for its end: (DescribeExecution, its history events)."""
    execution = sfn.start_execution(
        stateMachineArn=f"{state_machine_arn}#{case.name}",
        name=f"{case.name}-{uuid.uuid4().hex[:12]}",
        input=json.dumps(case.input),
    )
    arn = execution["executionArn"]
    deadline = time.monotonic() + timeout
    while (described := sfn.describe_execution(executionArn=arn))["status"] not in TERMINAL:
        if time.monotonic() > deadline:
            raise AssertionError(f"{case.workflow}#{case.name} still {described['status']} after {timeout} s")
        time.sleep(0.05)
    pages = sfn.get_paginator("get_execution_history").paginate(executionArn=arn)
    return described, [e for page in pages for e in page["events"]]


def problems(case: Case, described: dict[str, Any], history: list[Any]) -> list[str]:
    """How the execution differs from what the case expects (nothing: it took the case's path)."""
    top = set(asl(case.workflow)["States"])
    entered = [e["stateEnteredEventDetails"]["name"] for e in history if "stateEnteredEventDetails" in e]
    path = tuple(name for name in entered if name in top)
    inner = Counter(name for name in entered if name not in top)
    found = []
    if (described["status"], described.get("error")) != (case.status, case.error):
        found.append(
            f"ended {described['status']} ({described.get('error')}: {described.get('cause')}), "
            f"expected {case.status} ({case.error})"
        )
    if path != case.path:
        found.append(f"path {list(path)}, expected {list(case.path)}")
    if inner != case.inner_counts():
        found.append(f"states inside branches {dict(inner)}, expected {dict(case.inner_counts())}")
    output = json.loads(described.get("output") or "{}")
    wrong = {k: output.get(k) for k, v in case.output.items() if output.get(k) != v}
    if wrong:
        found.append(f"output has {wrong}, expected {case.output}")
    return found
