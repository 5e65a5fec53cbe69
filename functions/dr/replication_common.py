"""What the replication setup of every store shares: the result of a run, the run that collects it, and
the small rules all three read (an error meaning "not there", the partition of a region).

A ``SetupRun`` collects one setup run's changes, findings and pending items; ``act`` changes only when the
run is not a dry run. The stores' setups are in dr.replication_dynamodb, dr.replication_aurora and
dr.replication_s3; dr.replication runs them together.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict

from dr.aws import error_code

ClientFactory = Callable[[str, str], Any]  # (service, region) -> a boto3 client


class SetupResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    store: Literal["dynamodb", "aurora", "s3"]
    from_region: str
    to_region: str
    dry_run: bool
    changes: list[str]
    found: list[str]
    pending: list[str]
    flowing: bool | None = None  # Aurora: the lag metric has a datapoint under the budget

    @property
    def configured(self) -> bool:
        return not self.pending


class SetupRun:
    """Collects one setup run's changes, findings and pending items; ``act`` changes only when not dry."""

    def __init__(self, dry_run: bool) -> None:
        self.dry_run = dry_run
        self.changes: list[str] = []
        self.found: list[str] = []
        self.pending: list[str] = []

    def act(self, what: str, call: Callable[[], Any]) -> None:
        if self.dry_run:
            self.changes.append(f"would {what}")
            return
        call()
        self.changes.append(what)

    def result(
        self, store: Literal["dynamodb", "aurora", "s3"], from_region: str, to_region: str, flowing: bool | None = None
    ) -> SetupResult:
        return SetupResult(
            store=store,
            from_region=from_region,
            to_region=to_region,
            dry_run=self.dry_run,
            changes=self.changes,
            found=self.found,
            pending=self.pending,
            flowing=flowing,
        )


def missing(err: ClientError, *codes: str) -> bool:
    return error_code(err) in codes


def partition(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"
