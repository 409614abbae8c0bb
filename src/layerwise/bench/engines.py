"""Which Docker engine ``bench`` builds with: the user's own docker when it answers, else the
private engine that ``scripts/install-engine.sh`` installs (started for the run, as root),
else none, with the reason."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from layerwise.bench.signals import terminate_as_interrupt
from layerwise.engine import Daemon, Engine, EngineError, find_engine
from layerwise.errors import LayerwiseError

INSTALL_HINT = (
    "start Docker (so that `docker info` works), or, as root on Debian 12, install layerwise's "
    "private engine with `bash scripts/install-engine.sh` from a clone of layerwise"
)


@dataclass
class EngineChoice:
    kind: str | None  # "docker" (the user's) | "private" | None
    reason: str  # why this one / why none


def _user_docker() -> tuple[Engine | None, str]:
    if shutil.which("docker") is None:
        return None, "no `docker` command on PATH"
    try:
        eng = Engine.from_env()
        p = eng.docker("info", "--format", "{{.ServerVersion}}", check=False, timeout=20)
    except EngineError as exc:
        return None, str(exc)
    if p.returncode != 0 or not p.stdout.strip():
        err = (p.stderr or p.stdout).strip().splitlines()
        return None, f"`docker info` failed: {err[-1] if err else f'exit {p.returncode}'}"
    return eng, f"your Docker (server {p.stdout.strip()})"


def choose_engine() -> EngineChoice:
    """Which engine a bench would use, without starting anything."""
    eng, why = _user_docker()
    if eng is not None:
        return EngineChoice("docker", why)
    install, reason = find_engine()
    if install is not None and os.geteuid() == 0:
        return EngineChoice("private", f"{why}; layerwise's private engine (dockerd {install.version}) is installed")
    if install is not None:
        reason = "layerwise's private engine is installed but needs root"
    return EngineChoice(None, f"{why}; {reason}")


@contextlib.contextmanager
def open_engine(say: Callable[[str], None] = print) -> Iterator[tuple[Engine, str]]:
    """Yield ``(engine, description)``; a private daemon is stopped (and its data removed)
    on the way out. Raises LayerwiseError ``no Docker engine: ...`` when there is none.
    Meanwhile SIGTERM and SIGHUP raise KeyboardInterrupt, so that the daemon is stopped then too."""
    with terminate_as_interrupt():
        yield from _open_engine(say)


def _open_engine(say: Callable[[str], None]) -> Iterator[tuple[Engine, str]]:
    eng, why = _user_docker()
    if eng is not None:
        yield eng, why
        return
    install, reason = find_engine()
    if install is None or os.geteuid() != 0:
        if install is not None:
            reason = "layerwise's private engine is installed but needs root"
        raise LayerwiseError(f"no Docker engine: {why}; {reason}. To get one: {INSTALL_HINT}")
    say(f"No Docker daemon answered ({why}); starting layerwise's private engine "
        f"(dockerd {install.version}, a fresh data folder, stopped again at the end)...")  # fmt: skip
    try:
        daemon = Daemon.start(install=install)
    except EngineError as exc:
        raise LayerwiseError(f"no Docker engine: the private engine did not start: {exc}") from None
    try:
        try:
            daemon.import_base_images()
        except EngineError as exc:
            raise LayerwiseError(f"the private engine could not import its base images: {exc}") from None
        assert daemon.engine is not None
        yield daemon.engine, (
            f"layerwise's private engine (dockerd {install.version}; base images python:3.1x-slim"
            " = Debian 12's Python 3.11, busybox)"
        )
    finally:
        daemon.stop()
