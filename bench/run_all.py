"""The benchmark suite in one command: each benchmark runs in its own process, in one run of
this script, and prints its own table of ratios against the reference it measures itself
against (hadolint, git status, layerwise context, the engine). Then a summary.

    python bench/run_all.py               # everything (the 100k-file tree is made once, ~1 GB)
    python bench/run_all.py --quick       # smaller trees, fewer repeats

Benchmarks: check_bench.py (check vs hadolint over the corpus; single-file start-up),
context_bench.py (snapshot cold/warm vs git status), explain_bench.py (explain warm vs
context warm vs git status). Results go to stdout; docs/benchmarks.md records the latest run.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="10,000 files, 100 MB, 2 repeats")
    args = ap.parse_args(argv)
    tree = ["--files", "10000", "--size-mb", "100", "--repeat", "2"] if args.quick else []
    runs = [
        ("check vs hadolint", ["check_bench.py", *(["--repeat", "2"] if args.quick else [])]),
        ("context vs git status", ["context_bench.py", *tree]),
        ("explain vs context", ["explain_bench.py", *tree]),
    ]
    failed = []
    for title, cmd in runs:
        print(f"\n=== {title}: {' '.join(cmd)}", flush=True)
        t = time.perf_counter()
        rc = subprocess.call([sys.executable, str(HERE / cmd[0]), *cmd[1:]])
        print(f"=== {title}: exit {rc} in {time.perf_counter() - t:.0f} s", flush=True)
        if rc != 0:
            failed.append(title)
    if failed:
        print("\nfailed: " + ", ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
