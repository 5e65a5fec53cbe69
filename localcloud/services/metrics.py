"""CloudWatch metric series generated from live model state, on the virtual clock.

AWS services publish metrics on their own (Aurora's replication lag, Route 53's health-check status);
moto does not. ``MetricsSimulator`` fills that gap: a simulated service ``define``s a series whose
current value comes from a callable reading its model, and before CloudWatch answers a read
(``GetMetricData``, ``GetMetricStatistics``, ``ListMetrics``) the series of that call's region are
published into moto's CloudWatch backend, so alarms, dashboards and workflow steps see them through
the ordinary API.

Modeled:
- one datapoint per 60 s of virtual time since a series was last published (standard one-minute
  resolution), timestamped on the virtual clock; a long gap is backfilled with at most 60 points
  (the most recent hour); the first publish of a series writes a single point, now;
- every backfilled point carries the source's *current* value (the model keeps no history);
- a source returning ``None`` writes no point (a gap in the series, as when a resource stops
  reporting);
- datapoints are written straight into moto's backend object, never through boto3, so publishing
  does not re-enter the interceptor;
- outages of a Region's metrics: ``stop_region(region)`` — the Region publishes nothing (its series
  keep their clock, so the minutes of the outage stay a gap); ``delay_region(region, seconds)`` — each
  point becomes visible ``seconds`` after its timestamp (a gray failure: metrics arrive late);
  ``resume_region`` ends both (points held back by a delay are written then).

Not modeled: high-resolution metrics, metric retention/roll-up, AWS's ordinary publication delay (a
point is visible a minute or two after its timestamp; here at once, unless ``delay_region``), per-account isolation
(everything is moto's default account).

Protocol note: botocore 1.44's CloudWatch model lists smithy-rpc-v2-cbor first, but the client
resolves its protocol in botocore's own priority order and speaks awsJson1_0
(``application/x-amz-json-1.0`` with ``x-amzn-query-mode``); moto 5.2.5 answers that and localcloud's
interceptor identifies those calls, so callers need no special configuration (checked by
``tests/localcloud/test_service_metrics.py``).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from moto.cloudwatch.models import cloudwatch_backends
from moto.core import DEFAULT_ACCOUNT_ID

from localcloud.clock import VirtualClock
from localcloud.interceptor import Call, Interceptor

PERIOD_SECONDS = 60
MAX_BACKFILL_POINTS = 60
# The CloudWatch reads before which the series of the call's region are brought up to the clock.
PUBLISH_BEFORE = frozenset({"GetMetricData", "GetMetricStatistics", "ListMetrics"})

Source = Callable[[], float | None]
SeriesKey = tuple[str, str, str, tuple[tuple[str, str], ...]]


@dataclass
class Series:
    """One metric series: where it lives, where its value comes from, when it was last published."""

    region: str
    namespace: str
    metric_name: str
    dimensions: tuple[tuple[str, str], ...]
    source: Source
    unit: str = "None"
    last_published: datetime | None = None
    points_written: int = field(default=0)


class MetricsSimulator:
    """Publishes the defined series into moto's CloudWatch before CloudWatch reads them."""

    def __init__(self, clock: VirtualClock) -> None:
        self.clock = clock
        self._series: dict[SeriesKey, Series] = {}
        self._refreshers: list[Callable[[], None]] = []
        self._stopped: set[str] = set()
        self._delays: dict[str, float] = {}
        self._held: list[tuple[datetime, Series, datetime, float]] = []  # (visible at, series, moment, value)
        self._lock = threading.RLock()

    # -- outages -----------------------------------------------------------------------------------
    def stop_region(self, region: str) -> None:
        """The Region stops publishing (its points for the time it is stopped never exist)."""
        with self._lock:
            self._stopped.add(region)

    def delay_region(self, region: str, seconds: float) -> None:
        """The Region's points become visible ``seconds`` after their timestamps."""
        if seconds < 0:
            raise ValueError(f"metric delay must be >= 0 seconds, got {seconds}")
        with self._lock:
            self._delays[region] = float(seconds)

    def resume_region(self, region: str) -> None:
        """The Region publishes again, at once; points it held back are written now."""
        with self._lock:
            if region in self._stopped:
                now = self.clock.now().astimezone(UTC).replace(microsecond=0)
                for series in self.series(region):  # the stopped minutes stay a gap: skip them
                    if series.last_published is not None:
                        periods = int((now - series.last_published).total_seconds() // PERIOD_SECONDS)
                        series.last_published += timedelta(seconds=PERIOD_SECONDS * max(0, periods - 1))
            self._stopped.discard(region)
            self._delays.pop(region, None)
            self._flush(region, None)

    def stopped_regions(self) -> list[str]:
        with self._lock:
            return sorted(self._stopped)

    # -- defining series ---------------------------------------------------------------------------
    def define(
        self,
        region: str,
        namespace: str,
        metric_name: str,
        dimensions: dict[str, str],
        source: Source,
        *,
        unit: str = "None",
    ) -> Series:
        """Register (or re-point) a series; its value is whatever ``source()`` returns when published.

        Defining a series that exists replaces its source and unit and keeps its publication history,
        so a simulator may re-define its series every time the topology might have changed.
        """
        key: SeriesKey = (region, namespace, metric_name, tuple(sorted(dimensions.items())))
        with self._lock:
            series = self._series.get(key)
            if series is None:
                series = Series(region, namespace, metric_name, key[3], source, unit)
                self._series[key] = series
            else:
                series.source, series.unit = source, unit
            return series

    def before_publish(self, refresher: Callable[[], None]) -> None:
        """Run ``refresher()`` before every publish (a simulator defining series for new resources)."""
        with self._lock:
            self._refreshers.append(refresher)

    def series(self, region: str | None = None) -> list[Series]:
        with self._lock:
            return [s for s in self._series.values() if region is None or s.region == region]

    # -- publishing --------------------------------------------------------------------------------
    def publish(self, region: str | None = None) -> int:
        """Bring every series of ``region`` (all regions when None) up to the clock; return points written."""
        with self._lock:
            for refresher in list(self._refreshers):
                refresher()
            now = self.clock.now().astimezone(UTC).replace(microsecond=0)
            written = sum(self._publish_one(series, now) for series in self.series(region))
            regions = {region} if region is not None else {held[1].region for held in self._held}
            for held_region in regions:
                written += self._flush(held_region, now)
            return written

    def backfill(self, minutes: int) -> int:
        """Give every series never published yet ``minutes`` of history (one point a minute, its current
        value) up to now: a platform that has been running for a while, as alarms created on it expect."""
        with self._lock:
            for refresher in list(self._refreshers):
                refresher()
            now = self.clock.now().astimezone(UTC).replace(microsecond=0)
            written = 0
            for series in self.series():
                if series.last_published is not None or series.region in self._stopped:
                    continue
                value = series.source()
                series.last_published = now
                if value is None:
                    continue
                moments = [now - timedelta(seconds=PERIOD_SECONDS * k) for k in range(minutes, -1, -1)]
                self._write(series, moments, float(value))
                written += len(moments)
            return written

    def _flush(self, region: str, now: datetime | None) -> int:
        """Write the held points of ``region`` that are visible at ``now`` (all of them when None)."""
        due = [h for h in self._held if h[1].region == region and (now is None or h[0] <= now)]
        self._held = [h for h in self._held if h not in due]
        for _, series, moment, value in due:
            self._write(series, [moment], value)
        return len(due)

    def _publish_one(self, series: Series, now: datetime) -> int:
        if series.last_published is None:
            moments = [now]
            series.last_published = now
        else:
            elapsed = (now - series.last_published).total_seconds()
            periods = int(elapsed // PERIOD_SECONDS)
            if periods < 1:
                return 0
            first = max(1, periods - MAX_BACKFILL_POINTS + 1)
            moments = [series.last_published + timedelta(seconds=PERIOD_SECONDS * k) for k in range(first, periods + 1)]
            series.last_published += timedelta(seconds=PERIOD_SECONDS * periods)
        if series.region in self._stopped:
            return 0
        value = series.source()
        if value is None:
            return 0
        if math.isnan(float(value)):
            raise ValueError(
                f"metric {series.namespace}/{series.metric_name} {dict(series.dimensions)}: "
                "the source returned NaN; expected a number or None (no datapoint)"
            )
        delay = self._delays.get(series.region)
        if delay:
            self._held.extend((m + timedelta(seconds=delay), series, m, float(value)) for m in moments)
            return 0
        self._write(series, moments, float(value))
        return len(moments)

    @staticmethod
    def _write(series: Series, moments: list[datetime], value: float) -> None:
        backend = cloudwatch_backends[DEFAULT_ACCOUNT_ID][series.region]
        backend.put_metric_data(
            series.namespace,
            [
                {
                    "MetricName": series.metric_name,
                    "Dimensions": [{"Name": k, "Value": v} for k, v in series.dimensions],
                    "Value": value,
                    "Unit": series.unit,
                    # moto keeps naive UTC timestamps (it compares them with parsed request times).
                    "Timestamp": moment.replace(tzinfo=None),
                }
                for moment in moments
            ],
        )
        series.points_written += len(moments)

    # -- wiring ------------------------------------------------------------------------------------
    def _before_call(self, call: Call) -> None:
        if call.service == "cloudwatch" and call.operation in PUBLISH_BEFORE:
            self.publish(call.region)

    def register(self, interceptor: Interceptor) -> None:
        interceptor.hook(self._before_call)
