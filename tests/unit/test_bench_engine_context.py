"""bench/engine_context.py's parser of BuildKit's ``[internal] load build context`` step, on
output printed by the harness engine (Docker 26.1.5, BuildKit v0.13, ``--progress=plain``).

Samples in data/bench_context_load/, all from ``docker build`` of the 100,000-file bench tree
(tree-100000-1024) or a small tree, with ``FROM busybox`` + ``RUN --mount=type=bind,target=/ctx``:

* ``modern_cold_100k.log``: first build after ``docker builder prune -af`` (1.06 GB sent, with
  the periodic ``transferring context`` progress lines);
* ``modern_warm_100k.log``: the next build of the unchanged tree (metadata only);
* ``modern_warm_small.log``: a warm build of a small tree (``transferring context: 6.64kB done``
  has no seconds);
* ``modern_cold_100k_run_failed.timed``: a cold build whose RUN then failed (no
  ``--network=host``), each line prefixed with the second it reached the client.

Also: the wrapper that measures a command's time and peak RSS for the bench scripts.

The 20.10 engine's output (``#N sha256:...`` lines under vertices) comes from the engine
parser's own samples.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

_SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "engine_context.py"
_spec = importlib.util.spec_from_file_location("bench_engine_context", _SCRIPT)
assert _spec is not None and _spec.loader is not None
engine_context = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = engine_context  # dataclasses look their module up
_spec.loader.exec_module(engine_context)
parse_context_load = engine_context.parse_context_load
parse_size = engine_context.parse_size

DATA = Path(__file__).parent / "data" / "bench_context_load"
ENGINE_DATA = Path(__file__).parent / "data" / "engine_output"


def _timed(name: str) -> tuple[list[str], list[float]]:
    lines, times = [], []
    for raw in (DATA / name).read_text().splitlines():
        t, _, line = raw.strip().partition(" ") if raw.strip() else ("", "", "")
        if not t:
            continue
        times.append(float(t))
        lines.append(line)
    return lines, times


def test_cold_load_with_progress_lines():
    r = parse_context_load((DATA / "modern_cold_100k.log").read_text())
    assert r.status == "done"
    assert r.seconds == 37.9  # "#5 DONE 37.9s", not the .dockerignore or Dockerfile vertices
    assert r.transfer_seconds == 37.6  # the last "transferring context: 1.06GB 37.6s done"
    assert r.size == "1.06GB"
    assert r.bytes == pytest.approx(1.06e9)
    assert r.client_seconds is None  # no line times given
    assert r.error is None


def test_warm_load_sends_metadata_only():
    r = parse_context_load((DATA / "modern_warm_100k.log").read_text().splitlines())
    assert (r.status, r.seconds, r.transfer_seconds, r.size) == ("done", 4.0, 3.9, "4.91MB")


def test_transfer_line_without_seconds():
    r = parse_context_load((DATA / "modern_warm_small.log").read_text())
    assert (r.status, r.seconds, r.transfer_seconds, r.size) == ("done", 0.0, None, "6.64kB")


def test_line_times_and_a_build_that_failed_after_the_load():
    lines, times = _timed("modern_cold_100k_run_failed.timed")
    r = parse_context_load(lines, times)
    assert (r.status, r.seconds, r.transfer_seconds, r.size) == ("done", 28.9, 28.7, "1.06GB")
    # first line of vertex #5 at 0.446 s, its DONE at 29.259 s
    assert r.client_seconds == pytest.approx(29.259 - 0.446, abs=1e-6)


@pytest.mark.parametrize(
    "name,seconds,size",
    [("modern_buildkit_article_first.log", 0.0, "484B"), ("fallback20_buildkit_article_rebuild.log", 0.0, "276B")],
)
def test_engine_parser_samples(name, seconds, size):
    r = parse_context_load((ENGINE_DATA / name).read_text())
    assert (r.status, r.seconds, r.size) == ("done", seconds, size)


def test_no_context_step_and_error():
    r = parse_context_load("#1 [internal] load .dockerignore\n#1 transferring context: 2B done\n#1 DONE 0.0s\n")
    assert r.status == "missing" and r.seconds is None and r.error and "load build context" in r.error
    r = parse_context_load("#5 [internal] load build context\n#5 ERROR: lstat /x: permission denied\n")
    assert r.status == "error" and r.seconds is None and r.error.startswith("ERROR")


def test_parse_size():
    assert parse_size("1.06GB") == pytest.approx(1.06e9)
    assert parse_size("631.29kB") == pytest.approx(631290)
    assert parse_size("2B") == 2
    assert parse_size("12 parsecs") is None


@pytest.mark.slow
def test_measured_rss_is_the_commands_own(tmp_path):
    """A small command started by a big process reports its own peak RSS, not the parent's
    (Python's vfork + exec would hand the parent's high-water mark to a direct child)."""
    big = bytearray(200 * 1024 * 1024)  # this process: > 200 MB resident
    big[:: 4096] = b"x" * len(big[:: 4096])
    result = tmp_path / "r.json"
    subprocess.run(engine_context.measured(["true"], result), check=True)
    seconds, rss, rc = engine_context.read_measured(result)
    assert rc == 0 and 0 <= seconds < 5
    assert rss < 50, rss
    code = "b = bytearray(80 * 1024 * 1024); b[::4096] = b'x' * len(b[::4096])"
    subprocess.run(engine_context.measured([sys.executable, "-c", code], result), check=True)
    assert engine_context.read_measured(result)[1] >= 80
    del big
