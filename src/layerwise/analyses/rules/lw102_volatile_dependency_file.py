"""## What it does
Finds a dependency install that reads a file which also changes for reasons that have
nothing to do with dependencies: `pyproject.toml` with `[tool.*]` sections of other tools
(ruff, pytest, mypy...), edited far more often than the dependencies (its static `version`
and `uv.lock`, which records the project's version, are named too). Needs the build context:
it reads the `pyproject.toml` that the `COPY` or bind mount takes (`backend/pyproject.toml` in a
project whose context is the repository root), and names that file's sections. A static version alone is not reported: it changes once a
release, and copying `pyproject.toml` and the lock file is the layout every packaging tool
documents.

## Why is this bad?
The `COPY pyproject.toml uv.lock ./` layer changes whenever the version is bumped or a linter
setting is edited, and the dependency install after it reruns although no dependency changed.
Release builds then never hit the cache.

## Example
```dockerfile
COPY pyproject.toml uv.lock ./
RUN uv sync --locked --no-install-project
```
with `version = "1.4.2"` and `[tool.ruff]` in `pyproject.toml`.

## Use instead
Install from a file that only lists dependencies:
```dockerfile
# uv export --no-hash --no-emit-project -o requirements.txt  (in CI or a builder stage)
COPY requirements.txt ./
RUN pip install -r requirements.txt
```
or make the version dynamic (`dynamic = ["version"]` with setuptools-scm / hatch-vcs) and keep
tool settings in their own files (`ruff.toml`, `pytest.ini`).
"""

from __future__ import annotations

import bisect
import posixpath
from collections.abc import Iterator

from layerwise.analyses import copies
from layerwise.analyses.findings import Finding
from layerwise.analyses.rules import RuleContext
from layerwise.parse.instructions import Run

CODE = "LW102"

# [tool.X] tables that the install itself reads: editing them may change what is installed
_INSTALL_TOOLS = {"poetry", "uv", "pdm", "setuptools", "hatch", "flit", "pipenv", "setuptools_scm", "maturin"}


def reasons(data: dict) -> list[str]:
    """Why a pyproject.toml changes without a dependency change."""
    out = []
    project = data.get("project") if isinstance(data.get("project"), dict) else {}
    tool = data.get("tool") if isinstance(data.get("tool"), dict) else {}
    poetry = tool.get("poetry") if isinstance(tool.get("poetry"), dict) else {}
    if "version" in project and "version" not in project.get("dynamic", []):
        out.append(f'a static version ("{project["version"]}")')
    elif poetry.get("version") and not tool.get("poetry-dynamic-versioning"):
        out.append(f'a static version ("{poetry["version"]}")')
    others = sorted(k for k in tool if k not in _INSTALL_TOOLS)
    if not others:
        return []  # a version bump is a release: not worth a note on a textbook layout
    more = f" and {len(others) - 4} more" if len(others) > 4 else ""
    out.append("settings of other tools (" + ", ".join(f"[tool.{k}]" for k in others[:4]) + more + ")")
    return out


def _version_words(why: list[str], has_lock: bool) -> tuple[str, str]:
    """What the message says of uv.lock, and the hint's end: only a static version is recorded
    in uv.lock and can be made dynamic (a dynamic one is neither)."""
    static = any(w.startswith("a static version") for w in why)
    lock = " and uv.lock (which records the project's version)" if has_lock and static else ""
    return lock, ", or make the version dynamic" if static else ", and keep tool settings in their own files"


def check(ctx: RuleContext) -> Iterator[Finding]:
    if not ctx.project.known:
        return
    readers: dict[int, tuple[list[int], list]] = {}  # per stage: the installs reading pyproject.toml
    for stage, step in ctx.steps():
        if isinstance(step.instruction, Run):  # RUN --mount=type=bind,source=pyproject.toml
            mounted = {_name(m.source): m.source for m in step.expanded.get("mounts") or []  # type: ignore[union-attr]
                       if m.type == "bind" and not m.from_ and m.source}  # fmt: skip
            if "pyproject.toml" not in mounted:
                continue
            shown, why = _volatile(ctx, mounted["pyproject.toml"])
            hits = [x for x in ctx.analysis(step).installs if "pyproject.toml" in x.reads] if why else []
            if hits:
                lock, tail = _version_words(why, "uv.lock" in mounted)
                yield ctx.at(
                    CODE,
                    step.instruction.node,
                    f"{shown}{lock}, mounted for `{' '.join(hits[0].argv[:3])}`, also holds "
                    f"{' and '.join(why)}: editing those reruns the install",
                    hint="install from an exported requirements file" + tail,
                )
            continue
        if not copies.from_context(step) or copies.is_whole_context(step):
            continue
        srcs = {_name(s): s for s in reversed(copies.sources(step))}  # (the first of a name)
        if "pyproject.toml" not in srcs:
            continue
        # the next install in the stage that reads it (found by a search: a stage may copy
        # pyproject.toml many times)
        if stage.index not in readers:
            readers[stage.index] = _readers(ctx, stage)
        positions, hits_at = readers[stage.index]
        k = bisect.bisect_right(positions, step.index)  # (a step's index is its position in stage.steps)
        if k >= len(positions):
            continue
        # the sections of the file this COPY takes (backend/pyproject.toml is not the root's)
        shown, why = _volatile(ctx, srcs["pyproject.toml"])
        if not why:
            continue
        later, hits = hits_at[k]
        x = hits[0]
        lock, tail = _version_words(why, "uv.lock" in srcs)
        if x.manager == "uv":
            hint = "install from `uv export --no-emit-project` output" + tail
        elif x.manager == "poetry":
            hint = "install from `poetry export` output" + (
                ", or use a dynamic version (poetry-dynamic-versioning)" if tail else "")
        else:
            hint = "install from an exported requirements file" + tail
        yield ctx.at(
            CODE,
            step.instruction.node,
            f"{shown}{lock}, copied here for `{' '.join(x.argv[:3])}` (line {later.line}), "
            f"also holds {' and '.join(why)}: editing those reruns the install",
            hint=hint,
            related=((ctx.path, later.line),),
        )


def _name(src: str) -> str:
    return src.rstrip("/").rsplit("/", 1)[-1]


def _volatile(ctx: RuleContext, src: str) -> tuple[str, list[str]]:
    """The context path of the pyproject.toml a COPY source or bind-mount source names (as
    shown in a message: ``pyproject.toml``, ``backend/pyproject.toml``) and why that file
    changes without a dependency change (empty: it does not, or it cannot be read)."""
    rel = posixpath.normpath(src.strip().lstrip("/") or ".")
    data = ctx.project.pyproject_at(rel)
    return rel, (reasons(data) if data else [])


def _readers(ctx: RuleContext, stage) -> tuple[list[int], list]:
    """The positions of the stage's RUNs with an install that reads pyproject.toml (or
    installs the project with pip), and (step, those installs) for each."""
    positions: list[int] = []
    found: list = []
    for i, later in enumerate(stage.steps):
        if not isinstance(later.instruction, Run):
            continue
        hits = [x for x in ctx.analysis(later).installs
                if "pyproject.toml" in x.reads or (x.manager in ("pip", "uv-pip") and x.project)]  # fmt: skip
        if hits:
            positions.append(i)
            found.append((later, hits))
    return positions, found
