"""The CI-cache rules' claims, on a real engine: a fresh runner (an emptied builder) that
imports the cache an earlier build exported, as `layerwise check`'s LW602, LW603 and LW608 say.

* LW602: with the dependency install in a builder stage that later copies the code, a cache
  exported in ``mode=min`` does not keep the install after a code change; ``mode=max`` does.
* LW603: a cache mount is not part of an exported cache: on a fresh runner it starts empty.
* LW608: the default ``docker`` driver with the classic image store refuses a ``type=local``
  cache export; with the containerd image store it exports and imports.

The containerd image store needs a daemon of its own (``containerd-snapshotter``): this module
starts one beside the session's engine, with its own data root, and stops it at the end.
"""

from __future__ import annotations

import re
import shutil
import textwrap
import uuid
from pathlib import Path

import pytest

from layerwise.engine import Daemon, EngineError, find_engine
from tests.engine.conftest import _no_engine
from tests.unit.rules.test_lw602 import workflow

pytestmark = pytest.mark.engine

BUILDER = """\
FROM python:3.12-slim AS builder
WORKDIR /src
COPY requirements.txt .
RUN pip install --no-cache-dir --prefix=/install -r requirements.txt && mkdir -p /install && echo deps > /install/marker
COPY app.py .
RUN python -m py_compile app.py
FROM python:3.12-slim
COPY --from=builder /install /usr/local
COPY --from=builder /src /app
"""

MOUNT = """\
FROM python:3.12-slim
WORKDIR /app
COPY requirements.txt .
RUN --mount=type=cache,target=/root/.cache/pip \\
    if [ -e /root/.cache/pip/seen ]; then echo MOUNT-WARM; else echo MOUNT-COLD; fi \\
    && touch /root/.cache/pip/seen && pip install -r requirements.txt
COPY app.py .
"""

def containerd_store_engine():
    """An engine whose daemon uses the containerd image store (cache export with the default
    driver), with the base images imported into it."""
    install, reason = find_engine()
    if install is None:
        _no_engine(reason)
    try:
        daemon = Daemon.start(install=install, config={"features": {"containerd-snapshotter": True}})
    except EngineError as exc:
        _no_engine(f"dockerd with the containerd image store did not start: {exc}")
    try:
        daemon.import_base_images()
        yield daemon.engine
    finally:
        daemon.stop()


store_engine = pytest.fixture(scope="module")(containerd_store_engine)


def _project(tmp_path: Path, dockerfile: str) -> Path:
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "Dockerfile").write_text(dockerfile)
    (proj / "requirements.txt").write_text("# no dependencies: the install step runs offline\n")
    (proj / "app.py").write_text("print('v1')\n")
    return proj


def _fresh_runner(engine, tag: str) -> None:
    """What a new CI runner has: the base images, no build cache, no earlier image."""
    engine.remove_image(tag)
    engine.prune_build_cache()


def _first_and_fresh(engine, proj: Path, cache: Path, mode: str, edit) -> object:
    """Build with the cache exported, empty the builder, edit, build importing it."""
    tag = f"lw-ci-{uuid.uuid4().hex[:8]}"
    first = engine.build(proj, tag=tag, extra_args=["--cache-to", f"type=local,dest={cache},mode={mode}"])
    assert first.ok, first.summary() + first.log[-2000:]
    _fresh_runner(engine, tag)
    edit(proj)
    second = engine.build(proj, tag=tag, extra_args=["--cache-from", f"type=local,src={cache}"])
    engine.remove_image(tag)
    assert second.ok, second.summary() + second.log[-2000:]
    return second


def _check(proj: Path, code: str, cache_to: str) -> list:
    from layerwise.analyses.check import check_dockerfile, selected_rules

    wf = proj / ".github" / "workflows"
    wf.mkdir(parents=True, exist_ok=True)
    (wf / "ci.yml").write_text(workflow(cache_to))
    try:
        result = check_dockerfile(proj / "Dockerfile", context=proj, rules=selected_rules([code]))
    finally:
        shutil.rmtree(proj / ".github")
    return [f for f in result.findings if f.code == code]


def _printed(log: str) -> list[str]:
    """What the RUN printed of the mount's state (BuildKit's ``#N 0.123 TEXT`` lines)."""
    return re.findall(r"^#\d+ [\d.]+ (MOUNT-(?:COLD|WARM))$", log, re.M)


def _code_change(proj: Path) -> None:
    (proj / "app.py").write_text("print('v2')\n")


@pytest.mark.parametrize("mode,install_cached", [("min", False), ("max", True)])
def test_lw602_min_mode_loses_a_builder_stage_install_on_a_fresh_runner(store_engine, tmp_path, mode, install_cached):
    proj = _project(tmp_path, BUILDER)
    build = _first_and_fresh(store_engine, proj, tmp_path / "cache", mode, _code_change)
    install = build.step("RUN pip install")
    assert install.cached is install_cached, build.summary()
    assert build.step("RUN python -m py_compile").cached is False
    # what layerwise says about a workflow exporting in that mode
    found = _check(proj, "LW602", "type=gha" if mode == "min" else "type=gha,mode=max")
    assert bool(found) is (not install_cached)


def test_lw602_silent_case_holds_too_builder_without_code_keeps_its_install_in_min_mode(store_engine, tmp_path):
    deps_only = textwrap.dedent("""\
        FROM python:3.12-slim AS deps
        COPY requirements.txt .
        RUN pip install --no-cache-dir --prefix=/install -r requirements.txt && mkdir -p /install && echo deps > /install/marker
        FROM python:3.12-slim
        COPY --from=deps /install /usr/local
        COPY app.py /app/
        """)
    proj = _project(tmp_path, deps_only)
    build = _first_and_fresh(store_engine, proj, tmp_path / "cache", "min", _code_change)
    assert build.step("RUN pip install").cached is True, build.summary()
    assert _check(proj, "LW602", "type=gha") == []


def test_lw603_cache_mount_starts_empty_on_a_fresh_runner(store_engine, tmp_path):
    proj = _project(tmp_path, MOUNT)

    def dependency_change(p: Path) -> None:
        (p / "requirements.txt").write_text("# still none, but changed\n")

    build = _first_and_fresh(store_engine, proj, tmp_path / "cache", "max", dependency_change)
    assert build.step("RUN --mount").cached is False
    assert _printed(build.log) == ["MOUNT-COLD"]
    # the same change on the same machine finds the mount filled
    (proj / "requirements.txt").write_text("# changed again\n")
    again = store_engine.build(proj, extra_args=["--cache-from", f"type=local,src={tmp_path / 'cache'}"])
    assert again.ok and _printed(again.log) == ["MOUNT-WARM"], again.log[-1500:]
    assert len(_check(proj, "LW603", "type=gha,mode=max")) == 1


def _blobs(cache: Path) -> set[str]:
    return {p.name for p in (cache / "blobs" / "sha256").iterdir()}


def test_lw605_a_local_cache_moved_over_the_imported_folder_is_imported(store_engine, tmp_path):
    """Docker's documented local cache: export to a new folder, move it over the folder the next
    run imports (``rm -rf C && mv C-new C``). The moved cache is imported on a fresh runner, and
    LW605 says nothing of the workflow that does it (realproj item 4)."""
    from tests.unit.rules.test_lw605 import LOCAL, MOVE

    proj = _project(tmp_path, BUILDER)
    cache, new = tmp_path / "cache", tmp_path / "cache-new"
    tag = f"lw-ci-{uuid.uuid4().hex[:8]}"
    first = store_engine.build(proj, tag=tag, extra_args=["--cache-to", f"type=local,dest={new},mode=max"])
    assert first.ok, first.summary() + first.log[-2000:]
    shutil.rmtree(cache, ignore_errors=True)
    new.rename(cache)  # the step after the build
    _fresh_runner(store_engine, tag)
    _code_change(proj)
    second = store_engine.build(proj, tag=tag, extra_args=["--cache-from", f"type=local,src={cache}"])
    store_engine.remove_image(tag)
    assert second.ok, second.summary() + second.log[-2000:]
    assert second.step("RUN pip install").cached is True, second.summary()
    assert second.step("RUN python -m py_compile").cached is False
    from layerwise.analyses.check import check_dockerfile, selected_rules

    wf = proj / ".github" / "workflows"
    wf.mkdir(parents=True)
    for workflow_text, reported in ((LOCAL, 2), (LOCAL + MOVE, 0)):
        (wf / "ci.yml").write_text(workflow_text)
        found = check_dockerfile(proj / "Dockerfile", context=proj, rules=selected_rules(["LW605"])).findings
        assert len([f for f in found if f.code == "LW605"]) == reported, found


def test_a_local_cache_exported_into_the_folder_it_imports_keeps_the_old_layers(store_engine, tmp_path):
    """Why LW605 never proposes ``cache-to: type=local,dest=`` the imported folder: a second
    export there adds the new layers and keeps every old one (the folder grows with each run)."""
    proj = _project(tmp_path, BUILDER)
    cache = tmp_path / "cache"
    ok = store_engine.build(proj, extra_args=["--cache-to", f"type=local,dest={cache},mode=max"])
    assert ok.ok, ok.log[-2000:]
    before = _blobs(cache)
    (proj / "requirements.txt").write_text("# changed: the install layer is new\n")
    _code_change(proj)
    again = store_engine.build(proj, extra_args=["--cache-from", f"type=local,src={cache}",
                                                  "--cache-to", f"type=local,dest={cache},mode=max"])  # fmt: skip
    assert again.ok, again.log[-2000:]
    after = _blobs(cache)
    assert before < after, (len(before), len(after))


def test_lw608_docker_driver_with_the_classic_store_refuses_a_local_cache_export(engine, tmp_path):
    proj = _project(tmp_path, BUILDER)
    build = engine.build(proj, extra_args=["--cache-to", f"type=local,dest={tmp_path / 'cache'}"])
    assert not build.ok
    assert "Cache export is not supported for the docker driver" in build.log
