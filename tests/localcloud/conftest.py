"""The bench every simulator test stands on: moto alone, the virtual clock and the interceptor, with the
simulator under test registered the way LocalCloud registers it (no template, no platform, no adapters).

    @pytest.fixture
    def env(bare: Bare) -> tuple[VirtualClock, AuroraGlobalSimulator]:
        return bare.clock, bare.register(AuroraGlobalSimulator(bare.clock, bare.metrics()))

``latest_metric`` reads back the newest datapoint a simulator published.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Protocol, TypeVar

import boto3
import pytest
from moto import mock_aws

from localcloud.clock import VirtualClock
from localcloud.interceptor import Interceptor
from localcloud.services.metrics import MetricsSimulator


class Registrable(Protocol):
    def register(self, interceptor: Interceptor) -> None: ...


S = TypeVar("S", bound=Registrable)


class Bare:
    """moto with the clock and the interceptor installed; simulators join through ``register``."""

    def __init__(self, clock: VirtualClock, interceptor: Interceptor) -> None:
        self.clock, self.interceptor = clock, interceptor
        self._metrics: MetricsSimulator | None = None

    def register(self, simulator: S) -> S:
        simulator.register(self.interceptor)
        return simulator

    def metrics(self) -> MetricsSimulator:
        """The CloudWatch series simulator, registered on first use (the simulators that publish need it)."""
        if self._metrics is None:
            self._metrics = self.register(MetricsSimulator(self.clock))
        return self._metrics


@pytest.fixture
def bare() -> Iterator[Bare]:
    clock = VirtualClock()
    clock.install()
    try:
        with mock_aws():
            interceptor = Interceptor()
            interceptor.install()
            try:
                yield Bare(clock, interceptor)
            finally:
                interceptor.uninstall()
    finally:
        clock.uninstall()


def latest_metric(clock: VirtualClock, namespace: str, metric: str, dimensions: dict[str, str]) -> float:
    """The newest 1-minute maximum of ``metric`` in us-east-1 (where the simulators under test publish)."""
    result = boto3.client("cloudwatch", region_name="us-east-1").get_metric_data(
        MetricDataQueries=[
            {
                "Id": "m",
                "MetricStat": {
                    "Metric": {
                        "Namespace": namespace,
                        "MetricName": metric,
                        # In name order: this bare fixture runs without localcloud's
                        # cloudwatch_dimensions adapter, and moto 5.2.5 alone finds only that order.
                        "Dimensions": [{"Name": k, "Value": v} for k, v in sorted(dimensions.items())],
                    },
                    "Period": 60,
                    "Stat": "Maximum",
                },
            }
        ],
        StartTime=clock.now() - timedelta(hours=1),
        EndTime=clock.now() + timedelta(minutes=1),
        ScanBy="TimestampDescending",
    )
    values = result["MetricDataResults"][0]["Values"]
    assert values, f"expected {metric} datapoints; found none"
    return float(values[0])
