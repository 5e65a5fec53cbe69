"""The workflow report: RTO and RPO against the objectives, where the writer and the traffic are, and
the timeline of every step, built from the execution's own history. Shared by the record step (which
stores it as the audit record) and drctl (which shows it)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

_ENTERED = "StateEntered"
_EXITED = "StateExited"


def timeline(history: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
    """Steps in the order they ran ({name, started_at, finished_at, status}) and the state transitions."""
    steps: list[dict[str, Any]] = []
    open_steps: dict[str, dict[str, Any]] = {}
    transitions = 0
    for event in history:
        kind = str(event.get("type", ""))
        stamp = event.get("timestamp")
        when = stamp.isoformat() if isinstance(stamp, datetime) else str(stamp)
        if kind.endswith(_ENTERED):
            transitions += 1
            name = event["stateEnteredEventDetails"]["name"]
            step = {"name": name, "started_at": when, "finished_at": None, "status": "RUNNING"}
            open_steps[name] = step
            steps.append(step)
        elif kind.endswith(_EXITED):
            name = event["stateExitedEventDetails"]["name"]
            step = open_steps.pop(name, {})
            if step:
                step["finished_at"], step["status"] = when, "SUCCEEDED"
        elif kind.endswith("Failed") or kind.endswith("TimedOut"):
            for step in open_steps.values():
                if step["status"] == "RUNNING" and kind.startswith(("Task", "Lambda", "Map", "Parallel", "Execution")):
                    step["status"] = "FAILED" if kind.endswith("Failed") else "TIMED_OUT"
                    step["finished_at"] = when
    return steps, transitions


def objective(seconds: float | None, objective_seconds: int) -> dict[str, Any]:
    return {
        "seconds": None if seconds is None else round(float(seconds), 3),
        "objective_seconds": objective_seconds,
        "met": None if seconds is None else float(seconds) <= objective_seconds,
    }


def rpo(by_store: dict[str, float | None], objective_seconds: int) -> dict[str, Any]:
    known = [v for v in by_store.values() if v is not None]
    out = objective(max(known) if known else None, objective_seconds)
    out["by_store"] = {k: None if v is None else round(float(v), 3) for k, v in by_store.items()}
    return out
