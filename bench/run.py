"""make bench: what the DR automation costs and achieves on this machine, measured in one run.

Prints a Markdown table (paste it into docs/performance.md):
- the failover drill's wall time on localcloud (planned and unplanned), its state transitions and the
  modeled RTO from its timeline;
- each step module's cold import time in a fresh interpreter, as a ratio to a bare ``import boto3``
  measured in the same run (ratios, not seconds: this machine is shared and noisy);
- the backup verification of many resources, when that benchmark is present.
Nothing here is a test: no threshold fails the run.
"""

from __future__ import annotations

import importlib.util
import os
import pkgutil
import statistics
import subprocess
import sys
import time
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


def cold_import(module: str) -> float:
    """Median seconds to import ``module`` in a fresh interpreter (the Lambda cold-start share)."""
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'functions'}:{ROOT}", "POWERTOOLS_SERVICE_NAME": "bench"}
    samples = []
    for _ in range(REPEATS):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
        samples.append(float(out.stdout.strip()))
    return statistics.median(samples)


def main() -> int:
    print(f"## Failover drill on localcloud (median of {REPEATS} runs)\n")
    print("| mode | platform seed + deploy (s) | drill execution (s) | state transitions | modeled RTO (s) |")
    print("| --- | --- | --- | --- | --- |")
    for mode in ("planned", "unplanned"):
        r = drill(mode)
        print(f"| {mode} | {r['setup']:.2f} | {r['execution']:.2f} | {r['transitions']:.0f} | {r['rto']:.0f} |")

    print("\n## Cold import of each step module, as a ratio to `import boto3` in the same interpreter setup\n")
    print("| module | ratio | boto3 baseline (ms) |")
    print("| --- | --- | --- |")
    steps = ROOT / "functions" / "dr" / "steps"
    for info in sorted(pkgutil.iter_modules([str(steps)]), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        baseline = cold_import("boto3")  # measured beside each module: the machine's load drifts
        ratio = cold_import(f"dr.steps.{info.name}") / baseline
        print(f"| dr.steps.{info.name} | {ratio:.2f} | {baseline * 1000:.0f} |")

    extra = ROOT / "bench" / "backup_verification.py"
    if extra.exists():
        spec = importlib.util.spec_from_file_location("backup_verification_bench", extra)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        print()
        module.main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
