"""The one Logger, Tracer and Metrics of the package (Powertools). Configured from POWERTOOLS_* env."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
tracer = Tracer()
metrics = Metrics()
