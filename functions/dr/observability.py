"""The one Logger, Tracer and Metrics of the package (Powertools). Configured from POWERTOOLS_* env.

The Tracer is created at the first traced invocation, not at import: ``Tracer()`` imports the X-Ray SDK
(``aws_xray_sdk.core``, with asyncio and its sampling rules) and patches botocore, the largest share of a
step module's import. ``tracer`` keeps the Tracer's interface; a handler wrapped at import time with
``tracer.capture_lambda_handler`` is traced exactly as before, from its first invocation on.
"""

from __future__ import annotations

import functools
import threading
import warnings
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit, single_metric

# Most steps publish no metric of their own; Powertools would warn on every such invocation.
warnings.filterwarnings("ignore", message="No application metrics to publish")


class LazyTracer:
    """Powertools' Tracer, built on first use (the X-Ray SDK import is deferred to the first invocation)."""

    def __init__(self) -> None:
        self._tracer: Tracer | None = None
        self._lock = threading.Lock()

    @property
    def real(self) -> Tracer:
        with self._lock:
            if self._tracer is None:
                self._tracer = Tracer()
            return self._tracer

    def capture_lambda_handler(
        self,
        lambda_handler: Callable[..., Any] | None = None,
        capture_response: bool | None = None,
        capture_error: bool | None = None,
    ) -> Any:
        if lambda_handler is None:
            return functools.partial(
                self.capture_lambda_handler, capture_response=capture_response, capture_error=capture_error
            )
        handler = lambda_handler
        traced: list[Callable[..., Any]] = []

        @functools.wraps(handler)
        def run(event: Any, context: Any, **kwargs: Any) -> Any:
            if not traced:
                traced.append(
                    self.real.capture_lambda_handler(
                        handler, capture_response=capture_response, capture_error=capture_error
                    )
                )
            return traced[0](event, context, **kwargs)

        return run

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


logger = Logger()
tracer = LazyTracer()
metrics = Metrics()


def one_metric(name: str, value: float, unit: MetricUnit, dimension: tuple[str, str], namespace: str) -> None:
    """Publish one metric with its own dimension (``(name, value)``), apart from the invocation's metrics
    (Powertools' ``single_metric``): a count per severity, store or region."""
    with single_metric(name=name, unit=unit, value=value, namespace=namespace) as metric:
        metric.add_dimension(name=dimension[0], value=dimension[1])
