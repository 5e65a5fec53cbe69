"""Exception classes whose names are the ASL error names the state machines retry or catch.

A step raises one of these; Lambda reports the class name as ``errorType`` and Step Functions uses it as
the error name. Transient ones are retried by the state machines; the others are caught and end in a
named Fail state after the failure is recorded and notified. Each message says what was expected and
what was found.
"""

from __future__ import annotations


class DrError(Exception):
    """Base of every error a DR step raises on purpose."""


# -- not retried: the workflow ends, recorded and notified ---------------------------------------------
class InvalidInput(DrError):
    """The workflow input or a step payload does not match its model."""


class InputTooLarge(InvalidInput):
    """The workflow input is larger than a workflow input may be (Step Functions carries it in every state)."""


class LeaseHeld(DrError):
    """Another DR operation holds the lease; this one must not run."""


class LeaseLost(DrError):
    """The lease this execution held was taken over (its fencing counter moved on)."""


class NotReady(DrError):
    """The target region cannot take over (a data store or the endpoint is not ready)."""


class ApprovalRejected(DrError):
    """A person rejected the operation at the approval gate."""


class PromotionFailed(DrError):
    """The data-store promotion was refused or ended without moving the writer."""


class PromotionTimedOut(DrError):
    """The writer did not reach the target region within the bounded poll."""


class TrafficMoveFailed(DrError):
    """Traffic could not be moved through the routing controls or health checks."""


class RecoveryNotVerified(DrError):
    """The target endpoint did not answer healthy (retried a bounded number of times)."""


class ReplicationNotConfigured(DrError):
    """Replication toward the other region is missing and setup was not allowed to fix it."""


class ReplicationLagTooHigh(DrError):
    """Replication lag did not drop under the budget within the bounded wait."""


class PlatformNotHealthy(DrError):
    """The region to move to is not healthy (its endpoint or its services)."""


class DataLossRefused(DrError):
    """A failback was asked to allow data loss; failback never does."""


class RestoreFailed(DrError):
    """A restore test's restore job failed or could not be started (backups and restore tests)."""


class RestoreTimedOut(DrError):
    """A restore job did not finish within the restore test's bounded poll."""


class ValidationFailed(DrError):
    """The data read from a restored resource did not match what its source held at the recovery point."""


class ValidationNotCompleted(DrError):
    """A restore test could not validate a restored resource (an AWS error while reading it, or a check that
    cannot run as configured): nothing is known about the backup, and AWS Backup was told nothing."""


class CleanupIncomplete(DrError):
    """Resources a restore test created are still there after cleanup (retried while deletions settle)."""


class VerificationFailed(DrError):
    """The backup verification could not produce its report (not: it found problems; those are findings)."""


# -- retried by the state machines (transient) -----------------------------------------------------------
class TransientAwsError(DrError):
    """An AWS call was throttled or failed with a 5xx after the SDK's own retries."""


class ReplicaNotReady(DrError):
    """A replica or restored resource is not ACTIVE/available yet; poll again."""
