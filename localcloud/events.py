"""Event routing: what EventBridge does for this app, which moto's EventBridge does not (it does not
deliver to Step Functions).

- An event put on a bus (``PutEvents``) starts every state machine whose rule pattern in the template
  matches it, with the event envelope as input; a rule whose target is another region's bus forwards the
  event there (the primary region's alarm rule forwarding to the recovery region).
- Schedules (``rate(...)`` / ``cron(...)``) fire on the virtual clock: ``tick()`` starts the targets of
  every schedule whose next firing time has passed since the last tick.
- A rule's target may be a state machine, a function, an SNS topic (published as ``events.amazonaws.com``:
  the topic policy and the topic's KMS key policy must let that service in, as AWS checks them) or another
  Region's bus. A target that cannot be reached or refuses (an error, a denial, a missing policy grant) is
  dead-lettered: the event goes to the target's ``DeadLetterConfig`` queue with EventBridge's message
  attributes (RULE_ARN, TARGET_ARN, ERROR_CODE, ERROR_MESSAGE) if the queue policy lets the rule send (a
  schedule sends with its own role, which SAM grants), else it is lost; ``undelivered`` lists both.
  Retries are not replayed on the clock: a failed delivery is dead-lettered at once (harsher than AWS's
  RetryPolicy, never kinder).
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
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from croniter import croniter
from moto.core import DEFAULT_ACCOUNT_ID
from moto.events.models import EventPattern
from moto.kms.models import kms_backends
from moto.sns.models import sns_backends
from moto.sqs.models import sqs_backends

from localcloud import sdk
from localcloud.iam.policy import conditions_hold, wildcard_match
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
    dead_letter_arn: str | None = None

    @property
    def arn(self) -> str:
        return f"arn:aws:events:{self.region}:{ACCOUNT_ID}:rule/{self.name}"

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
    dead_letter_arn: str | None = None
    last_fired: datetime | None = None  # the slot it last fired for; before that, the first tick that saw it
    fired: list[datetime] = field(default_factory=list)

    def due(self, since: datetime, until: datetime) -> list[datetime]:
        """Firing times in (since, until]. A rate schedule keeps its phase: its slots are a whole number of
        steps after the slot it last fired for, or after the tick that first saw it (as AWS's keep the phase
        of their creation), however often the clock moves in between."""
        times = []
        slots = self._slots(since)
        while (t := next(slots)) <= until:
            times.append(t)
        return times

    def next_after(self, since: datetime) -> datetime:
        """The first firing time after ``since`` (what ``due`` would list first)."""
        return next(self._slots(since))

    def _slots(self, since: datetime) -> Iterator[datetime]:
        rate = _RATE.match(self.expression)
        if rate:
            step = timedelta(seconds=int(rate.group(1)) * _UNIT_SECONDS[rate.group(2).rstrip("s")])
            anchor = self.last_fired if self.last_fired is not None and self.last_fired <= since else since
            t = anchor + step * ((since - anchor) // step + 1)
            while True:
                yield t
                t += step
        cron = _CRON.match(self.expression)
        if not cron:
            raise ValueError(f"schedule {self.name}: {self.expression!r} is neither rate(...) nor cron(...)")
        it = croniter(aws_cron_to_croniter(cron.group(1)), since)
        while True:
            yield it.get_next(datetime)


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
        # targets that failed: {source, target, error, dead_letter (the queue, or None when it was lost)}
        self.undelivered: list[dict[str, Any]] = []
        self.delivered: list[dict[str, Any]] = []  # every event a bus received: {region, bus, event}
        # the clients EventBridge starts its targets with (LocalCloud gives its own cached ones)
        self.client: Callable[[str, str], Any] = sdk.client

    def add_rule(
        self,
        region: str,
        name: str,
        pattern: dict[str, Any],
        target_arn: str,
        bus: str = "default",
        input_json: str | None = None,
        dead_letter_arn: str | None = None,
    ) -> None:
        self.rules.append(Rule(region, name, pattern, target_arn, bus, input_json, dead_letter_arn))

    def add_schedule(
        self,
        region: str,
        name: str,
        expression: str,
        target_arn: str,
        input_json: str | None = None,
        enabled: bool = True,
        dead_letter_arn: str | None = None,
    ) -> None:
        self.schedules.append(
            Schedule(region, name, expression, target_arn, input_json, enabled, dead_letter_arn=dead_letter_arn)
        )

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
            elif any(f":{service}:" in rule.target_arn for service in ("states", "lambda", "sns")):
                self._deliver(rule.target_arn, rule.input_json or json.dumps(event), rule.arn, rule.dead_letter_arn)

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
            if schedule.last_fired is None:  # its phase: created (or first seen) at the last tick
                schedule.last_fired = since
            slots = schedule.due(since, now)
            if slots:
                schedule.last_fired = slots[-1]
            for moment in slots[-MAX_FIRINGS_PER_TICK:]:
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
                source = f"arn:aws:scheduler:{schedule.region}:{ACCOUNT_ID}:schedule/default/{schedule.name}"
                started += self._deliver(
                    schedule.target_arn, schedule.input_json or json.dumps(event), source, schedule.dead_letter_arn
                )
        return started

    def next_due(self) -> datetime | None:
        """The first slot of an enabled schedule after the last tick: where the clock stops when it jumps
        over it (VirtualClock.wakeups), so that a schedule fires at its slot's time, as in AWS, not at the end
        of a jump with every other slot the jump covered (heartbeats written at once, a minute apart in AWS)."""
        since = self._last_tick
        if since is None:
            return None
        slots = [s.next_after(since) for s in list(self.schedules) if s.enabled and self.region_up(s.region)]
        return min(slots, default=None)

    def _deliver(self, target_arn: str, input_json: str, source_arn: str, dead_letter_arn: str | None) -> int:
        """Deliver to one target (1 when it took the event); a failure goes to the dead-letter queue."""
        kind, name = source_arn.split(":")[5].split("/", 1)[0], source_arn.rsplit("/", 1)[-1]
        try:
            self._start(target_arn, input_json, f"{kind} {name}", source_arn)
        except Exception as err:  # whatever the target answered: EventBridge dead-letters it
            code = getattr(err, "response", {}).get("Error", {}).get("Code") or type(err).__name__
            lost = self._dead_letter(dead_letter_arn, input_json, source_arn, target_arn, code, str(err))
            with self._lock:
                self.undelivered.append(
                    {"source": source_arn, "target": target_arn, "error": f"{code}: {err}", "dead_letter": lost}
                )
            return 0
        return 1

    @staticmethod
    def _dead_letter(queue_arn: str | None, body: str, source: str, target: str, code: str, why: str) -> str | None:
        """The queue the event went to, or None when there is none or its policy does not let the rule send."""
        if not queue_arn:
            return None
        region, name = queue_arn.split(":")[3], queue_arn.split(":")[5]
        backend = sqs_backends[DEFAULT_ACCOUNT_ID][region]
        queue = backend.queues.get(name)
        if queue is None:
            return None
        if ":rule/" in source:  # a rule sends as events.amazonaws.com; a schedule with its own role
            policy = _document(getattr(queue, "policy", None))
            if not service_allowed(policy, "events.amazonaws.com", "sqs:SendMessage", queue_arn, source):
                return None
        attributes = {
            key: {"DataType": "String", "StringValue": value[:256]}
            for key, value in (
                ("RULE_ARN", source),
                ("TARGET_ARN", target),
                ("ERROR_CODE", code),
                ("ERROR_MESSAGE", why),
            )
        }
        backend.send_message(name, body, message_attributes=attributes)
        return queue_arn

    def _start(self, target_arn: str, input_json: str, why: str, source_arn: str = "") -> None:
        """Start a state machine, invoke a function asynchronously or publish to a topic, as the target."""
        region = target_arn.split(":")[3]
        if ":sns:" in target_arn:
            _publish_as_events(target_arn, input_json, source_arn)
            return
        if ":lambda:" in target_arn:
            # EventBridge invokes asynchronously; here the invocation completes at its firing time, so what
            # it publishes (the probe's metric) is there before anything reads it: same result, no race.
            self.client("lambda", region).invoke(
                FunctionName=target_arn, InvocationType="RequestResponse", Payload=input_json.encode()
            )
            return
        sfn = self.client("stepfunctions", region)
        # EventBridge names each execution it starts (moto would name every one "None").
        out = sfn.start_execution(stateMachineArn=target_arn, input=input_json, name=str(uuid.uuid4()))
        with self._lock:
            self.started.append({"executionArn": out["executionArn"], "stateMachineArn": target_arn, "why": why})


def service_allowed(policy: dict[str, Any], service: str, action: str, resource: str, source_arn: str) -> bool:
    """Does a resource or key policy let ``service`` do ``action`` for ``source_arn`` (aws:SourceArn,
    aws:SourceAccount) with no Deny? Only Service principals (and ``*``) count: the service is the caller."""
    context = {"aws:SourceArn": source_arn, "aws:SourceAccount": ACCOUNT_ID}
    allowed = False
    for statement in _listed(policy.get("Statement")):
        principal = statement.get("Principal")
        services = _listed(principal.get("Service")) if isinstance(principal, dict) else []
        if principal != "*" and service not in services:
            continue
        if not any(wildcard_match(str(a), action, ignore_case=True) for a in _listed(statement.get("Action"))):
            continue
        if not any(wildcard_match(str(r), resource) for r in _listed(statement.get("Resource", "*"))):
            continue
        if not conditions_hold(statement.get("Condition"), context):
            continue
        if statement.get("Effect") == "Deny":
            return False
        allowed = True
    return allowed


def _document(policy: Any) -> dict[str, Any]:
    return policy if isinstance(policy, dict) else json.loads(policy or "{}")


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [] if value is None else [value]


def _publish_as_events(topic_arn: str, message: str, source_arn: str) -> None:
    """EventBridge publishing to a topic: the topic policy must let events.amazonaws.com publish, and the
    topic's KMS key (if any) must let it GenerateDataKey and Decrypt; otherwise the delivery fails."""
    region = topic_arn.split(":")[3]
    backend = sns_backends[DEFAULT_ACCOUNT_ID][region]
    topic = backend.topics.get(topic_arn)
    if topic is None:
        raise LookupError(f"NotFound: topic {topic_arn} does not exist")
    policy = _document(getattr(topic, "policy", None))
    if not service_allowed(policy, "events.amazonaws.com", "sns:Publish", topic_arn, source_arn):
        raise PermissionError(
            f"AuthorizationError: the policy of {topic_arn} does not let events.amazonaws.com publish"
        )
    key_id = getattr(topic, "kms_master_key_id", "")
    if key_id:
        try:
            key = kms_backends[DEFAULT_ACCOUNT_ID][region].describe_key(key_id)
        except Exception as err:  # moto's NotFoundException: an unknown key, as KMS would say
            raise LookupError(f"KMS.NotFoundException: key {key_id} of {topic_arn} does not exist") from err
        key_policy = json.loads(key.policy or "{}")
        for action in ("kms:GenerateDataKey", "kms:Decrypt"):
            if not service_allowed(key_policy, "events.amazonaws.com", action, "*", source_arn):
                raise PermissionError(
                    f"KMS.AccessDeniedException: the policy of key {key_id} does not let events.amazonaws.com {action}"
                )
    backend.publish(message, arn=topic_arn)
