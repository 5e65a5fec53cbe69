"""A run that did nothing says why, in every rendering of its report: the reason RecordSkip writes (a lease
held by another run, or nothing to do) is what an operator reading "SKIPPED" needs next."""

from __future__ import annotations

from typing import Any

import pytest

from drctl.render import render

HOLDER = "arn:aws:states:us-west-2:123456789012:execution:roadcall-dr-failover:the-alarms-failover"
WHY = (
    f"another DR operation holds the lease: failover by {HOLDER}, state HELD since 2026-12-01T12:07:05+00:00: "
    "failover (unplanned) running. Expected the lease to be free (RELEASED) before starting."
)


def skipped() -> dict[str, Any]:
    """The audit record RecordSkip writes (dr.steps.record_skip), as drctl's report reads it."""
    return {
        "workflow": "failover",
        "mode": "unplanned",
        "status": "SKIPPED",
        "execution": "arn:aws:states:us-west-2:123456789012:execution:roadcall-dr-failover:drctl-failover-1",
        "trigger": "console",
        "requested_by": "drctl:oncall",
        "detected_at": "2026-12-01T12:07:06+00:00",
        "finished_at": "2026-12-01T12:07:06.4+00:00",
        "reason": WHY,
        "duplicate": False,
        "changed": [],
        "warnings": [],
    }


@pytest.mark.parametrize("output", ["text", "markdown", "html"])
def test_a_skipped_runs_report_says_why(output: str) -> None:
    shown = render(skipped(), output)
    assert "SKIPPED" in shown
    assert HOLDER in shown  # the run to follow instead
    assert "Expected the lease to be free (RELEASED) before starting." in shown


def test_the_text_names_the_reason_on_a_line_of_its_own() -> None:
    lines = render(skipped(), "text").splitlines()
    assert lines[0] == "failover (unplanned): SKIPPED"
    assert f"  reason: {WHY}" in lines
