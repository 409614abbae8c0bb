"""The engine's own build-context load, timed on the same tree layerwise snapshots.

A private dockerd (``layerwise.engine.Daemon``: own socket, fresh data-root under /tmp, stopped
and deleted at the end, so nothing outside what this bench creates is touched) builds

    FROM busybox:latest
    RUN --mount=type=bind,target=/ctx true

with ``DOCKER_BUILDKIT=1 --progress=plain --network=host`` and a Dockerfile kept outside the
tree. Mounting ``.`` makes BuildKit load the whole context (after .dockerignore) without copying
it into a layer, so the build costs little beyond the load itself. The number reported is the
duration BuildKit prints for its ``[internal] load build context`` vertex::

    #5 [internal] load build context
    #5 transferring context: 1.06GB 25.5s done
    #5 DONE 25.6s

BuildKit prints tenths of a second. The time between the vertex's first line and its ``DONE``
line, as the client received them, is kept too (``client_seconds``), and so is the peak RSS of
the docker client (the CLI and its buildx plugin, which walk the tree and send it).

* cold: ``docker builder prune -af`` first (all build cache of this private daemon; nothing else
  uses it), so BuildKit has no earlier copy of the context and sends every file's content;
* warm: right after another build of the same, unchanged tree: BuildKit's incremental sync
  (fsutil) finds its earlier copy under the same shared key and only metadata crosses.

The page cache is warm in both cases (the files were just read by the other contenders).

Usage (alone):  python bench/engine_context.py TREE [--repeat K]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

DOCKERFILE = "FROM busybox:latest\nRUN --mount=type=bind,target=/ctx true\n"

_VERTEX = re.compile(r"^#(\d+) (.*)$")
_TRANSFER = re.compile(r"^transferring context:\s+(\S+)(?:\s+([\d.]+)s)?(\s+done)?\s*$")
_DONE = re.compile(r"^DONE ([\d.]+)s$")
_UNITS = {"B": 1, "kB": 1e3, "KB": 1e3, "KiB": 1024, "MB": 1e6, "MiB": 1 << 20, "GB": 1e9, "GiB": 1 << 30, "TB": 1e12}


@dataclass
class ContextLoad:
    """What one build reported for its ``[internal] load build context`` vertex."""

    seconds: float | None = None  # BuildKit's "DONE 25.6s" (tenths)
    transfer_seconds: float | None = None  # the last "transferring context: X 25.5s done"
    size: str | None = None  # as printed: "1.06GB"
    bytes: float | None = None
    client_seconds: float | None = None  # first line .. DONE line, as received (needs line times)
    status: str = "missing"  # done | cached | error | missing
    build_seconds: float | None = None  # the whole docker build, wall clock
    client_rss_mb: float | None = None  # peak RSS of the docker CLI / buildx plugin
    build_ok: bool | None = None
    error: str | None = None


def parse_size(text: str) -> float | None:
    m = re.fullmatch(r"([\d.]+)\s*([A-Za-z]+)", text)
    if not m or m.group(2) not in _UNITS:
        return None
    return float(m.group(1)) * _UNITS[m.group(2)]


def parse_context_load(lines: Iterable[str] | str, times: list[float] | None = None) -> ContextLoad:
    """Find the ``[internal] load build context`` vertex in BuildKit's plain progress output.

    ``lines``: the output (a string or its lines); ``times``: when each line arrived (seconds,
    any origin), for ``client_seconds``. Only the first such vertex counts (a build with named
    contexts has more). ``load .dockerignore`` and ``load build definition`` also print
    ``transferring ...`` lines; they are other vertices and are ignored.
    """
    if isinstance(lines, str):
        lines = lines.splitlines()
    lines = list(lines)
    out = ContextLoad()
    vertex: str | None = None
    first_t: float | None = None
    for i, raw in enumerate(lines):
        line = raw.rstrip("\r\n")
        m = _VERTEX.match(line)
        if not m:
            continue
        num, rest = m.groups()
        if vertex is None:
            if rest.strip() == "[internal] load build context":
                vertex = num
                first_t = times[i] if times is not None and i < len(times) else None
            continue
        if num != vertex:
            continue
        rest = rest.strip()
        t = _TRANSFER.match(rest)
        if t:
            out.size = t.group(1)
            out.bytes = parse_size(t.group(1))
            if t.group(2) is not None:
                out.transfer_seconds = float(t.group(2))
            continue
        d = _DONE.match(rest)
        if d:
            out.seconds = float(d.group(1))
            out.status = "done"
            if first_t is not None and times is not None and i < len(times):
                out.client_seconds = round(times[i] - first_t, 3)
            break
        if rest == "CACHED":
            out.status = "cached"
            break
        if rest.startswith("ERROR"):
            out.status = "error"
            out.error = rest
            break
    if vertex is None:
        out.error = "no '[internal] load build context' step in the output"
    return out


# A small process that forks the command, waits for it with wait4 and writes its wall time
# (fork to exit, so this wrapper's own start-up is not counted), peak RSS and exit code to a
# file. Why not wait4 on a direct child: Python starts children with vfork, and at exec Linux
# records the *parent's* RSS high-water mark in the child's ru_maxrss, so a small command
# started by a big benchmark process would report the benchmark's memory. Forked from this
# small wrapper, the floor is the wrapper's RSS (~10 MB).
_MEASURE = r"""
import json, os, sys, time
out, argv = sys.argv[1], sys.argv[2:]
t = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execvp(argv[0], argv)
    except OSError as exc:
        os.write(2, ("cannot run %s: %s\n" % (argv[0], exc)).encode())
    os._exit(127)
_, status, ru = os.wait4(pid, 0)
dt = time.perf_counter() - t
with open(out, "w") as f:
    json.dump({"seconds": dt, "rss_kb": ru.ru_maxrss, "rc": os.waitstatus_to_exitcode(status)}, f)
"""


def measured(cmd: list[str], result: Path) -> list[str]:
    """``cmd`` wrapped so that its time, peak RSS and exit code land in ``result`` (JSON)."""
    return [sys.executable, "-c", _MEASURE, str(result), *cmd]


def read_measured(result: Path) -> tuple[float, float, int]:
    """(seconds, peak RSS in MB, exit code) written by a :func:`measured` command."""
    data = json.loads(result.read_text())
    return data["seconds"], data["rss_kb"] / 1024, data["rc"]


class EngineContextBench:
    """A private daemon that times context loads. ``start()`` returns None or why it could not."""

    def __init__(self) -> None:
        self.daemon = None
        self.engine = None
        self.reason: str | None = None
        self.version: str | None = None
        self._tmp = Path(tempfile.mkdtemp(prefix="lw-bench-engine-"))
        self.dockerfile = self._tmp / "Dockerfile.context-load"
        self.dockerfile.write_text(DOCKERFILE)
        self._primed: set[str] = set()

    def start(self) -> str | None:
        if self.engine is not None or self.reason is not None:
            return self.reason
        try:
            from layerwise.engine import Daemon, find_engine
        except ImportError as exc:  # pragma: no cover - layerwise not installed
            self.reason = f"layerwise.engine not importable: {exc}"
            return self.reason
        install, why = find_engine()
        if install is None:
            self.reason = why
            return self.reason
        try:
            self.daemon = Daemon.start(install=install)
            self.engine = self.daemon.engine
            assert self.engine is not None
            self.engine.import_image(
                install.busybox_tar, "busybox:latest",
                changes=["ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", 'CMD ["sh"]'],
            )  # fmt: skip
            self.version = f"Docker {self.engine.server_version()} ({install.flavor})"
        except Exception as exc:  # noqa: BLE001 - EngineError, OSError, ...: the row says why, the rest runs
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            self.reason = f"dockerd {install.version} did not start: {first}"
            self.close()
            return self.reason
        return None

    def _build(self, tree: Path) -> ContextLoad:
        assert self.engine is not None
        env = dict(self.engine.env, DOCKER_BUILDKIT="1", BUILDKIT_PROGRESS="plain", NO_COLOR="1")
        cmd = [self.engine.docker_bin, "build", "--progress=plain", "--network=host",
               "-f", str(self.dockerfile), str(tree)]  # fmt: skip
        result = self._tmp / "build.json"
        result.unlink(missing_ok=True)
        lines: list[str] = []
        times: list[float] = []
        t0 = time.monotonic()
        proc = subprocess.Popen(measured(cmd, result), env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, errors="replace", bufsize=1)  # fmt: skip
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            times.append(time.monotonic() - t0)
        proc.wait()
        try:
            build_seconds, rss, rc = read_measured(result)
        except (OSError, ValueError):
            build_seconds, rss, rc = time.monotonic() - t0, math.nan, proc.returncode or 1
        res = parse_context_load(lines, times)
        res.build_seconds = round(build_seconds, 3)
        res.client_rss_mb = None if math.isnan(rss) else round(rss, 1)
        res.build_ok = rc == 0
        if rc != 0 and res.error is None:
            res.error = next((ln.strip() for ln in reversed(lines) if ln.strip()), f"exit {rc}")
        self.last_log = "\n".join(lines)
        return res

    def prune(self) -> None:
        """Drop the build cache of this private daemon (only this bench's builds are in it)."""
        assert self.engine is not None
        self.engine.docker("builder", "prune", "-af", timeout=1800, env={"DOCKER_BUILDKIT": "1"})

    def load(self, tree: Path, cold: bool) -> ContextLoad:
        """One context load of ``tree``: cold (cache pruned first) or warm (after a build of it)."""
        if self.start() is not None:
            return ContextLoad(status="unavailable", error=self.reason)
        key = str(Path(tree).resolve())
        if cold:
            self.prune()
            self._primed.clear()
        elif key not in self._primed:
            self._build(tree)
        res = self._build(tree)
        if res.build_ok:
            self._primed.add(key)
        return res

    def close(self) -> None:
        if self.daemon is not None:
            self.daemon.stop()
            self.daemon = None
            self.engine = None
        shutil.rmtree(self._tmp, ignore_errors=True)


def register(extra: dict) -> EngineContextBench:
    """Fill ``context_bench.EXTRA_BENCHES`` (name -> f(tree) -> seconds; NaN when the engine is
    unavailable or the step is missing). Call ``.close()`` on the result at the end."""
    bench = EngineContextBench()

    def run(tree: Path, cold: bool) -> float:
        r = bench.load(tree, cold)
        if r.seconds is None:
            print(f"engine context load: {r.error or r.status}", file=sys.stderr)
            return math.nan
        return r.seconds

    extra["docker build: load build context, cold (build cache pruned)"] = lambda tree: run(tree, True)
    extra["docker build: load build context, warm (unchanged tree)"] = lambda tree: run(tree, False)
    return bench


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("tree")
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args(argv)
    bench = EngineContextBench()
    try:
        why = bench.start()
        if why:
            print(f"engine: unavailable: {why}")
            return 1
        print(f"engine: {bench.version}, load average {os.getloadavg()[0]:.1f}")
        for label, cold in (("cold", True), ("warm", False)):
            for _ in range(args.repeat):
                r = bench.load(Path(args.tree), cold)
                print(f"{label}: {asdict(r)}")
    finally:
        bench.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
