"""Where each package manager keeps its download cache in a RUN, and whether the RUN keeps,
mounts, disables or cleans it. Shared by the LW2xx rules."""

from __future__ import annotations

import posixpath
import re

from layerwise.analyses.installs import Install
from layerwise.resolve.stages import Step

# manager -> (env var naming the cache dir, default under $HOME, env vars that disable it, options that disable it)
CACHES: dict[str, tuple[str, str, tuple[str, ...], tuple[str, ...]]] = {
    "pip": ("PIP_CACHE_DIR", ".cache/pip", ("PIP_NO_CACHE_DIR",), ("--no-cache-dir", "--no-cache")),
    "pip-sync": ("PIP_CACHE_DIR", ".cache/pip", ("PIP_NO_CACHE_DIR",), ("--no-cache-dir",)),
    "uv": ("UV_CACHE_DIR", ".cache/uv", ("UV_NO_CACHE",), ("--no-cache", "-n")),
    "uv-pip": ("UV_CACHE_DIR", ".cache/uv", ("UV_NO_CACHE",), ("--no-cache", "-n")),
    "poetry": ("POETRY_CACHE_DIR", ".cache/pypoetry", ("POETRY_NO_CACHE",), ("--no-cache",)),
    "pdm": ("PDM_CACHE_DIR", ".cache/pdm", ("PDM_NO_CACHE",), ("--no-cache",)),
    "pipenv": ("PIPENV_CACHE_DIR", ".cache/pipenv", ("PIP_NO_CACHE_DIR",), ()),
    "conda": ("CONDA_PKGS_DIRS", "", (), ()),
}
_CLEAN = {
    "pip": r"pip3?\s+cache\s+(purge|remove)|rm\s+-[a-zA-Z]*\s+[^&;|]*\.cache(/pip)?\b",
    "uv": r"uv\s+cache\s+(clean|prune)|rm\s+-[a-zA-Z]*\s+[^&;|]*\.cache(/uv)?\b",
    "poetry": r"poetry\s+cache\s+clear|rm\s+-[a-zA-Z]*\s+[^&;|]*(\.cache|pypoetry|POETRY_CACHE_DIR)",
    "pdm": r"pdm\s+cache\s+clear|rm\s+-[a-zA-Z]*\s+[^&;|]*\.cache",
    "pipenv": r"rm\s+-[a-zA-Z]*\s+[^&;|]*\.cache|pipenv\s+--clear",
    "conda": r"\b(conda|mamba|micromamba)\s+clean\b|rm\s+-[a-zA-Z]*\s+[^&;|]*pkgs",
}
ROOT_USERS = ("", "root", "0", "0:0", "root:root")


def family(manager: str) -> str:
    return {"uv-pip": "uv", "pip-sync": "pip"}.get(manager, manager)


def env_of(step: Step, ins: Install | None = None) -> dict[str, str]:
    env = dict(step.args)
    env.update(step.env)
    if ins is not None:
        env.update(ins.env)
    return env


def home(step: Step, env: dict[str, str]) -> str:
    if env.get("HOME"):
        return env["HOME"]
    user = step.user.split(":", 1)[0]
    if step.user in ROOT_USERS or user in ("root", "0", ""):
        return "/root"
    return f"/home/{user}" if not user.isdigit() else "/"


def cache_dir(step: Step, ins: Install) -> str | None:
    """The cache folder the install uses (None: unknown/none)."""
    var, default, _, _ = CACHES.get(ins.manager, ("", "", (), ()))
    env = env_of(step, ins)
    for o in ins.options:
        if o.startswith("--cache-dir="):
            return o.split("=", 1)[1]
    if var and env.get(var):
        return env[var].split(":", 1)[0]
    if ins.manager == "conda":
        return None
    if not default:
        return None
    xdg = env.get("XDG_CACHE_HOME")
    if xdg:
        return posixpath.join(xdg, default.split("/", 1)[1])
    return posixpath.join(home(step, env), default)


def disabled_by(step: Step, ins: Install) -> str | None:
    """What disables the cache: ``--no-cache-dir``, ``PIP_NO_CACHE_DIR=...`` (None: enabled)."""
    _, _, envs, opts = CACHES.get(ins.manager, ("", "", (), ()))
    for o in ins.options:
        if o.split("=", 1)[0] in opts:
            return o
    env = env_of(step, ins)
    for e in envs:
        if e in env:
            return f"{e}={env[e]}"
    return None


def cache_mounts(step: Step) -> list:
    mounts = step.expanded.get("mounts") or getattr(step.instruction, "mounts", [])
    return [m for m in mounts if m.type == "cache"]  # type: ignore[union-attr]


def covering_mount(step: Step, path: str | None):
    """The cache mount whose target contains ``path``."""
    if not path:
        return None
    path = posixpath.normpath(path)
    for m in cache_mounts(step):
        t = posixpath.normpath(m.target or "/")
        if path == t or path.startswith(t.rstrip("/") + "/"):
            return m
    return None


def looks_like_cache_of(target: str, manager: str) -> bool:
    fam = family(manager)
    t = target.lower()
    return {"pip": "pip" in t and "pipenv" not in t, "uv": bool(re.search(r"(^|/|\.|-)uv($|/|-)", t)) or "/uv" in t,
            "poetry": "poetry" in t, "pdm": "pdm" in t, "pipenv": "pipenv" in t,
            "conda": "pkgs" in t or "conda" in t or "mamba" in t}.get(fam, False)  # fmt: skip


def cleaned(text: str, manager: str) -> bool:
    pat = _CLEAN.get(family(manager))
    return bool(pat and re.search(pat, text))
