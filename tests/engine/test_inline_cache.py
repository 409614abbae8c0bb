"""Inline cache through a real registry (Debian's docker-registry on 127.0.0.1), GitLab's
documented pattern: the image is pushed, a fresh runner (no image, no build cache) builds with
``--cache-from`` that image. Its layers are reused only when the pushed build embedded cache
metadata (``--build-arg BUILDKIT_INLINE_CACHE=1``), as LW606 says."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

from tests.unit.rules.ci_helpers import run as check_ci

pytestmark = pytest.mark.engine

DOCKERFILE = """\
FROM busybox
WORKDIR /app
COPY requirements.txt .
RUN cp requirements.txt /deps.txt && sleep 1
COPY app.py .
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    """A registry of our own on 127.0.0.1 (its data in a temp folder), stopped at the end."""
    exe = shutil.which("docker-registry")
    if exe is None:
        from tests.engine.conftest import _no_engine

        _no_engine("docker-registry is not installed (scripts/install-engine.sh installs it)")
    root = tmp_path_factory.mktemp("registry")
    port = _free_port()
    (root / "config.yml").write_text(
        "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n"
        f"    rootdirectory: {root / 'data'}\nhttp:\n  addr: 127.0.0.1:{port}\n"
    )
    proc = subprocess.Popen([exe, "serve", str(root / "config.yml")], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    pytest.fail("the registry did not start")
                time.sleep(0.2)
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _project(tmp_path: Path) -> Path:
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "Dockerfile").write_text(DOCKERFILE)
    (proj / "requirements.txt").write_text("# none\n")
    (proj / "app.py").write_text("print(1)\n")
    return proj


@pytest.mark.parametrize("inline", [True, False], ids=["inline-metadata", "no-metadata"])
def test_cache_from_a_pushed_image(engine, registry, tmp_path, inline):
    proj = _project(tmp_path)
    image = f"{registry}/lw-inline-{uuid.uuid4().hex[:8]}:latest"
    args = {"BUILDKIT_INLINE_CACHE": "1"} if inline else {}
    first = engine.build(proj, tag=image, build_args=args)
    assert first.ok, first.summary() + first.log[-1500:]
    engine.docker("push", image, timeout=300)
    engine.remove_image(image)  # a fresh runner: neither the image nor the build cache
    engine.prune_build_cache()
    (proj / "app.py").write_text("print(2)\n")
    second = engine.build(proj, tag=image, build_args=args, extra_args=["--cache-from", image])
    engine.remove_image(image)
    engine.prune_build_cache()
    assert second.ok, second.summary() + second.log[-1500:]
    assert second.step("RUN cp").cached is inline, second.summary()
    assert second.step("COPY app.py").cached is False
    # what layerwise says of the GitLab job that builds it so
    flag = " --build-arg BUILDKIT_INLINE_CACHE=1" if inline else ""
    gitlab = f"build:\n  script:\n    - docker build --cache-from {image}{flag} -t {image} .\n    - docker push {image}\n"
    found, _ = check_ci("LW606", {".gitlab-ci.yml": gitlab}, dockerfile=DOCKERFILE)
    assert bool(found) is (not inline)
