"""The traffic pin (health-check routing, no ARC): MoveTraffic pins users to the recovery region and releases
them, KeepTrafficPin republishes the last move's intent every minute, and Route 53 follows the pin alarm's
data stream. The tests wait on the virtual clock (``clock.sleep``), so every schedule runs at its slot."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from localcloud.interceptor import Call
from localcloud.scenario import Platform
from tests.workflows.conftest import audit, lease, run_to_end, start, wait_until

RECOVERY, PRIMARY = "us-west-2", "us-east-1"
PIN_ALARM = "roadcall-dr-traffic-pin"


def move_traffic(platform: Platform, target: str) -> dict[str, Any]:
    """Invoke the deployed MoveTrafficFunction as the failover (target: recovery) or failback does."""
    source = PRIMARY if target == RECOVERY else RECOVERY
    workflow = "failover" if target == RECOVERY else "failback"
    request = {
        "workflow": workflow,
        "mode": "planned",
        "trigger": "console",
        "detected_at": platform.cloud.clock.now().isoformat(),
        "source_region": source,
        "target_region": target,
        "reason": "test",
        "requested_by": "test",
        "execution": f"arn:aws:states:{RECOVERY}:123456789012:execution:{workflow}:pin-test",
        "approval_timeout_seconds": 900,
    }
    response = platform.cloud.client("lambda", RECOVERY).invoke(
        FunctionName=platform.stack.physical("MoveTrafficFunction"), Payload=json.dumps({"request": request}).encode()
    )
    out: dict[str, Any] = json.loads(response["Payload"].read())
    assert not response.get("FunctionError"), out
    return out


def alarm_state(platform: Platform) -> str:
    alarms = platform.cloud.client("cloudwatch", RECOVERY).describe_alarms(AlarmNames=[PIN_ALARM])["MetricAlarms"]
    return str(alarms[0]["StateValue"])


def pin_values(platform: Platform) -> list[tuple[datetime, float]]:
    """Every TrafficPinnedToRecovery datapoint published from now on: (virtual time, value)."""
    seen: list[tuple[datetime, float]] = []

    def note(call: Call) -> None:
        if (call.service, call.operation) == ("cloudwatch", "PutMetricData"):
            for datum in call.params.get("MetricData", []):
                if datum.get("MetricName") == "TrafficPinnedToRecovery":
                    seen.append((platform.cloud.clock.now(), float(datum["Value"])))

    platform.cloud.interceptor.hook(note)
    return seen


def test_a_released_pin_stays_released_when_cloudwatch_reevaluates_the_keepers_last_1(platform: Platform) -> None:
    # Given users pinned to the recovery region by a move, with the alarm evaluated every minute (as in AWS)
    platform.alarms.enable()
    published = pin_values(platform)
    move_traffic(platform, RECOVERY)
    platform.cloud.clock.sleep(180)
    assert (alarm_state(platform), platform.traffic_region()) == ("ALARM", RECOVERY)
    keeper_at, value = published[-1]
    assert value == 1.0

    # When the failback releases the pin a second after the keeper's last 1, and CloudWatch evaluates that
    # minute (its Maximum is the keeper's 1) before the keeper runs again: SetAlarmState's OK is overwritten
    platform.cloud.clock.sleep((keeper_at + timedelta(seconds=1) - platform.cloud.clock.now()).total_seconds())
    assert platform.cloud.clock.now().minute == keeper_at.minute  # the release lands in the keeper's minute
    move_traffic(platform, PRIMARY)
    boundary = platform.cloud.clock.now().replace(second=0, microsecond=0) + timedelta(minutes=1)
    platform.alarms.evaluate_all(boundary.astimezone(UTC))
    assert alarm_state(platform) == "ALARM"

    # Then the keeper republishes the release (0), not the alarm's state, and within three minutes the
    # alarm is OK and users are back in the primary region, for good
    platform.cloud.clock.sleep(180)
    assert [v for at, v in published if at > boundary] == [0.0, 0.0, 0.0]
    assert (alarm_state(platform), platform.traffic_region()) == ("OK", PRIMARY)


def test_a_hand_set_alarm_state_does_not_undo_a_pin(platform: Platform) -> None:
    # Given users pinned to the recovery region by a move
    published = pin_values(platform)
    move_traffic(platform, RECOVERY)
    platform.cloud.clock.sleep(120)
    assert platform.traffic_region() == RECOVERY

    # When someone sets the pin alarm to OK by hand
    platform.cloud.client("cloudwatch", RECOVERY).set_alarm_state(
        AlarmName=PIN_ALARM, StateValue="OK", StateReason="set by hand"
    )
    mark = platform.cloud.clock.now()
    platform.cloud.clock.sleep(180)

    # Then the keeper keeps publishing the move's intent: users stay in the recovery region
    assert [v for at, v in published if at > mark] == [1.0, 1.0, 1.0]
    assert platform.traffic_region() == RECOVERY


def test_without_a_recorded_intent_the_keeper_follows_the_alarms_state(platform: Platform) -> None:
    # Given a pin set before any move recorded an intent (a stack upgraded while users were pinned)
    published = pin_values(platform)
    platform.pin_traffic()
    mark = platform.cloud.clock.now()

    # When the keeper runs for three minutes
    platform.cloud.clock.sleep(180)

    # Then it republishes the alarm's state (ALARM: 1) and users stay in the recovery region
    assert [v for at, v in published if at > mark] == [1.0, 1.0, 1.0]
    assert platform.traffic_region() == RECOVERY


def test_a_move_that_fails_after_publishing_the_pin_ends_where_it_was_asked_and_says_so(platform: Platform) -> None:
    # Given users sent home by an earlier failback (its release is the recorded intent), the alarm evaluated
    # every minute as in AWS
    platform.alarms.enable()
    move_traffic(platform, PRIMARY)
    published = pin_values(platform)

    # When a planned failover's MoveTraffic publishes the pin, then is refused the alarm's state
    platform.cloud.faults.inject("cloudwatch", "SetAlarmState", "access-denied", times=None)
    execution = start(platform, "failover", {"mode": "planned", "reason": "drill"})
    described = run_to_end(platform, execution)
    assert described["status"] == "FAILED"
    record = audit(platform, execution)
    assert record["fail_state"] == "FailTrafficMove"

    # Then the record does not call the traffic unchanged: the pin this run recorded is on its way
    assert not any(line.startswith("traffic") for line in record["unchanged"]), record
    assert any(line.startswith("traffic: moving to us-west-2") for line in record["unknown"]), record
    assert lease(platform)["state"] == "BLOCKED"  # the writer moved: a person looks

    # and users end in the recovery region and stay there: the keeper publishes the recorded pin, not the
    # failback's older release (which would send them back after a minute)
    mark = platform.cloud.clock.now()
    platform.cloud.clock.sleep(300)
    assert [v for at, v in published if at > mark] == [1.0] * 5
    assert platform.traffic_region() == RECOVERY


def test_a_run_stopped_after_recording_the_pin_is_settled_as_moving_not_as_where_dns_still_answers(
    platform: Platform,
) -> None:
    # Given a planned failover stopped by a person while its MoveTraffic is publishing the pin (the intent is
    # recorded, DNS has not followed yet)
    platform.alarms.enable()
    sfn = platform.cloud.client("stepfunctions", RECOVERY)
    stopped: list[str] = []

    def stop_during_the_move(call: Call) -> None:
        if (call.service, call.operation) == ("cloudwatch", "SetAlarmState") and not stopped:
            stopped.append(execution)
            sfn.stop_execution(executionArn=execution, error="Operator.Stop", cause="stopped during the move")

    execution = start(platform, "failover", {"mode": "planned", "reason": "drill"})
    platform.cloud.interceptor.hook(stop_during_the_move)
    assert run_to_end(platform, execution)["status"] == "ABORTED"
    assert stopped == [execution]

    # When SettleAbandonedLease settles the lease the run left HELD
    settled = wait_until(lambda: (lease(platform).get("state") == "BLOCKED" and lease(platform)) or None)

    # Then its note says where users are going, not only where DNS answers this minute
    assert platform.traffic_region() == PRIMARY
    assert "users sent to us-east-1 now but moving to us-west-2" in settled["note"], settled["note"]
    assert any("moving to us-west-2" in fact for fact in settled.get("changed", [])), settled

    # and users do end in the recovery region, where the writer is
    platform.cloud.clock.sleep(300)
    assert platform.traffic_region() == RECOVERY
    assert platform.writer_region() == RECOVERY
