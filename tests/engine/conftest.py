"""Session fixture: a private Docker engine (own dockerd, fresh data-root).

Installed by ``scripts/install-engine.sh``. Without it the engine tests are
skipped, except under CI=true, where a missing or broken engine fails them.
"""

from __future__ import annotations

import os
import socket
import uuid

import pytest

from layerwise.engine import Daemon, Engine, EngineError, find_engine

IN_CI = os.environ.get("CI", "").lower() == "true"


def _no_engine(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"engine tests need a Docker engine under CI=true: {reason}", pytrace=False)
    pytest.skip(f"no Docker engine: {reason}")


@pytest.fixture(scope="session")
def engine_daemon():
    install, reason = find_engine()
    if install is None:
        _no_engine(reason)
    try:
        daemon = Daemon.start(install=install)
    except EngineError as exc:
        _no_engine(f"dockerd {install.version} from {install.dir} did not start: {exc}")
    try:
        try:
            daemon.import_base_images()
        except EngineError as exc:
            _no_engine(f"could not import base images: {exc}")
        yield daemon
    finally:
        daemon.stop()


@pytest.fixture(scope="session")
def engine(engine_daemon) -> Engine:
    """An Engine bound to the private daemon; both builders usable."""
    assert engine_daemon.engine is not None
    return engine_daemon.engine


@pytest.fixture
def image_tag(engine):
    """A unique image tag; the image is removed after the test."""
    tags: list[str] = []

    def make(prefix: str = "lw-test") -> str:
        t = f"{prefix}-{uuid.uuid4().hex[:8]}"
        tags.append(t)
        return t

    yield make
    for t in tags:
        engine.remove_image(t)


@pytest.fixture
def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
