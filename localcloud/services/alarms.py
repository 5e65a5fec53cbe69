"""CloudWatch metric alarms evaluated on the virtual clock, with their actions and EventBridge events.

moto stores alarms (``PutMetricAlarm``) but never evaluates them, and ``SetAlarmState`` changes the
state silently. ``AlarmEvaluator`` does what CloudWatch does (CloudWatch User Guide, "Using Amazon
CloudWatch alarms", "Evaluating an alarm", "Configuring how CloudWatch alarms treat missing data",
"Alarm events and EventBridge"):

- every virtual minute (``tick``, a clock listener once ``enable()``d), every metric alarm of every
  Region is evaluated at the minute boundary from the datapoints in moto's CloudWatch (the
  ``MetricsSimulator``'s series of the Region are published first); a jump of the clock evaluates
  each boundary it crossed (at most the last ``MAX_EVALUATIONS_PER_TICK``);
- a single-metric alarm aggregates its metric (Namespace, MetricName, exactly its Dimensions) per
  ``Period`` with ``Statistic`` (SampleCount, Sum, Average, Minimum, Maximum) or an
  ``ExtendedStatistic`` pNN; a metric-math alarm computes each ``MetricStat`` the same way and then the
  expression of the query that returns data, per period: ``+ - * /`` on ids and numbers, parentheses,
  and ``MAX``/``MIN``/``SUM``/``AVG`` of ``[a, b, ...]``; an arithmetic operation with a missing operand
  is missing, ``MAX([...])`` and its kin skip missing members (missing when all are);
- the evaluation range is the last ``EvaluationPeriods + EXTRA_PERIODS`` complete periods (AWS
  retrieves "a higher number of data points than Evaluation Periods" without publishing how many);
  when at least ``EvaluationPeriods`` of them hold data, the most recent ``EvaluationPeriods`` real
  datapoints are evaluated and ``TreatMissingData`` plays no part; otherwise ``breaching`` /
  ``notBreaching`` fill the most recent missing periods (as few as needed), ``missing`` evaluates the
  real datapoints alone and goes ``INSUFFICIENT_DATA`` when there are none, ``ignore`` evaluates the real
  datapoints alone and keeps the current state when there are none; metrics of ``AWS/DynamoDB`` always
  ignore missing data, as AWS documents;
- ALARM when at least ``DatapointsToAlarm`` (default ``EvaluationPeriods``) evaluated datapoints
  breach the ``Threshold`` under the ``ComparisonOperator``; otherwise OK;
- a new alarm starts ``INSUFFICIENT_DATA`` (moto creates it OK with "Unchecked: Initial alarm
  creation"; the evaluator corrects that before the alarm's first evaluation);
- a state change (by evaluation or ``SetAlarmState``): the state, reason and reasonData are set in
  moto (the alarm history keeps the previous state); the actions of the new state run when
  ``ActionsEnabled``: an SNS topic receives CloudWatch's alarm message (JSON, subject
  ``ALARM: "name" in <Region name>``), published as the service principal ``cloudwatch.amazonaws.com``
  (so a topic encrypted with a KMS key whose policy does not let that principal use it gets nothing,
  and the failure is recorded in ``failed_actions``); and the "CloudWatch Alarm State Change" event is
  put on the Region's default bus through the ``EventRouter``, so the template's rules fire;
- a Region whose alarms do not evaluate (``evaluates(region)`` False: the ``region`` outage) is left
  alone.

Not modeled: composite alarms, anomaly-detection and Metrics Insights alarms, high-resolution periods,
``EvaluateLowSampleCountPercentile``, actions other than SNS (Auto Scaling, EC2, Systems Manager),
the alarm history's action entries, ``DescribeAlarmHistory`` beyond what moto keeps.
"""

from __future__ import annotations

import json
import math
import re
import threading
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from moto.cloudwatch.models import cloudwatch_backends
from moto.core import DEFAULT_ACCOUNT_ID
from moto.kms.models import kms_backends
from moto.sns.models import sns_backends

from localcloud.clock import VirtualClock
from localcloud.events import EventRouter
from localcloud.interceptor import Call, Interceptor, Response
from localcloud.services.metrics import MetricsSimulator
from localcloud.services.passthrough import moto_response
from localcloud.template import ACCOUNT_ID

EXTRA_PERIODS = 2
MAX_EVALUATIONS_PER_TICK = 10
INITIAL_REASON = "Unchecked: Initial alarm creation"
SERVICE_PRINCIPAL = "cloudwatch.amazonaws.com"
REGION_NAMES = {
    "us-east-1": "US East (N. Virginia)",
    "us-east-2": "US East (Ohio)",
    "us-west-1": "US West (N. California)",
    "us-west-2": "US West (Oregon)",
    "eu-west-1": "EU (Ireland)",
    "eu-central-1": "EU (Frankfurt)",
}
_COMPARISONS: dict[str, tuple[Callable[[float, float], bool], str]] = {
    "GreaterThanOrEqualToThreshold": (lambda v, t: v >= t, "greater than or equal to"),
    "GreaterThanThreshold": (lambda v, t: v > t, "greater than"),
    "LessThanThreshold": (lambda v, t: v < t, "less than"),
    "LessThanOrEqualToThreshold": (lambda v, t: v <= t, "less than or equal to"),
}

Value = float | None
SeriesKey = tuple[str, str, frozenset[tuple[str, str]]]


def _naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo is not None else moment


def _stamp(moment: datetime) -> str:
    """CloudWatch's timestamp format in events and reasonData: 2019-10-02T17:04:40.985+0000."""
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return aware.strftime("%Y-%m-%dT%H:%M:%S.") + f"{aware.microsecond // 1000:03d}+0000"


def _short(moment: datetime) -> str:
    return moment.strftime("%d/%m/%y %H:%M:%S")


# -- metric data ------------------------------------------------------------------------------------
class MetricIndex:
    """moto's datapoints of one Region, grouped by metric identity (namespace, name, dimension set)."""

    def __init__(self, backend: Any) -> None:
        self._points: dict[SeriesKey, list[Any]] = defaultdict(list)
        for datum in list(backend.metric_data):
            key = (datum.namespace, datum.name, frozenset((d.name, d.value) for d in datum.dimensions))
            self._points[key].append(datum)

    def aggregate(self, key: SeriesKey, stat: str, start: datetime, period: int) -> Value:
        """``stat`` of the metric's datapoints with a timestamp in [start, start + period)."""
        end = start + timedelta(seconds=period)
        raw: list[float] = []
        stats: list[tuple[float, float, float, float]] = []  # (sum, min, max, count)
        for datum in self._points.get(key, []):
            if not start <= _naive_utc(datum.timestamp) < end:
                continue
            if hasattr(datum, "value"):
                raw.append(float(datum.value))
                stats.append((float(datum.value), float(datum.value), float(datum.value), 1.0))
            else:
                stats.append((datum.sum_stat, datum.min_stat, datum.max_stat, datum.sample_count))
        if not stats:
            return None
        count = sum(s[3] for s in stats)
        total = sum(s[0] for s in stats)
        simple: dict[str, Callable[[], Value]] = {
            "SampleCount": lambda: count,
            "Sum": lambda: total,
            "Average": lambda: total / count if count else None,
            "Minimum": lambda: min(s[1] for s in stats),
            "Maximum": lambda: max(s[2] for s in stats),
        }
        if stat in simple:
            return simple[stat]()
        percentile = re.fullmatch(r"p(\d+(?:\.\d+)?)", stat)
        if percentile and raw:
            ordered = sorted(raw)
            rank = max(1, math.ceil(float(percentile.group(1)) / 100 * len(ordered)))
            return ordered[rank - 1]
        raise ValueError(f"statistic {stat!r} is not supported by localcloud's alarm evaluation")

    def latest(self, keys: list[SeriesKey]) -> datetime | None:
        """The newest timestamp among the datapoints of ``keys`` (naive UTC), None when there are none."""
        stamps = [_naive_utc(d.timestamp) for key in keys for d in self._points.get(key, [])]
        return max(stamps, default=None)


def metric_keys(alarm: Any) -> list[SeriesKey]:
    if not _queries(alarm):
        return [metric_key(alarm.namespace, alarm.metric_name, alarm.dimensions)]
    return [
        metric_key(q.metric_stat.metric.namespace, q.metric_stat.metric.metric_name, q.metric_stat.metric.dimensions)
        for q in _queries(alarm)
        if q.metric_stat is not None
    ]


def metric_key(namespace: str, name: str, dimensions: list[Any]) -> SeriesKey:
    pairs = []
    for d in dimensions:
        pairs.append((d["Name"], d["Value"]) if isinstance(d, dict) else (d.name, d.value))
    return (namespace, name, frozenset(pairs))


# -- metric math ------------------------------------------------------------------------------------
_TOKEN = re.compile(r"\s*(?:(\d+(?:\.\d+)?)|([A-Za-z_][A-Za-z0-9_]*)|(.))")


class Expression:
    """The metric-math subset the template uses: + - * / ( ) numbers, ids, MAX/MIN/SUM/AVG([...])."""

    FUNCTIONS: dict[str, Callable[[list[float]], float]] = {
        "MAX": max,
        "MIN": min,
        "SUM": sum,
        "AVG": lambda values: sum(values) / len(values),
    }

    def __init__(self, text: str) -> None:
        self.text = text
        self._tokens = [(n, i, o) for n, i, o in _TOKEN.findall(text) if n or i or o.strip()]
        self._pos = 0

    def evaluate(self, values: dict[str, Value]) -> Value:
        self._pos, self._values = 0, values
        result = self._sum()
        if self._pos != len(self._tokens):
            raise ValueError(f"metric math {self.text!r}: unexpected {self._peek()!r}")
        return result

    def _peek(self) -> str:
        if self._pos >= len(self._tokens):
            return ""
        number, ident, other = self._tokens[self._pos]
        return number or ident or other

    def _take(self, expected: str | None = None) -> str:
        token = self._peek()
        if expected is not None and token != expected:
            raise ValueError(f"metric math {self.text!r}: expected {expected!r}, found {token!r}")
        self._pos += 1
        return token

    def _sum(self) -> Value:
        left = self._product()
        while self._peek() in ("+", "-"):
            op, right = self._take(), self._product()
            left = None if left is None or right is None else (left + right if op == "+" else left - right)
        return left

    def _product(self) -> Value:
        left = self._factor()
        while self._peek() in ("*", "/"):
            op, right = self._take(), self._factor()
            if left is None or right is None:
                left = None
            elif op == "*":
                left = left * right
            else:
                left = left / right if right else None
        return left

    def _factor(self) -> Value:
        token = self._peek()
        if token == "(":
            self._take("(")
            value = self._sum()
            self._take(")")
            return value
        if token == "-":
            self._take()
            inner = self._factor()
            return None if inner is None else -inner
        number, ident, _ = self._tokens[self._pos] if self._pos < len(self._tokens) else ("", "", "")
        if number:
            self._take()
            return float(number)
        if ident and ident.upper() in self.FUNCTIONS:
            self._take()
            self._take("(")
            self._take("[")
            members = [self._sum()]
            while self._peek() == ",":
                self._take(",")
                members.append(self._sum())
            self._take("]")
            self._take(")")
            present = [m for m in members if m is not None]
            return self.FUNCTIONS[ident.upper()](present) if present else None
        if ident:
            self._take()
            if ident not in self._values:
                raise ValueError(f"metric math {self.text!r}: {ident!r} is not the id of a metric of the alarm")
            return self._values[ident]
        raise ValueError(f"metric math {self.text!r}: unexpected {token!r}")


# -- one evaluation ---------------------------------------------------------------------------------
@dataclass
class Verdict:
    """An evaluation's outcome; ``state`` None keeps the current state (``ignore`` with no data)."""

    state: str | None
    reason: str
    reason_data: dict[str, Any] = field(default_factory=dict)


def _queries(alarm: Any) -> list[Any]:
    return list(alarm.metric_data_queries or [])


def alarm_period(alarm: Any) -> int:
    if not _queries(alarm):
        return int(alarm.period)
    periods = [int(q.metric_stat.period) for q in _queries(alarm) if q.metric_stat is not None and q.metric_stat.period]
    return max(periods) if periods else 60


def _statistic(alarm: Any) -> str:
    if _queries(alarm):
        stats = {q.metric_stat.stat for q in _queries(alarm) if q.metric_stat is not None}
        return stats.pop() if len(stats) == 1 else "Mixed"
    return str(alarm.statistic or alarm.extended_statistic)


def _namespaces(alarm: Any) -> set[str]:
    if _queries(alarm):
        return {q.metric_stat.metric.namespace for q in _queries(alarm) if q.metric_stat is not None}
    return {alarm.namespace}


def series(alarm: Any, index: MetricIndex, starts: list[datetime]) -> list[Value]:
    """The alarm's value for each period starting at ``starts`` (None: missing)."""
    period = alarm_period(alarm)
    if not _queries(alarm):
        key = metric_key(alarm.namespace, alarm.metric_name, alarm.dimensions)
        stat = str(alarm.statistic or alarm.extended_statistic)
        return [index.aggregate(key, stat, start, period) for start in starts]
    stats: dict[str, list[Value]] = {}
    for query in _queries(alarm):
        if query.metric_stat is None:
            continue
        metric = query.metric_stat.metric
        key = metric_key(metric.namespace, metric.metric_name, metric.dimensions)
        stat_period = int(query.metric_stat.period or period)
        stats[query.id] = [index.aggregate(key, query.metric_stat.stat, start, stat_period) for start in starts]
    returned = [q for q in _queries(alarm) if str(q.return_data).lower() not in ("false", "0")]
    if len(returned) != 1:
        raise ValueError(f"alarm {alarm.name}: expected exactly one query returning data, found {len(returned)}")
    query = returned[0]
    if query.expression is None:
        return stats[query.id]
    expression = Expression(str(query.expression))
    return [expression.evaluate({qid: values[i] for qid, values in stats.items()}) for i in range(len(starts))]


def evaluate(alarm: Any, index: MetricIndex, at: datetime, current_state: str) -> Verdict:
    """What CloudWatch concludes about ``alarm`` at the minute boundary ``at`` (naive UTC)."""
    period = alarm_period(alarm)
    n = int(alarm.evaluation_periods)
    m = int(alarm.datapoints_to_alarm or n)
    threshold = float(alarm.threshold)
    compare, phrase = _COMPARISONS[str(alarm.comparison_operator)]
    end = datetime.fromtimestamp((int(at.replace(tzinfo=UTC).timestamp()) // period) * period, UTC).replace(tzinfo=None)
    starts = [end - timedelta(seconds=period * (n + EXTRA_PERIODS - i)) for i in range(n + EXTRA_PERIODS)]
    values = series(alarm, index, starts)
    treat = str(alarm.treat_missing_data or "missing")
    if "AWS/DynamoDB" in _namespaces(alarm):
        treat = "ignore"  # AWS: alarms on AWS/DynamoDB metrics always ignore missing data
    real = [(start, value) for start, value in zip(starts, values, strict=True) if value is not None]
    base = {
        "version": "1.0",
        "queryDate": _stamp(at),
        "statistic": _statistic(alarm),
        "period": period,
        "threshold": threshold,
    }
    if len(real) >= n:
        window = real[-n:]
        filled: list[tuple[datetime, bool]] = []
    else:
        missing = [start for start, value in zip(starts, values, strict=True) if value is None]
        window = real
        filled = []
        if treat in ("breaching", "notBreaching"):
            filled = [(start, treat == "breaching") for start in missing[-(n - len(real)) :]]
        elif not real:
            if treat == "ignore":
                return Verdict(None, "no datapoints; missing data ignored")
            return Verdict(
                "INSUFFICIENT_DATA",
                f"Insufficient Data: {n} datapoint{'s were' if n != 1 else ' was'} unknown.",
                {**base, "startDate": _stamp(starts[-n]), "recentDatapoints": [], "evaluatedDatapoints": []},
            )
    breaching = sum(1 for _, value in window if compare(value, threshold)) + sum(1 for _, b in filled if b)
    state = "ALARM" if breaching >= m else "OK"
    evaluated = sorted(window, key=lambda p: p[0], reverse=True)
    shown = ", ".join(f"{value} ({_short(start)})" for start, value in evaluated)
    if window:
        count = len(window) + len(filled)
        verb = "was" if len(window) == 1 else "were"
        negation = "" if state == "ALARM" else "not "
        crossed = breaching if state == "ALARM" else count - breaching
        reason = (
            f"Threshold Crossed: {crossed} out of the last {count} datapoints [{shown}] {verb} {negation}{phrase} "
            f"the threshold ({threshold})"
        )
        if filled:
            reason += f" and {len(filled)} missing datapoints were treated as [{treat[0].upper() + treat[1:]}]"
        transition = "OK -> ALARM" if state == "ALARM" else "ALARM -> OK"
        needed = m if state == "ALARM" else 1
        reason += f" (minimum {needed} datapoint{'s' if needed != 1 else ''} for {transition} transition)."
    else:
        reason = (
            f"Threshold Crossed: no datapoints were received for {len(filled)} periods and {len(filled)} "
            f"missing datapoints were treated as [{treat[0].upper() + treat[1:]}]."
        )
    data = {
        **base,
        "startDate": _stamp(min([s for s, _ in window] + [s for s, _ in filled])),
        "recentDatapoints": [value for _, value in sorted(window, key=lambda p: p[0])],
        "evaluatedDatapoints": [{"timestamp": _stamp(start), "value": value} for start, value in evaluated],
    }
    return Verdict(state, reason, data)


# -- the evaluator ----------------------------------------------------------------------------------
class AlarmEvaluator:
    """Evaluates moto's alarms every virtual minute; runs actions and emits events on state changes."""

    def __init__(
        self,
        clock: VirtualClock,
        router: EventRouter,
        metrics: MetricsSimulator | None = None,
        evaluates: Callable[[str], bool] = lambda _region: True,
    ) -> None:
        self.clock = clock
        self.router = router
        self.metrics = metrics
        self.evaluates = evaluates
        self.enabled = False
        self.transitions: list[dict[str, Any]] = []  # every state change: region, alarm, from, to, at, why
        self.failed_actions: list[dict[str, Any]] = []
        self.errors: list[str] = []  # alarms the evaluation could not handle (unsupported statistic, math)
        self._last: datetime | None = None
        self._lock = threading.RLock()

    # -- switching on --------------------------------------------------------------------------------
    def enable(self) -> None:
        """Start evaluating every virtual minute from now (idempotent)."""
        with self._lock:
            if self.enabled:
                return
            self.enabled = True
            self._last = self.clock.now()
        self.clock.listeners.append(self.tick)

    def disable(self) -> None:
        with self._lock:
            self.enabled = False
        if self.tick in self.clock.listeners:
            self.clock.listeners.remove(self.tick)

    # -- evaluation ----------------------------------------------------------------------------------
    def tick(self, now: datetime) -> int:
        """Evaluate at every minute boundary in (last tick, now]; returns the state changes made."""
        with self._lock:
            if not self.enabled:
                return 0
            last = self._last or now
            self._last = max(now, last)
            first = int(last.timestamp()) // 60 + 1
            final = int(now.timestamp()) // 60
            boundaries = [datetime.fromtimestamp(k * 60, UTC) for k in range(first, final + 1)]
            return sum(self.evaluate_all(b) for b in boundaries[-MAX_EVALUATIONS_PER_TICK:])

    def evaluate_all(self, at: datetime) -> int:
        """Evaluate every metric alarm of every Region at ``at``; returns the state changes made."""
        changes = 0
        with self._lock:
            for region, backend in list(cloudwatch_backends[DEFAULT_ACCOUNT_ID].items()):
                if not backend.alarms or not self.evaluates(region):
                    continue
                if self.metrics is not None:
                    self.metrics.publish(region)
                index = MetricIndex(backend)
                for alarm in list(backend.alarms.values()):
                    if alarm.rule:  # composite alarm
                        continue
                    changes += self._evaluate_one(region, alarm, index, at)
        return changes

    def _evaluate_one(self, region: str, alarm: Any, index: MetricIndex, at: datetime) -> int:
        if alarm.state_reason == INITIAL_REASON and not alarm.history:
            alarm.state_value = "INSUFFICIENT_DATA"  # AWS creates alarms in INSUFFICIENT_DATA
        if any(str(q.expression or "").lstrip().upper().startswith("SELECT") for q in _queries(alarm)):
            why = f"{region} {alarm.name}: Metrics Insights alarms are not modeled (it stays {alarm.state_value})"
            if why not in self.errors:
                self.errors.append(why)
            return 0
        try:
            verdict = evaluate(alarm, index, _naive_utc(at), alarm.state_value)
        except (ValueError, KeyError) as error:
            self.errors.append(f"{region} {alarm.name}: {error}")
            return 0
        if verdict.state is None or verdict.state == alarm.state_value:
            return 0
        self.change_state(region, alarm, verdict.state, verdict.reason, json.dumps(verdict.reason_data), "evaluation")
        return 1

    def state_of(self, region: str, alarm_name: str, at: datetime | None = None) -> str | None:
        """What the alarm's data stream says now (OK / ALARM / INSUFFICIENT_DATA), whatever its stored
        state (``SetAlarmState`` plays no part) and whether or not evaluation is on; an alarm that ignores
        missing data says what its last datapoints said; None when the alarm does not exist (Route 53's
        CLOUDWATCH_METRIC health checks read the data stream this way)."""
        backend = cloudwatch_backends[DEFAULT_ACCOUNT_ID][region]
        alarm = backend.alarms.get(alarm_name)
        if alarm is None:
            return None
        if self.metrics is not None:
            self.metrics.publish(region)
        index = MetricIndex(backend)
        verdict = evaluate(alarm, index, _naive_utc(at or self.clock.now()), alarm.state_value)
        if verdict.state is None:  # ``ignore`` with no recent data: the state the last datapoints gave
            latest = index.latest(metric_keys(alarm))
            if latest is not None:
                period = alarm_period(alarm)
                after = datetime.fromtimestamp(
                    (int(latest.replace(tzinfo=UTC).timestamp()) // period + 1) * period, UTC
                )
                verdict = evaluate(alarm, index, _naive_utc(after), alarm.state_value)
        return verdict.state or "INSUFFICIENT_DATA"  # the data stream never said anything

    # -- a state change ----------------------------------------------------------------------------------
    def change_state(self, region: str, alarm: Any, state: str, reason: str, reason_data: str, why: str) -> None:
        """Set ``state`` in moto (unless already set by moto), run the state's actions, emit the event."""
        previous = {
            "value": alarm.state_value,
            "reason": alarm.state_reason,
            "reasonData": alarm.state_reason_data,
            "timestamp": _stamp(alarm.state_updated_timestamp),
        }
        if alarm.state_value != state or alarm.state_reason != reason:
            alarm.update_state(reason, reason_data, state)
        self._emitted(region, alarm, previous, why)

    def _emitted(self, region: str, alarm: Any, previous: dict[str, Any], why: str) -> None:
        now = alarm.state_updated_timestamp
        self.transitions.append(
            {
                "region": region,
                "alarm": alarm.name,
                "from": previous["value"],
                "to": alarm.state_value,
                "at": now,
                "why": why,
            }
        )
        if alarm.actions_enabled:
            actions = {
                "ALARM": alarm.alarm_actions,
                "OK": alarm.ok_actions,
                "INSUFFICIENT_DATA": alarm.insufficient_data_actions,
            }[alarm.state_value]
            for action in actions or []:
                self._run_action(region, alarm, action, previous)
        self.router.dispatch(self.event(region, alarm, previous), region, "default")

    def event(self, region: str, alarm: Any, previous: dict[str, Any]) -> dict[str, Any]:
        """The "CloudWatch Alarm State Change" event, as CloudWatch puts it on the default bus."""
        state: dict[str, Any] = {
            "value": alarm.state_value,
            "reason": alarm.state_reason,
            "reasonData": alarm.state_reason_data,
            "timestamp": _stamp(alarm.state_updated_timestamp),
        }
        detail = {
            "alarmName": alarm.name,
            "state": state,
            "previousState": previous,
            "configuration": {"metrics": configuration_metrics(alarm), "description": alarm.description or ""},
        }
        aware = alarm.state_updated_timestamp
        aware = aware.replace(tzinfo=UTC) if aware.tzinfo is None else aware
        return {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "CloudWatch Alarm State Change",
            "source": "aws.cloudwatch",
            "account": ACCOUNT_ID,
            "time": aware.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": region,
            "resources": [alarm.alarm_arn],
            "detail": detail,
        }

    def _run_action(self, region: str, alarm: Any, action: str, previous: dict[str, Any]) -> None:
        if ":sns:" not in action:
            self.failed_actions.append({"alarm": alarm.name, "action": action, "why": "only SNS actions are modeled"})
            return
        topic_region = action.split(":")[3]
        backend = sns_backends[DEFAULT_ACCOUNT_ID][topic_region]
        topic = backend.topics.get(action)
        if topic is None:
            self.failed_actions.append({"alarm": alarm.name, "action": action, "why": "topic does not exist"})
            return
        denied = _kms_denies(topic_region, getattr(topic, "kms_master_key_id", ""))
        if denied:
            self.failed_actions.append({"alarm": alarm.name, "action": action, "why": denied})
            return
        message = {
            "AlarmName": alarm.name,
            "AlarmDescription": alarm.description,
            "AWSAccountId": ACCOUNT_ID,
            "AlarmConfigurationUpdatedTimestamp": _stamp(alarm.configuration_updated_timestamp),
            "NewStateValue": alarm.state_value,
            "NewStateReason": alarm.state_reason,
            "StateChangeTime": _stamp(alarm.state_updated_timestamp),
            "Region": REGION_NAMES.get(region, region),
            "AlarmArn": alarm.alarm_arn,
            "OldStateValue": previous["value"],
            "OKActions": list(alarm.ok_actions or []),
            "AlarmActions": list(alarm.alarm_actions or []),
            "InsufficientDataActions": list(alarm.insufficient_data_actions or []),
            "Trigger": _trigger(alarm),
        }
        subject = f'{alarm.state_value}: "{alarm.name}" in {REGION_NAMES.get(region, region)}'[:100]
        backend.publish(json.dumps(message), arn=action, subject=subject)

    # -- SetAlarmState -------------------------------------------------------------------------------
    def _set_alarm_state(self, call: Call) -> Response:
        backend = cloudwatch_backends[DEFAULT_ACCOUNT_ID][call.region]
        name = call.params.get("AlarmName", "")
        alarm = backend.alarms.get(name)
        previous = None
        if alarm is not None:
            previous = {
                "value": alarm.state_value,
                "reason": alarm.state_reason,
                "reasonData": alarm.state_reason_data,
                "timestamp": _stamp(alarm.state_updated_timestamp),
            }
        response = moto_response(call)
        if alarm is not None and previous is not None and response[0] == 200 and alarm.state_value != previous["value"]:
            with self._lock:
                self._emitted(call.region, alarm, previous, "SetAlarmState")
        return response

    def register(self, interceptor: Interceptor) -> None:
        interceptor.route("cloudwatch", "SetAlarmState", self._set_alarm_state)


def configuration_metrics(alarm: Any) -> list[dict[str, Any]]:
    """``detail.configuration.metrics`` of the alarm event."""
    if not _queries(alarm):
        return [
            {
                "id": str(uuid.uuid5(uuid.NAMESPACE_URL, alarm.alarm_arn)),
                "metricStat": {
                    "metric": {
                        "namespace": alarm.namespace,
                        "name": alarm.metric_name,
                        "dimensions": {d.name: d.value for d in alarm.dimensions},
                    },
                    "period": int(alarm.period),
                    "stat": str(alarm.statistic or alarm.extended_statistic),
                },
                "returnData": True,
            }
        ]
    out = []
    for query in _queries(alarm):
        entry: dict[str, Any] = {"id": query.id, "returnData": str(query.return_data).lower() not in ("false", "0")}
        if query.expression is not None:
            entry["expression"] = query.expression
        if query.label:
            entry["label"] = query.label
        if query.metric_stat is not None:
            metric = query.metric_stat.metric
            entry["metricStat"] = {
                "metric": {
                    "namespace": metric.namespace,
                    "name": metric.metric_name,
                    "dimensions": {d.name: d.value for d in metric.dimensions},
                },
                "period": int(query.metric_stat.period),
                "stat": query.metric_stat.stat,
            }
        out.append(entry)
    return out


def _trigger(alarm: Any) -> dict[str, Any]:
    trigger: dict[str, Any] = {
        "Period": alarm_period(alarm),
        "EvaluationPeriods": int(alarm.evaluation_periods),
        "ComparisonOperator": alarm.comparison_operator,
        "Threshold": float(alarm.threshold),
        "TreatMissingData": alarm.treat_missing_data or "missing",
        "EvaluateLowSampleCountPercentile": "",
    }
    if _queries(alarm):
        trigger["Metrics"] = configuration_metrics(alarm)
    else:
        trigger.update(
            {
                "MetricName": alarm.metric_name,
                "Namespace": alarm.namespace,
                "StatisticType": "Statistic",
                "Statistic": str(alarm.statistic or "").upper(),
                "Unit": alarm.unit,
                "Dimensions": [{"value": d.value, "name": d.name} for d in alarm.dimensions],
            }
        )
    return trigger


def _kms_denies(region: str, key_id: str) -> str | None:
    """Why CloudWatch cannot publish to a topic encrypted with ``key_id`` (None when it can)."""
    if not key_id:
        return None
    try:
        key = kms_backends[DEFAULT_ACCOUNT_ID][region].describe_key(key_id)
    except Exception:  # moto's NotFoundException: an unknown key, as KMS would say
        return f"KMS key {key_id} of the topic does not exist"
    policy = json.loads(key.policy or "{}")
    for statement in policy.get("Statement", []):
        if statement.get("Effect") != "Allow":
            continue
        principal = statement.get("Principal", {})
        services = principal.get("Service", []) if isinstance(principal, dict) else []
        services = [services] if isinstance(services, str) else services
        if SERVICE_PRINCIPAL not in services and principal != "*":
            continue
        actions = statement.get("Action", [])
        actions = [actions] if isinstance(actions, str) else actions
        granted = {a.lower() for a in actions}
        if ({"kms:*", "kms:generatedatakey*", "kms:generatedatakey"} & granted) and (
            {"kms:*", "kms:decrypt"} & granted
        ):
            return None
    return f"the policy of KMS key {key_id} does not let {SERVICE_PRINCIPAL} use it (kms:GenerateDataKey*, kms:Decrypt)"
