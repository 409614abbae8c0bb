"""Excluded folders are not walked (#17): `check` and `context` on a small project with a
100,000-file `.venv` that `.dockerignore` excludes, against the same project without it.

Builds the project once (in --root, default /tmp/lw-venv-bench: 50 source files, and
.venv/lib/python3.12/site-packages/pkg0..999 with 100 files each), then runs each command
--runs times, interleaved, and prints median wall and CPU (user + system) times and the ratio
"with the .venv" / "without". Before #17 `check` took ~3 times as long with the .venv.

    .venv/bin/python bench/excluded_bench.py [--runs 7] [--root DIR] [--src SRC]

--src runs another checkout's layerwise (its src/ folder on PYTHONPATH), to compare.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

DOCKERFILE = """\
FROM python:3.12-slim
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
CMD ["python", "app/m0.py"]
"""


def make_project(root: Path, venv_files: int) -> None:
    if (root / "Dockerfile").exists():
        return
    (root / "app").mkdir(parents=True)
    for i in range(50):
        (root / "app" / f"m{i}.py").write_text("print(1)\n")
    (root / "requirements.txt").write_text("flask==3.0.0\n")
    (root / "Dockerfile").write_text(DOCKERFILE)
    (root / ".dockerignore").write_text(".venv\n")
    for d in range(venv_files // 100):
        pkg = root / ".venv" / "lib" / "python3.12" / "site-packages" / f"pkg{d}"
        pkg.mkdir(parents=True)
        for f in range(100):
            (pkg / f"mod{f}.py").write_text("x = 1\n")


def run_once(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    _, _, usage = os.wait4(proc.pid, 0)
    proc.returncode = 0
    return time.perf_counter() - start, usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--root", default="/tmp/lw-venv-bench")
    ap.add_argument("--venv-files", type=int, default=100_000)
    ap.add_argument("--src", help="a checkout's src/ folder to run instead of the installed layerwise")
    args = ap.parse_args(argv)

    with_venv = Path(args.root)
    without = Path(args.root + "-novenv")
    make_project(with_venv, args.venv_files)
    if not without.exists():
        make_project(without, 0)
        shutil.rmtree(without / ".venv", ignore_errors=True)

    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    if args.src:
        env["PYTHONPATH"] = args.src
    lw = [sys.executable, "-m", "layerwise"]
    commands = {
        "check": lambda root: [*lw, "check", str(root / "Dockerfile"), "--format", "json"],
        "context": lambda root: [*lw, "context", str(root)],
        "context --format json": lambda root: [*lw, "context", str(root), "--format", "json"],
    }
    help_out = subprocess.run([*lw, "context", "--help"], check=False, capture_output=True, text=True, env=env).stdout
    if "--count-excluded" in help_out:
        commands["context --count-excluded"] = lambda root: [*lw, "context", str(root), "--count-excluded"]

    runs: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for make in commands.values():  # warm: stat cache, page cache, .pyc
        for root in (with_venv, without):
            run_once(make(root), env)
    for _ in range(args.runs):
        for name, make in commands.items():
            for label, root in (("with", with_venv), ("without", without)):
                runs.setdefault((name, label), []).append(run_once(make(root), env))

    print(f"{args.runs} interleaved runs, median; load average (1 min) {os.getloadavg()[0]:.1f}")
    print(f"{'command':28} {'with .venv wall/cpu ms':>24} {'without wall/cpu ms':>22} {'ratio (cpu)':>12}")
    for name in commands:
        w = runs[(name, "with")]
        o = runs[(name, "without")]
        ww, wc = statistics.median(x for x, _ in w) * 1000, statistics.median(c for _, c in w) * 1000
        ow, oc = statistics.median(x for x, _ in o) * 1000, statistics.median(c for _, c in o) * 1000
        print(f"{name:28} {ww:11.0f} / {wc:8.0f} {ow:10.0f} / {oc:8.0f} {wc / oc:12.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
