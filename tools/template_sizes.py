#!/usr/bin/env python3
"""Lint template.yaml as deployed with 1, 5 and 8 tables (and 1, 3, 4 buckets): neither cfn-lint nor
``sam validate`` takes parameter values, and both expand ``Fn::ForEach`` from the parameters' defaults, so
each size is a copy of the template whose list defaults have that many names, in its own folder beside links
to the code the template points at. Runs cfn-lint and ``sam validate --lint`` on each; exits 1 on a failure.

Usage: ``python tools/template_sizes.py --cfn-lint .venv/bin/cfn-lint --sam .tools/sam/bin/sam``
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SIZES = ((1, 1), (5, 3), (8, 4))  # (tables, buckets)
LINKED = ("statemachines", "functions", "layers")


def sized(text: str, tables: int, buckets: int) -> str:
    """The template with list defaults of this size (the names are made up; only their number matters)."""
    defaults = {
        "ProtectedTables": [f"roadcall-t{i}-prod" for i in range(tables)],
        "ProtectedBuckets": [f"roadcall-b{i}-prod" for i in range(buckets)],
        "ReplicaBuckets": [f"roadcall-b{i}-prod-dr" for i in range(buckets)],
    }
    for name, values in defaults.items():
        pattern = re.compile(rf"(\n  {name}:\n    Type: CommaDelimitedList\n    Default: )[^\n]*")
        replacement = ",".join(values)
        text, count = pattern.subn(lambda m: m.group(1) + replacement, text)  # noqa: B023 - used at once
        if count != 1:
            raise SystemExit(f"template.yaml: parameter {name} (CommaDelimitedList with a Default) not found")
    return text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cfn-lint", required=True)
    parser.add_argument("--sam", required=True)
    parser.add_argument("--out", default=str(ROOT / ".aws-sam" / "sizes"))
    args = parser.parse_args()
    text = (ROOT / "template.yaml").read_text()
    failed = []
    for tables, buckets in SIZES:
        folder = Path(args.out) / f"{tables}-tables-{buckets}-buckets"
        folder.mkdir(parents=True, exist_ok=True)
        for name in LINKED:
            link = folder / name
            if not link.exists():
                link.symlink_to(ROOT / name)
        template = folder / "template.yaml"
        template.write_text(sized(text, tables, buckets))
        for command in (
            [os.path.abspath(args.cfn_lint), str(template)],
            [os.path.abspath(args.sam), "validate", "--lint", "--region", "us-west-2", "-t", str(template)],
        ):
            done = subprocess.run(command, cwd=folder, capture_output=True, text=True, check=False)  # noqa: S603
            status = "ok" if done.returncode == 0 else "FAILED"
            print(f"{tables} tables, {buckets} buckets: {Path(command[0]).name} {status}")
            if done.returncode != 0:
                print(done.stdout + done.stderr)
                failed.append((tables, command[0]))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
