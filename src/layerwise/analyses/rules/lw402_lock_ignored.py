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

A lock file that exists in the project but is not copied before the install is reported too
(`uv sync --locked`, `pdm sync` or `pipenv install --deploy` then fail: "Unable to find
lockfile"; the others resolve again).

## Fix safety
A lock file that exists but is not copied: the fix adds it to the `COPY` that brings the
manifest (`COPY pyproject.toml ./` -> `COPY pyproject.toml uv.lock ./`). It is safe when the
install already demands the lock (`--locked`, `--frozen`, `pdm sync`, `--frozen-lockfile`,
`pipenv --deploy`: the build fails without it), unsafe otherwise (the install then takes the
locked versions instead of resolving again). No fix when that `COPY` has a single source and a
file name as destination, or when the `.dockerignore` excludes the lock.

`uv sync` without `--locked`/`--frozen`, with the lock in the image: the unsafe fix adds
`--locked` (a stale lock then fails the build instead of being rewritten). `pipenv install`
without `--deploy`: the unsafe fix adds `--deploy`. The other cases have a hint only.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator

from layerwise.analyses import fixtext
from layerwise.analyses.copies import image_path
from layerwise.analyses.findings import Edit, Finding, Fix
from layerwise.analyses.installs import MANAGER_LOCKS
from layerwise.analyses.rules import RuleContext
from layerwise.parse.instructions import Copy, Run

CODE = "LW402"

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


#: installs that fail without their lock file (adding it only makes the build work)
def _demands_lock(x) -> bool:
    if x.manager == "uv":
        return x.has("--locked", "--frozen")
    if x.manager == "pdm":
        return x.action == "sync" or x.has("--frozen-lockfile", "--check")
    if x.manager == "pipenv":
        return x.action == "sync" or x.has("--deploy", "--ignore-pipfile")
    if x.manager == "poetry":
        return x.action == "sync"
    return False


def _landing(copy_step, src: str, n_sources: int) -> str | None:
    """Where a COPY puts ``src`` (absolute), or None when its destination is not a folder."""
    inst = copy_step.instruction
    dest = str(copy_step.expanded.get("dest", inst.dest))
    folder = dest.endswith("/") or dest in (".", "..") or n_sources > 1
    base = posixpath.join(copy_step.workdir or "/", dest)
    return posixpath.normpath(posixpath.join(base, posixpath.basename(src.rstrip("/")))) if folder else None


def _manifest_copy(ctx: RuleContext, stage, step, manifest: str):
    """(copy step, source as written) of the last COPY before the install that puts the
    manifest where the install reads it."""
    want = image_path(step, manifest)
    for st in reversed(ctx.lineage(stage)):
        for s in reversed(st.steps):
            if st is stage and s.index >= step.index:
                continue
            inst = s.instruction
            if not isinstance(inst, Copy) or inst.from_ or s.expanded.get("from") or inst.contents:
                continue
            sources = list(s.expanded.get("sources", inst.sources))
            for raw, src in zip(inst.sources, sources):
                if posixpath.basename(src.rstrip("/")) == manifest and _landing(s, src, len(sources)) == want:
                    return s, raw, src
    return None


def _add_lock_fix(ctx: RuleContext, stage, step, x, lock: str) -> tuple[Fix | None, str | None]:
    """The edit adding ``lock`` to the manifest's COPY, and the lock's context path."""
    manifest = MANAGER_LOCKS[x.manager][0]
    found = _manifest_copy(ctx, stage, step, manifest)
    if found is None:
        return None, None
    copy_step, raw, src = found
    rel = posixpath.normpath(posixpath.join(posixpath.dirname(src.lstrip("/")), lock))
    if not ctx.project.is_file(rel) or ctx.project.excluded(rel):
        return None, rel
    node = copy_step.instruction.node
    if node.json or "$" in raw:
        return None, rel
    text = ctx.dockerfile.source(node)
    m = re.search(r"(?<=\s)" + re.escape(raw) + r"(?=\s)", text)
    if m is None:
        return None, rel
    lock_src = posixpath.join(posixpath.dirname(raw), lock) if "/" in raw else lock
    at = node.span.start + m.end()
    safety = "safe" if _demands_lock(x) else "unsafe"
    return Fix(safety, f"copy {lock_src} with {raw} (line {node.span.start_line})", (Edit(ctx.path, at, at, " " + lock_src),)), rel


def _option_fix(ctx: RuleContext, step, x, action: str, option: str) -> Fix | None:
    """``option`` added after the install's ``action`` word (``uv sync --locked``), in that
    command only."""
    edit = fixtext.option_insert(ctx.path, ctx.dockerfile, step.instruction, ctx.analysis(step), x, x.argv.index(action, 1), option)
    return None if edit is None else Fix("unsafe", f"add {option}", (edit,))


def check(ctx: RuleContext) -> Iterator[Finding]:
    project = ctx.project
    for stage in ctx.build.stages:
        for step in stage.steps:
            if not isinstance(step.instruction, Run):
                continue
            node = step.instruction.node
            for x in ctx.analysis(step).installs:
                msg = hint = None
                fix = None
                lock = MANAGER_LOCKS.get(x.manager, ("", ""))[1]
                missing = (
                    lock and project.known and not (x.manager == "pipenv" and x.packages) and not x.has("--no-lock")
                    and not ctx.image_files_before(stage, step.index).with_mounts(step).has(image_path(step, lock))
                )  # fmt: skip
                if missing:
                    fix, rel = _add_lock_fix(ctx, stage, step, x, lock)
                    if rel is None:
                        rel = lock
                    if not project.is_file(rel):
                        missing = False
                if missing:
                    cmd = " ".join(x.argv[:2])
                    if _demands_lock(x):
                        msg = f"`{cmd}` needs {lock}, which exists in the project but is not copied before it: the build fails"
                    else:
                        msg = f"`{cmd}` runs without {lock} (it exists in the project but is not copied): it resolves again"
                    hint = f"COPY {MANAGER_LOCKS[x.manager][0]} {lock} ./ before the install"
                    if project.excluded(rel):
                        hint = f"the .dockerignore excludes {rel}: keep it, and copy it before the install"
                elif x.manager == "uv" and not x.has("--locked", "--frozen") and not _hidden_options(x, step, ("--locked", "--frozen")):
                    msg = "`uv sync` without --locked or --frozen re-resolves when uv.lock is stale (and rewrites it in the image)"
                    hint = "use uv sync --locked (fail on a stale lock) or --frozen"
                    fix = _option_fix(ctx, step, x, "sync", "--locked")
                elif x.manager == "pipenv" and x.action == "install" and not x.packages and not x.has("--deploy", "--ignore-pipfile"):
                    msg = "`pipenv install` without --deploy ignores an out-of-date Pipfile.lock"
                    hint = "use pipenv install --deploy (or pipenv sync)"
                    fix = _option_fix(ctx, step, x, "install", "--deploy")
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
                if msg:
                    where = ctx.locate_install(step, x)
                    yield ctx.at(CODE, node, msg, hint=hint or "", fix=fix or Fix("unsafe", hint or ""),
                                 line=where[0] if where else None, column=where[1] if where else None)  # fmt: skip
