"""An operator's ``lease clear`` frees only the lease they looked at: one taken in between by a new DR
operation (a new fence) is left as it is, and they are told."""

from __future__ import annotations

from typing import Any

import pytest
from dr import lease
from dr.settings import Settings

from localcloud.cloud import LocalCloud

REGION = "us-west-2"
TABLE = "dr-state"  # the conftest's state table


@pytest.fixture
def ddb(cloud: LocalCloud, settings: Settings) -> Any:
    """The state table of tests/unit/conftest.py's ``settings``, empty: no lease yet."""
    return cloud.client("dynamodb", REGION)


def test_the_lease_looked_at_is_cleared(ddb: Any) -> None:
    lease.acquire(TABLE, REGION, "run-1", "failover", "planned", 600)
    lease.settle(TABLE, REGION, "run-1", "BLOCKED", "failed after changing the platform", [])
    seen = lease.describe_with(ddb, TABLE)

    after = lease.clear_with(ddb, TABLE, "sre", "looked at it", seen=seen)

    assert after is not None and after["state"] == "RELEASED" and after["note"] == "cleared by sre: looked at it"


def test_a_lease_taken_since_it_was_looked_at_is_not_cleared(ddb: Any) -> None:
    # Given the operator looked at a RELEASED lease (an earlier run's), then a new failover took it
    lease.acquire(TABLE, REGION, "run-1", "failover", "planned", 600)
    lease.settle(TABLE, REGION, "run-1", "RELEASED", "done", [])
    seen = lease.describe_with(ddb, TABLE)
    lease.acquire(TABLE, REGION, "run-2", "failover", "unplanned", 600)

    # When they clear what they saw
    with pytest.raises(lease.LeaseChanged, match=r"it is now HELD by run-2 \(fence 2\)"):
        lease.clear_with(ddb, TABLE, "sre", "stale look", seen=seen)

    # Then the new run keeps its lease
    now = lease.describe_with(ddb, TABLE)
    assert now is not None and (now["state"], now["holder"], now["fence"]) == ("HELD", "run-2", 2)


def test_no_lease_when_looked_at_and_one_taken_since_is_not_cleared(ddb: Any) -> None:
    seen = lease.describe_with(ddb, TABLE)
    assert seen is None
    lease.acquire(TABLE, REGION, "run-1", "failover", "planned", 600)

    with pytest.raises(lease.LeaseChanged, match="it is now HELD by run-1"):
        lease.clear_with(ddb, TABLE, "sre", "nothing there", seen=seen)
    assert lease.describe_with(ddb, TABLE)["state"] == "HELD"  # type: ignore[index]
