"""``layerwise context`` and ``explain`` at 10k / 100k / 1M files, against ``git status`` and
against the engine's own context load of the same tree, with peak memory. One run measures all
the references it compares with.

Trees (generated once, cached under --dir, default /tmp/layerwise-bench, shared with
context_bench.py):

* ``10k``:  tree-10000-100, 10,000 files, ~100 MB (context_bench.generate: nested Python
  packages, tests, data, assets, model files; a .dockerignore; git repo inside, packed);
* ``100k``: tree-100000-1024, 100,000 files, ~1 GB (the same generator);
* ``1m``:   tree-1m, 1,000,000 files of ~10 bytes in 10,000 folders (context_bench
  ``--million``); no .dockerignore. Its git repository is kept *outside* the tree
  (tree-1m.git, GIT_DIR/GIT_WORK_TREE; written once with ``git fast-import``) and so is its
  Dockerfile (tree-1m.Dockerfile), so the tree context_bench --million measures is unchanged.

Every tree is built by ``FROM python:3.12-slim`` / ``COPY . /app``. Measured for each size,
every command in a fresh process (peak RSS from wait4, as ``/usr/bin/time`` reports it: the
largest of the process and the workers it forked), best time of --repeat runs, largest RSS:

* snapshot cold / warm: ``Snapshot.take(digests=True)`` in a probe process, timed inside it
  (no interpreter start-up): cold with an empty stat cache (sha256 of every file sent), warm
  with the cache the cold run wrote;
* ``layerwise context --format json`` cold / warm, and ``layerwise explain --format json`` cold
  / warm (HEAD vs the working tree), as the user runs them: wall clock of the whole process,
  ``XDG_CACHE_HOME`` pointing at a private, empty (cold) or primed (warm) cache;
* ``git status --porcelain`` (after a warm-up run);
* the engine (bench/engine_context.py): BuildKit's ``[internal] load build context`` time for
  a build of the same tree by a private dockerd, cold (build cache pruned) and warm (unchanged
  tree, after a build). When no engine starts, its rows say why and the rest still runs.

As in the user's loop, one tracked .py file carries a one-line edit during the measurements
(restored, with its mtime, at the end, also on SIGTERM/Ctrl-C).

The page cache is warm for everyone. The machine is shared: the 1-minute load average is
printed with every row; compare ratios, not seconds.

Usage:  python bench/scale_bench.py [--sizes 10k,100k,1m] [--repeat K] [--no-engine] [--json FILE]
"""

from __future__ import annotations

import argparse
import fcntl
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from context_bench import generate, generate_million  # noqa: E402 - sibling scripts, found through sys.path
from engine_context import ContextLoad, EngineContextBench, measured, read_measured  # noqa: E402

DOCKERFILE = "FROM python:3.12-slim\nCOPY . /app\n"
DEFAULT_REPEAT = {"10k": 3, "100k": 3, "1m": 1}
GIT_ID = {"GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "b@x", "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "b@x"}

_PROBE = """
import json, sys, time
from layerwise.context.ignore import load_ignore
from layerwise.context.snapshot import Snapshot
tree, cache, df = sys.argv[1], sys.argv[2], sys.argv[3] or None
t = time.perf_counter()
s = Snapshot.take(tree, load_ignore(tree, df), cache_dir=cache, digests=True)
dt = time.perf_counter() - t
print(json.dumps({"seconds": dt, "entries": len(s.entries), "files": sum(1 for _ in s.files),
                  "hashed": s.hashed, "hashed_bytes": s.hashed_bytes, "cache_hits": s.cache_hits}))
"""


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def load1() -> float:
    return round(os.getloadavg()[0], 2)


# ---------------------------------------------------------------------------------- trees
@dataclass
class Tree:
    label: str
    path: Path
    description: str
    dockerfile: Path | None = None  # None: TREE/Dockerfile
    git_env: dict[str, str] = field(default_factory=dict)

    def cli_file_args(self) -> list[str]:
        return ["-f", str(self.dockerfile)] if self.dockerfile else []


def _git_outside(tree: Path, gitdir: Path) -> dict[str, str]:
    """A git repository of ``tree`` kept in ``gitdir`` (one commit of every file, packed, and an
    index with stat data), written once with ``git fast-import`` (``git add`` of a million files
    would write a million loose objects)."""
    env = {"GIT_DIR": str(gitdir), "GIT_WORK_TREE": str(tree)}
    marker = gitdir.parent / (gitdir.name + ".done")
    if marker.exists():
        return env
    shutil.rmtree(gitdir, ignore_errors=True)
    full = dict(os.environ, **env, **GIT_ID)
    _log(f"  git fast-import of {tree} into {gitdir} (once) ...")
    subprocess.run(["git", "init", "-q"], env=full, check=True)
    proc = subprocess.Popen(["git", "fast-import", "--quiet"], env=full, stdin=subprocess.PIPE)
    assert proc.stdin is not None
    w = proc.stdin.write
    msg = b"bench tree\n"
    w(b"commit refs/heads/main\ncommitter bench <b@x> 1700000000 +0000\ndata %d\n%s" % (len(msg), msg))
    n = 0
    for dirpath, dirnames, filenames in os.walk(tree):
        dirnames.sort()
        rel = os.path.relpath(dirpath, tree)
        for name in sorted(filenames):
            data = Path(dirpath, name).read_bytes()
            path = name if rel == "." else f"{rel}/{name}"
            w(b"M 100644 inline %s\ndata %d\n%s\n" % (os.fsencode(path), len(data), data))
            n += 1
            if n % 200_000 == 0:
                _log(f"    {n} files")
    proc.stdin.close()
    if proc.wait() != 0:
        raise SystemExit("git fast-import failed")
    for cmd in (["symbolic-ref", "HEAD", "refs/heads/main"], ["read-tree", "HEAD"], ["update-index", "-q", "--refresh"]):
        subprocess.run(["git", *cmd], env=full, check=True)
    marker.write_text("ok")
    return env


def prepare(label: str, base: Path) -> Tree:
    if label == "10k":
        path = base / "tree-10000-100"
        generate(path, 10_000, 100)
        return Tree(label, path, "10,000 files, ~100 MB (context_bench.generate)")
    if label == "100k":
        path = base / "tree-100000-1024"
        generate(path, 100_000, 1024)
        return Tree(label, path, "100,000 files, ~1 GB (context_bench.generate)")
    if label == "1m":
        path = base / "tree-1m"
        generate_million(path)
        df = base / "tree-1m.Dockerfile"
        if not df.exists() or df.read_text() != DOCKERFILE:
            df.write_text(DOCKERFILE)
        env = _git_outside(path, base / "tree-1m.git")
        return Tree(label, path, "1,000,000 files of ~10 bytes (context_bench --million; git and Dockerfile outside)", df, env)
    raise SystemExit(f"unknown size {label!r} (10k, 100k, 1m)")


def _first_tracked_py(tree: Tree) -> Path:
    out = subprocess.run(["git", "ls-files", "-z", "--", "*.py"], cwd=tree.path, env=dict(os.environ, **tree.git_env),
                         capture_output=True, check=True).stdout  # fmt: skip
    first = out.split(b"\0", 1)[0]
    if not first:
        raise SystemExit(f"no tracked .py file in {tree.path}")
    return tree.path / os.fsdecode(first)


class OneEdit:
    """A one-line edit of a tracked file, undone (content and mtime) on exit (main() turns
    SIGTERM into SystemExit, so a killed run restores it too)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __enter__(self):
        st = self.path.stat()
        self.times = (st.st_atime_ns, st.st_mtime_ns)
        self.original = self.path.read_bytes()
        self.path.write_bytes(self.original + b"\n# edited\n")
        return self

    def __exit__(self, *exc: object) -> None:
        self.path.write_bytes(self.original)
        os.utime(self.path, ns=self.times)


# ---------------------------------------------------------------------------------- runs
def run(cmd: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None,
        capture: bool = False) -> tuple[float, float, str]:  # fmt: skip
    """Run ``cmd`` in a fresh process: (seconds, peak RSS MB, stdout if ``capture``).

    Through engine_context.measured: the time is the command's own (fork to exit), the RSS its
    own peak or its forked workers' (wait4, as ``/usr/bin/time`` reports), not inflated by this
    process. Output not captured goes to /dev/null (a million-file JSON report would otherwise
    sit in this process). Exit codes 0 and 1 are fine (layerwise exits 1 on findings)."""
    with tempfile.TemporaryDirectory(prefix="lw-run-") as tmp:
        result = Path(tmp) / "result.json"
        with open(Path(tmp) / "stderr", "w+b") as err:
            proc = subprocess.run(measured(cmd, result), cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                  stdout=subprocess.PIPE if capture else subprocess.DEVNULL, stderr=err, check=False)  # fmt: skip
            try:
                dt, rss, rc = read_measured(result)
            except (OSError, ValueError):
                dt, rss, rc = math.nan, math.nan, proc.returncode or 1
            if rc not in (0, 1):
                err.seek(0)
                raise RuntimeError(f"{' '.join(cmd)} failed ({rc}): {err.read().decode(errors='replace')[-1500:]}")
    return dt, rss, proc.stdout.decode(errors="replace") if capture else ""


@dataclass
class Row:
    name: str
    seconds: float | None = None
    rss_mb: float | None = None
    load: float | None = None
    runs: list[float] = field(default_factory=list)
    note: str = ""
    vs_git: float | None = None
    vs_engine: float | None = None
    engine: dict | None = None


def _best(row: Row, samples: list[tuple[float, float]]) -> Row:
    row.runs = [round(s, 3) for s, _ in samples]
    row.seconds = round(min(s for s, _ in samples), 4)
    rss = [r for _, r in samples if not math.isnan(r)]
    row.rss_mb = round(max(rss), 1) if rss else None
    return row


def bench_size(tree: Tree, repeat: int, engine: EngineContextBench | None, work: Path) -> dict:
    env_base = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env_base.update(tree.git_env)
    exe = str(Path(sys.executable).parent / "layerwise")
    lw = [exe] if os.path.exists(exe) else [sys.executable, "-m", "layerwise"]
    df_arg = str(tree.dockerfile) if tree.dockerfile else ""
    rows: dict[str, Row] = {}
    info: dict[str, object] = {}
    load_start = load1()

    def cache_dir(name: str, fresh: bool) -> Path:
        d = work / name
        if fresh:
            shutil.rmtree(d, ignore_errors=True)
        d.mkdir(parents=True, exist_ok=True)
        return d

    def git_status() -> tuple[float, float]:
        dt, rss, _ = run(["git", "status", "--porcelain"], cwd=tree.path, env=env_base)
        return dt, rss

    victim = _first_tracked_py(tree)
    info["edited_file"] = str(victim.relative_to(tree.path))
    with OneEdit(victim):
        _log(f"[{tree.label}] git status warm-up ...")
        git_status()

        # -- library snapshot, in a probe process
        for temp in ("cold", "warm"):
            row = Row(f"snapshot {temp}", load=load1())
            samples = []
            for i in range(repeat):
                cache = cache_dir("probe-cache", fresh=temp == "cold")
                if temp == "warm" and i == 0:
                    run([sys.executable, "-c", _PROBE, str(tree.path), str(cache), df_arg])  # prime
                _log(f"[{tree.label}] snapshot {temp} {i + 1}/{repeat} ...")
                _, rss, out = run([sys.executable, "-c", _PROBE, str(tree.path), str(cache), df_arg], capture=True)
                probe = json.loads(out)
                samples.append((probe["seconds"], rss))
                info[f"snapshot_{temp}"] = probe
            rows[row.name] = _best(row, samples)
        probe = info["snapshot_cold"]
        gb = probe["hashed_bytes"] / 1e9  # type: ignore[index]
        info.update(files_sent=probe["files"], entries=probe["entries"], bytes_sent=probe["hashed_bytes"])  # type: ignore[index]
        rate = gb / rows["snapshot cold"].seconds  # type: ignore[operator]
        per_s = probe["files"] / rows["snapshot cold"].seconds  # type: ignore[index,operator]
        rows["snapshot cold"].note = f"{rate:.2f} GB/s hashed" if rate >= 0.1 else f"{per_s:,.0f} files/s hashed"

        # -- the CLI, as users run it
        for cmd in ("context", "explain"):
            argv = [*lw, cmd, str(tree.path), *tree.cli_file_args(), "--format", "json"]
            for temp in ("cold", "warm"):
                row = Row(f"layerwise {cmd} {temp}", load=load1())
                samples = []
                for i in range(repeat):
                    xdg = cache_dir(f"xdg-{cmd}", fresh=temp == "cold")
                    env = dict(env_base, XDG_CACHE_HOME=str(xdg))
                    if temp == "warm" and i == 0:
                        run(argv, cwd=tree.path, env=env)  # prime (also right after the cold runs)
                    _log(f"[{tree.label}] layerwise {cmd} {temp} {i + 1}/{repeat} ...")
                    dt, rss, _ = run(argv, cwd=tree.path, env=env)
                    samples.append((dt, rss))
                rows[row.name] = _best(row, samples)

        row = Row("git status --porcelain", load=load1())
        rows[row.name] = _best(row, [git_status() for _ in range(max(repeat, 3))])

    # -- the engine
    for temp in ("cold", "warm"):
        row = Row(f"engine load build context {temp}", load=load1())
        if engine is None:
            row.note = "not measured (--no-engine)"
        else:
            loads: list[ContextLoad] = []
            for i in range(repeat):
                _log(f"[{tree.label}] docker build (context load) {temp} {i + 1}/{repeat} ...")
                loads.append(engine.load(tree.path, cold=temp == "cold"))
            ok = [r for r in loads if r.seconds is not None]
            if ok:
                best = min(ok, key=lambda r: r.seconds)  # type: ignore[arg-type,return-value]
                row.seconds = best.seconds
                row.runs = [r.seconds for r in ok]  # type: ignore[misc]
                row.rss_mb = max(r.client_rss_mb or 0 for r in ok) or None
                row.engine = asdict(best)
                row.note = f"sent {best.size}; docker client RSS"
                if any(not r.build_ok for r in ok):
                    row.note += "; build FAILED after the context load: " + (best.error or "")
            else:
                row.note = "unavailable: " + (loads[0].error or loads[0].status)
        rows[row.name] = row

    # -- ratios
    git = rows["git status --porcelain"].seconds
    for name, row in rows.items():
        if row.seconds is None:
            continue
        if git:
            row.vs_git = round(row.seconds / git, 2)
        temp = "cold" if name.endswith("cold") else "warm"
        eng = rows[f"engine load build context {temp}"].seconds
        if eng:
            row.vs_engine = round(row.seconds / eng, 3)
    ctx_warm = rows["layerwise context warm"].seconds
    if ctx_warm:
        rows["layerwise explain warm"].note = f"explain/context = {rows['layerwise explain warm'].seconds / ctx_warm:.2f} (target <= 2)"  # type: ignore[operator]
    return {
        "size": tree.label,
        "tree": str(tree.path),
        "description": tree.description,
        "repeat": repeat,
        "load_start": load_start,
        "load_end": load1(),
        **info,
        "rows": [asdict(r) for r in rows.values()],
    }


# ---------------------------------------------------------------------------------- output
ROW_TITLES = {
    "snapshot cold": "snapshot, cold (library; sha256 of every file)",
    "snapshot warm": "snapshot, warm (library; stat cache)",
    "layerwise context cold": "layerwise context --format json, cold",
    "layerwise context warm": "layerwise context --format json, warm",
    "layerwise explain cold": "layerwise explain --format json, cold",
    "layerwise explain warm": "layerwise explain --format json, warm",
    "git status --porcelain": "git status --porcelain",
    "engine load build context cold": "docker build: load build context, cold",
    "engine load build context warm": "docker build: load build context, warm",
}


def _f(x: float | None, fmt: str) -> str:
    width = int(fmt.split(".")[0] or 0)
    return "—".rjust(width) if x is None else format(x, fmt)


def print_table(results: list[dict], header: dict, file=sys.stdout) -> None:
    def p(s: str = "") -> None:
        print(s, file=file)

    p(f"layerwise {header.get('source', '?')}; engine: {header.get('engine', '?')}; "
      f"{header.get('cpus')} CPUs; load average {header.get('load_start')} at start")  # fmt: skip
    p("seconds: best of the runs; × git / × engine: this row's time over git status's / over the engine's "
      "context load at the same temperature (below 1: faster); RSS: peak, MB")
    for res in results:
        p()
        mb = (res.get("bytes_sent") or 0) / 1e6
        p(f"== {res['size']}: {res['description']}; {res.get('files_sent', '?')} files sent, {mb:,.0f} MB; "
          f"best of {res['repeat']}; load average {res['load_start']} -> {res['load_end']}")  # fmt: skip
        p(f"{'':46} {'seconds':>8} {'× git':>7} {'× engine':>9} {'RSS MB':>7} {'load':>5}  note")
        for r in res["rows"]:
            p(f"{ROW_TITLES.get(r['name'], r['name']):46} {_f(r['seconds'], '8.3f')} {_f(r['vs_git'], '7.2f')} "
              f"{_f(r['vs_engine'], '9.3f')} {_f(r['rss_mb'], '7.0f')} {_f(r['load'], '5.1f')}  {r['note']}")  # fmt: skip


def source_state() -> str:
    def git(*a: str) -> str:
        return subprocess.run(["git", "-C", str(ROOT), *a], capture_output=True, text=True, check=False).stdout.rstrip("\n")

    head = git("rev-parse", "--short", "HEAD") or "?"
    dirty = [ln[3:] for ln in git("status", "--porcelain", "--", "src").splitlines()]
    return f"at {head}" + (f" + uncommitted changes in {', '.join(dirty)}" if dirty else "")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", default="/tmp/layerwise-bench", help="where the generated trees are cached")
    ap.add_argument("--sizes", default="10k,100k,1m")
    ap.add_argument("--repeat", type=int, default=None, help="runs per measurement (default: 3, 1 for 1m)")
    ap.add_argument("--no-engine", action="store_true", help="skip the docker build rows")
    ap.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = ap.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the finally blocks: edit undone, dockerd stopped
    base = Path(args.dir)
    base.mkdir(parents=True, exist_ok=True)
    # One run at a time per tree folder: two runs would time each other and edit the same file.
    lock = open(base / ".scale_bench.lock", "a+")  # noqa: SIM115 - held until exit
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        _log(f"another scale_bench.py run is using {base}; waiting for it ...")
        fcntl.flock(lock, fcntl.LOCK_EX)
    sizes = [s.strip().lower() for s in args.sizes.split(",") if s.strip()]
    trees = [prepare(s, base) for s in sizes]  # all generated before anything is timed

    header: dict[str, object] = {"source": source_state(), "cpus": os.cpu_count(), "load_start": load1()}
    engine = None if args.no_engine else EngineContextBench()
    results = []
    work = Path(tempfile.mkdtemp(prefix="lw-scale-"))
    try:
        if engine is not None:
            why = engine.start()
            header["engine"] = engine.version or f"unavailable: {why}"
        else:
            header["engine"] = "not used (--no-engine)"
        for tree in trees:
            repeat = args.repeat or DEFAULT_REPEAT[tree.label]
            results.append(bench_size(tree, repeat, engine, work))
            print_table(results[-1:], header, file=sys.stderr)
    finally:
        if engine is not None:
            engine.close()
        shutil.rmtree(work, ignore_errors=True)
    header["load_end"] = load1()
    print_table(results, header)
    if args.json:
        Path(args.json).write_text(json.dumps({"header": header, "results": results}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
