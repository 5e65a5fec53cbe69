"""What drctl does to a target: start and follow a workflow, answer the approval gate, read reports."""

from __future__ import annotations

import json
import sys
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError
from dr.report import timeline
from dr.timeline import breakdown

from drctl.target import Target, TargetError

TERMINAL = {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}
Printer = Callable[[str], None]


def start(target: Target, workflow: str, payload: dict[str, Any], name: str | None = None) -> str:
    sfn = target.client("stepfunctions")
    out = sfn.start_execution(
        stateMachineArn=target.state_machine_arn(workflow),
        name=name or f"drctl-{workflow}-{uuid.uuid4().hex[:10]}",
        input=json.dumps(payload),
    )
    return str(out["executionArn"])


def approval_token(target: Target, execution: str) -> str | None:
    item = (
        target.client("dynamodb")
        .get_item(TableName=target.state_table, Key={"pk": {"S": f"approval#{execution}"}}, ConsistentRead=True)
        .get("Item")
    )
    return item["token"]["S"] if item else None


# Why Step Functions refuses an answer to the approval's task token (its API errors), in an operator's words.
_REFUSED = {
    "TaskTimedOut": "its approval is closed (already answered, timed out, or the execution ended)",
    "TaskDoesNotExist": "its approval task no longer exists",
    "InvalidToken": "the recorded approval token is not one Step Functions issued in this region",
}


def _answer(target: Target, execution: str, verb: str, send: Callable[[str], object]) -> None:
    """Send an answer to the approval gate; a refused one is a one-line TargetError saying where things stand."""
    token = approval_token(target, execution)
    if token is None:
        raise TargetError(f"{execution} has not asked for approval (no approval record); is it at RequestApproval?")
    try:
        send(token)
    except ClientError as err:
        code = str(err.response.get("Error", {}).get("Code", ""))
        if code not in _REFUSED:
            raise
        try:
            now = str(target.client("stepfunctions").describe_execution(executionArn=execution)["status"])
        except ClientError:
            now = "unknown"
        raise TargetError(
            f"cannot {verb} {execution}: {_REFUSED[code]}; Step Functions answered {code}; the execution is {now}"
        ) from err


def approve(target: Target, execution: str, by: str, comment: str = "") -> None:
    output = json.dumps({"approved_by": by, "comment": comment, "at": datetime.now().astimezone().isoformat()})
    sfn = target.client("stepfunctions")
    _answer(target, execution, "approve", lambda token: sfn.send_task_success(taskToken=token, output=output))


def reject(target: Target, execution: str, by: str, reason: str) -> None:
    cause = f"rejected by {by}: {reason}"[:32768]
    sfn = target.client("stepfunctions")
    _answer(
        target,
        execution,
        "reject",
        lambda token: sfn.send_task_failure(taskToken=token, error="ApprovalRejected", cause=cause),
    )


def history(target: Target, execution: str) -> list[dict[str, Any]]:
    pages = target.client("stepfunctions").get_paginator("get_execution_history")
    return [e for page in pages.paginate(executionArn=execution, maxResults=1000) for e in page["events"]]


FIRST_POLL, LONGEST_POLL = 0.05, 1.0  # seconds between reads of a running execution
# Events a page while following: the first read takes what is there in pages of 100; each later read (every
# 50 ms to 1 s) finds a few new events, and a page of 25 carries them. A page of 100 is every poll's payload
# (each event holds its state's input or output, up to 256 KB): 17 ms a read on localcloud, 7 ms at 25.
FIRST_PAGE, NEWER_PAGE = 100, 25


def follow(
    target: Target,
    execution: str,
    show: Printer | None,
    approver: Callable[[str], bool | None] | None,
    timeout: float = 600.0,
) -> dict[str, Any]:
    """Print each state as it runs; when the workflow waits for approval, ask ``approver`` (True approve,
    False reject, None leave it to someone else). Returns DescribeExecution at the end.

    It reads only the events it has not printed yet (``events_after``), every 50 ms while the execution
    moves, backing off to once a second while it does not: an account's GetExecutionHistory and
    DescribeExecution are throttled past a few calls a second, and a failover's steps take seconds."""
    sfn = target.client("stepfunctions")
    seen = 0  # the id of the last event printed
    waiting = asked = False
    deadline = time.monotonic() + timeout
    pause = FIRST_POLL
    while True:
        out = sfn.describe_execution(executionArn=execution)  # first: the events read next include its end
        events = events_after(sfn, execution, seen)
        for event in events:
            line = describe_event(event)
            if line and show:
                show(line)
        seen = events[-1]["id"] if events else seen
        pause = FIRST_POLL if events else min(pause * 1.5, LONGEST_POLL)
        waiting = waiting or any(
            (e.get("stateEnteredEventDetails") or {}).get("name") == "RequestApproval" for e in events
        )
        if out["status"] in TERMINAL:
            return dict(out)
        if waiting and not asked and approver is not None and approval_token(target, execution):
            asked = True
            verdict = approver(execution)
            if verdict is True:
                approve(target, execution, by="drctl", comment="approved at the drill's prompt")
            elif verdict is False:
                reject(target, execution, by="drctl", reason="rejected at the drill's prompt")
            pause = FIRST_POLL
            continue
        if time.monotonic() > deadline:
            then = (
                "the embedded AWS ends with this drill: run it again with a longer --timeout (real seconds)"
                if target.label == "localcloud"
                else "it runs on: follow it with drctl report"
            )
            raise TargetError(f"{execution} still {out['status']} after {timeout:.0f} s; {then}")
        time.sleep(pause)


def events_after(sfn: Any, execution: str, last_id: int) -> list[dict[str, Any]]:
    """The execution's events after event ``last_id`` (0: all of them), oldest first. GetExecutionHistory
    has no "since": they are read newest first, a page at a time, down to the last one seen (pages of
    ``FIRST_PAGE`` for the first read, of ``NEWER_PAGE`` once some have been seen)."""
    newer: list[dict[str, Any]] = []
    pages = sfn.get_paginator("get_execution_history").paginate(
        executionArn=execution, reverseOrder=True, maxResults=NEWER_PAGE if last_id else FIRST_PAGE
    )
    for page in pages:
        for event in page["events"]:
            if event["id"] <= last_id:
                return newer[::-1]
            newer.append(event)
    return newer[::-1]


def describe_event(event: dict[str, Any]) -> str | None:
    kind = str(event["type"])
    stamp = (
        event["timestamp"].strftime("%H:%M:%S") if isinstance(event["timestamp"], datetime) else str(event["timestamp"])
    )
    if kind.endswith("StateEntered"):
        return f"  {stamp}  -> {event['stateEnteredEventDetails']['name']}"
    if kind.endswith("StateExited"):
        return f"  {stamp}  ok {event['stateExitedEventDetails']['name']}"
    if kind in ("TaskFailed", "LambdaFunctionFailed", "ExecutionFailed", "TaskTimedOut"):
        details: dict[str, Any] = next((v for k, v in event.items() if k.endswith("EventDetails")), {})
        return f"  {stamp}  !! {kind}: {details.get('error', '')} {str(details.get('cause', ''))[:200]}"
    if kind == "TaskSubmitted" and "waitForTaskToken" in str(
        event.get("taskSubmittedEventDetails", {}).get("resourceType", "")
    ):
        return f"  {stamp}  .. waiting for approval"
    return None


def report(target: Target, execution: str) -> dict[str, Any]:
    """The audit record of the execution, completed with what only the finished execution knows."""
    sfn = target.client("stepfunctions")
    described = sfn.describe_execution(executionArn=execution)
    item = (
        target.client("dynamodb")
        .get_item(TableName=target.state_table, Key={"pk": {"S": f"audit#{execution}"}}, ConsistentRead=True)
        .get("Item")
    )
    out: dict[str, Any] = (
        json.loads(item["report"]["S"]) if item else {"execution": execution, "status": described["status"]}
    )
    events = history(target, execution)
    steps, transitions = timeline(events)
    status = described["status"]
    if out.get("status") in ("DRY_RUN", "SKIPPED", "FINDINGS") and status == "SUCCEEDED":
        status = out["status"]
    elif status == "SUCCEEDED" and described.get("output"):
        final = json.loads(described["output"])
        status = final.get("status", status) if isinstance(final, dict) and final.get("status") == "SKIPPED" else status
    out.update(
        {
            "status": status,
            "execution": execution,
            "started_at": described["startDate"].isoformat(),
            "finished_at": described["stopDate"].isoformat() if described.get("stopDate") else None,
            "steps": steps,
            "state_transitions": transitions,
            # phases and time_split over the whole run (the audit record's stop where it was written)
            **breakdown(events, out.get("detected_at"), described["startDate"], described.get("stopDate")),
        }
    )
    if described.get("error"):
        out.setdefault("error", described["error"])
    return out


def status(target: Target) -> dict[str, Any]:
    """Readiness of the recovery region, read-only: invokes the workflow's own Check* functions."""
    lam = target.client("lambda")
    request = {
        "workflow": "failover",
        "mode": "dry-run",
        "trigger": "console",
        "detected_at": datetime.now().astimezone().isoformat(),
        "source_region": "",
        "target_region": "",
        "reason": "drctl status",
        "requested_by": "drctl",
        "execution": f"arn:aws:states:{target.region}:000000000000:execution:drctl-status:{uuid.uuid4().hex}",
        "approval_timeout_seconds": 60,
    }
    env = lam.get_function_configuration(FunctionName=target.physical("CheckAuroraFunction"))["Environment"][
        "Variables"
    ]
    request["source_region"], request["target_region"] = env["PRIMARY_REGION"], env["RECOVERY_REGION"]
    out: dict[str, Any] = {
        "source_region": request["source_region"],
        "target_region": request["target_region"],
    }
    for store, logical in (
        ("aurora", "CheckAuroraFunction"),
        ("dynamodb", "CheckDynamoDBFunction"),
        ("s3", "CheckS3Function"),
        ("endpoints", "CheckEndpointsFunction"),
        ("backups", "CheckBackupsFunction"),
    ):
        response = lam.invoke(FunctionName=target.physical(logical), Payload=json.dumps({"request": request}).encode())
        payload = json.loads(response["Payload"].read())
        if response.get("FunctionError"):
            out[store] = {
                "ready": False,
                "problems": [f"{payload.get('errorType')}: {payload.get('errorMessage')}"],
            }
        else:
            out[store] = payload
    out["ready"] = all(out[s].get("ready", out[s].get("fresh", False)) for s in ("aurora", "dynamodb", "endpoints"))
    return out


def eprint(text: str) -> None:
    print(text, file=sys.stderr)
