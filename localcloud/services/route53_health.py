"""Route 53 health-check status for the health checks created in moto's route53.

moto stores health checks (``CreateHealthCheck``, ``UpdateHealthCheck``) but answers
``GetHealthCheckStatus`` with one fixed "Success" observation, whatever happens to the endpoint, and
publishes no ``HealthCheckStatus`` metric. ``Route53HealthSimulator`` replaces that operation and
publishes the metric, so an outage of the primary endpoint can be staged with one knob:
``set_endpoint_health(health_check_id, healthy)``.

Modeled:
- what Route 53's checkers observe of the endpoint (healthy unless a knob says otherwise); a change
  is reported after ``FailureThreshold`` consecutive checks, i.e. ``FailureThreshold x RequestInterval``
  seconds of virtual time (90 s with the defaults 3 x 30 s), as Route 53 needs that many consecutive
  failed (or passed) checks to change the status; ``immediate=True`` skips the delay;
- the *reported* status honours the health check's configuration, read from moto's backend on every
  evaluation (so ``update_health_check(Inverted=True)`` takes effect at once): ``Inverted`` flips
  it, ``Disabled`` makes it healthy whatever the endpoint does, a ``CALCULATED`` check is healthy
  when at least ``HealthThreshold`` of its children are (then ``Inverted`` applies);
- ``GetHealthCheckStatus``: one observation per checker Region (the health check's ``Regions`` or
  Route 53's eight defaults), each ``StatusReport.Status`` starting with ``Success:`` or
  ``Failure:`` after the reported status, with the text Route 53 uses for the endpoint's result
  (e.g. ``Success: HTTP Status Code 200, OK``, ``Failure: Connection timed out. ...``) and a
  ``CheckedTime`` within the last ``RequestInterval`` on the virtual clock; an unknown id is
  ``NoSuchHealthCheck``; a calculated check is ``InvalidInput`` (as in AWS, its status is only in
  the console and CloudWatch);
- CloudWatch ``AWS/Route53`` ``HealthCheckStatus`` (dimension ``HealthCheckId``; 1 healthy, 0
  unhealthy) in us-east-1 for every health check, through the ``MetricsSimulator`` when given;
- ``CLOUDWATCH_METRIC`` health checks: moto drops ``AlarmIdentifier`` and
  ``InsufficientDataHealthStatus``, so ``CreateHealthCheck`` / ``UpdateHealthCheck`` are observed
  here and keep them. As the Route 53 Developer Guide says ("How Route 53 determines whether a health
  check is healthy"), Route 53 monitors the alarm's *data stream*, not its state: the check is healthy
  when the data says OK, unhealthy when it says ALARM, and when the data cannot tell (INSUFFICIENT_DATA)
  it follows ``InsufficientDataHealthStatus`` (``Healthy``, ``Unhealthy``, ``LastKnownStatus``; the
  default is ``LastKnownStatus``, healthy before anything is known). So ``SetAlarmState`` does not move
  such a check ("you can't force the status of a health check to change by using the CloudWatch
  SetAlarmState API operation", same page); only the metric's datapoints do. The data stream is read with the
  alarm evaluator's own rules (``alarm_state``, given by the platform), in the alarm's Region, whether
  or not periodic alarm evaluation is on; a check whose alarm does not exist is unhealthy. They can be
  children of ``CALCULATED`` checks like any other;
- flapping endpoints (``set_endpoint_flapping(id, share, seed)``): each check interval a
  deterministic draw fails the check with probability ``share``; the status changes after
  ``FailureThreshold`` consecutive results the other way, as for any endpoint (a gray failure: the
  status mostly holds, now and then flips).

Not modeled: checkers disagreeing with each other, latency and SSL-handshake metrics,
``HealthCheckPercentageHealthy``, ``RECOVERY_CONTROL`` health checks (they follow the endpoint knob
like an HTTP check), ``GetHealthCheck`` echoing ``AlarmIdentifier`` (moto's answer omits it).
The DNS answers that follow these statuses are ``localcloud.services.dns``.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from moto.core import DEFAULT_ACCOUNT_ID
from moto.route53.models import route53_backends

from localcloud.clock import VirtualClock
from localcloud.interceptor import (
    AwsError,
    Call,
    Interceptor,
    Response,
    serialize_result,
    serialize_service_error,
)
from localcloud.services.metrics import MetricsSimulator
from localcloud.services.passthrough import moto_response, parse_response

CHECKER_REGIONS = (
    "us-east-1",
    "us-west-1",
    "us-west-2",
    "eu-west-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-northeast-1",
    "sa-east-1",
)
METRIC_REGION = "us-east-1"  # Route 53 publishes health-check metrics only in us-east-1
HTTP_OK = "HTTP Status Code 200, OK"
TCP_OK = "TCP connection established"
TIMED_OUT = (
    "Connection timed out. The endpoint or the internet connection is down, or requests are being "
    "blocked by your firewall. See https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/"
    "dns-failover-router-firewall-rules.html"
)
_DEPTH_LIMIT = 8  # calculated health checks nest at most this deep here (AWS forbids cycles)


def _checker_ip(region: str, index: int) -> str:
    """A stable address in Route 53's checker range (15.177.0.0/18) for the checker of ``region``."""
    block = CHECKER_REGIONS.index(region) if region in CHECKER_REGIONS else len(CHECKER_REGIONS)
    return f"15.177.{8 * block}.{10 + index}"


@dataclass
class _Flap:
    """An endpoint that fails a deterministic share of checks (a gray failure)."""

    share: float
    seed: int
    since: datetime
    checked: int = 0  # check intervals already applied
    streak: int = 0  # consecutive results disagreeing with the status


@dataclass
class _Endpoint:
    """What the checkers currently conclude about an endpoint, and a change that is on its way."""

    healthy: bool = True
    pending: tuple[bool, datetime] | None = None
    flap: _Flap | None = None

    def settle(self, now: datetime, check_id: str = "", interval: int = 30, threshold: int = 3) -> None:
        if self.pending is not None and now >= self.pending[1]:
            self.healthy, self.pending = self.pending[0], None
        flap = self.flap
        if flap is None:
            return
        due = int((now - flap.since).total_seconds() // interval)
        for k in range(flap.checked, due):
            passed = random.Random(f"{flap.seed}:{check_id}:{k}").random() >= flap.share  # noqa: S311
            flap.streak = 0 if passed == self.healthy else flap.streak + 1
            if flap.streak >= threshold:
                self.healthy, flap.streak = passed, 0
        flap.checked = max(flap.checked, due)


@dataclass
class AlarmCheck:
    """What a CLOUDWATCH_METRIC health check watches (kept here: moto drops it)."""

    region: str
    name: str
    insufficient_data: str = "LastKnownStatus"
    last_known: bool = True


class Route53HealthSimulator:
    """Endpoint health behind moto's Route 53 health checks, reported the way Route 53 reports it."""

    def __init__(
        self,
        clock: VirtualClock,
        metrics: MetricsSimulator | None = None,
        model_failure_threshold: bool = True,
    ) -> None:
        self.clock = clock
        self.metrics = metrics
        self.model_failure_threshold = model_failure_threshold
        self._endpoints: dict[str, _Endpoint] = {}
        self._alarm_checks: dict[str, AlarmCheck] = {}
        # (region, alarm name) -> OK / ALARM / INSUFFICIENT_DATA / None (no such alarm): the data stream
        self.alarm_state: Callable[[str, str], str | None] = lambda _region, _name: None
        self._lock = threading.RLock()

    # -- knobs -------------------------------------------------------------------------------------
    def set_endpoint_health(self, health_check_id: str, healthy: bool, immediate: bool = False) -> None:
        """The endpoint starts (or stops) answering its checks.

        Route 53 reports the change after ``FailureThreshold x RequestInterval`` seconds, unless
        ``immediate`` or the simulator was built with ``model_failure_threshold=False``.
        """
        check = self._health_check(health_check_id)
        with self._lock:
            now = self.clock.now()
            endpoint = self._endpoints.setdefault(health_check_id, _Endpoint())
            endpoint.settle(now)
            endpoint.flap = None
            if immediate or not self.model_failure_threshold:
                endpoint.healthy, endpoint.pending = healthy, None
            elif healthy == endpoint.healthy:
                endpoint.pending = None
            elif endpoint.pending is None or endpoint.pending[0] != healthy:
                delay = int(check.failure_threshold) * int(check.request_interval)
                endpoint.pending = (healthy, now + timedelta(seconds=delay))

    def set_endpoint_flapping(self, health_check_id: str, share: float, seed: int = 0) -> None:
        """From now, each check fails with probability ``share`` (deterministic for ``seed``)."""
        self._health_check(health_check_id)
        with self._lock:
            endpoint = self._endpoints.setdefault(health_check_id, _Endpoint())
            endpoint.settle(self.clock.now())
            endpoint.pending = None
            endpoint.flap = _Flap(share=float(share), seed=seed, since=self.clock.now())

    def endpoint_healthy(self, health_check_id: str) -> bool:
        """What the checkers conclude about the endpoint itself (before Inverted/Disabled)."""
        check = self._health_check(health_check_id)
        with self._lock:
            endpoint = self._endpoints.setdefault(health_check_id, _Endpoint())
            endpoint.settle(
                self.clock.now(), health_check_id, int(check.request_interval), int(check.failure_threshold)
            )
            return endpoint.healthy

    def _alarm_healthy(self, health_check_id: str) -> bool:
        with self._lock:
            watched = self._alarm_checks.get(health_check_id)
        if watched is None:
            return False  # no alarm known for it: Route 53 cannot read a data stream
        # Read outside the lock: reading the data stream publishes metrics, whose sources ask for health.
        state = self.alarm_state(watched.region, watched.name)
        with self._lock:
            if state == "OK":
                watched.last_known = True
            elif state == "ALARM" or state is None:
                watched.last_known = False
            elif watched.insufficient_data == "Healthy":
                return True
            elif watched.insufficient_data == "Unhealthy":
                return False
            return watched.last_known

    def is_healthy(self, health_check_id: str) -> bool:
        """The health check's status as Route 53 reports it (DNS failover and the metric follow it)."""
        return self._reported(health_check_id, 0)

    def _reported(self, health_check_id: str, depth: int) -> bool:
        check = self._health_check(health_check_id)
        if check.disabled:  # considered healthy without checking; Inverted still applies (a forced failover)
            return not bool(check.inverted)
        if check.type_ == "CALCULATED":
            if depth >= _DEPTH_LIMIT:
                raise ValueError(f"calculated health check {health_check_id} nests too deep (a cycle?)")
            children = check.children or []
            healthy_children = sum(1 for child in children if self._reported(child, depth + 1))
            healthy = healthy_children >= int(check.health_threshold or 0)
        elif check.type_ == "CLOUDWATCH_METRIC":
            healthy = self._alarm_healthy(health_check_id)
        else:
            healthy = self.endpoint_healthy(health_check_id)
        return healthy != bool(check.inverted)

    # -- GetHealthCheckStatus ----------------------------------------------------------------------
    def observations(self, health_check_id: str) -> list[dict[str, Any]]:
        check = self._health_check(health_check_id)
        if check.type_ == "CALCULATED":
            raise AwsError(
                "InvalidInput",
                f"Health check {health_check_id} is a calculated health check: GetHealthCheckStatus "
                "cannot report its status (use the CloudWatch metric HealthCheckStatus instead).",
            )
        reported = self.is_healthy(health_check_id)
        endpoint = self.endpoint_healthy(health_check_id)
        text = self._result_text(check.type_, endpoint)
        if check.disabled:
            text = "Health check is disabled: Route 53 considers it healthy" + (
                " (and inverted: reported unhealthy)" if check.inverted else ""
            )
        elif check.inverted:
            text += " (the health check is inverted, so this result is reported the other way round)"
        status = f"{'Success' if reported else 'Failure'}: {text}"
        regions = list(check.regions or CHECKER_REGIONS)
        interval = int(check.request_interval)
        now = self.clock.now().astimezone(UTC).replace(microsecond=0)
        observations = []
        for index, region in enumerate(regions):
            # checkers run independently: each last checked at its own offset within the interval
            offset = index * interval // len(regions)
            since_check = (int(now.timestamp()) - offset) % interval
            observations.append(
                {
                    "Region": region,
                    "IPAddress": _checker_ip(region, index),
                    "StatusReport": {"Status": status, "CheckedTime": now - timedelta(seconds=since_check)},
                }
            )
        return observations

    @staticmethod
    def _result_text(check_type: str, endpoint_healthy: bool) -> str:
        if not endpoint_healthy:
            return TIMED_OUT
        return TCP_OK if check_type == "TCP" else HTTP_OK

    def _get_health_check_status(self, call: Call) -> Response:
        try:
            observations = self.observations(call.params["HealthCheckId"])
        except AwsError as error:
            return serialize_service_error(call, error)
        return serialize_result(call, {"HealthCheckObservations": observations})

    # -- moto's state ------------------------------------------------------------------------------
    @staticmethod
    def _backend() -> Any:
        return route53_backends[DEFAULT_ACCOUNT_ID]["aws"]

    def _health_check(self, health_check_id: str) -> Any:
        check = self._backend().health_checks.get(health_check_id)
        if check is None:
            raise AwsError("NoSuchHealthCheck", f"A health check with id {health_check_id} does not exist.")
        return check

    # -- metrics -------------------------------------------------------------------------------------
    def _define_series(self) -> None:
        assert self.metrics is not None
        for health_check_id in list(self._backend().health_checks):
            self.metrics.define(
                METRIC_REGION,
                "AWS/Route53",
                "HealthCheckStatus",
                {"HealthCheckId": health_check_id},
                partial(self._status_value, health_check_id),
            )

    def _status_value(self, health_check_id: str) -> float | None:
        if health_check_id not in self._backend().health_checks:
            return None  # deleted: the metric stops
        return 1.0 if self.is_healthy(health_check_id) else 0.0

    # -- CLOUDWATCH_METRIC configuration (moto drops it) -------------------------------------------
    def _create_health_check(self, call: Call) -> Response:
        response = moto_response(call)
        if response[0] in (200, 201):
            config = call.params.get("HealthCheckConfig") or {}
            created = parse_response(call, response).get("HealthCheck") or {}
            self._remember_alarm(str(created.get("Id", "")), config)
        return response

    def _update_health_check(self, call: Call) -> Response:
        response = moto_response(call)
        if response[0] == 200:
            params = call.params
            self._remember_alarm(str(params["HealthCheckId"]), params)
        return response

    def _remember_alarm(self, health_check_id: str, config: dict[str, Any]) -> None:
        alarm = config.get("AlarmIdentifier")
        with self._lock:
            known = self._alarm_checks.get(health_check_id)
            if alarm:
                known = AlarmCheck(region=str(alarm["Region"]), name=str(alarm["Name"]))
                self._alarm_checks[health_check_id] = known
            if known is not None and config.get("InsufficientDataHealthStatus"):
                known.insufficient_data = str(config["InsufficientDataHealthStatus"])

    def register(self, interceptor: Interceptor) -> None:
        interceptor.route("route53", "CreateHealthCheck", self._create_health_check)
        interceptor.route("route53", "UpdateHealthCheck", self._update_health_check)
        interceptor.route("route53", "GetHealthCheckStatus", self._get_health_check_status)
        if self.metrics is not None:
            self.metrics.before_publish(self._define_series)
