"""Which Docker engine ``bench`` builds with: the user's own docker when it answers, else the
private engine that ``scripts/install-engine.sh`` installs (started for the run, as root),
else none, with the reason.

A docker CLI of version 23 or newer builds with BuildKit only through its buildx plugin: without
it, ``DOCKER_BUILDKIT=1 docker build`` stops with "BuildKit is enabled but the buildx component is
missing or broken". That is found out before building (:func:`buildkit_problem`); then the
private engine is used when it can be, else Docker's legacy builder when the user did not ask
for BuildKit and every Dockerfile can be built by it (with a note), else the run stops with one
line that says what to install."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from layerwise.engine import Daemon, Engine, EngineError, find_engine
from layerwise.errors import LayerwiseError
from layerwise.signals import terminate_as_interrupt

INSTALL_HINT = (
    "start Docker (so that `docker info` works), or, as root on Debian 12, install layerwise's "
    "private engine with `bash scripts/install-engine.sh` from a clone of layerwise"
)


BUILDX_HINT = (
    "install Docker's buildx plugin (Debian/Ubuntu: `apt-get install docker-buildx`; Docker's own "
    "packages: docker-buildx-plugin; https://docs.docker.com/go/buildx/)"
)
_CLI_VERSION = re.compile(r"version (\d+)\.(\d+)")


def buildkit_problem(engine: Engine) -> str | None:
    """Why ``DOCKER_BUILDKIT=1 docker build`` cannot work with this docker CLI (None when it can):
    a CLI of version 23 or newer needs the buildx plugin for it; older ones build with BuildKit
    on their own."""
    p = engine.docker("--version", check=False, timeout=30)
    m = _CLI_VERSION.search(p.stdout or "")
    version = f"{m.group(1)}.{m.group(2)}" if m else None
    if m and int(m.group(1)) < 23:
        return None
    if engine.docker("buildx", "version", check=False, timeout=30).returncode == 0:
        return None
    return f"its docker CLI ({version or 'unknown version'}) has no buildx plugin, which BuildKit builds need"


def legacy_blocker(text: str, build_args: dict[str, str] | None = None, target: str | None = None) -> str | None:
    """Why Docker's legacy builder cannot build this Dockerfile as BuildKit does (``line N:
    ...``, the first of :func:`~layerwise.analyses.cache.legacy_unsupported`), or None."""
    from layerwise.analyses.cache import legacy_unsupported
    from layerwise.errors import LayerwiseError
    from layerwise.parse import parse_bytes
    from layerwise.resolve.stages import resolve

    try:
        build = resolve(parse_bytes(text.encode("utf-8", "surrogateescape"), "Dockerfile"), dict(build_args or {}))
        refused = legacy_unsupported(build, target)
    except LayerwiseError:
        return None  # the build reports it
    return next((f"line {inst.line}: {why}" for inst, why in refused), None)


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
def open_engine(
    say: Callable[[str], None] = print,
    *,
    builder: str = "buildkit",
    legacy_refused: str | None = "BuildKit was asked for",
    private_ok: bool = True,
    ci: bool = False,
) -> Iterator[tuple[Engine, str, str]]:
    """Yield ``(engine, description, builder)``; a private daemon is stopped (and its data
    removed) on the way out. Raises LayerwiseError ``no Docker engine: ...`` when there is none.
    Meanwhile SIGTERM and SIGHUP raise KeyboardInterrupt, so that the daemon is stopped then too.

    ``builder="buildkit"``: when the user's docker cannot build with BuildKit (no buildx plugin),
    the private engine is used if ``private_ok`` and it can be started, else the legacy builder
    unless ``legacy_refused`` says why not, else LayerwiseError (one line: what to install). The
    builder yielded is the one to build with.

    ``ci``: an engine whose builder layerwise may empty between two builds (a fresh CI runner)
    and whose default driver exports a cache: only the private engine, started with the
    containerd image store; the user's Docker is never pruned."""
    with terminate_as_interrupt():
        if ci:
            yield from _open_ci_engine(say)
        else:
            yield from _open_engine(say, builder, legacy_refused, private_ok)


CI_STORE = {"features": {"containerd-snapshotter": True}}


def _open_ci_engine(say: Callable[[str], None]) -> Iterator[tuple[Engine, str, str]]:
    install, reason = find_engine()
    if install is None or os.geteuid() != 0:
        why = reason if install is None else "layerwise's private engine is installed but needs root"
        raise LayerwiseError("bench --ci empties the builder between its two builds, as a fresh CI runner starts, "
                             "which layerwise does only on its own private engine, never on your Docker "
                             f"({why}). To get it: {INSTALL_HINT}")  # fmt: skip
    say(f"Starting layerwise's private engine (dockerd {install.version}) with the containerd image store, "
        "which exports and imports build caches; stopped again at the end...")  # fmt: skip
    yield from _private_engine(
        install, CI_STORE, "did not start with the containerd image store", "buildkit",
        f"layerwise's private engine (dockerd {install.version}, containerd image store; a fresh runner"
        " = its build cache emptied, the base images kept)",
    )


def _private_engine(install, config: dict | None, failed: str, builder: str,
                    label: str) -> Iterator[tuple[Engine, str, str]]:  # fmt: skip
    """Start layerwise's own daemon (``config``: its daemon.json), import the base images, yield
    it, and stop it (and remove its data) on the way out."""
    try:
        daemon = Daemon.start(install=install, config=config)
    except EngineError as exc:
        raise LayerwiseError(f"no Docker engine: the private engine {failed}: {exc}") from None
    try:
        try:
            daemon.import_base_images()
        except EngineError as exc:
            raise LayerwiseError(f"the private engine could not import its base images: {exc}") from None
        assert daemon.engine is not None
        yield daemon.engine, label, builder
    finally:
        daemon.stop()


def _open_engine(say: Callable[[str], None], builder: str, legacy_refused: str | None,
                 private_ok: bool) -> Iterator[tuple[Engine, str, str]]:  # fmt: skip
    eng, why = _user_docker()
    problem = buildkit_problem(eng) if eng is not None and builder == "buildkit" else None
    if eng is not None and problem is None:
        yield eng, why, builder
        return
    install, reason = find_engine()
    usable = install is not None and os.geteuid() == 0
    if eng is None and not usable:
        if install is not None:
            reason = "layerwise's private engine is installed but needs root"
        raise LayerwiseError(f"no Docker engine: {why}; {reason}. To get one: {INSTALL_HINT}")
    if eng is None:
        say(f"No Docker daemon answered ({why}); starting layerwise's private engine "
            f"(dockerd {install.version}, a fresh data folder, stopped again at the end)...")  # fmt: skip
    elif usable and private_ok:
        say(f"note: {why}: {problem}; building with layerwise's private engine instead.")
    elif legacy_refused is None:
        say(f"note: {why}: {problem}; measuring with Docker's legacy builder instead (its cache rules, "
            f"not BuildKit's). To measure BuildKit: {BUILDX_HINT}.")  # fmt: skip
        yield eng, f"{why}, legacy builder", "legacy"
        return
    else:
        raise LayerwiseError(f"{why}: {problem} ({legacy_refused}); {BUILDX_HINT}")
    assert install is not None
    yield from _private_engine(
        install, None, "did not start", builder,
        f"layerwise's private engine (dockerd {install.version}; base images python:3.1x-slim"
        " = Debian 12's Python 3.11, busybox)",
    )
