"""One DR operation at a time: a lease item in the state table with a fencing counter.

States: HELD (an operation runs), RELEASED (free), BLOCKED (an operation failed after changing the
platform: a person must look before anything else runs; ``drctl lease clear`` frees it). A HELD lease
past its expiry can be taken over (its holder died); every acquisition increments ``fence``.

A run keeps its lease alive across the waits it guards and proves it still holds it before every change:
``renew`` extends the expiry only while the item still names this holder, this fence and HELD, and raises
LeaseLost otherwise (another run took it over after it expired, or a person cleared it). An execution that
ends without settling (stopped, timed out) is settled by ``settle_abandoned`` from its status-change event.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from dr.aws import aws_errors, client, error_code
from dr.errors import LeaseHeld, LeaseLost, TransientAwsError
from dr.models import Lease

LEASE_KEY = {"pk": {"S": "lease"}}


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def _conditional_update(table: str, region: str, what: str, **update: Any) -> Lease | None:
    """UpdateItem on the lease item; the lease it leaves, or None when its condition failed."""
    try:
        out = client("dynamodb", region).update_item(TableName=table, Key=LEASE_KEY, ReturnValues="ALL_NEW", **update)
    except ClientError as err:
        if error_code(err) != "ConditionalCheckFailedException":
            with aws_errors(f"dynamodb:UpdateItem ({what})", TransientAwsError):
                raise
        return None
    item = out["Attributes"]
    return Lease(
        holder=item["holder"]["S"],
        operation=item["operation"]["S"],
        fence=int(item["fence"]["N"]),
        acquired_at=datetime.fromisoformat(item["acquired_at"]["S"]),
        expires_at=datetime.fromisoformat(item["expires_at"]["S"]),
    )


def acquire(table: str, region: str, holder: str, operation: str, mode: str, seconds: int) -> Lease:
    now = datetime.now(UTC)
    lease = _conditional_update(
        table,
        region,
        "acquire lease",
        UpdateExpression=(
            "SET holder = :h, #op = :op, #mode = :mode, #state = :held, acquired_at = :now, "
            "expires_at = :exp, note = :note ADD fence :one"
        ),
        ConditionExpression=(
            "attribute_not_exists(pk) OR #state = :released OR holder = :h OR (#state = :held AND expires_at < :now)"
        ),
        ExpressionAttributeNames={"#op": "operation", "#mode": "mode", "#state": "state"},
        ExpressionAttributeValues={
            ":h": {"S": holder},
            ":op": {"S": operation},
            ":mode": {"S": mode},
            ":held": {"S": "HELD"},
            ":released": {"S": "RELEASED"},
            ":now": {"S": _iso(now)},
            ":exp": {"S": _iso(now + timedelta(seconds=seconds))},
            ":note": {"S": f"{operation} ({mode}) running"},
            ":one": {"N": "1"},
        },
    )
    if lease is None:
        current = describe(table, region) or {}
        raise LeaseHeld(
            f"another DR operation holds the lease: {current.get('operation', '?')} by {current.get('holder', '?')}, "
            f"state {current.get('state', '?')} since {current.get('acquired_at', '?')}: {current.get('note', '')}. "
            "Expected the lease to be free (RELEASED) before starting."
        )
    return lease


def renew(table: str, region: str, holder: str, fence: int, seconds: int) -> Lease:
    """Extend this run's lease to ``seconds`` from now, if it still holds it (same holder, same fence,
    HELD); otherwise LeaseLost, naming who holds it now."""
    now = datetime.now(UTC)
    lease = _conditional_update(
        table,
        region,
        "renew lease",
        UpdateExpression="SET expires_at = :exp, renewed_at = :now",
        ConditionExpression="holder = :h AND fence = :f AND #state = :held",
        ExpressionAttributeNames={"#state": "state"},
        ExpressionAttributeValues={
            ":h": {"S": holder},
            ":f": {"N": str(fence)},
            ":held": {"S": "HELD"},
            ":now": {"S": _iso(now)},
            ":exp": {"S": _iso(now + timedelta(seconds=seconds))},
        },
    )
    if lease is None:
        current = describe(table, region) or {}
        raise LeaseLost(
            f"this run no longer holds the DR lease (it held fence {fence}); the lease is now "
            f"{current.get('state', 'gone')} by {current.get('holder', '?')} with fence {current.get('fence', '?')}: "
            f"{current.get('note', '')}. Stopped before changing anything more."
        )
    return lease


def settle(table: str, region: str, holder: str, state: str, note: str, changed: list[str]) -> bool:
    """Leave the lease RELEASED or BLOCKED with a note, if this holder still has it. Returns whether it did."""
    ddb = client("dynamodb", region)
    try:
        ddb.update_item(
            TableName=table,
            Key=LEASE_KEY,
            UpdateExpression="SET #state = :state, note = :note, changed = :changed, settled_at = :now",
            ConditionExpression="holder = :h",
            ExpressionAttributeNames={"#state": "state"},
            ExpressionAttributeValues={
                ":state": {"S": state},
                ":note": {"S": note},
                ":h": {"S": holder},
                ":changed": {"L": [{"S": c} for c in changed]},
                ":now": {"S": _iso(datetime.now(UTC))},
            },
        )
    except ClientError as err:
        if error_code(err) == "ConditionalCheckFailedException":
            return False
        raise
    return True


def describe(table: str, region: str) -> dict[str, Any] | None:
    return describe_with(client("dynamodb", region), table)


def describe_with(ddb: Any, table: str) -> dict[str, Any] | None:
    """The lease item as plain values, read with the given DynamoDB client (drctl passes its own)."""
    item = ddb.get_item(TableName=table, Key=LEASE_KEY, ConsistentRead=True).get("Item")
    if not item:
        return None
    out: dict[str, Any] = {}
    for key, value in item.items():
        ((kind, raw),) = value.items()
        out[key] = [v["S"] for v in raw] if kind == "L" else (int(raw) if kind == "N" else raw)
    return out


class LeaseChanged(Exception):
    """The lease an operator looked at is not the lease any more: nothing was cleared."""


def clear_with(
    ddb: Any, table: str, who: str, reason: str, seen: dict[str, Any] | bool | None = True
) -> dict[str, Any] | None:
    """An operator frees a BLOCKED (or stuck) lease after looking at the platform.

    ``seen`` is the lease as the operator looked at it (``describe_with``; None: there was none): it is cleared
    only while it is still that lease, the same state and fence (every acquisition takes a new fence), and
    LeaseChanged is raised with nothing written otherwise. Between the look and the clear a new DR operation
    may have taken the lease; clearing that one would let a second operation run beside it. ``True``: clear
    whatever is there."""
    names = {"#state": "state"}
    values = {
        ":released": {"S": "RELEASED"},
        ":note": {"S": f"cleared by {who}: {reason}"},
        ":now": {"S": _iso(datetime.now(UTC))},
    }
    condition: dict[str, str] = {}
    if seen is None:
        condition["ConditionExpression"] = "attribute_not_exists(pk)"
    elif isinstance(seen, dict):
        kept = [(key, kind) for key, kind in (("state", "S"), ("fence", "N"), ("holder", "S")) if key in seen]
        names |= {f"#{key}": key for key, _ in kept}
        values |= {f":seen_{key}": {kind: str(seen[key])} for key, kind in kept}
        if kept:
            condition["ConditionExpression"] = " AND ".join(f"#{key} = :seen_{key}" for key, _ in kept)
    try:
        ddb.update_item(
            TableName=table,
            Key=LEASE_KEY,
            UpdateExpression="SET #state = :released, note = :note, settled_at = :now",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
            **condition,
        )
    except ClientError as err:
        if error_code(err) != "ConditionalCheckFailedException":
            raise
        now = describe_with(ddb, table)
        raise LeaseChanged(
            "the lease changed since it was read: it is now "
            + (f"{now.get('state')} by {now.get('holder')} (fence {now.get('fence')})" if now else "absent")
        ) from err
    return describe_with(ddb, table)
