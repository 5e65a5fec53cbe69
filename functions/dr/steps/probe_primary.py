"""ProbePrimary: the second opinion. Runs on a schedule in the recovery region, checks the primary's
endpoint from the outside and publishes PrimaryEndpointHealthy (1/0) and its latency; an alarm on it is
the evidence an unplanned failover compares with the Route 53 health-check alarm."""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from dr import probes
from dr.inventory import load_inventory
from dr.observability import logger, metrics
from dr.settings import get_settings
from dr.steps._handler import lambda_step


@lambda_step
def handler(_event: dict[str, Any]) -> dict[str, Any]:
    settings = get_settings()
    url = load_inventory(settings).routing.primary_endpoint_url
    started = time.perf_counter()
    check = probes.http_check(url, settings.endpoint_timeout_seconds)
    elapsed_ms = (time.perf_counter() - started) * 1000
    metrics.add_dimension(name="Endpoint", value="primary")
    metrics.add_metric(name="PrimaryEndpointHealthy", unit=MetricUnit.Count, value=1 if check.healthy else 0)
    metrics.add_metric(name="PrimaryEndpointLatency", unit=MetricUnit.Milliseconds, value=elapsed_ms)
    logger.info("probed primary endpoint", extra={"url": url, "healthy": check.healthy, "detail": check.detail})
    return {"url": url, "healthy": check.healthy, "detail": check.detail}
