#!/usr/bin/env python3
"""The project's ASL conventions, checked on every state machine under statemachines/ (``make lint``).

The rules (docs/architecture.md, "Conventions"; asl-validator checks the ASL grammar, this checks the
project's own rules on top of it):
- ``QueryLanguage: JSONata`` at the top of the definition;
- every state named PascalCase and carrying a Comment;
- every Choice has a Default;
- every Task has a timeout (TimeoutSeconds or TimeoutSecondsPath); a ``.waitForTaskToken`` Task has
  TimeoutSeconds itself (a heartbeat alone lets an approval wait forever);
- every Retry names the errors it retries (never ``States.ALL``) and has MaxAttempts, MaxDelaySeconds
  and JitterStrategy FULL, except a wait for the platform to settle (its errors all in ``SETTLING``), which
  has JitterStrategy NONE: one execution polls, no herd to spread, and its budget must be certain (with
  FULL jitter, ten draws can all land near zero and give up before DNS has followed the move, or before a
  replica or a restored cluster is available);
- every Fail state names its Error; every Next, Default and Catch target is a state of the same scope.

Usage: ``python tools/asl_conventions.py [PROJECT_ROOT]``; prints one line per finding, exits 1 if any.
Only the standard library (and PyYAML for ``.asl.yaml`` files, which the project does not use today).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

_PASCAL = re.compile(r"[A-Z][A-Za-z0-9]*")
# Errors that mean "not settled yet": retried on a fixed schedule (a bounded wait), not a jittered back-off.
SETTLING = frozenset({"RecoveryNotVerified", "ReplicaNotReady"})


def load(path: Path) -> dict[str, Any]:
    text = path.read_text()
    if path.suffix == ".json":
        data = json.loads(text)
    else:
        import yaml  # noqa: PLC0415 - only YAML definitions need it

        data = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise ValueError("the definition is not an object")
    return data


def scopes(definition: dict[str, Any], where: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Each set of states that Next/Default/Catch may refer to: the top level, each Parallel branch and
    each Map's item processor, with the path that names it in findings."""
    states = definition.get("States") or {}
    yield where, states
    for name, state in states.items():
        for n, branch in enumerate(state.get("Branches") or []):
            yield from scopes(branch, f"{where}{name}[{n}]/")
        processor = state.get("ItemProcessor") or state.get("Iterator")
        if processor:
            yield from scopes(processor, f"{where}{name}/")


def check_state(name: str, state: dict[str, Any], siblings: dict[str, Any]) -> list[str]:
    problems = _retry_problems(name, state) + _target_problems(name, state, siblings)
    kind = state.get("Type")
    if not _PASCAL.fullmatch(name.rsplit("/", 1)[-1]):
        problems.append(f"{name}: state name is not PascalCase")
    if not state.get("Comment"):
        problems.append(f"{name}: no Comment")
    if kind == "Choice" and "Default" not in state:
        problems.append(f"{name}: Choice without Default")
    if kind == "Fail" and not (state.get("Error") or state.get("ErrorPath")):
        problems.append(f"{name}: Fail state without an Error name")
    if kind == "Task":
        if "TimeoutSeconds" not in state and "TimeoutSecondsPath" not in state:
            problems.append(f"{name}: Task without TimeoutSeconds")
        if str(state.get("Resource", "")).endswith(".waitForTaskToken") and "TimeoutSeconds" not in state:
            problems.append(f"{name}: waitForTaskToken without TimeoutSeconds")
    return problems


def _retry_problems(name: str, state: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    for rule in state.get("Retry") or []:
        errors = rule.get("ErrorEquals") or []
        if not errors:
            problems.append(f"{name}: Retry names no error")
        if "States.ALL" in errors:
            problems.append(f"{name}: Retry on States.ALL")
        for key in ("MaxAttempts", "MaxDelaySeconds"):
            if key not in rule:
                problems.append(f"{name}: Retry {errors} without {key}")
        if errors and set(errors) <= SETTLING:
            if rule.get("JitterStrategy") != "NONE":
                problems.append(f"{name}: Retry {errors} waits for the platform to settle without JitterStrategy NONE")
        elif rule.get("JitterStrategy") != "FULL":
            problems.append(f"{name}: Retry {errors} without JitterStrategy FULL")
    return problems


def _target_problems(name: str, state: dict[str, Any], siblings: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    targets = [state.get("Next"), state.get("Default")]
    targets += [choice.get("Next") for choice in state.get("Choices") or []]
    targets += [catcher.get("Next") for catcher in state.get("Catch") or []]
    for target in targets:
        if target is not None and target not in siblings:
            problems.append(f"{name}: goes to {target!r}, which is not a state of its scope")
    return problems


def check(definition: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    if definition.get("QueryLanguage") != "JSONata":
        problems.append("top level: QueryLanguage is not JSONata")
    for where, states in scopes(definition):
        if where == "" and definition.get("StartAt") not in states:
            problems.append(f"top level: StartAt {definition.get('StartAt')!r} is not a state")
        for name, state in states.items():
            problems.extend(check_state(f"{where}{name}", state, states))
    return problems


def main(argv: list[str]) -> int:
    root = Path(argv[1] if len(argv) > 1 else ".")
    files = sorted(p for p in (root / "statemachines").glob("*.asl.*") if p.is_file())
    if not files:
        print(f"{root / 'statemachines'}: no state machine definitions found")
        return 1
    total = 0
    for path in files:
        try:
            problems = check(load(path))
        except (OSError, ValueError) as err:  # a file that does not parse is itself a finding
            problems = [f"does not parse: {err}"]
        for problem in problems:
            print(f"{path.relative_to(root)}: {problem}")
        total += len(problems)
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
