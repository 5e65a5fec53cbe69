"""The Powertools wrapping every step handler shares: structured logs with the execution as correlation
id, a trace segment, and metrics flushed at the end of the invocation.

A step that made AWS calls returns them in its result as ``aws_calls`` ({region: {made, failed}}): the
report adds them up from the execution history, so it can say how much a run depended on each region.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from dr.aws import calls, start_ledger
from dr.observability import logger, metrics, tracer

CALLS_KEY = "aws_calls"


def lambda_step(fn: Callable[[dict[str, Any]], Any]) -> Callable[[dict[str, Any], Any], Any]:
    """Wrap ``fn(event) -> result`` as a Lambda handler with the package's Logger, Tracer and Metrics."""

    @functools.wraps(fn)
    def run(event: dict[str, Any], _context: Any) -> Any:
        request = event.get("request") if isinstance(event, dict) else None
        if isinstance(request, dict) and request.get("execution"):
            logger.set_correlation_id(str(request["execution"]).rsplit(":", 1)[-1])
        start_ledger()
        result = fn(event)
        made = calls()
        if made and isinstance(result, dict):
            result = {**result, CALLS_KEY: made}
        return result

    traced = tracer.capture_lambda_handler(run, capture_response=False)
    with_logs = logger.inject_lambda_context(traced, clear_state=True)
    return metrics.log_metrics(with_logs)
