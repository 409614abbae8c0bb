"""A docker CLI of version 23 or newer without the buildx plugin refuses ``DOCKER_BUILDKIT=1``
("BuildKit is enabled but the buildx component is missing or broken"). On the private engine's
own CLI (26.1), given a DOCKER_CONFIG that does not point it at the plugin: bench finds that out
before building and uses the private engine, or the legacy builder with a note, or stops with
one line that says what to install."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from layerwise.bench.engines import buildkit_problem
from layerwise.engine import Engine

pytestmark = pytest.mark.engine

TIMEOUT = 600  # two shared cores


@pytest.fixture
def no_buildx(engine, tmp_path) -> Engine:
    """The private engine's CLI and daemon, with a DOCKER_CONFIG that has no plugin dirs."""
    config = tmp_path / "docker-config"
    config.mkdir()
    (config / "config.json").write_text("{}\n")
    return Engine(engine.docker_host, engine.docker_bin, config_dir=config)


def _project(tmp_path: Path, dockerfile: str) -> Path:
    ctx = tmp_path / "proj"
    ctx.mkdir()
    (ctx / "app.py").write_text("print('hello')\n")
    (ctx / "Dockerfile").write_text(dockerfile)
    return ctx


def test_the_cli_without_buildx_refuses_buildkit_and_it_is_found_before_building(engine, no_buildx, tmp_path):
    ctx = _project(tmp_path, "FROM busybox\nCOPY app.py /\n")
    r = no_buildx.build(ctx, builder="buildkit")
    assert not r.ok and "BuildKit is enabled but the buildx component is missing or broken" in r.log
    assert "no buildx plugin" in buildkit_problem(no_buildx)
    assert "(26." in buildkit_problem(no_buildx)  # the CLI's version
    assert buildkit_problem(engine) is None  # the same CLI, pointed at the plugin
    assert no_buildx.build(ctx, builder="legacy").ok


def _bench(no_buildx: Engine, ctx: Path, *args: str, engine_dir: str | None) -> subprocess.CompletedProcess:
    env = dict(os.environ, DOCKER_HOST=no_buildx.docker_host, DOCKER_CONFIG=no_buildx.config_dir,
               PATH=f"{Path(no_buildx.docker_bin).parent}:{os.environ['PATH']}")  # fmt: skip
    env.pop("DOCKER_BUILDKIT", None)
    if engine_dir is not None:
        env["LAYERWISE_ENGINE_DIR"] = engine_dir
    return subprocess.run([sys.executable, "-m", "layerwise", "bench", str(ctx), *args,
                           "-o", str(ctx.parent / "b.svg")],
                          env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False)  # fmt: skip


def test_bench_falls_back_to_the_legacy_builder_with_a_note(no_buildx, tmp_path):
    ctx = _project(tmp_path, "FROM busybox\nWORKDIR /app\nCOPY . .\nRUN cat app.py\n")
    p = _bench(no_buildx, ctx, engine_dir=str(tmp_path / "no-engine"))
    assert p.returncode == 0, p.stderr
    assert "has no buildx plugin, which BuildKit builds need; measuring with Docker's legacy builder" in p.stderr
    assert "apt-get install docker-buildx" in p.stderr
    assert "buildx component is missing" not in p.stdout + p.stderr
    assert "legacy builder" in p.stdout + p.stderr and (ctx.parent / "b.svg").is_file()


@pytest.mark.parametrize(("dockerfile", "args", "why"), [
    ("FROM busybox\nCOPY app.py /\n", ["--builder", "buildkit"], "(--builder buildkit)"),
    ("FROM busybox\nRUN --mount=type=cache,target=/c true\nCOPY app.py /\n", [],
     '(your Dockerfile: line 2: RUN --mount needs BuildKit ("the --mount option requires BuildKit"))'),
])  # fmt: skip
def test_bench_stops_with_one_line_when_buildkit_is_needed(no_buildx, tmp_path, dockerfile, args, why):
    ctx = _project(tmp_path, dockerfile)
    p = _bench(no_buildx, ctx, *args, engine_dir=str(tmp_path / "no-engine"))
    assert p.returncode == 2
    lines = p.stderr.strip().splitlines()
    assert all(ln.startswith("note: ") for ln in lines[:-1]), lines  # (only your Dockerfile is measured)
    line = lines[-1]
    assert line.startswith("layerwise: error: your Docker (server ")
    assert "has no buildx plugin, which BuildKit builds need " + why in line
    assert "install Docker's buildx plugin (Debian/Ubuntu: `apt-get install docker-buildx`" in line
    assert not (ctx.parent / "b.svg").exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="the private engine needs root")
def test_bench_uses_the_private_engine_when_it_can(no_buildx, tmp_path):
    ctx = _project(tmp_path, "FROM busybox\nRUN --mount=type=cache,target=/c true\nCOPY app.py /\n")
    p = _bench(no_buildx, ctx, "--builder", "buildkit", engine_dir=None)
    assert p.returncode == 0, p.stderr
    assert "has no buildx plugin, which BuildKit builds need; building with layerwise's private engine" in p.stderr
    assert "Engine: layerwise's private engine" in p.stderr
