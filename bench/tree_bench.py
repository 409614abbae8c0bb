"""``layerwise explain`` and ``context`` (warm) against ``git status`` in the same run, interleaved,
medians: the #17 targets as ratios (explain <= 2x git status at 100k files, <= 3x at 1M; context
<= 1.5x at 100k; explain on a small project <= 120 ms).

Each round runs every command once, in a rotated order, each in a fresh process (wall clock of
the whole process, peak RSS from wait4), and notes the 1-minute load average. A row gives the
median seconds, the median of the per-round ratios to the same round's ``git status``, the
largest RSS and the load averages seen. As in the user's loop, one tracked ``.py`` file carries
a one-line edit during the runs (undone, with its mtime, at the end).

``--src DIR`` (repeatable) runs the commands of each given source tree (``PYTHONPATH=DIR``, a
checkout's ``src``) in the same rounds, to compare code before and after a change in one run.

Trees: scale_bench.py's (``100k``: tree-100000-1024, ``1m``: tree-1m, ``10k``), generated once
under --dir; ``small``: the flask-demo example project (git repository made in a temp folder).

Usage:  python bench/tree_bench.py [--sizes small,100k,1m] [--rounds 7] [--src /old/src --src src]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from scale_bench import GIT_ID, OneEdit, Tree, _first_tracked_py, load1, prepare, run  # noqa: E402

ROOT = HERE.parent


def small_project(work: Path) -> Tree:
    """The article's example project in a fresh git repository (one commit)."""
    path = work / "flask-demo"
    if not path.exists():
        shutil.copytree(ROOT / "src" / "layerwise" / "examples" / "flask-demo", path)
        env = dict(os.environ, **GIT_ID)
        for cmd in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "demo"]):
            subprocess.run(["git", *cmd], cwd=path, env=env, check=True, capture_output=True)
    return Tree("small", path, "flask-demo example project (a few files)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dir", default="/tmp/layerwise-bench")
    ap.add_argument("--sizes", default="small,100k")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--src", action="append", default=[], help="a source tree to run (PYTHONPATH); repeatable")
    ap.add_argument("--commands", default="explain,context,context-json")
    ap.add_argument("--json", metavar="FILE")
    args = ap.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="lw-tree-bench-"))
    srcs = [str(Path(s).resolve()) for s in args.src] or [""]
    results = []
    try:
        for label in args.sizes.split(","):
            tree = small_project(work) if label == "small" else prepare(label, Path(args.dir))
            results.append(bench(tree, srcs, args.rounds, args.commands.split(","), work))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


def bench(tree: Tree, srcs: list[str], rounds: int, commands: list[str], work: Path) -> dict:
    # users' Pythons write and reuse .pyc files (a PYTHONDONTWRITEBYTECODE=1 environment would
    # compile every module on every start); the warm-up round writes them
    env_base = {k: v for k, v in os.environ.items() if not k.startswith("GIT_") and k != "PYTHONDONTWRITEBYTECODE"}
    env_base.update(tree.git_env)
    cmds: dict[str, tuple[list[str], dict[str, str]]] = {"git status": (["git", "status", "--porcelain"], env_base)}
    for i, src in enumerate(srcs):
        tag = f" [{Path(src).parent.name or src}]" if len(srcs) > 1 else ""
        env = dict(env_base, XDG_CACHE_HOME=str(work / f"xdg-{label_of(tree)}-{i}"))
        if src:
            env["PYTHONPATH"] = src
        lw = [sys.executable, "-m", "layerwise"]
        for c in commands:
            name, fmt = (c[:-5], ["--format", "json"]) if c.endswith("-json") else (c, [])
            cmds[f"{c}{tag}"] = ([*lw, name, str(tree.path), *tree.cli_file_args(), *fmt], env)
    samples: dict[str, list[tuple[float, float]]] = {n: [] for n in cmds}
    loads: list[float] = []
    names = list(cmds)
    with OneEdit(_first_tracked_py(tree)):
        for n in names:  # warm-up: stat caches written, page cache warm
            run(cmds[n][0], cwd=tree.path, env=cmds[n][1])
        for r in range(rounds):
            loads.append(load1())
            order = names[r % len(names):] + names[: r % len(names)]
            for n in order:
                dt, rss, _ = run(cmds[n][0], cwd=tree.path, env=cmds[n][1])
                samples[n].append((dt, rss))
            print(f"[{tree.label}] round {r + 1}/{rounds} load {loads[-1]}", file=sys.stderr, flush=True)
    git = [s for s, _ in samples["git status"]]
    rows = []
    for n in names:
        secs = [s for s, _ in samples[n]]
        ratios = [s / g for s, g in zip(secs, git)]
        rows.append({"command": n, "median_s": round(statistics.median(secs), 4), "min_s": round(min(secs), 4),
                     "ratio_median": round(statistics.median(ratios), 2),
                     "rss_mb": round(max(r for _, r in samples[n]), 1), "runs": [round(s, 3) for s in secs]})  # fmt: skip
    out = {"tree": tree.label, "path": str(tree.path), "rounds": rounds, "load_min": min(loads), "load_max": max(loads),
           "load_median": statistics.median(loads), "rows": rows}  # fmt: skip
    print(f"\n{tree.label}: {tree.description}; {rounds} interleaved rounds; load average "
          f"{out['load_min']}-{out['load_max']} (median {out['load_median']})")  # fmt: skip
    print("| command | median s | x git status (median of rounds) | peak RSS MB |")
    print("|---|---|---|---|")
    for row in rows:
        print(f"| {row['command']} | {row['median_s']:.3f} | {row['ratio_median']:.2f} | {row['rss_mb']:.0f} |")
    sys.stdout.flush()
    return out


def label_of(tree: Tree) -> str:
    return tree.label


if __name__ == "__main__":
    raise SystemExit(main())
