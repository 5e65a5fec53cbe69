"""The one Logger, Tracer and Metrics of the package (Powertools). Configured from POWERTOOLS_* env."""

from __future__ import annotations

import warnings

from aws_lambda_powertools import Logger, Metrics, Tracer

# Most steps publish no metric of their own; Powertools would warn on every such invocation.
warnings.filterwarnings("ignore", message="No application metrics to publish")

logger = Logger()
tracer = Tracer()
metrics = Metrics()
