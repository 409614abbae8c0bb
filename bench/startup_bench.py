"""Start-up cost of `layerwise check` on one Dockerfile (#17), as ratios in one run.

Runs each command N times, interleaved (one round runs every command once), and prints the
median wall time and the median CPU time (user + system of the child, from os.wait4) of each,
with its ratio to `python -c pass` and to ruff/hadolint when they are installed. CPU time is
the number to trust on a loaded machine: wall time includes waiting for a core.

    .venv/bin/python bench/startup_bench.py [--runs 20] [--json FILE]
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
import time
from pathlib import Path

DOCKERFILE = """\
FROM python:3.12-slim
WORKDIR /app
COPY . .
RUN pip install -r requirements.txt
CMD ["python", "app.py"]
"""

PYFILE = "import os\n\n\ndef main():\n    return os.getcwd()\n"


# Users' Pythons write and reuse .pyc files; a PYTHONDONTWRITEBYTECODE=1 environment (as in
# some sandboxes) would make every run compile every module from source and measure that instead.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def run_once(argv: list[str]) -> tuple[float, float]:
    start = time.perf_counter()
    proc = subprocess.Popen(
        argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV
    )
    _, _, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = 0  # reaped by wait4
    return wall, usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--json", metavar="FILE")
    args = ap.parse_args(argv)

    py = sys.executable
    tmp = Path(tempfile.mkdtemp(prefix="lw-startup-"))
    dockerfile = tmp / "Dockerfile"
    dockerfile.write_text(DOCKERFILE)
    pyfile = tmp / "app.py"
    pyfile.write_text(PYFILE)

    commands: dict[str, list[str]] = {
        "python -c pass": [py, "-c", "pass"],
        "layerwise check --no-context --format json": [
            py, "-m", "layerwise", "check", "--no-context", "--format", "json", str(dockerfile)],
        "layerwise check --no-context (text)": [
            py, "-m", "layerwise", "check", "--no-context", str(dockerfile)],
        "layerwise check (with context)": [py, "-m", "layerwise", "check", str(dockerfile)],
    }
    ruff = shutil.which("ruff") or str(Path(py).with_name("ruff"))
    if Path(ruff).exists():
        commands["ruff check (one .py)"] = [ruff, "check", "--no-cache", str(pyfile)]
    hadolint = shutil.which("hadolint")
    if hadolint:
        commands["hadolint (one Dockerfile)"] = [hadolint, str(dockerfile)]

    for cmd in commands.values():  # warm the page cache and write the .pyc files
        run_once(cmd)
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    for _ in range(args.runs):
        for name, cmd in commands.items():
            samples[name].append(run_once(cmd))

    load = os.getloadavg()[0]
    result = {}
    for name, runs in samples.items():
        result[name] = {
            "wall_ms": statistics.median(w for w, _ in runs) * 1000,
            "cpu_ms": statistics.median(c for _, c in runs) * 1000,
        }
    base = result["python -c pass"]
    refs = [n for n in result if n.startswith(("ruff", "hadolint"))]
    print(f"{args.runs} interleaved runs, median; load average (1 min) {load:.1f}")
    header = f"{'command':45} {'wall ms':>8} {'cpu ms':>8} {'cpu/python':>10}"
    for r in refs:
        header += f" {'cpu/' + r.split()[0]:>12}"
    print(header)
    for name, row in result.items():
        line = f"{name:45} {row['wall_ms']:8.1f} {row['cpu_ms']:8.1f} {row['cpu_ms'] / base['cpu_ms']:10.2f}"
        for r in refs:
            line += f" {row['cpu_ms'] / max(result[r]['cpu_ms'], 1e-3):12.2f}"
        print(line)
    if args.json:
        Path(args.json).write_text(json.dumps({"load": load, "runs": args.runs, "result": result}, indent=2))
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
