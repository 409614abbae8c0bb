"""``layerwise bench --ci`` on the real engine: a fresh CI runner (the cold build exports its
cache, the private engine's builder is emptied, the rebuild imports it). A builder-stage install
re-runs with mode=min and comes from the imported cache with mode=max; explain --ci predicted
every step as the engine reported it; the project folder is left as it was."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.engine.test_bench import _tree

pytestmark = pytest.mark.engine

DOCKERFILE = """\
FROM busybox AS builder
WORKDIR /src
COPY requirements.txt .
RUN mkdir -p /install && cp requirements.txt /install/deps.txt && sleep 1
COPY app.py .
FROM busybox
COPY --from=builder /install /install
COPY --from=builder /src /app
"""


def test_bench_ci_min_against_max(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("bench --ci starts the private engine, which needs root")
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "Dockerfile").write_text(DOCKERFILE)
    (proj / "requirements.txt").write_text("# none\n")
    (proj / "app.py").write_text("print(1)\n")
    before = _tree(proj)
    out = tmp_path / "bench.json"
    r = subprocess.run(
        [sys.executable, "-m", "layerwise", "bench", str(proj), "--cache-mode", "min", "--cache-mode", "max",
         "-o", str(tmp_path / "bench.svg"), "--json", str(out)],
        capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    assert _tree(proj) == before
    data = json.loads(out.read_text())
    by_name = {v["name"]: v for v in data["variants"]}
    assert by_name["before"]["label"].endswith("mode=min") and by_name["after"]["label"].endswith("mode=max")

    def install(v):
        return next(s for s in v["rebuild"]["steps"] if s["instruction"].startswith("RUN mkdir"))

    assert install(by_name["before"])["cached_runs"] == 0  # min: the builder stage ran from its start
    assert install(by_name["after"])["cached_runs"] == 1  # max: imported
    assert all(not v["crosscheck_disagreements"] for v in data["variants"])
    assert "explain predicted all" in r.stdout + r.stderr
