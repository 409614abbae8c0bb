"""Where each package manager keeps its download cache in a RUN, and whether the RUN keeps,
mounts, disables or cleans it. Shared by the LW2xx rules."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator, Mapping

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
    # (rm -rf $(poetry config cache-dir): microsoft/presidio)
    "poetry": r"poetry\s+cache\s+clear|rm\s+-[a-zA-Z]*\s+[^&;|]*(\.cache|pypoetry|POETRY_CACHE_DIR|poetry\s+config\s+cache-dir)",
    "pdm": r"pdm\s+cache\s+clear|rm\s+-[a-zA-Z]*\s+[^&;|]*\.cache",
    "pipenv": r"rm\s+-[a-zA-Z]*\s+[^&;|]*\.cache|pipenv\s+--clear",
    "conda": r"\b(conda|mamba|micromamba)\s+clean\b|rm\s+-[a-zA-Z]*\s+[^&;|]*pkgs",
}
ROOT_USERS = ("", "root", "0", "0:0", "root:root")


def family(manager: str) -> str:
    return {"uv-pip": "uv", "pip-sync": "pip"}.get(manager, manager)


class InstallEnv(Mapping[str, str]):
    """The environment an install runs with, read-only: its inline ``VAR=value`` prefixes over
    the step's ENV over its ARGs. A name is looked up in each without building their lists
    (O(log n) amortized); iterating builds the whole dict, once."""

    __slots__ = ("_dict", "_inline", "_step")

    def __init__(self, step: Step, inline: Mapping[str, str]) -> None:
        self._step = step
        self._inline = inline
        self._dict: dict[str, str] | None = None

    def get(self, name: str, default=None):  # type: ignore[override]
        value = self._inline.get(name)
        if value is None:
            value = self._step.env_get(name)
            if value is None:
                value = self._step.arg_get(name)
        return default if value is None else value

    def __getitem__(self, name: str) -> str:
        value = self.get(name)
        if value is None:
            raise KeyError(name)
        return value

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def _full(self) -> dict[str, str]:
        if self._dict is None:
            env = dict(self._step.args)
            env.update(self._step.env)
            env.update(self._inline)
            self._dict = env
        return self._dict

    def __iter__(self) -> Iterator[str]:
        return iter(self._full())

    def __len__(self) -> int:
        return len(self._full())

    def __repr__(self) -> str:
        return f"InstallEnv({self._full()!r})"


def env_of(step: Step, ins: Install | None = None) -> InstallEnv:
    """What ``ins`` (or, without one, the step) runs with: see :class:`InstallEnv`."""
    return InstallEnv(step, ins.env if ins is not None else {})


def home(step: Step, env: Mapping[str, str]) -> str:
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


_TRUE = ("1", "true", "yes", "on", "y", "t")


def local_sources(step: Step, ins: Install) -> bool:
    """Whether a pip (or ``uv pip``) install takes every package from local folders: ``--no-index``
    (or ``PIP_NO_INDEX``/``UV_NO_INDEX``) with only local ``--find-links`` (a path or
    ``file:``, not a URL), named packages and requirement files resolved from them, local
    wheels; no URL, VCS or sdist target, no editable. The versions are then the folder's,
    and pip fetches nothing over HTTP (its HTTP cache stays empty)."""
    if ins.manager not in ("pip", "uv-pip") or ins.editable or ins.action != "install":
        return False
    env = env_of(step, ins)
    no_index = env.get("UV_NO_INDEX" if ins.manager == "uv-pip" else "PIP_NO_INDEX", "").strip().lower() in _TRUE
    links: list[str] = []
    for o in ins.options:
        name, eq, value = o.partition("=")
        if name == "--no-index":
            no_index = True
        elif name in ("-f", "--find-links") and eq:
            links.append(value)
        elif o.startswith("-f") and not o.startswith("--") and len(o) > 2:
            links.append(o[2:])  # -f/wheels
    if not no_index:
        return False
    links += env.get("PIP_FIND_LINKS" if ins.manager == "pip" else "UV_FIND_LINKS", "").split()
    if not links or any("://" in v and not v.startswith("file:") for v in links):
        return False
    if any("://" in p or "@" in p or p.startswith(("git+", "hg+", "svn+", "bzr+")) for p in ins.packages):
        return False
    return all(t.endswith(".whl") for t in ins.targets)

