"""CheckReplication's heartbeat lag: how long writes of the source have been on their way home."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine
from dr.heartbeat import INTERVAL_SECONDS
from dr.steps.check_replication import heartbeat_lag
from hypothesis import given
from hypothesis import strategies as st

NOW = datetime(2027, 1, 15, 15, 20, 0, tzinfo=UTC)


def lag(newest: datetime | None, copied: datetime | None) -> tuple[float | None, str]:
    with time_machine.travel(NOW, tick=False):
        return heartbeat_lag("DynamoDB", "roadcall-users-prod", newest, copied, "us-west-2")


def test_home_holding_the_newest_heartbeat_is_caught_up() -> None:
    written = NOW - timedelta(seconds=40)
    assert lag(written, written) == (0.0, "")
    assert lag(written, written + timedelta(seconds=60)) == (0.0, "")  # home read after a newer one arrived


def test_a_heartbeat_written_a_second_ago_is_a_second_of_lag_not_the_minute_before_it() -> None:
    # The poll came a second after the writer: home still holds the heartbeat of the minute before
    newest = NOW - timedelta(seconds=1)
    assert lag(newest, newest - timedelta(seconds=INTERVAL_SECONDS)) == (1.0, "")


def test_a_copy_minutes_behind_is_minutes_of_lag() -> None:
    # Home holds the heartbeat of ten minutes ago: the ones after it (from nine minutes ago) are on their way
    newest = NOW - timedelta(seconds=1)
    assert lag(newest, NOW - timedelta(minutes=10)) == (540.0, "")


def test_what_cannot_be_known_is_none_with_its_reason() -> None:
    assert lag(None, None) == (
        None,
        "DynamoDB roadcall-users-prod: the source holds no heartbeat of its own (is WriteHeartbeat running?)",
    )
    assert lag(NOW - timedelta(minutes=4), NOW - timedelta(minutes=4)) == (
        None,
        "DynamoDB roadcall-users-prod: the source's newest heartbeat is 240 s old",
    )
    assert lag(NOW - timedelta(seconds=5), None) == (
        None,
        "DynamoDB roadcall-users-prod: no heartbeat of us-west-2 has arrived at home yet",
    )


@given(
    newest_age=st.floats(min_value=0, max_value=180),
    behind=st.floats(min_value=0.001, max_value=7200),
)
def test_the_lag_is_never_less_than_any_write_known_to_be_on_its_way(newest_age: float, behind: float) -> None:
    newest = NOW - timedelta(seconds=newest_age)
    copied = newest - timedelta(seconds=behind)
    found, why = lag(newest, copied)
    assert why == "" and found is not None
    # the newest heartbeat has not arrived since it was written, nor has the one the writer made after the copy
    assert found >= newest_age - 1e-6
    assert found >= newest_age + behind - INTERVAL_SECONDS - 1e-6
    # and a copy one interval (or less) behind is no more than the newest's time in flight
    if behind <= INTERVAL_SECONDS:
        assert abs(found - newest_age) < 1e-6
