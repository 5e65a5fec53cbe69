"""The DR lease (dr.lease) as a state machine, against localcloud's DynamoDB: two holders acquire, renew,
settle, an operator clears, time passes past the expiry, in any order hypothesis draws. A model of the
rule (lease.py's docstring) predicts each outcome and the real item must match it; throughout, never two
holders may each renew a HELD lease, every acquisition takes a fence higher than any before, and a holder
whose lease was taken over gets LeaseLost when it renews."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from dr import lease
from dr.errors import LeaseHeld, LeaseLost
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from localcloud.cloud import LocalCloud

# every test here shares the module fixture: one worker builds it (make test runs --dist loadgroup)
pytestmark = pytest.mark.xdist_group("lease-machine-cloud")

REGION = "us-west-2"
SECONDS = 600
HOLDERS = ("execution-a", "execution-b")
holders = st.sampled_from(HOLDERS)


@dataclass
class Item:
    """The model of the lease item: what lease.py's conditions read."""

    state: str = ""  # "" (no item), HELD, RELEASED, BLOCKED
    holder: str = ""
    fence: int = 0
    expires_in: float = 0.0  # seconds until expiry, on the clock


class LeaseMachine(RuleBasedStateMachine):
    cloud: LocalCloud

    @initialize()
    def table(self) -> None:
        """A fresh state table for each run of the machine (an empty one: no lease item yet)."""
        self.name = f"lease-{uuid.uuid4().hex[:8]}"
        self.ddb = self.cloud.client("dynamodb", REGION)
        self.ddb.create_table(
            TableName=self.name,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        )
        self.model = Item()
        self.fences: dict[str, int] = {}  # the fence each holder last acquired
        self.highest = 0

    def teardown(self) -> None:
        if hasattr(self, "name"):
            self.ddb.delete_table(TableName=self.name)

    @rule(holder=holders)
    def acquire(self, holder: str) -> None:
        m = self.model
        free = m.state in ("", "RELEASED") or m.holder == holder or (m.state == "HELD" and m.expires_in < 0)
        if not free:
            with pytest.raises(LeaseHeld):
                lease.acquire(self.name, REGION, holder, "failover", "unplanned", SECONDS)
            return
        taken = lease.acquire(self.name, REGION, holder, "failover", "unplanned", SECONDS)
        assert taken.fence > self.highest, "every acquisition takes a higher fence"
        self.highest = taken.fence
        self.fences[holder] = taken.fence
        self.model = Item("HELD", holder, taken.fence, SECONDS)

    @rule(holder=holders)
    def renew(self, holder: str) -> None:
        m = self.model
        fence = self.fences.get(holder, 0)
        if not (m.state == "HELD" and m.holder == holder and m.fence == fence):
            with pytest.raises(LeaseLost):
                lease.renew(self.name, REGION, holder, fence, SECONDS)
            return
        renewed = lease.renew(self.name, REGION, holder, fence, SECONDS)
        assert (renewed.holder, renewed.fence) == (holder, fence)
        m.expires_in = SECONDS

    @rule(holder=holders, state=st.sampled_from(["RELEASED", "BLOCKED"]))
    def settle(self, holder: str, state: str) -> None:
        settled = lease.settle(self.name, REGION, holder, state, f"settled by {holder}", [])
        assert settled == (self.model.holder == holder)
        if settled:
            self.model.state = state

    @rule()
    def clear(self) -> None:
        lease.clear_with(self.ddb, self.name, "operator", "looked at the platform")
        self.model.state = "RELEASED"

    @rule()
    def expire(self) -> None:
        self.cloud.advance(SECONDS + 1)
        self.model.expires_in -= SECONDS + 1

    @invariant()
    def item_matches_the_model(self) -> None:
        item = lease.describe_with(self.ddb, self.name) or {}
        assert (item.get("state", ""), item.get("holder", ""), item.get("fence", 0)) == (
            self.model.state,
            self.model.holder,
            self.model.fence,
        )

    @invariant()
    def never_two_holders_who_may_renew(self) -> None:
        m = self.model
        renewable = [h for h in HOLDERS if m.state == "HELD" and m.holder == h and self.fences.get(h) == m.fence]
        assert len(renewable) <= 1
        stale = [h for h, fence in self.fences.items() if fence < m.fence]
        assert all(h != m.holder or m.state != "HELD" or self.fences[h] == m.fence for h in stale)


@pytest.fixture(scope="module")
def cloud() -> Iterator[LocalCloud]:
    with LocalCloud() as running:
        yield running


def test_the_lease_rule_holds_in_any_order_of_operations(cloud: LocalCloud) -> None:
    LeaseMachine.cloud = cloud
    run_state_machine_as_test(LeaseMachine, settings=settings(max_examples=30, stateful_step_count=15, deadline=None))


def test_a_takeover_after_expiry_makes_the_old_holder_lose_its_lease(cloud: LocalCloud) -> None:
    # Given execution-a holds the lease, which then expires, and execution-b takes it over
    machine = LeaseMachine()
    machine.table()
    try:
        machine.acquire("execution-a")
        machine.expire()
        machine.acquire("execution-b")

        # When execution-a renews, then Then it has lost the lease, and execution-b's fence is the higher
        with pytest.raises(LeaseLost, match="no longer holds the DR lease"):
            lease.renew(machine.name, REGION, "execution-a", machine.fences["execution-a"], SECONDS)
        assert machine.fences["execution-b"] > machine.fences["execution-a"]
        machine.item_matches_the_model()
    finally:
        machine.teardown()
