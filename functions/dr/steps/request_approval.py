"""RequestApproval: the approval gate. Stores the task token under the execution and announces on the
topic exactly how to approve or reject (drctl, or the AWS CLI). The state machine waits on the token with
a timeout; a timeout aborts the workflow with nothing changed."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from dr.aws import aws_errors, client
from dr.errors import TransientAwsError
from dr.models import Decision, OperationRequest, parse
from dr.observability import logger
from dr.settings import get_settings
from dr.steps._handler import lambda_step


def message(request: OperationRequest, decision: Decision, token: str, expires: datetime) -> str:
    region = request.execution.split(":")[3] if request.execution.count(":") >= 3 else "us-west-2"
    exposure = decision.exposure
    lines = [
        f"{request.workflow.upper()} ({request.mode}) {request.source_region} → {request.target_region} "
        f"needs a decision before {expires:%Y-%m-%d %H:%M:%S} UTC (it aborts with nothing changed after that).",
        f"Execution: {request.execution}",
        f"Requested by: {request.requested_by}. Reason: {request.reason or '-'}",
        "Why a person is asked: " + "; ".join(decision.reasons),
        "Data-loss exposure (s): "
        + ", ".join(f"{k}={'unknown' if v is None else round(v, 1)}" for k, v in exposure.model_dump().items()),
        "Plan:",
        *[f"  - {step}" for step in decision.plan],
        "",
        "Approve:  drctl approve " + request.execution,
        "Reject:   drctl reject " + request.execution + ' --reason "..."',
        "Or with the AWS CLI:",
        f"  aws stepfunctions send-task-success --region {region} --task-token '{token}' "
        '--task-output \'{"approved_by": "YOUR NAME"}\'',
        f"  aws stepfunctions send-task-failure --region {region} --task-token '{token}' "
        "--error ApprovalRejected --cause 'WHY'",
    ]
    return "\n".join(lines)


@lambda_step
def handler(event: dict[str, Any]) -> dict[str, Any]:
    request = parse(OperationRequest, event.get("request"), "request")
    decision = parse(Decision, event.get("decision"), "decision")
    token = str(event["token"])
    settings = get_settings()
    now = datetime.now(UTC)
    expires = now + timedelta(seconds=request.approval_timeout_seconds)
    with aws_errors("record the approval request", TransientAwsError):
        client("dynamodb", settings.recovery_region).put_item(
            TableName=settings.state_table,
            Item={
                "pk": {"S": f"approval#{request.execution}"},
                "token": {"S": token},
                "requested_at": {"S": now.isoformat()},
                "expires_at": {"S": expires.isoformat()},
                "workflow": {"S": request.workflow},
                "summary": {"S": json.dumps(decision.model_dump(mode="json"))},
            },
        )
        client("sns", settings.recovery_region).publish(
            TopicArn=settings.topic_arn,
            Subject=f"[DR] Approval needed: {request.workflow} {request.source_region} to {request.target_region}"[
                :100
            ],
            Message=message(request, decision, token, expires),
            MessageAttributes={"event": {"DataType": "String", "StringValue": "approval-requested"}},
        )
    logger.info("approval requested", extra={"expires_at": expires.isoformat()})
    return {"requested_at": now.isoformat(), "expires_at": expires.isoformat()}
