"""Benchmark: ``layerwise explain`` (warm, HEAD against the working tree with one edited file,
as in the user's loop) against ``git status --porcelain`` in the same rounds, interleaved.

The #17 targets: explain <= 2x git status at 100,000 files, <= 3x at 1,000,000 (and <= 500 MB),
<= 120 ms on a small project. Each round runs every command once in a fresh process, in a
rotated order (``tree_bench.bench``: wall clock of the whole process, peak RSS, the 1-minute
load average before the round). Printed per command: the median seconds and their range, the
median of the per-round ratios to the same round's ``git status`` and their range, the peak
RSS; per tree, the load averages seen. On a machine shared with others, the ranges matter as
much as the medians: report them.

``--src DIR`` (repeatable) runs each given source tree (``PYTHONPATH=DIR``, a checkout's
``src``) in the same rounds: code before and after a change, compared in one run.

Trees as in tree_bench.py (``small``: the flask-demo example in a fresh repository; ``100k``,
``1m``: scale_bench.py's, generated once under --dir).

Usage:  python bench/explain_bench.py [--sizes small,100k] [--rounds 9] [--src /old/src --src src]
                                      [--commands explain,explain-json] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from scale_bench import prepare  # noqa: E402
from tree_bench import bench, small_project  # noqa: E402


def ranges(result: dict) -> list[dict]:
    """Each command's seconds and per-round ratios to git status: median and range."""
    git = next(r for r in result["rows"] if r["command"] == "git status")["runs"]
    out = []
    for row in result["rows"]:
        ratios = [s / g for s, g in zip(row["runs"], git)]
        out.append({"command": row["command"], "median_s": statistics.median(row["runs"]),
                    "min_s": min(row["runs"]), "max_s": max(row["runs"]),
                    "ratio": statistics.median(ratios), "ratio_min": min(ratios), "ratio_max": max(ratios),
                    "rss_mb": row["rss_mb"]})  # fmt: skip
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dir", default="/tmp/layerwise-bench")
    ap.add_argument("--sizes", default="small,100k")
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--src", action="append", default=[], help="a source tree to run (PYTHONPATH); repeatable")
    ap.add_argument("--commands", default="explain", help="explain and/or explain-json")
    ap.add_argument("--json", metavar="FILE")
    args = ap.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="lw-explain-bench-"))
    srcs = [str(Path(s).resolve()) for s in args.src] or [""]
    results = []
    try:
        for label in args.sizes.split(","):
            tree = small_project(work) if label == "small" else prepare(label, Path(args.dir))
            result = bench(tree, srcs, args.rounds, args.commands.split(","), work)
            result["ranges"] = ranges(result)
            results.append(result)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for result in results:
        print(f"\n{result['tree']}: {result['rounds']} interleaved rounds, load average "
              f"{result['load_min']}-{result['load_max']} (median {result['load_median']})")  # fmt: skip
        print("| command | median s (range) | x git status: median of rounds (range) | peak RSS MB |")
        print("|---|---|---|---|")
        for r in result["ranges"]:
            print(f"| {r['command']} | {r['median_s']:.3f} ({r['min_s']:.3f}-{r['max_s']:.3f}) | "
                  f"{r['ratio']:.2f} ({r['ratio_min']:.2f}-{r['ratio_max']:.2f}) | {r['rss_mb']:.0f} |")  # fmt: skip
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
