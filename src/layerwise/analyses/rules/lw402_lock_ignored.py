"""## What it does
Finds installs that ignore a lock file: `uv sync` without `--locked`/`--frozen`, `pipenv
install` without `--deploy`, `poetry install` when `poetry.lock` exists but is not copied,
`pip install -r requirements.in` next to its compiled `requirements.txt`, and (with the build
context) `pip install .` in a project that has a pip-tools/uv/Poetry/PDM lock.

## Why is this bad?
Without the lock, the install resolves versions again: the image gets whatever was released
since, differs between builds of the same commit, and can break without any change. `uv
sync` without `--locked` even rewrites `uv.lock` inside the image when it is out of date.

## Example
```dockerfile
COPY pyproject.toml uv.lock ./
RUN uv sync
```

## Use instead
```dockerfile
COPY pyproject.toml uv.lock ./
RUN uv sync --locked
```
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator

from layerwise.analyses.copies import image_path
from layerwise.analyses.findings import Finding, Fix
from layerwise.analyses.rules import RuleContext
from layerwise.parse.instructions import Run

CODE = "LW402"
NAME = "lock-file-ignored"
SUMMARY = "A lock file exists but the install ignores it"
SEVERITY = "warning"
FIX = "unsafe"
NEEDS_CONTEXT = False

_COMPILED_MARKERS = ("pip-compile", "uv pip compile", "uv export", "poetry export", "pdm export")


def _compiled(project, rel: str) -> bool:
    text = project.read_text(rel)
    return bool(text) and any(m in text[:2000] for m in _COMPILED_MARKERS)


def _hidden_options(x, step, names: tuple[str, ...]) -> bool:
    """Whether ``$VARS`` in the command may hold one of the options (unknown value: maybe)."""
    import re

    from layerwise.analyses.pkgcache import env_of

    env = env_of(step, x)
    for word in x.argv:
        for var in re.findall(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)", word):
            value = env.get(var)
            if value is None or any(n in value for n in names):
                return True
    return False


def check(ctx: RuleContext) -> Iterator[Finding]:
    project = ctx.project
    for stage in ctx.build.stages:
        for step in stage.steps:
            if not isinstance(step.instruction, Run):
                continue
            node = step.instruction.node
            for x in ctx.analysis(step).installs:
                msg = hint = None
                if x.manager == "uv" and not x.has("--locked", "--frozen") and not _hidden_options(x, step, ("--locked", "--frozen")):
                    msg = "`uv sync` without --locked or --frozen re-resolves when uv.lock is stale (and rewrites it in the image)"
                    hint = "use uv sync --locked (fail on a stale lock) or --frozen"
                elif x.manager == "pipenv" and x.action == "install" and not x.packages and not x.has("--deploy", "--ignore-pipfile"):
                    msg = "`pipenv install` without --deploy ignores an out-of-date Pipfile.lock"
                    hint = "use pipenv install --deploy (or pipenv sync)"
                elif x.manager == "pdm" and x.has("--no-lock"):
                    msg = "`pdm install --no-lock` resolves without pdm.lock"
                    hint = "drop --no-lock and copy pdm.lock"
                elif x.manager in ("pip", "uv-pip"):
                    ins = [r for r in x.requirements if r.endswith(".in")]
                    for r in ins:
                        txt = r[:-3] + ".txt"
                        fs = ctx.image_files_before(stage, step.index)
                        if fs.has(image_path(step, txt)) or project.is_file(txt.lstrip("./")):
                            msg = f"`{' '.join(x.argv[:2])} -r {r}` installs the unpinned input next to its compiled {posixpath.basename(txt)}"
                            hint = f"install -r {txt}"
                    if msg is None and project.known and x.project and not x.requirements and not x.constraints and not x.has("--no-deps"):
                        locks = [f for f in ("uv.lock", "poetry.lock", "pdm.lock", "requirements.lock")
                                 if project.is_file(f)] + [f for f in ("requirements.txt",) if _compiled(project, f)]  # fmt: skip
                        if locks:
                            msg = f"`{' '.join(x.argv[:3])}` resolves the project's dependencies again although {', '.join(locks)} pins them"
                            hint = "install the lock first (uv sync --locked, poetry install, pip install -r requirements.txt), then the project with --no-deps"
                elif x.manager == "poetry" and project.is_file("poetry.lock"):
                    fs = ctx.image_files_before(stage, step.index).with_mounts(step)
                    if not fs.has(image_path(step, "poetry.lock")):
                        msg = "`poetry install` runs without poetry.lock (it exists in the project but is not copied): it resolves again"
                        hint = "COPY pyproject.toml poetry.lock ./ before the install"
                if msg:
                    where = ctx.locate_command(node, x.argv)
                    yield ctx.at(CODE, node, msg, hint=hint or "", fix=Fix("unsafe", hint or ""),
                                 line=where[0] if where else None, column=where[1] if where else None)  # fmt: skip
