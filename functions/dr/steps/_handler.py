"""The Powertools wrapping every step handler shares: structured logs with the execution as correlation
id, a trace segment, and metrics flushed at the end of the invocation."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from dr.observability import logger, metrics, tracer


def lambda_step(fn: Callable[[dict[str, Any]], Any]) -> Callable[[dict[str, Any], Any], Any]:
    """Wrap ``fn(event) -> result`` as a Lambda handler with the package's Logger, Tracer and Metrics."""

    @functools.wraps(fn)
    def run(event: dict[str, Any], _context: Any) -> Any:
        request = event.get("request") if isinstance(event, dict) else None
        if isinstance(request, dict) and request.get("execution"):
            logger.set_correlation_id(str(request["execution"]).rsplit(":", 1)[-1])
        return fn(event)

    traced = tracer.capture_lambda_handler(run, capture_response=False)
    with_logs = logger.inject_lambda_context(traced, clear_state=True)
    return metrics.log_metrics(with_logs)
