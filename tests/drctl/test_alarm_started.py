"""Which execution a drill in an outage follows when alarms already started the failover: the one the
lease let act (drctl.drill.acting_execution), not whichever started first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from drctl.drill import acting_execution

T0 = datetime(2026, 12, 1, 12, 7, 2, tzinfo=UTC)
HEALTH = "arn:aws:states:us-west-2:123456789012:execution:roadcall-dr-failover:health-alarm"
PROBE = "arn:aws:states:us-west-2:123456789012:execution:roadcall-dr-failover:probe-alarm"
EARLIER_RUN = "arn:aws:states:us-west-2:123456789012:execution:roadcall-dr-failover:last-quarters-drill"


def execution(arn: str, after_ms: int, status: str) -> dict[str, Any]:
    return {"executionArn": arn, "startDate": T0 + timedelta(milliseconds=after_ms), "status": status}


def test_the_one_holding_the_lease_is_followed_even_when_it_started_second() -> None:
    # Given the probe alarm's execution started 30 ms after the health alarm's, and took the lease first
    executions = [execution(HEALTH, 0, "RUNNING"), execution(PROBE, 30, "RUNNING")]
    # Then the drill follows the probe alarm's: the other is a duplicate the lease turns away
    assert acting_execution(executions, holder=PROBE) == PROBE
    assert acting_execution(list(reversed(executions)), holder=HEALTH) == HEALTH


def test_while_none_holds_the_lease_and_one_still_runs_it_waits() -> None:
    # The lease still names a run of last quarter: neither of these has reached AcquireLease yet
    executions = [execution(HEALTH, 0, "RUNNING"), execution(PROBE, 30, "SUCCEEDED")]
    assert acting_execution(executions, holder=EARLIER_RUN) is None
    assert acting_execution(executions, holder=None) is None


def test_when_all_ended_without_the_lease_the_earliest_is_reported() -> None:
    # Each stopped before its lease (a refused input, say): the earliest is what there is to report
    executions = [execution(PROBE, 30, "FAILED"), execution(HEALTH, 0, "FAILED")]
    assert acting_execution(executions, holder=EARLIER_RUN) == HEALTH
    assert acting_execution([execution(PROBE, 30, "FAILED")], holder=None) == PROBE
