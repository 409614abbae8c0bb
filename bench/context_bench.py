"""Benchmark of ``layerwise.context.snapshot`` against ``git status`` on the same tree.

Generates once (cached under --dir, default /tmp/layerwise-bench) a Python-project-like tree
of 100,000 files and about 1 GB: many small modules, tests and data files in nested packages,
a few hundred medium assets and a few large binaries, a .dockerignore, and a git repository
of it (``git add -A && git commit``, then ``git gc`` as a real checkout would be packed).

Then prints, best of --repeat runs each:

* cold: ``Snapshot.take`` with an empty stat cache + sha256 of every file (threads);
* warm: the same with the stat cache written by the cold run (stat walk only);
* ``git status --porcelain`` on the same tree;

with the cold run's throughput (GB/s) and the ratios. Extra comparisons plug in through
:data:`EXTRA_BENCHES`; ``--engine`` fills it with the engine's own context load of the same tree
(bench/engine_context.py: BuildKit's "load build context" step on a private dockerd, cold and
warm), and the snapshot's cold and warm times are also given as ratios to those.

With ``--million`` it also generates a tree of 1,000,000 small files and reports the peak
memory (RSS) of a cold and a warm snapshot of it, each in a fresh process.

With ``--cli ROUNDS`` it times the command instead (#17: ``layerwise context`` warm <= 1.5x
``git status``): ``git status --porcelain``, ``layerwise context`` and ``layerwise context
--format json`` on the same tree, each in a fresh process, one of each per round in a rotated
order (``--src DIR``, repeatable: the same commands of other source trees, PYTHONPATH=DIR, in
the same rounds, each with its own stat cache). Per command: the median wall clock and CPU
(user + system, from wait4) and the medians of the per-round ratios to the same round's
``git status``, with the 1-minute load average over the rounds. CPU ratios move less with the
load of a shared machine than wall-clock ones.

Usage:  python bench/context_bench.py [--dir DIR] [--files N] [--size-mb MB] [--repeat K] [--engine] [--million]
        python bench/context_bench.py --cli 11 [--src OLD/src --src src]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

#: name -> function(tree_path) -> seconds; filled by other modules (e.g. the engine harness
#: adds "docker build context load") before calling main().
EXTRA_BENCHES: dict[str, Callable[[Path], float]] = {}

DOCKERIGNORE = """\
.git
**/__pycache__
**/*.pyc
.venv
*.log
"""


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def generate(tree: Path, n_files: int, total_mb: int, seed: int = 42) -> None:
    """Write the tree (idempotent: a marker file records the parameters)."""
    marker = tree.parent / (tree.name + ".done.json")
    params = {"files": n_files, "size_mb": total_mb, "seed": seed, "version": 2}
    if marker.exists() and json.loads(marker.read_text()) == params and tree.is_dir():
        return
    if tree.exists():
        shutil.rmtree(tree)
    tree.mkdir(parents=True)
    rng = random.Random(seed)
    total = total_mb * 1024 * 1024
    n_large, n_medium = 24, 400
    large_bytes = int(total * 0.45)
    medium_bytes = int(total * 0.20)
    n_small = n_files - n_large - n_medium - 2
    small_bytes = total - large_bytes - medium_bytes

    # package directories: src/app/<pkg>/<sub>/..., tests/..., data/...
    dirs: list[str] = []
    for top in ("src/app", "tests", "data", "docs", "scripts"):
        weight = {"src/app": 60, "tests": 20, "data": 12, "docs": 5, "scripts": 3}[top]
        for _ in range(weight * 45):
            depth = rng.randint(0, 3)
            parts = [top] + [f"{rng.choice(['core', 'api', 'util', 'models', 'io', 'db', 'web', 'jobs'])}{rng.randint(0, 40)}" for _ in range(depth)]
            dirs.append("/".join(parts))
    dirs = sorted(set(dirs))
    for d in dirs:
        (tree / d).mkdir(parents=True, exist_ok=True)

    # small files: log-normal sizes scaled to small_bytes
    raw = [rng.lognormvariate(8.0, 1.0) for _ in range(n_small)]
    scale = small_bytes / sum(raw)
    exts = [".py"] * 14 + [".json", ".txt", ".md", ".csv", ".yaml", ".html", ".pyc"]
    blob = rng.randbytes(4 << 20)
    written = 0
    for i, r in enumerate(raw):
        d = rng.choice(dirs)
        ext = rng.choice(exts)
        name = f"m{i}{ext}"
        if ext == ".pyc":
            (tree / d / "__pycache__").mkdir(exist_ok=True)
            name = f"__pycache__/m{i}.cpython-312.pyc"
        size = max(1, int(r * scale))
        off = rng.randrange(0, len(blob) - size) if size < len(blob) else 0
        (tree / d / name).write_bytes(blob[off : off + size])
        written += size
        if i % 20000 == 0:
            _log(f"  generating: {i}/{n_small} small files")
    for i in range(n_medium):
        size = medium_bytes // n_medium
        (tree / "assets").mkdir(exist_ok=True)
        (tree / "assets" / f"img{i}.png").write_bytes(rng.randbytes(size))
    for i in range(n_large):
        size = large_bytes // n_large
        (tree / "models").mkdir(exist_ok=True)
        (tree / "models" / f"weights{i}.bin").write_bytes(rng.randbytes(size))
    (tree / ".dockerignore").write_text(DOCKERIGNORE)
    (tree / "Dockerfile").write_text("FROM python:3.12-slim\nCOPY . /app\n")
    _log("  git add -A && git commit (once) ...")
    env = dict(os.environ, GIT_AUTHOR_NAME="bench", GIT_AUTHOR_EMAIL="b@x", GIT_COMMITTER_NAME="bench", GIT_COMMITTER_EMAIL="b@x")
    git = ["git", "-C", str(tree), "-c", "gc.auto=0"]
    subprocess.run(["git", "init", "-q", str(tree)], check=True)
    subprocess.run([*git, "add", "-A"], check=True, env=env)
    subprocess.run([*git, "commit", "-qm", "bench tree"], check=True, env=env)
    subprocess.run([*git, "gc", "-q"], check=True, env=env)
    marker.write_text(json.dumps(params))


def _best(fn: Callable[[], float], repeat: int) -> float:
    return min(fn() for _ in range(repeat))


def _cpu() -> float:
    a = resource.getrusage(resource.RUSAGE_SELF)
    b = resource.getrusage(resource.RUSAGE_CHILDREN)
    return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime


def generate_million(tree: Path) -> None:
    marker = tree.parent / (tree.name + ".done")
    if marker.exists():
        return
    _log("  generating 1,000,000 small files (once) ...")
    for a in range(100):
        for b in range(100):
            d = tree / f"pkg{a:03d}" / f"mod{b:03d}"
            d.mkdir(parents=True, exist_ok=True)
            for c in range(100):
                (d / f"file_{c:03d}.py").write_bytes(b"x = %d\n" % (a * 10000 + b * 100 + c))
    marker.write_text("ok")
    time.sleep(2.5)  # files younger than the racy window would (rightly) not be cached


_MEMORY_PROBE = """
import resource, sys, time
from layerwise.context.snapshot import Snapshot
t = time.perf_counter()
s = Snapshot.take(sys.argv[1], None, cache_dir=sys.argv[2], digests=True)
dt = time.perf_counter() - t
me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024
print(f"{len(s.entries)} entries in {dt:.1f} s, {s.hashed} hashed, {s.cache_hits} from the stat cache; "
      f"peak RSS {me} MB (worker process {kids} MB, counting pages shared with the parent)")
"""


def million(base: Path) -> None:
    tree = base / "tree-1m"
    generate_million(tree)
    cache = base / "cache-1m"
    shutil.rmtree(cache, ignore_errors=True)
    for label in ("cold", "warm"):
        out = subprocess.run(
            [sys.executable, "-c", _MEMORY_PROBE, str(tree), str(cache)],
            check=True, capture_output=True, text=True,
        ).stdout.strip()
        print(f"1M files, {label}: {out}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", default="/tmp/layerwise-bench")
    ap.add_argument("--files", type=int, default=100_000)
    ap.add_argument("--size-mb", type=int, default=1024)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--million", action="store_true", help="also measure memory on 1,000,000 files")
    ap.add_argument("--engine", action="store_true", help="also time the engine's own context load (private dockerd)")
    ap.add_argument("--cli", type=int, metavar="ROUNDS", help="time the layerwise context command instead, ROUNDS rounds")
    ap.add_argument("--src", action="append", default=[], help="with --cli: a source tree to run too (PYTHONPATH)")
    args = ap.parse_args(argv)
    if args.cli:
        return cli_rounds(args)
    engine = None
    if args.engine:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from engine_context import register

        engine = register(EXTRA_BENCHES)
    try:
        return _main(args)
    finally:
        if engine is not None:
            engine.close()


def _main(args: argparse.Namespace) -> int:

    from layerwise.context.ignore import load_ignore
    from layerwise.context.snapshot import Snapshot

    base = Path(args.dir)
    tree = base / f"tree-{args.files}-{args.size_mb}"
    _log(f"tree: {tree}")
    generate(tree, args.files, args.size_mb)

    ignore = load_ignore(tree)
    info: dict[str, object] = {}

    cpu_times: dict[str, list[float]] = {"cold": [], "warm": []}

    def cold() -> float:
        with tempfile.TemporaryDirectory(prefix="lw-cache-") as cache:
            t = time.perf_counter()
            c = _cpu()
            snap = Snapshot.take(tree, ignore, cache_dir=cache, digests=True)
            dt = time.perf_counter() - t
            cpu_times["cold"].append(_cpu() - c)
            info.update(files=sum(1 for _ in snap.files), entries=len(snap.entries), bytes=snap.hashed_bytes, hashed=snap.hashed, warnings=len(snap.warnings), excluded=snap.excluded.count)
        return dt

    warm_cache = base / "warm-cache"

    def prime() -> None:
        shutil.rmtree(warm_cache, ignore_errors=True)
        Snapshot.take(tree, ignore, cache_dir=warm_cache, digests=True)

    def warm() -> float:
        t = time.perf_counter()
        c = _cpu()
        snap = Snapshot.take(tree, ignore, cache_dir=warm_cache, digests=True)
        dt = time.perf_counter() - t
        cpu_times["warm"].append(_cpu() - c)
        info["warm_hashed"] = snap.hashed
        info["warm_hits"] = snap.cache_hits
        return dt

    def git_status() -> float:
        t = time.perf_counter()
        subprocess.run(["git", "-C", str(tree), "status", "--porcelain"], check=True, stdout=subprocess.DEVNULL)
        return time.perf_counter() - t

    # warm up the page cache and git's index so every contender reads from memory
    git_status()
    _log("cold runs ...")
    t_cold = _best(cold, args.repeat)
    prime()
    _log("warm runs ...")
    t_warm = _best(warm, args.repeat)
    t_git = _best(git_status, args.repeat)
    extra = {name: _best(lambda f=f: f(tree), args.repeat) for name, f in EXTRA_BENCHES.items()}

    gb = int(info["bytes"]) / 1e9  # type: ignore[arg-type]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"tree: {tree}  ({info['files']} files sent, {info['entries']} entries, {info['excluded']} excluded, {gb:.2f} GB hashed; {os.cpu_count()} CPUs, load average {load:.1f})")
    print(f"layerwise snapshot cold (no stat cache, sha256 of all files): {t_cold:8.3f} s  = {gb / t_cold:.2f} GB/s  (CPU {min(cpu_times['cold']):.2f} s)")
    print(f"layerwise snapshot warm (stat cache, {info['warm_hits']} hits, {info['warm_hashed']} hashed): {t_warm:8.3f} s  (CPU {min(cpu_times['warm']):.2f} s)")
    print(f"git status --porcelain:                                      {t_git:8.3f} s")
    for name, t in extra.items():
        print(f"{name}: n/a (see above)" if math.isnan(t) else f"{name}: {t:8.3f} s")
    print(f"ratios: warm/git status = {t_warm / t_git:.2f}   cold/warm = {t_cold / t_warm:.1f}")
    for name, t in extra.items():
        if not math.isnan(t) and t > 0:  # NaN: engine unavailable; 0.0: BuildKit's rounding
            mine = t_cold if "cold" in name else t_warm
            print(f"ratio: snapshot {'cold' if 'cold' in name else 'warm'} / {name} = {mine / t:.3f}")
    if args.million:
        million(base)
    return 0


def _run_measured(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """Wall clock and CPU (user + system) seconds of ``cmd`` in a fresh process, its output
    to /dev/null; exit codes 0 and 1 are fine."""
    with open(os.devnull, "wb") as null:
        t = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=null, stderr=subprocess.PIPE)
        err = proc.stderr.read() if proc.stderr else b""
        _pid, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t
        proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}): {err.decode(errors='replace')[-800:]}")
    return wall, usage.ru_utime + usage.ru_stime


def _layerwise_command() -> list[str]:
    """What a user runs: the ``layerwise`` console script of this Python's environment (run
    by this Python, so that PYTHONPATH picks the source tree); ``python -m layerwise`` when
    there is none, which also imports runpy (~4 ms: importlib.util, contextlib)."""
    script = Path(sys.executable).with_name("layerwise")
    if script.is_file():
        return [sys.executable, str(script)]
    return [sys.executable, "-m", "layerwise"]


def cli_rounds(args: argparse.Namespace) -> int:
    import statistics

    base = Path(args.dir)
    tree = base / f"tree-{args.files}-{args.size_mb}"
    _log(f"tree: {tree}")
    generate(tree, args.files, args.size_mb)
    env0 = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}  # .pyc reused, as users'
    caches = tempfile.mkdtemp(prefix="lw-cli-bench-")
    cmds: dict[str, tuple[list[str], dict[str, str]]] = {"git status": (["git", "status", "--porcelain"], env0)}
    srcs = [str(Path(s).resolve()) for s in args.src] or [""]
    for i, src in enumerate(srcs):
        env = dict(env0, XDG_CACHE_HOME=os.path.join(caches, str(i)))
        if src:
            env["PYTHONPATH"] = src
        tag = f" [{src}]" if len(srcs) > 1 else ""
        lw = [*_layerwise_command(), "context", str(tree)]
        cmds[f"context{tag}"] = (lw, env)
        cmds[f"context --format json{tag}"] = ([*lw, "--format", "json"], env)
    names = list(cmds)
    samples: dict[str, list[tuple[float, float]]] = {n: [] for n in names}
    loads: list[float] = []
    try:
        for n in names:  # warm-up: stat caches written, .pyc files, page cache
            _run_measured(cmds[n][0], cmds[n][1], tree)
        for r in range(args.cli):
            loads.append(round(os.getloadavg()[0], 2))
            for n in names[r % len(names):] + names[: r % len(names)]:
                samples[n].append(_run_measured(cmds[n][0], cmds[n][1], tree))
            _log(f"round {r + 1}/{args.cli} load {loads[-1]}")
    finally:
        shutil.rmtree(caches, ignore_errors=True)
    med = statistics.median
    git = samples["git status"]
    print(f"{tree}: {args.cli} interleaved rounds, load average {min(loads)}-{max(loads)} (median {med(loads)}); "
          f"{os.cpu_count()} CPUs; layerwise run as {' '.join(_layerwise_command())}")  # fmt: skip
    print("| command | wall s | x git status (wall) | CPU s | x git status (CPU) |")
    print("|---|---|---|---|---|")
    for n in names:
        wall = [w for w, _ in samples[n]]
        cpu = [c for _, c in samples[n]]
        rw = med([a / b for a, b in zip(wall, (w for w, _ in git))])
        rc = med([a / b for a, b in zip(cpu, (c for _, c in git))])
        print(f"| {n} | {med(wall):.3f} | {rw:.2f} | {med(cpu):.3f} | {rc:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
