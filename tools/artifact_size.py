#!/usr/bin/env python3
"""The size of what ``sam deploy`` uploads: every artifact folder under .aws-sam/build zipped as sam zips
it (deflate), one zip per function and layer. Prints each and the total; exits 1 over the budget.

Usage: ``python tools/artifact_size.py [BUILD_DIR] [--budget-mb 40]``
"""

from __future__ import annotations

import argparse
import io
import sys
import zipfile
from pathlib import Path


def zipped_size(folder: Path) -> int:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder))
    return len(buffer.getvalue())


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("build_dir", nargs="?", default=".aws-sam/build", type=Path)
    parser.add_argument("--budget-mb", type=float, default=40.0)
    args = parser.parse_args(argv[1:])
    artifacts = sorted(p for p in args.build_dir.iterdir() if p.is_dir())
    if not artifacts:
        print(f"{args.build_dir}: nothing built")
        return 1
    total = 0
    for artifact in artifacts:
        size = zipped_size(artifact)
        total += size
        print(f"{artifact.name:45} {size / 1e6:8.2f} MB")
    print(f"{'total (zipped upload)':45} {total / 1e6:8.2f} MB  (budget {args.budget_mb:.0f} MB)")
    return 0 if total <= args.budget_mb * 1e6 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
