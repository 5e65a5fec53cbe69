"""The Step Functions Local test cases of the four workflows, in one place: which Task states each case
mocks with which responses (this file generates MockConfigFile.json), and the path each execution must
take (the state names it enters and how it ends).

When a state machine's states are renamed, this is the file to change, then
``.venv/bin/python -m tests.sfn_mocks.cases`` rewrites MockConfigFile.json; tests/sfn_mocks checks that the
file is current and that every state a case names exists in its ASL (and says which cases depend on it).
Which cases depend on which state names: every state in a case's ``mocks`` and ``path`` (``depends_on``).

Every Task state on a case's path is mocked, so the cases run without any of the app's functions or AWS
resources: on localcloud (tests/sfn_mocks/test_mock_config.py) and, unchanged, on a Step Functions Local
started with ``SFN_MOCK_CONFIG=tests/sfn_mocks/MockConfigFile.json`` (tests/sfn_mocks/test_sfn_local.py).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CONFIG = HERE / "MockConfigFile.json"
STACK = "roadcall-dr"  # the stack the state machine names come from (${AWS::StackName}-<workflow>)
MACHINES = {  # workflow -> (state machine name as deployed, its ASL file)
    "failover": (f"{STACK}-failover", "failover.asl.json"),
    "failback": (f"{STACK}-failback", "failback.asl.json"),
    "backup-verification": (f"{STACK}-backup-verification", "backup_verification.asl.json"),
    "restore-test": (f"{STACK}-restore-test", "restore_test.asl.json"),
}
EXECUTION = "arn:aws:states:us-west-2:123456789012:execution:{machine}:sfn-mocks"
NOW = "2026-03-01T10:00:00+00:00"


def lambda_result(payload: Any) -> dict[str, Any]:
    """What lambda:invoke returns to the state machine: Lambda's Invoke response with the handler's output."""
    return {"0": {"Return": {"StatusCode": 200, "ExecutedVersion": "$LATEST", "Payload": payload}}}


def failing_then(error: str, cause: str, times: int, payload: Any) -> dict[str, Any]:
    """The first ``times`` invocations fail with ``error`` (each a retry attempt), then the function answers."""
    last = times - 1
    numbers = "0" if last == 0 else f"0-{last}"
    return {
        numbers: {"Throw": {"Error": error, "Cause": cause}},
        str(times): lambda_result(payload)["0"],
    }


def polls(*payloads: Any) -> dict[str, Any]:
    """One response per invocation of a polled state, in order (each pass of its loop takes the next)."""
    return {str(n): lambda_result(p)["0"] for n, p in enumerate(payloads)}


# -- the requests and the steps' answers -------------------------------------------------------------------
def request(workflow: str, mode: str, trigger: str = "console", **extra: Any) -> dict[str, Any]:
    machine = MACHINES[workflow][0]
    target, source = ("us-east-1", "us-west-2") if workflow == "failback" else ("us-west-2", "us-east-1")
    return {
        "workflow": workflow,
        "mode": mode,
        "trigger": trigger,
        "detected_at": NOW,
        "source_region": source,
        "target_region": target,
        "reason": "sfn-mocks",
        "requested_by": "sfn-mocks",
        "alarm_name": "",
        "execution": EXECUTION.format(machine=machine),
        "approval_timeout_seconds": 1800,
        **extra,
    }


def backup_request(workflow: str, mode: str) -> dict[str, Any]:
    return {
        "workflow": workflow,
        "mode": mode,
        "trigger": "console",
        "execution": EXECUTION.format(machine=MACHINES[workflow][0]),
        "started_at": NOW,
        "reason": "sfn-mocks",
        "requested_by": "sfn-mocks",
        "primary_region": "us-east-1",
        "recovery_region": "us-west-2",
        "vault": "roadcall-backup-vault",
        "recovery_vault": "roadcall-backup-vault-dr",
        "from_copies": False,
        "resource_types": ["DynamoDB"] if workflow == "restore-test" else [],
        "max_polls": 60,
    }


def decision(action: str, reasons: list[str]) -> dict[str, Any]:
    exposure = {"aurora_seconds": 0.4, "dynamodb_seconds": 1.2, "s3_seconds": 30.0, "age_seconds": 5}
    return {
        "action": action,
        "reasons": reasons,
        "exposure": exposure,
        "within_budget": action != "REFUSE",
        "evidence_agrees": True,
        "plan": ["promote the Aurora secondary", "confirm the DynamoDB replicas", "move the traffic"],
    }


def outcome(workflow: str, status: str, region: str) -> dict[str, Any]:
    return {
        "workflow": workflow,
        "status": status,
        "execution": EXECUTION.format(machine=MACHINES[workflow][0]),
        "rto": {"seconds": 164.0, "objective_seconds": 3600, "met": True},
        "rpo": {"seconds": 1.2, "objective_seconds": 900, "met": True},
        "writer_region": region,
        "traffic_region": region,
        "changes": [f"writer moved to {region}", f"traffic moved to {region}"],
    }


def failure(fail_state: str, error: str, cause: str) -> dict[str, Any]:
    """HandleFailure's answer: the audit record and the notification are written; which Fail state to end in."""
    return {"status": "FAILED", "error": error, "cause": cause, "fail_state": fail_state, "lease": "RELEASED"}


READY = {"ready": True, "problems": [], "checked_at": NOW}
RESPONSES: dict[str, dict[str, Any]] = {
    # failover and failback
    "FailoverPlanned": lambda_result(request("failover", "planned")),
    "FailoverUnplanned": lambda_result(
        request("failover", "unplanned", "alarm", alarm_name="roadcall-dr-primary-health")
    ),
    "FailbackPlanned": lambda_result(request("failback", "planned")),
    "LeaseAcquired": lambda_result({"holder": "sfn-mocks", "operation": "dr", "fence": 7, "state": "HELD"}),
    "LeaseRenewed": lambda_result({"holder": "sfn-mocks", "operation": "dr", "fence": 7, "state": "HELD"}),
    "AuroraReady": lambda_result({**READY, "writer_region": "us-east-1", "lag_seconds": 0.4}),
    "DynamoDBReady": lambda_result({**READY, "latency_seconds": 1.2}),
    "S3Ready": lambda_result({**READY, "latency_seconds": 30.0}),
    "EndpointsReady": lambda_result({**READY, "traffic_region": "us-east-1", "recovery_healthy": True}),
    "BackupsReady": lambda_result({**READY, "newest_age_hours": 7.0}),
    "DecideAsk": lambda_result(decision("ASK", ["a planned operation: a person approves it"])),
    "DecideProceed": lambda_result(decision("PROCEED", ["the alarm and the probe agree; lag is within the RPO"])),
    "DecideRefuse": lambda_result(decision("REFUSE", ["the Aurora secondary is not available"])),
    "Approved": {"0": {"Return": {"approved_by": "sfn-mocks", "approved_at": NOW}}},
    "PromotionStarted": lambda_result(
        {"kind": "failover", "requested_at": NOW, "already_in_place": False, "rpo_seconds": 0.4}
    ),
    "WriterPromoted": lambda_result({"writer_region": "us-west-2", "promoted": True, "checked_at": NOW}),
    "WriterPromotedOnTheSecondPoll": polls(
        {"writer_region": "us-east-1", "promoted": False, "checked_at": NOW},
        {"writer_region": "us-west-2", "promoted": True, "checked_at": NOW},
    ),
    "WriterHome": lambda_result({"writer_region": "us-east-1", "promoted": True, "checked_at": NOW}),
    "DynamoDBConfirmed": lambda_result({"tables": 5, "rpo_seconds": 1.2}),
    "S3BacklogRecorded": lambda_result({"buckets": 3, "rpo_seconds": 30.0}),
    "TrafficMoved": lambda_result({"traffic_region": "us-west-2", "changed": True}),
    "TrafficThrottledThenMoved": failing_then(
        "Lambda.TooManyRequestsException", "Rate exceeded", 1, {"traffic_region": "us-west-2", "changed": True}
    ),
    "TrafficHome": lambda_result({"traffic_region": "us-east-1", "changed": True}),
    "RecoveryVerified": lambda_result({"verified": True, "problems": []}),
    "FailoverRecorded": lambda_result(outcome("failover", "SUCCEEDED", "us-west-2")),
    "FailbackRecorded": lambda_result(outcome("failback", "SUCCEEDED", "us-east-1")),
    "LeaseReleased": {"0": {"Return": {}}},
    "Published": {"0": {"Return": {"MessageId": "6f1c7a0e-sfn-mocks"}}},
    "FailureNotReady": lambda_result(
        failure("FailNotReady", "NotReady", "refused: the Aurora secondary is not available")
    ),
    # failback only
    "PrimaryHealthy": lambda_result(
        {
            "healthy": True,
            "already_home": False,
            "region": "us-east-1",
            "problems": [],
            "writer_region": "us-west-2",
            "traffic_region": "us-west-2",
        }
    ),
    "AuroraReprotected": lambda_result({"store": "aurora", "configured": True, "changes": [], "pending": []}),
    "DynamoDBReprotected": lambda_result({"store": "dynamodb", "configured": True, "changes": [], "pending": []}),
    "S3Reprotected": lambda_result(
        {"store": "s3", "configured": True, "changes": ["replication rule toward us-east-1"], "pending": []}
    ),
    "ReplicationCaughtUp": lambda_result({"caught_up": True, "problems": [], "aurora_lag_seconds": 0.2}),
    "OutageWritesBefore": lambda_result(
        {"items_still_to_arrive": 0, "objects_still_to_arrive": 0, "items_written": 12}
    ),
    "OutageWritesAfter": lambda_result({"items_still_to_arrive": 0, "objects_still_to_arrive": 0, "items_written": 12}),
    # backup verification
    "VerificationRequest": lambda_result(backup_request("backup-verification", "verify")),
    "OneBatch": lambda_result({"count": 9, "batches": [0], "findings": []}),
    "BatchVerified": lambda_result({"batch": 0, "resources": 9, "recovery_points": 441, "copies": 108, "findings": 0}),
    "BatchKeepsFailing": {
        "0-6": {"Throw": {"Error": "TransientAwsError", "Cause": "backup:ListRecoveryPointsByBackupVault: throttled"}}
    },
    "JobsClean": lambda_result({"backup_jobs": 27, "copy_jobs": 0, "findings": [], "lookback_hours": 24}),
    "ReportClean": lambda_result(
        {"workflow": "backup-verification", "status": "SUCCEEDED", "findings": [], "warnings": []}
    ),
    "ReportFindings": lambda_result(
        {
            "workflow": "backup-verification",
            "status": "FINDINGS",
            "findings": [{"check": "pitr-disabled", "severity": "HIGH", "resource": "roadcall-users-prod"}],
            "warnings": [],
        }
    ),
    # restore test
    "RestoreRequest": lambda_result(backup_request("restore-test", "full")),
    "LeaseFree": lambda_result({"lease": "free"}),
    "OnePlanItem": lambda_result(
        {
            "plan": [
                {
                    "resource_arn": "arn:aws:dynamodb:us-east-1:123456789012:table/roadcall-users-prod",
                    "resource_type": "DynamoDB",
                    "restore_name": "drtest-sfn-mocks-users",
                }
            ]
        }
    ),
    "RestoreStarted": lambda_result({"restore_job_id": "job-1", "started_at": NOW}),
    "RestoreCompleted": lambda_result({"restore_job_id": "job-1", "status": "COMPLETED", "restore_seconds": 240.0}),
    "RestoreJobEndedFailed": lambda_result(
        {
            "restore_job_id": "job-1",
            "status": "FAILED",
            "message": "the recovery point is corrupt",
            "restore_seconds": 60.0,
        }
    ),
    "RestoreValidated": lambda_result({"status": "SUCCEEDED", "validated": True, "within_rto": True}),
    "CleanedUp": lambda_result(
        {"done": True, "settled": True, "attempts": 1, "leftover": [], "leftover_resources": 0, "deleted": []}
    ),
    "RestoreTestPassed": lambda_result(
        {
            "workflow": "restore-test",
            "status": "SUCCEEDED",
            "results": [],
            "bookkeeping": {"audited": True, "notified": True, "warnings": []},
        }
    ),
    "NothingToSweep": lambda_result({"swept": [], "kept": [], "untagged": [], "unchecked": []}),
    "RestoreTestFailed": lambda_result(
        {"workflow": "restore-test", "status": "FAILED", "error": "RestoreFailed", "results": []}
    ),
    "FailureRestore": lambda_result(failure("FailRestore", "RestoreFailed", "restore job job-1 ended FAILED")),
}


# -- the cases -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    workflow: str
    name: str
    input: dict[str, Any]
    mocks: dict[str, str]  # Task state -> mocked response
    path: tuple[str, ...]  # the top-level states entered, in order
    inner: tuple[str, ...] = ()  # the states entered inside Parallel branches and Map iterations, any order
    status: str = "SUCCEEDED"
    error: str | None = None
    output: dict[str, Any] = field(default_factory=dict)  # fields the execution's output must hold

    @property
    def machine(self) -> str:
        return MACHINES[self.workflow][0]

    def depends_on(self) -> set[str]:
        return set(self.mocks) | set(self.path) | set(self.inner)

    def inner_counts(self) -> Counter[str]:
        return Counter(self.inner)


READINESS = {
    "CheckAurora": "AuroraReady",
    "CheckDynamoDB": "DynamoDBReady",
    "CheckS3": "S3Ready",
    "CheckEndpoints": "EndpointsReady",
    "CheckBackups": "BackupsReady",
}
PROMOTE = {
    "PromoteAurora": "PromotionStarted",
    "ConfirmDynamoDB": "DynamoDBConfirmed",
    "RecordS3Backlog": "S3BacklogRecorded",
}
AFTER_PROMOTION = {"VerifyRecovery": "RecoveryVerified", "ReleaseLease": "LeaseReleased"}
GUARDS = {"GuardLeaseBeforePromotion": "LeaseRenewed", "GuardLeaseBeforeTraffic": "LeaseRenewed"}
READINESS_STATES = ("CheckAurora", "CheckDynamoDB", "CheckS3", "CheckEndpoints", "CheckBackups")
WRITER_LOOP = ("WaitForWriter", "CheckAuroraWriter", "ChooseWriterPromoted")
PROMOTE_STATES = ("PromoteAurora", *WRITER_LOOP, "AuroraPromoted", "ConfirmDynamoDB", "RecordS3Backlog")
FAILOVER_START = ("InitializeVariables", "ValidateInput", "AcquireLease", "AssessReadiness", "Decide", "ChooseAction")
VERIFICATION_PATH = (
    "InitializeVariables",
    "ValidateInput",
    "ListProtectedResources",
    "VerifyResources",
    "CheckBackupJobs",
    "WriteReport",
    "VerificationSucceeded",
)
RESTORE_START = (
    "InitializeVariables",
    "ValidateInput",
    "CheckLease",
    "SweepLeftovers",
    "SelectRecoveryPoints",
    "ChooseMode",
    "RestoreResources",
    "CleanUp",
    "ChooseCleanupDone",
    "RecordOutcome",
    "ChooseOutcome",
)
FAILOVER_END = (
    "GuardLeaseBeforePromotion",
    "Promote",
    "GuardLeaseBeforeTraffic",
    "MoveTraffic",
    "VerifyRecovery",
    "RecordOutcome",
    "ReleaseLease",
)

CASES: tuple[Case, ...] = (
    Case(
        "failover",
        "PlannedApproved",
        {"mode": "planned", "reason": "drill"},
        {
            "ValidateInput": "FailoverPlanned",
            "AcquireLease": "LeaseAcquired",
            **READINESS,
            "Decide": "DecideAsk",
            "ExtendLeaseForApproval": "LeaseRenewed",
            "RequestApproval": "Approved",
            **GUARDS,
            **PROMOTE,
            "CheckAuroraWriter": "WriterPromoted",
            "MoveTraffic": "TrafficMoved",
            "RecordOutcome": "FailoverRecorded",
            **AFTER_PROMOTION,
        },
        (*FAILOVER_START, "ExtendLeaseForApproval", "RequestApproval", *FAILOVER_END, "FailoverSucceeded"),
        (*READINESS_STATES, *PROMOTE_STATES),
        output={"status": "SUCCEEDED", "writer_region": "us-west-2"},
    ),
    Case(
        "failover",
        "UnplannedProceed",
        {"mode": "unplanned"},
        {
            "ValidateInput": "FailoverUnplanned",
            "AcquireLease": "LeaseAcquired",
            **READINESS,
            "Decide": "DecideProceed",
            **GUARDS,
            **PROMOTE,
            "CheckAuroraWriter": "WriterPromotedOnTheSecondPoll",
            "MoveTraffic": "TrafficThrottledThenMoved",
            "RecordOutcome": "FailoverRecorded",
            **AFTER_PROMOTION,
        },
        (*FAILOVER_START, *FAILOVER_END, "FailoverSucceeded"),
        (*READINESS_STATES, *PROMOTE_STATES, *WRITER_LOOP),  # the writer is polled twice
        output={"status": "SUCCEEDED", "traffic_region": "us-west-2"},
    ),
    Case(
        "failover",
        "Refused",
        {"mode": "planned"},
        {
            "ValidateInput": "FailoverPlanned",
            "AcquireLease": "LeaseAcquired",
            **READINESS,
            "Decide": "DecideRefuse",
            "HandleFailure": "FailureNotReady",
        },
        (*FAILOVER_START, "HandleFailure", "ChooseFailState", "FailNotReady"),
        READINESS_STATES,
        status="FAILED",
        error="NotReady",
    ),
    Case(
        "failback",
        "PlannedApproved",
        {"mode": "planned", "reason": "the primary is back"},
        {
            "ValidateInput": "FailbackPlanned",
            "AcquireLease": "LeaseAcquired",
            "CheckPrimaryHealth": "PrimaryHealthy",
            "ReprotectAurora": "AuroraReprotected",
            "ReprotectDynamoDB": "DynamoDBReprotected",
            "ReprotectS3": "S3Reprotected",
            "CheckReplication": "ReplicationCaughtUp",
            "ReportOutageWrites": "OutageWritesBefore",
            **READINESS,
            "Decide": "DecideAsk",
            "ExtendLeaseForApproval": "LeaseRenewed",
            "RequestApproval": "Approved",
            **GUARDS,
            **PROMOTE,
            "CheckAuroraWriter": "WriterHome",
            "MoveTraffic": "TrafficHome",
            "CountOutageWritesAfter": "OutageWritesAfter",
            "RecordOutcome": "FailbackRecorded",
            **AFTER_PROMOTION,
        },
        (
            "InitializeVariables",
            "ValidateInput",
            "AcquireLease",
            "CheckPrimaryHealth",
            "ChoosePrimaryHealthy",
            "Reprotect",
            "StartReplicationWait",
            "CheckReplication",
            "ChooseReplicationCaughtUp",
            "ReportOutageWrites",
            "AssessReadiness",
            "Decide",
            "ChooseAction",
            "ExtendLeaseForApproval",
            "RequestApproval",
            "GuardLeaseBeforePromotion",
            "Promote",
            "GuardLeaseBeforeTraffic",
            "MoveTraffic",
            "VerifyRecovery",
            "CountOutageWritesAfter",
            "RecordOutcome",
            "ReleaseLease",
            "FailbackSucceeded",
        ),
        (
            *(f"{step}{store}" for store in ("Aurora", "DynamoDB", "S3") for step in ("BeginReprotect", "Reprotect")),
            *(f"Choose{store}Reprotected" for store in ("Aurora", "DynamoDB", "S3")),
            *(f"{store}Reprotected" for store in ("Aurora", "DynamoDB", "S3")),
            *READINESS_STATES,
            *PROMOTE_STATES,
        ),
        output={"status": "SUCCEEDED", "writer_region": "us-east-1"},
    ),
    *(
        Case(
            "backup-verification",
            name,
            {"requested_by": "sfn-mocks"},
            {
                "ValidateInput": "VerificationRequest",
                "ListProtectedResources": "OneBatch",
                "VerifyBatch": batch,
                "CheckBackupJobs": "JobsClean",
                "WriteReport": report,
            },
            VERIFICATION_PATH,
            inner,
            output={"status": status},
        )
        for name, batch, inner, report, status in (
            ("Clean", "BatchVerified", ("VerifyBatch",), "ReportClean", "SUCCEEDED"),
            ("Findings", "BatchVerified", ("VerifyBatch",), "ReportFindings", "FINDINGS"),
            # a batch whose check keeps failing (7 attempts: 6 retries) is recorded unreadable, not a crash
            ("BatchUnreadable", "BatchKeepsFailing", ("VerifyBatch", "RecordUnreadable"), "ReportFindings", "FINDINGS"),
        )
    ),
    *(
        Case(
            "restore-test",
            name,
            {"mode": "full"},
            {
                "ValidateInput": "RestoreRequest",
                "CheckLease": "LeaseFree",
                "SweepLeftovers": "NothingToSweep",
                "SelectRecoveryPoints": "OnePlanItem",
                "StartRestore": "RestoreStarted",
                "CheckRestore": poll,
                "CleanUp": "CleanedUp",
                "RecordOutcome": recorded,
            }
            | extra,
            (*RESTORE_START, *end),
            ("StartRestore", "WaitForRestore", "CheckRestore", "ChooseRestoreState", last),
            status=status,
            error=error,
        )
        for name, poll, last, recorded, extra, end, status, error in (
            (
                "Passed",
                "RestoreCompleted",
                "ValidateRestore",
                "RestoreTestPassed",
                {"ValidateRestore": "RestoreValidated"},
                ("RestoreTestSucceeded",),  # RecordOutcome notified: the state machine's NotifyOutcome is skipped
                "SUCCEEDED",
                None,
            ),
            (
                "RestoreFailed",
                "RestoreJobEndedFailed",
                "RestoreJobFailed",
                "RestoreTestFailed",
                {"HandleFailure": "FailureRestore"},
                ("HandleFailure", "ChooseFailState", "FailRestore"),
                "FAILED",
                "RestoreFailed",
            ),
        )
    ),
)


def mock_config() -> dict[str, Any]:
    """MockConfigFile.json: the cases' test cases per state machine, and the responses they use."""
    machines: dict[str, Any] = {}
    for case in CASES:
        machines.setdefault(case.machine, {"TestCases": {}})["TestCases"][case.name] = dict(case.mocks)
    used = sorted({r for case in CASES for r in case.mocks.values()})
    return {"StateMachines": machines, "MockedResponses": {name: RESPONSES[name] for name in used}}


def render() -> str:
    return json.dumps(mock_config(), indent=2) + "\n"


if __name__ == "__main__":
    CONFIG.write_text(render())
    print(f"wrote {CONFIG.relative_to(Path.cwd()) if CONFIG.is_relative_to(Path.cwd()) else CONFIG}")
