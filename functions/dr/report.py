"""The workflow report: RTO and RPO against the objectives, where the writer and the traffic are, and
the timeline of every step, built from the execution's own history. Shared by the record step (which
stores it as the audit record) and drctl (which shows it)."""

from __future__ import annotations

import json
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
    """The achieved RPO: the worst store's. Unknown stays unknown: when any store could not be measured,
    ``seconds`` and ``met`` are None (the known stores are still in ``by_store``, and the worst of them in
    ``worst_known_seconds``: a lower bound, never the answer)."""
    known = [v for v in by_store.values() if v is not None]
    complete = len(known) == len(by_store)
    out = objective(max(known) if known and complete else None, objective_seconds)
    out["worst_known_seconds"] = round(float(max(known)), 3) if known else None
    out["unknown_stores"] = sorted(k for k, v in by_store.items() if v is None)
    out["by_store"] = {k: None if v is None else round(float(v), 3) for k, v in by_store.items()}
    return out


def region_calls(history: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """The AWS calls the run's steps made, per region, as each completed step reported them (``aws_calls``
    in its result). Calls of a step that failed are not in its result and are not counted."""
    totals: dict[str, dict[str, int]] = {}
    for event in history:
        details = event.get("taskSucceededEventDetails") or {}
        if details.get("resourceType") != "lambda":
            continue
        try:
            payload = json.loads(details.get("output") or "{}").get("Payload")
        except ValueError:
            continue
        calls = payload.get("aws_calls") if isinstance(payload, dict) else None
        for region, counts in (calls or {}).items():
            total = totals.setdefault(region, {"made": 0, "failed": 0})
            total["made"] += int(counts.get("made", 0))
            total["failed"] += int(counts.get("failed", 0))
    return totals
