"""The layers import one way: no module of drctl/, functions/dr/ or localcloud/ imports, directly or through others, a
module that imports it back (function-level imports count: they are circles postponed, not removed). And
drctl's rendering, now in one module, still prints what the failback and a game day report."""

from __future__ import annotations

import ast
from pathlib import Path

from drctl.render import render

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = {"drctl": ROOT / "drctl", "dr": ROOT / "functions" / "dr", "localcloud": ROOT / "localcloud"}


def _graph() -> dict[str, set[str]]:
    modules = {
        f"{package}.{'.'.join(path.relative_to(folder).with_suffix('').parts)}".removesuffix(".__init__"): path
        for package, folder in PACKAGES.items()
        for path in folder.rglob("*.py")
    }
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        imported: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                # ``from package import submodule`` imports the submodule; ``from module import name``, the module
                imported |= {
                    f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in modules else node.module
                    for a in node.names
                }
            elif isinstance(node, ast.Import):
                imported |= {a.name for a in node.names}
        graph[name] = {m for m in imported if m in modules and m != name}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    found: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        for nxt in sorted(graph[node]):
            if nxt == path[0]:
                found.append([*path, nxt])
            elif nxt not in path and nxt > path[0]:  # each cycle once, from its smallest module
                visit(nxt, [*path, nxt])

    for start in sorted(graph):
        visit(start, [start])
    return found


def test_no_import_circle_in_drctl_the_functions_or_localcloud() -> None:
    graph = _graph()
    assert graph["drctl.failback"] >= {"drctl.render"}, "the check must see drctl's imports"
    assert graph["localcloud.scenario"] >= {"localcloud.scenario_backups"}, "the check must see localcloud's"
    assert _cycles(graph) == []


def test_a_game_day_renders_its_failover_its_failback_and_a_summary() -> None:
    def part(workflow: str) -> dict[str, object]:
        return {"workflow": workflow, "mode": "planned", "status": "SUCCEEDED", "execution": f"arn:{workflow}"}

    failback = {
        **part("failback"),
        "reprotect": {"dynamodb": {"changes": ["replica added in us-east-1"]}},
        "replication": {"aurora_lag_seconds": 1.0, "dynamodb_latency_seconds": None, "s3_latency_seconds": 2.5},
    }
    report = {
        "workflow": "gameday",
        "status": "SUCCEEDED",
        "failover": part("failover"),
        "failback": failback,
        "writer_region": "us-east-1",
        "traffic_region": "us-east-1",
        "rto_seconds": {"failover": 164.0, "failback": 201.0},
    }

    lines = render(report, "text").splitlines()

    assert lines[0] == "failover (planned): SUCCEEDED"
    assert "failback (planned): SUCCEEDED" in lines
    assert "  re-protect dynamodb: 1 change(s)" in lines
    assert any(line.startswith("  replication toward home: aurora 1.0 s, dynamodb n/a, s3 2.5 s") for line in lines)
    assert lines[-1].startswith("game day: SUCCEEDED   writer us-east-1")
