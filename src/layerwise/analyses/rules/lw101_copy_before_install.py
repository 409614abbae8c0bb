"""## What it does
Finds a `COPY`/`ADD` of the whole build context (`COPY . .`), or of application source
files or folders, that comes before a dependency install in the same stage (or in a stage
it is built `FROM`).

## Why is this bad?
Docker reuses a layer only while every earlier layer is reused. A `COPY` layer changes
whenever any file it copies changes, so with the source copied first, every edit of any
source file reruns the dependency install after it: minutes of downloads and compilation
for a one-line change. The install only needs the dependency files
(`requirements.txt`, `pyproject.toml` and the lock file), which change rarely.

## Example
```dockerfile
FROM python:3.12-slim
WORKDIR /app
COPY . .
RUN pip install -r requirements.txt
CMD ["python", "app.py"]
```

## Use instead
```dockerfile
FROM python:3.12-slim
WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt
COPY . .
CMD ["python", "app.py"]
```
For Poetry, uv or PDM copy `pyproject.toml` and the lock file, install with `--no-root`,
`--no-install-project` or `--no-self`, then copy the code and install the project.

`layerwise fix` rewrites the file this way.

Not reported: a copy of dependency files only, including a wildcard that selects only them
(`COPY pyproject.toml uv.lock* ./`, `poetry.lock*`: the lock file when there is one; a wildcard
that matches nothing copies nothing). Without the build context, `NAME*` counts when NAME is a
dependency file; with it, the files the wildcard selects there are looked at. Nor a copy of
scripts and configuration files alone (`entrypoint.sh`, `gunicorn.conf`, or a script without
an extension such as `start-worker` when the context shows it is a file, not a folder).

Not reported either: an install that finds its dependencies already installed because the stage copied
them in with their environment (`COPY --from=builder /app/.venv .venv`, `/opt/venv`, the
site-packages or a `--prefix` folder) from a stage whose install of the same tool read the same
files. The install re-runs after a code change but adds only the project.

## Fix safety
The fix is safe: it moves the whole-context `COPY` below the install, copies exactly the
files the install reads before it (requirements and their `-r`/`-c` includes, lock files) and,
for an install that also builds the project, installs the dependencies alone first
(`--no-root`, `--no-install-project`, `--no-self`, or pyproject's dependencies); the project's
own `pip install .` (`uv pip install .`) that follows then gets `--no-deps`, so a code change
installs the project alone and resolves nothing, when pyproject.toml lists every dependency
statically (not `dynamic`: those only the build knows). It is only
offered when every command it moves above the code copy is known not to read the project's
files: the dependency installs of the files it copies first, and commands on a short list
(system packages, users, folders, downloads, npm/yarn/pnpm settings and global installs of
packages named by name), and no `chmod`, `chown` or `rm` of a path the copy brings (or of a
path layerwise cannot place), nor a `cd` into a folder that only the copy brings. A RUN that also needs the code (`npm ci`, `npm run build`, `yarn`,
`pnpm install`, `npx`, `node`, `make`, `manage.py`, `chmod +x start.sh`, any command not on
the list) is not moved, nor is the copy moved past one:
the finding's help says to split it, or what else to do by hand (and the finding is not marked
fixable).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator

from layerwise.analyses import copies
from layerwise.analyses.findings import Edit, Finding, Fix
from layerwise.analyses.installs import TOOLS, requirement_name
from layerwise.analyses.preinstalled import carried, preinstalled_by
from layerwise.analyses.rules import RuleContext
from layerwise.parse.instructions import Copy, Run
from layerwise.resolve.stages import Step

CODE = "LW101"

_Waiting = tuple[int, Step, list[str], bool]  # a copy an install may report: see check


def _layout(ctx: RuleContext) -> tuple[dict[int, Fix], dict[int, str]]:
    """The dependency-first layout fixes by line of the copy they move, and the reasons a
    layout cannot be written by line of the install (:mod:`layerwise.fixes.layout`)."""
    from layerwise.fixes.layout import Project, fix_layout

    fixes, hints = fix_layout(ctx.dockerfile, ctx.build, Project(ctx.project.root))
    by_copy = {
        p.line: Fix("safe", p.message, tuple(Edit(ctx.path, e.start, e.end, e.replacement) for e in p.edits), isolation=CODE)
        for p in fixes
    }
    return by_copy, {h.line: h.message.split(": ", 1)[-1] for h in hints}


def check(ctx: RuleContext) -> Iterator[Finding]:
    layout: list = []  # computed once, when a finding needs it
    reported: set[int] = set()  # COPY steps already reported (once per copy)
    for stage in ctx.build.stages:
        chain = ctx.lineage(stage)
        steps = [s for st in chain for s in (st.steps if st is not stage else stage.steps)]
        # The copies a later install may still report, in order: (position, copy step, volatile
        # sources, whole context?). Those that came after a dependency install are apart, as an
        # install of the project alone skips them. A copy leaves when it is reported and never
        # comes in when it has nothing to report, so an install looks only at copies it may
        # report: looking at every earlier copy made a long stage quadratic.
        before_deps: list[_Waiting] = []
        after_deps: list[_Waiting] = []
        any_install = False
        dep_packages = 0
        stage_copies: list[Step] = []  # COPY --from=<stage> so far: they may bring the dependencies
        for position, step in enumerate(steps):
            inst = step.instruction
            if isinstance(inst, Copy) and step.stage_refs():
                stage_copies.append(step)
                # the dependencies, installed by another stage, come in with their environment:
                # the project's own install after this copy is the right layout
                any_install = any_install or bool(carried(ctx, step))
                continue
            if copies.from_context(step):
                vol = _volatile(ctx, step)
                if vol and id(step) not in reported:
                    whole = copies.is_whole_context(step)
                    if whole or any(_code_like(ctx, v) for v in vol):
                        (after_deps if any_install else before_deps).append((position, step, vol, whole))
                continue
            if not isinstance(inst, Run):
                continue
            installs = [x for x in ctx.analysis(step).installs if x.downloads]
            if stage_copies:
                # dependencies another stage installed, copied in with their environment: this
                # install finds them installed and adds only the project
                ready = [x for x in installs if x.reads and preinstalled_by(ctx, stage_copies, x)]
                any_install = any_install or bool(ready)
                installs = [x for x in installs if all(x is not r for r in ready)]
            if not installs or all(x.tools_only for x in installs):
                # (packaging tools alone, `pip install pipenv`: no dependency of the app; the
                # install that follows with them is the one a copy before it reinstalls)
                continue
            needed = {r for x in installs for r in x.reads}
            deps = [x for x in installs if not x.tools_only]
            # the project itself, installed after its dependencies were: the right layout
            project_only = all(x.project and not x.requirements and not x.packages for x in installs)
            waiting = before_deps if project_only else list(heapq.merge(before_deps, after_deps, key=lambda w: w[0]))
            found = False
            for _, copy_step, vol, whole in waiting:
                if not whole:
                    vol = [v for v in _volatile(ctx, copy_step, needed) if _code_like(ctx, v)]
                    if not vol:
                        continue
                reported.add(id(copy_step))
                found = True
                if not layout:
                    layout.append(_layout(ctx))
                yield _finding(ctx, copy_step, step, installs, vol, whole, *layout[0])
            if found:
                before_deps = [w for w in before_deps if id(w[1]) not in reported]
                after_deps = [w for w in after_deps if id(w[1]) not in reported]
            # dependencies installed so far: from files, or a good number of named packages
            dep_packages += sum(1 for x in deps for p in x.packages if requirement_name(p) not in TOOLS)
            any_install = any_install or any(x.reads and not x.project for x in deps) or dep_packages >= 3


def _volatile(ctx: RuleContext, step: Step, needed: set[str] = frozenset()) -> list[str]:  # type: ignore[assignment]
    """The sources of a copy that are not dependency files, a wildcard that selects only
    dependency files (``uv.lock*``, ``poetry.lock*``: the lock file when there is one) left out."""
    return [v for v in copies.volatile_sources(step, needed) if not ("*" in v or "?" in v or "[" in v)
            or not _dependency_wildcard(ctx, v)]  # fmt: skip


def _dependency_wildcard(ctx: RuleContext, src: str) -> bool:
    """Whether a wildcard source copies dependency files only: in the context, every file it
    selects is one (none: a wildcard that matches nothing copies nothing, and BuildKit allows
    it); without the context, the `NAME*` of an optional file whose NAME is a dependency file."""
    if src.strip().removeprefix("./") in copies.WHOLE:  # `COPY * ./`: the whole context
        return False
    if ctx.project.known:
        selected = ctx.project.select(src)
        if selected is not None:
            return all(copies.is_dependency_file(p) for p in selected)
    stem = src.rstrip("*")
    return stem != src and not any(c in stem for c in "*?[") and copies.is_dependency_file(stem)


def _code_like(ctx: RuleContext, src: str) -> bool:
    """A partial copy that brings code: a folder, Python files (not a config file or script).
    A name without an extension is taken for a folder unless the context shows a file there
    (a script such as ``start-worker``, exempt as ``entrypoint.sh`` is)."""
    base = src.rstrip("/").rsplit("/", 1)[-1]
    if src.endswith("/") or base.endswith((".py", ".pyx", ".pyi")) or "*" in base:
        return True
    return "." not in base and ctx.project.is_file(src) is not True


def _finding(ctx: RuleContext, copy_step, run_step, installs, vol: list[str], whole: bool,
             fixes: dict[int, Fix], reasons: dict[int, str]) -> Finding:  # fmt: skip
    cnode = copy_step.instruction.node
    rnode = run_step.instruction.node
    kw = cnode.keyword.upper()
    first = next((x for x in installs if not x.tools_only), installs[0])
    where = ctx.locate_command(rnode, first.argv)
    install_line = where[0] if where else rnode.span.start_line
    what = " ".join(first.argv[:4]) + (" ..." if len(first.argv) > 4 else "")
    src_desc = "the whole build context" if whole else ", ".join(vol)
    volatile_files = _volatile_files(ctx, copy_step, vol, whole)
    msg = (
        f"{kw} of {src_desc} (line {cnode.span.start_line}) comes before the install "
        f"`{what}` (line {install_line}): {volatile_files} will reinstall the dependencies"
    )
    if not any(x.reads for x in installs) and not any(x.project for x in installs):
        hint = "the install needs no file of the context: move it above the " + kw
    elif all(x.manager in ("pip", "uv-pip", "pip-sync") and not x.project for x in installs):
        files = sorted({r for x in installs for r in x.reads})
        hint = f"COPY {' '.join(files) or 'requirements.txt'} first, install, then COPY the rest"
    else:
        hint = ("copy only the dependency files (pyproject.toml and the lock file) first and "
                "install the dependencies without the project, then copy the code")  # fmt: skip
    fix = fixes.get(cnode.span.start_line)
    if fix is None and rnode.span.start_line in reasons:
        hint = reasons[rnode.span.start_line]
    return ctx.at(
        CODE,
        cnode,
        msg,
        hint=hint,
        fix=fix,
        related=((ctx.path, install_line),),
    )


def _volatile_files(ctx: RuleContext, copy_step, vol: list[str], whole: bool) -> str:
    """Which files make the copy change, from the context when there is one."""
    if not ctx.project.known:
        return "any edit of a copied file (your source code)" if whole else f"any edit in {', '.join(vol)}"
    names: list[str] = []
    for s in vol:
        sel = ctx.project.select(s)
        if sel is None:
            continue
        for p in sel:
            if not copies.is_dependency_file(p):
                names.append(p)
    if not names:
        return "any edit of a copied file"
    py = [n for n in names if n.endswith(".py")]
    shown = (py or names)[:3]
    more = len(names) - len(shown)
    return "editing " + ", ".join(shown) + (f" or any of {more} more file{'s' if more > 1 else ''}" if more > 0 else "")
