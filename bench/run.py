"""make bench: what the DR automation costs and achieves on this machine, measured in one run.

Prints a Markdown table (paste it into docs/performance.md):
- the failover drill's wall time on localcloud (planned and unplanned), its state transitions and the
  modeled RTO from its timeline;
- each step module's cold import time in a fresh interpreter with no cached bytecode anywhere (``-B`` and
  an empty ``PYTHONPYCACHEPREFIX``: every module, the standard library's too, is compiled from source, the
  worst case of a Lambda cold start), from a clean copy of functions/, as a ratio to a bare
  ``import boto3`` measured the same way beside it (ratios, not seconds: this machine is shared and
  noisy); the worst ratio goes to bench/results.json as ``cold_import.worst_ratio``;
- the backup verification of many resources, when that benchmark is present;
- the whole suite: ``make test`` run once, its wall time written to bench/results.json as
  ``test_suite_seconds`` (the bar is 120 s), with its CPU time and the load average around it
  (``python bench/run.py test-suite`` runs only this).
Nothing here is a test: no threshold fails the run.
"""

from __future__ import annotations

import importlib.util
import json
import os
import pkgutil
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-west-2")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")

from drctl.drill import local_platform, run  # noqa: E402

REPEATS = 3


def drill(mode: str) -> dict[str, float]:
    setups, executions, transitions, rto = [], [], 0.0, 0.0
    for _ in range(REPEATS):
        started = time.perf_counter()
        with local_platform() as (_cloud, platform, target):
            ready = time.perf_counter()
            if mode == "unplanned":
                platform.primary_outage()
            report = run(target, "failover", {"mode": mode, "reason": "bench"}, None, lambda _e: True)
            executions.append(time.perf_counter() - ready)
        setups.append(ready - started)
        transitions = float(report["state_transitions"])
        rto = float(report["rto"]["seconds"])
        assert report["status"] == "SUCCEEDED", report
    return {
        "setup": statistics.median(setups),
        "execution": statistics.median(executions),
        "transitions": transitions,
        "rto": rto,
    }


COLD_PAIRS = 5


def cold_import(module: str, code_dir: Path) -> float:
    """Seconds to import ``module`` in a fresh interpreter without any cached bytecode."""
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    with tempfile.TemporaryDirectory() as empty_cache:
        env = {
            **os.environ,
            "PYTHONPATH": str(code_dir),
            "PYTHONPYCACHEPREFIX": empty_cache,  # bytecode is looked for (and would be written) only here
            "PYTHONDONTWRITEBYTECODE": "1",
            "POWERTOOLS_SERVICE_NAME": "bench",
        }
        out = subprocess.run(
            [sys.executable, "-B", "-c", code], capture_output=True, text=True, env=env, check=True, cwd=code_dir
        )
    return float(out.stdout.strip())


def cold_imports() -> dict[str, float]:
    """Each step module's cold import as a ratio to ``import boto3``: the median of ``COLD_PAIRS`` ratios,
    each from a boto3 import and the module's import run back to back (the machine's load drifts)."""
    ratios: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        code_dir = Path(tmp) / "functions"
        shutil.copytree(ROOT / "functions", code_dir, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        steps = code_dir / "dr" / "steps"
        for info in sorted(pkgutil.iter_modules([str(steps)]), key=lambda m: m.name):
            if info.name.startswith("_"):
                continue
            pairs = [
                cold_import(f"dr.steps.{info.name}", code_dir) / cold_import("boto3", code_dir)
                for _ in range(COLD_PAIRS)
            ]
            ratios[f"dr.steps.{info.name}"] = statistics.median(pairs)
    return ratios


def write_results(prefix: str, values: dict[str, object]) -> None:
    """Merge ``values`` into bench/results.json as ``PREFIX.KEY`` (this prefix's old keys are replaced,
    other benchmarks' keys are kept), with the time of the measurement."""
    path = ROOT / "bench" / "results.json"
    merged = json.loads(path.read_text()) if path.exists() else {}
    for key in [k for k in merged if k.startswith(f"{prefix}.")]:
        del merged[key]
    merged.update({f"{prefix}.{k}": v for k, v in values.items()})
    merged[f"{prefix}.measured_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    path.write_text(json.dumps(dict(sorted(merged.items())), indent=2) + "\n")


def report_cold_imports() -> None:
    print("\n## Cold import of each step module (no cached bytecode), as a ratio to `import boto3`\n")
    print("| module | ratio |")
    print("| --- | --- |")
    ratios = cold_imports()
    for module, ratio in ratios.items():
        print(f"| {module} | {ratio:.2f} |")
    worst = max(ratios, key=lambda m: ratios[m])
    print(f"\nworst: {worst} {ratios[worst]:.2f}")
    write_results(
        "cold_import",
        {
            "worst_ratio": round(ratios[worst], 2),
            "worst_module": worst,
            "ratios": {k: round(v, 2) for k, v in ratios.items()},
        },
    )


def test_suite() -> dict[str, object]:
    """``make test`` run once: its wall time, the CPU time of it and its workers (user + system of the
    children), the load average around it (the machine is shared), and whether it passed."""
    before, load_before = resource.getrusage(resource.RUSAGE_CHILDREN), os.getloadavg()[0]
    started = time.perf_counter()
    done = subprocess.run(["make", "test"], cwd=ROOT, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    after, load_after = resource.getrusage(resource.RUSAGE_CHILDREN), os.getloadavg()[0]
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    lines = done.stdout.splitlines()
    # pytest's own summary ("== 3 failed, 1027 passed ... in 917.51s =="), not make's last line
    summaries = [line.strip("= ") for line in lines if re.search(r"\d+ (passed|failed|error)", line) and " in " in line]
    return {
        "seconds": round(wall, 1),
        "cpu_seconds": round(cpu, 1),
        "load_average_before": round(load_before, 2),
        "load_average_after": round(load_after, 2),
        "passed": done.returncode == 0,
        "summary": summaries[-1] if summaries else f"no pytest summary (exit {done.returncode})",
        "failures": [line.split(" - ")[0] for line in lines if line.startswith(("FAILED ", "ERROR "))],
    }


def report_test_suite() -> None:
    print("\n## `make test` (the whole suite, 2 workers)\n")
    r = test_suite()
    print("| wall (s) | CPU (s) | load average before / after | passed | pytest's summary |")
    print("| --- | --- | --- | --- | --- |")
    print(
        f"| {r['seconds']} | {r['cpu_seconds']} | {r['load_average_before']} / {r['load_average_after']} "
        f"| {r['passed']} | {r['summary']} |"
    )
    for failure in r["failures"]:  # type: ignore[attr-defined]
        print(f"- {failure}")
    merged_path = ROOT / "bench" / "results.json"
    merged = json.loads(merged_path.read_text()) if merged_path.exists() else {}
    merged["test_suite_seconds"] = r["seconds"]  # the bar: make test <= 120 s on this machine
    merged_path.write_text(json.dumps(dict(sorted(merged.items())), indent=2) + "\n")
    write_results("test_suite", r)


def main() -> int:
    if sys.argv[1:] == ["cold-imports"]:  # only the cold imports (seconds, not minutes)
        report_cold_imports()
        return 0
    if sys.argv[1:] == ["test-suite"]:  # only the suite's time
        report_test_suite()
        return 0
    print(f"## Failover drill on localcloud (median of {REPEATS} runs)\n")
    print("| mode | platform seed + deploy (s) | drill execution (s) | state transitions | modeled RTO (s) |")
    print("| --- | --- | --- | --- | --- |")
    for mode in ("planned", "unplanned"):
        r = drill(mode)
        print(f"| {mode} | {r['setup']:.2f} | {r['execution']:.2f} | {r['transitions']:.0f} | {r['rto']:.0f} |")

    report_cold_imports()

    extra = ROOT / "bench" / "backup_verification.py"
    if extra.exists():
        spec = importlib.util.spec_from_file_location("backup_verification_bench", extra)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        print()
        module.main()
    report_test_suite()
    return 0


if __name__ == "__main__":
    sys.exit(main())
