"""Event routing: what EventBridge does for this app, which moto's EventBridge does not (it does not
deliver to Step Functions).

- An event put on a bus (``PutEvents``) starts every state machine whose rule pattern in the template
  matches it, with the event envelope as input; a rule whose target is another region's bus forwards the
  event there (the primary region's alarm rule forwarding to the recovery region).
- Schedules (``rate(...)`` / ``cron(...)``) fire on the virtual clock: ``tick()`` starts the targets of
  every schedule whose next firing time has passed since the last tick.
- A Region whose EventBridge is down (``region_up`` says so: the ``region`` outage) delivers nothing:
  events put on its buses are dropped (``dropped`` counts them), its schedules do not fire, and a rule
  forwarding from it forwards nothing.
Pattern matching is moto's own ``EventPattern``; cron arithmetic is croniter's.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import boto3
from croniter import croniter
from moto.events.models import EventPattern

from localcloud.template import ACCOUNT_ID

_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_CRON = re.compile(r"^cron\((.+)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
MAX_FIRINGS_PER_TICK = 10  # a jump of days fires a frequent schedule only for its most recent slots


@dataclass
class Rule:
    region: str
    name: str
    pattern: dict[str, Any]
    target_arn: str
    bus: str = "default"
    input_json: str | None = None

    def matches(self, event: dict[str, Any]) -> bool:
        return bool(EventPattern.load(json.dumps(self.pattern)).matches_event(event))


@dataclass
class Schedule:
    region: str
    name: str
    expression: str
    target_arn: str
    input_json: str | None = None
    enabled: bool = True
    last_fired: datetime | None = None
    fired: list[datetime] = field(default_factory=list)

    def due(self, since: datetime, until: datetime) -> list[datetime]:
        """Firing times in (since, until]."""
        rate = _RATE.match(self.expression)
        if rate:
            step = int(rate.group(1)) * _UNIT_SECONDS[rate.group(2).rstrip("s")]
            times, t = [], since + timedelta(seconds=step)
            while t <= until:
                times.append(t)
                t += timedelta(seconds=step)
            return times
        cron = _CRON.match(self.expression)
        if not cron:
            raise ValueError(f"schedule {self.name}: {self.expression!r} is neither rate(...) nor cron(...)")
        it = croniter(aws_cron_to_croniter(cron.group(1)), since)
        times = []
        while (t := it.get_next(datetime)) <= until:
            times.append(t)
        return times


def aws_cron_to_croniter(fields: str) -> str:
    """AWS cron has six fields (min hour dom month dow year), ``?`` and days of week 1-7 from Sunday."""
    parts = fields.split()
    if len(parts) != 6:
        raise ValueError(f"cron({fields}): expected 6 fields (minutes hours day-of-month month day-of-week year)")
    minute, hour, dom, month, dow, _year = parts
    dom = "*" if dom == "?" else dom
    dow = "*" if dow == "?" else re.sub(r"\d", lambda m: str((int(m.group(0)) - 1) % 7), dow)
    return f"{minute} {hour} {dom} {month} {dow}"


class EventRouter:
    def __init__(self) -> None:
        self.rules: list[Rule] = []
        self.schedules: list[Schedule] = []
        self.started: list[dict[str, Any]] = []  # every execution the router started (for tests and drills)
        self._lock = threading.Lock()
        self._tick_lock = threading.RLock()
        self._last_tick: datetime | None = None
        self.region_up: Callable[[str], bool] = lambda _region: True
        self.dropped: list[dict[str, Any]] = []  # events a Region that was down did not deliver
        self.delivered: list[dict[str, Any]] = []  # every event a bus received: {region, bus, event}

    def add_rule(
        self,
        region: str,
        name: str,
        pattern: dict[str, Any],
        target_arn: str,
        bus: str = "default",
        input_json: str | None = None,
    ) -> None:
        self.rules.append(Rule(region, name, pattern, target_arn, bus, input_json))

    def add_schedule(
        self,
        region: str,
        name: str,
        expression: str,
        target_arn: str,
        input_json: str | None = None,
        enabled: bool = True,
    ) -> None:
        self.schedules.append(Schedule(region, name, expression, target_arn, input_json, enabled))

    # -- PutEvents -----------------------------------------------------------------------------------
    def on_put_events(self, region: str, entries: list[dict[str, Any]], now: datetime) -> None:
        for entry in entries:
            bus = entry.get("EventBusName") or "default"
            bus = bus.rsplit("/", 1)[-1]
            envelope = {
                "version": "0",
                "id": str(uuid.uuid4()),
                "detail-type": entry.get("DetailType", ""),
                "source": entry.get("Source", ""),
                "account": ACCOUNT_ID,
                "time": (entry.get("Time") or now).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "region": region,
                "resources": entry.get("Resources") or [],
                "detail": json.loads(entry.get("Detail") or "{}"),
            }
            self.dispatch(envelope, region, bus)

    def dispatch(self, event: dict[str, Any], region: str, bus: str, hops: int = 0) -> None:
        if not self.region_up(region):
            with self._lock:
                self.dropped.append({"region": region, "bus": bus, "event": event})
            return
        with self._lock:
            self.delivered.append({"region": region, "bus": bus, "event": event})
        for rule in [r for r in self.rules if r.region == region and r.bus == bus]:
            if not rule.matches(event):
                continue
            if ":event-bus/" in rule.target_arn and hops < 3:
                target_region = rule.target_arn.split(":")[3]
                target_bus = rule.target_arn.rsplit("/", 1)[-1]
                self.dispatch(dict(event), target_region, target_bus, hops + 1)
            elif ":states:" in rule.target_arn or ":lambda:" in rule.target_arn:
                self._start(rule.target_arn, rule.input_json or json.dumps(event), f"rule {rule.name}")

    # -- schedules -----------------------------------------------------------------------------------
    def tick(self, now: datetime) -> int:
        """Fire every schedule due since the last tick; returns how many targets were started.

        Ticks are serialized: a tick that finds its slots already taken by a concurrent tick (the clock's
        scheduler thread) returns only once those firings have completed, so what they publish is there
        when the caller goes on."""
        with self._tick_lock:
            return self._tick(now)

    def _tick(self, now: datetime) -> int:
        with self._lock:
            since, self._last_tick = self._last_tick or now, max(now, self._last_tick or now)
        started = 0
        for schedule in self.schedules:
            if not schedule.enabled or not self.region_up(schedule.region):
                continue
            for moment in schedule.due(since, now)[-MAX_FIRINGS_PER_TICK:]:
                event = {
                    "version": "0",
                    "id": str(uuid.uuid4()),
                    "detail-type": "Scheduled Event",
                    "source": "aws.events",
                    "account": ACCOUNT_ID,
                    "time": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "region": schedule.region,
                    "resources": [f"arn:aws:events:{schedule.region}:{ACCOUNT_ID}:rule/{schedule.name}"],
                    "detail": {},
                }
                schedule.fired.append(moment)
                self._start(schedule.target_arn, schedule.input_json or json.dumps(event), f"schedule {schedule.name}")
                started += 1
        return started

    def _start(self, target_arn: str, input_json: str, why: str) -> None:
        """Start a state machine, or invoke a function asynchronously, as the rule's target."""
        region = target_arn.split(":")[3]
        if ":lambda:" in target_arn:
            # EventBridge invokes asynchronously; here the invocation completes at its firing time, so what
            # it publishes (the probe's metric) is there before anything reads it: same result, no race.
            boto3.client("lambda", region_name=region).invoke(
                FunctionName=target_arn, InvocationType="RequestResponse", Payload=input_json.encode()
            )
            return
        sfn = boto3.client("stepfunctions", region_name=region)
        # EventBridge names each execution it starts (moto would name every one "None").
        out = sfn.start_execution(stateMachineArn=target_arn, input=input_json, name=str(uuid.uuid4()))
        with self._lock:
            self.started.append({"executionArn": out["executionArn"], "stateMachineArn": target_arn, "why": why})
