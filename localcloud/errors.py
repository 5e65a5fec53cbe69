"""localcloud's own errors: each names the file and the problem."""

from __future__ import annotations


class LocalCloudError(Exception):
    """Base class for everything localcloud raises on bad input."""


class TemplateError(LocalCloudError):
    """template.yaml (or a file it points to) cannot be deployed as written."""

    def __init__(self, source: str, problem: str) -> None:
        self.source = source
        self.problem = problem
        super().__init__(f"{source}: {problem}")


class ExecutionTimeout(LocalCloudError):
    """An execution did not finish within the real-time budget a caller gave it."""
