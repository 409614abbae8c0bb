"""Locate the engine that ``scripts/install-engine.sh`` installed."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

DEFAULT_ENGINE_DIR = Path("/opt/layerwise-engine")
DEFAULT_CACHE_DIR = Path("/var/cache/layerwise-engine")
ENV_VAR = "LAYERWISE_ENGINE_DIR"
INSTALL_HINT = "run `sudo bash scripts/install-engine.sh` (see DEVELOPERS.md)"


@dataclass(frozen=True)
class EngineInstall:
    """Paths of an installed private engine (from ``<dir>/engine.env``)."""

    dir: Path
    flavor: str  # "modern" (Debian 13 docker.io 26.x) | "fallback" (Debian 12, 20.10)
    version: str
    root: Path  # unpacked packages
    dockerd: Path
    docker: Path
    buildx: Path | None  # the buildx CLI plugin (None: legacy builder only via CLI)
    runc: Path | None
    cache_dir: Path  # rootfs tarballs

    @property
    def path_dirs(self) -> list[str]:
        """Directories to put first on PATH for dockerd (containerd, shims, runc)."""
        dirs = [str(self.root / "usr" / "bin"), str(self.root / "usr" / "sbin")]
        if self.runc is not None:
            dirs.append(str(self.runc.parent))
        return dirs

    @property
    def busybox_tar(self) -> Path:
        return self.cache_dir / "busybox.tar"

    @property
    def python_tar(self) -> Path:
        return self.cache_dir / "python-bookworm.tar"

    @property
    def supports_modern_dockerfile(self) -> bool:
        """Heredocs, ``COPY --link``, ``RUN --network`` (BuildKit >= 0.10)."""
        return self.flavor == "modern"


def _read_env(path: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        k, v = line.split("=", 1)
        out[k.strip()] = v.strip()
    return out


def find_engine(engine_dir: str | os.PathLike[str] | None = None) -> tuple[EngineInstall | None, str]:
    """Return ``(install, "")`` or ``(None, reason)``.

    Looks in ``engine_dir``, else ``$LAYERWISE_ENGINE_DIR``, else /opt/layerwise-engine.
    """
    d = Path(engine_dir or os.environ.get(ENV_VAR) or DEFAULT_ENGINE_DIR)
    stamp = d / "engine.env"
    if not stamp.is_file():
        return None, f"no engine installed in {d} ({stamp} missing); {INSTALL_HINT}"
    try:
        env = _read_env(stamp)
    except OSError as exc:
        return None, f"cannot read {stamp}: {exc}"
    try:
        root = Path(env["LAYERWISE_ENGINE_ROOT"])
        dockerd = Path(env["LAYERWISE_ENGINE_DOCKERD"])
        docker = Path(env["LAYERWISE_ENGINE_DOCKER"])
    except KeyError as exc:
        return None, f"{stamp} lacks {exc.args[0]}; {INSTALL_HINT}"
    buildx = Path(env["LAYERWISE_ENGINE_BUILDX"]) if env.get("LAYERWISE_ENGINE_BUILDX") else None
    runc_s = env.get("LAYERWISE_ENGINE_RUNC") or shutil.which("runc")
    runc = Path(runc_s) if runc_s else None
    for what, p in (("dockerd", dockerd), ("docker client", docker)):
        if not os.access(p, os.X_OK):
            return None, f"{what} missing at {p}; {INSTALL_HINT}"
    if runc is None or not os.access(runc, os.X_OK):
        return None, f"runc not found; {INSTALL_HINT}"
    if buildx is not None and not os.access(buildx, os.X_OK):
        buildx = None
    inst = EngineInstall(
        dir=d,
        flavor=env.get("LAYERWISE_ENGINE_FLAVOR", "unknown"),
        version=env.get("LAYERWISE_ENGINE_VERSION", "unknown"),
        root=root,
        dockerd=dockerd,
        docker=docker,
        buildx=buildx,
        runc=runc,
        cache_dir=Path(env.get("LAYERWISE_ENGINE_CACHE") or DEFAULT_CACHE_DIR),
    )
    return inst, ""
