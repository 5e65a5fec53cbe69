"""The bench every simulator test stands on: moto alone, the virtual clock and the interceptor, with the
simulator under test registered the way LocalCloud registers it (no template, no platform, no adapters).

    @pytest.fixture
    def env(bare: Bare) -> tuple[VirtualClock, AuroraGlobalSimulator]:
        return bare.clock, bare.register(AuroraGlobalSimulator(bare.clock, bare.metrics()))
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol, TypeVar

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
