"""Dependencies a stage receives ready-made from another stage.

A common multi-stage layout installs the dependencies in a builder stage and copies the
environment they went into (``/app/.venv``, ``/opt/venv``, the site-packages) into the final
stage, where the same tool runs once more (``uv sync``, ``poetry install``) to install the
project itself. That second install re-runs when the code changes, but it finds every dependency
already installed and installs only the project: it is no dependency reinstall. This module finds
such installs, from evidence only: a ``COPY --from=<stage>`` whose source holds (or is) the
environment into which an install of that stage's lineage put the dependencies the later install
reads.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Sequence

from layerwise.analyses import copies
from layerwise.analyses.installs import Install
from layerwise.parse.instructions import Copy, Run
from layerwise.resolve.stages import Step

# Folders on PATH that hold no environment of their own.
_SYSTEM_BIN = frozenset({"/bin", "/sbin", "/usr/bin", "/usr/sbin"})
# pip-like installers that read requirement files: one family.
_PIP = frozenset({"pip", "uv-pip", "pip-sync"})


def _family(manager: str) -> str:
    return "pip" if manager in _PIP else manager


def _value(step: Step, install: Install, name: str) -> str | None:
    value = install.env.get(name) or step.env_get(name)
    return value if value and "$" not in value else None


def _option(install: Install, *names: str) -> list[str]:
    return [o.split("=", 1)[1] for o in install.options if "=" in o and o.split("=", 1)[0] in names]


def _home(user: str) -> str | None:
    name = user.split(":", 1)[0]
    if name in ("", "root", "0"):
        return "/root"
    return None if name.isdigit() or "$" in name else f"/home/{name}"


def environments(step: Step, install: Install) -> set[str]:
    """Image paths that may hold what ``install`` (run by ``step``) installs: the virtualenv it
    uses (the project's, or the active one), the prefix or target it names, the user site, and
    the system prefix for the installs that use it."""
    home = _value(step, install, "HOME") or _home(step.user)
    family = _family(install.manager)
    found: list[str] = []
    if family != "uv" or install.has("--active"):  # uv sync keeps to the project's environment
        found += [p for p in (_value(step, install, "VIRTUAL_ENV"),) if p]
        for entry in (_value(step, install, "PATH") or "").split(":"):
            entry = entry.rstrip("/")
            if entry.endswith("/bin") and entry not in _SYSTEM_BIN:
                found.append(entry[: -len("/bin")] or "/")
    system = ["/usr/local", "/usr/lib/python3"]
    if family == "pip":
        found += system + _option(install, "--target", "-t", "--prefix", "--root")
        if install.has("--user"):
            found.append(_value(step, install, "PYTHONUSERBASE") or (f"{home}/.local" if home else ""))
    elif family == "uv":
        found.append(_value(step, install, "UV_PROJECT_ENVIRONMENT") or ".venv")
    elif family == "poetry":
        found.append(".venv")
        found.append(
            _value(step, install, "POETRY_VIRTUALENVS_PATH") or (f"{home}/.cache/pypoetry/virtualenvs" if home else "")
        )
        if (_value(step, install, "POETRY_VIRTUALENVS_CREATE") or "").lower() in ("false", "0"):
            found += system
    elif family == "pdm":
        found += [".venv", "__pypackages__"]
    elif family == "pipenv":
        found += [".venv", f"{home}/.local/share/virtualenvs" if home else ""]
        if install.has("--system"):
            found += system
    return {copies.image_path(step, p) for p in found if p and "$" not in p}


def _brings(src: str, env: str) -> bool:
    """Whether copying ``src`` brings the installed packages of the environment ``env``: the
    environment itself, a folder holding it, or its site-packages."""
    if src == env or src == "/" or env.startswith(src.rstrip("/") + "/"):
        return True
    return src.startswith(env.rstrip("/") + "/") and ("site-packages" in src or "dist-packages" in src)


def _reads(install: Install) -> set[str]:
    return {posixpath.basename(r) for r in install.reads}


def _dependency_installs(steps: Iterable[Step], analysis) -> Iterable[tuple[Step, Install]]:
    for step in steps:
        if isinstance(step.instruction, Run):
            for x in analysis(step).installs:
                if x.downloads and not x.tools_only and x.reads:
                    yield step, x


def carried(ctx, copy_step: Step) -> list[Install]:
    """The dependency installs whose environment a ``COPY --from=<stage>`` brings: installs of
    that stage's lineage into (a folder of) what it copies. Empty for any other step."""
    inst = copy_step.instruction
    if not isinstance(inst, Copy) or inst.contents:
        return []
    refs = copy_step.stage_refs() or []
    if len(refs) != 1:
        return []
    source = ctx.build.stages[refs[0]]
    workdir = (source.steps[-1].workdir if source.steps else "/") or "/"
    srcs = [posixpath.normpath(posixpath.join(workdir, s)) for s in copies.sources(copy_step)]
    if any(c in s for s in srcs for c in "*?[$"):
        return []
    chain = [s for st in ctx.lineage(source) for s in st.steps]
    return [
        x
        for run, x in _dependency_installs(chain, ctx.analysis)
        if any(_brings(src, env) for src in srcs for env in environments(run, x))
    ]


def preinstalled_by(ctx, stage_copies: Sequence[Step], install: Install) -> Step | None:
    """The ``COPY --from=<stage>`` among ``stage_copies`` (before ``install`` in its stage
    chain) that brought the environment into which that stage installed, with the same tool,
    every file ``install`` reads; or None."""
    wanted = _reads(install)
    if not wanted:
        return None
    for step in reversed(stage_copies):
        if any(_family(x.manager) == _family(install.manager) and wanted <= _reads(x) for x in carried(ctx, step)):
            return step
    return None
