"""The traffic pin's intent: one item in the state table (recovery region), written by MoveTraffic before
it publishes the pin, read every minute by KeepTrafficPin (and by HandleFailure, to tell a move that is
under way from one that did not happen).

Why not the pin alarm's state: CloudWatch evaluates the alarm from its data every minute, and
``SetAlarmState`` lasts only until that evaluation. The alarm takes the ``Maximum`` of each minute, so the
minute in which a failback releases the pin still holds the keeper's last 1: the next evaluation puts the
alarm back in ALARM. A keeper that read the alarm's state would then publish 1 again, and again each
minute after: users pinned to the recovery region for good, the failback's verification failing. The
intent is written only by MoveTraffic, so the keeper republishes what the last move asked for, and a stale
1 in one minute is gone the minute after.

No item (the stack was deployed before this record existed, or nothing has moved traffic yet): the keeper
follows the alarm's state, as it did before; the first move writes the item.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from dr.aws import client
from dr.settings import Settings

PIN_KEY = {"pk": {"S": "traffic-pin"}}


def record(settings: Settings, pinned: bool, target_region: str, workflow: str, execution: str) -> None:
    """What the last move asked for: users pinned to the recovery region, or the pin released."""
    item: dict[str, Any] = {
        **PIN_KEY,
        "pinned": {"BOOL": pinned},
        "target_region": {"S": target_region},
        "workflow": {"S": workflow},
        "execution": {"S": execution},
        "at": {"S": datetime.now(UTC).isoformat()},
    }
    client("dynamodb", settings.recovery_region).put_item(TableName=settings.state_table, Item=item)


def recorded(settings: Settings) -> dict[str, Any] | None:
    """The last move's intent (pinned, target_region, workflow, execution, at); None when no move recorded
    one."""
    out = client("dynamodb", settings.recovery_region).get_item(
        TableName=settings.state_table, Key=PIN_KEY, ConsistentRead=True
    )
    item = out.get("Item")
    if item is None:
        return None
    return {key: next(iter(value.values())) for key, value in item.items() if key != "pk"}


def intent(settings: Settings) -> bool | None:
    """Whether the last move pinned users to the recovery region; None when no move recorded one."""
    item = recorded(settings)
    return None if item is None else bool(item["pinned"])


def heading(settings: Settings, execution: str) -> str | None:
    """Where ``execution``'s MoveTraffic recorded the pin toward; None when the last recorded move was not its
    own (or there is none). Users go there, whatever failed after it: the keeper publishes it every minute.
    Unreadable: ClientError / BotoCoreError."""
    item = recorded(settings)
    if item is None or item.get("execution") != execution:
        return None
    return str(item.get("target_region"))
