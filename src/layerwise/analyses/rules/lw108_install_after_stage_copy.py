"""## What it does
Finds a dependency install that runs after a `COPY --from=<stage>` of a folder into which that
stage copied the whole build context (the "build the app in a builder, copy it over" pattern):

```dockerfile
FROM python:3.12 AS builder
WORKDIR /app
COPY . .
RUN python -m compileall .

FROM python:3.12-slim
WORKDIR /app
COPY --from=builder /app /app
RUN pip install -r requirements.txt
```

## Why is this bad?
BuildKit keys `COPY --from` on the content it copies: the folder holds your code, so every code
change makes that step copy something new, and every step after it, the dependency install
included, runs again. The install only needs its requirements (or lock) files, which do not
change when the code does.

## Example
```dockerfile
COPY --from=builder /app /app
RUN pip install -r requirements.txt
```

## Use instead
```dockerfile
COPY --from=builder /app/requirements.txt /app/
RUN pip install -r requirements.txt
COPY --from=builder /app /app
```

## Fix safety
The fix copies the files the install reads (requirements files with their `-r`/`-c` includes
when the build context shows them, lock files) from the same stage, with the same `--chown`/
`--chmod`, just above the `COPY --from`, and moves the install `RUN` (bytes unchanged) between
them. It is safe when the install reads only those files (no `pip install .`, no local path in
the requirements), and everything between the copy and the install is metadata that the
install does not use (`LABEL`, `EXPOSE`, an `ENV`/`ARG` it does not mention). Otherwise there
is no fix, only the hint.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator

from layerwise.analyses import copies, fixtext
from layerwise.analyses.findings import Edit, Finding, Fix
from layerwise.analyses.rules import RuleContext
from layerwise.parse.instructions import Copy, Run

CODE = "LW108"


def _overlaps(a: str, b: str) -> bool:
    a, b = posixpath.normpath(a), posixpath.normpath(b)
    return a == b or a.startswith(b.rstrip("/") + "/") or b.startswith(a.rstrip("/") + "/")


def _only_dependency_files(ctx: RuleContext, src: str, ctx_dest: str) -> bool:
    """Whether ``src``, below the folder that holds the context, is not known to be a folder
    of the context's code: a dependency file, or something the stage made there (``wheels/``
    of ``pip wheel``). Reported only with evidence: a folder the context has."""
    if src == ctx_dest or not src.startswith(ctx_dest.rstrip("/") + "/"):
        return False
    rel = posixpath.relpath(src, ctx_dest)
    return copies.is_dependency_file(rel) or not (ctx.project.exists(rel) and ctx.project.is_file(rel) is False)


def _app_copy(ctx: RuleContext, step) -> tuple[int, str, str] | None:
    """(source stage, source folder, destination) of a ``COPY --from=<stage> <folder> <dest>``
    whose folder holds what that stage copied from the whole context."""
    inst = step.instruction
    if not isinstance(inst, Copy) or inst.contents:
        return None
    refs = step.stage_refs() or []
    srcs = copies.sources(step)
    if len(refs) != 1 or len(srcs) != 1 or any(c in srcs[0] for c in "*?[$"):
        return None
    stage = ctx.build.stages[refs[0]]
    src = posixpath.normpath(srcs[0] if srcs[0].startswith("/") else posixpath.join(stage.steps[-1].workdir if stage.steps else "/", srcs[0]))
    for st in ctx.lineage(stage):
        for s in st.steps:
            if not copies.is_whole_context(s):
                continue
            ctx_dest = posixpath.normpath(copies.dest_path(s))
            if _overlaps(ctx_dest, src) and not _only_dependency_files(ctx, src, ctx_dest):
                return refs[0], src, posixpath.normpath(copies.dest_path(step))
    return None


def _needed(ctx: RuleContext, step, installs) -> list[str] | None:
    """Image paths of the files the installs read (includes followed), or None when they may
    read more (a project install, local paths)."""
    out: list[str] = []
    for x in installs:
        if x.project or x.editable or not x.reads:
            return None
        files = [copies.image_path(step, r) for r in x.reads if "$" not in r and "://" not in r]
        if len(files) != len(x.reads):
            return None
        if x.manager in ("pip", "uv-pip", "pip-sync") and ctx.project.known:
            for r in x.requirements + x.constraints:
                rel = posixpath.normpath(r)
                if r.startswith("/") or rel.startswith(".."):
                    continue
                for inc in ctx.project.requirements_closure([rel])[1:]:
                    files.append(copies.image_path(step, posixpath.relpath(inc, ".")))
                for f in ctx.project.requirements_closure([rel]):
                    for _, line in ctx.project.requirement_lines(f) or []:
                        if re.match(r"^(?:-e\s+|--editable\s+)?(?:\.{1,2}(?:/|$|\[)|file:|/)", line):
                            return None  # local code: it needs more than these files
        out += files
    seen: list[str] = []
    for f in out:
        if f not in seen:
            seen.append(f)
    return seen


def _fix(ctx: RuleContext, stage, copy_step, run_step, src: str, dest: str, needed: list[str]) -> Fix | None:
    if fixtext.move_safety(stage.steps[copy_step.index + 1 : run_step.index], ctx.analysis(run_step).text) is None:
        return None
    cnode = copy_step.instruction.node
    if cnode.json:
        return None
    groups: dict[str, list[str]] = {}
    for f in needed:
        if not (f == dest or f.startswith(dest.rstrip("/") + "/")):
            return None  # a file the COPY --from does not bring
        rel = posixpath.relpath(f, dest)
        groups.setdefault(posixpath.dirname(rel), []).append(posixpath.join(src, rel))
    flags = [f for f in cnode.flags if f.split("=", 1)[0] in ("--from", "--chown", "--chmod", "--link")]
    nl = fixtext.newline_of(ctx.dockerfile.text)
    df = ctx.dockerfile
    at = fixtext.block_start(df, cnode)
    indent = df.text[fixtext.line_start(df.text, cnode.span.start) : cnode.span.start]
    lines = "".join(
        indent + " ".join([cnode.keyword, *flags, *files, posixpath.join(dest, sub).rstrip("/") + "/"]) + nl
        for sub, files in groups.items()
    )
    moved = fixtext.block_text(df, run_step.instruction.node)
    start, end = fixtext.block(df, run_step.instruction.node)
    what = ", ".join(posixpath.basename(f) for f in needed)
    return Fix("safe", f"copy {what} from the stage first, install, then copy the app",
               (Edit(ctx.path, at, at, lines + moved), Edit(ctx.path, start, end, "")))  # fmt: skip


def check(ctx: RuleContext) -> Iterator[Finding]:
    for stage in ctx.build.stages:
        app = None
        for step in stage.steps:
            if app is None:
                found = _app_copy(ctx, step)
                if found is not None:
                    app = (step, *found)
                continue
            if not isinstance(step.instruction, Run):
                continue
            installs = [x for x in ctx.analysis(step).installs if x.downloads and not x.tools_only]
            if not installs:
                continue
            copy_step, src_stage, src, dest = app
            if not any(x.reads or x.project for x in installs):
                continue  # named packages only: reading nothing of the app, but after it
            needed = _needed(ctx, step, installs)
            fix = _fix(ctx, stage, copy_step, step, src, dest, needed) if needed else None
            cnode = copy_step.instruction.node
            name = ctx.build.stages[src_stage].name or str(src_stage)
            x = installs[0]
            where = ctx.locate_install(step, x)
            yield ctx.at(
                CODE,
                step.instruction.node,
                f"`{' '.join(x.argv[:2])}` runs after `COPY --from={name} {src}` (line {cnode.span.start_line}), "
                "which holds the whole build context: every code change copies it again and re-runs the install",
                hint=f"copy only the files the install reads from {name} first, install, then copy {src}",
                fix=fix,
                line=where[0] if where else None,
                column=where[1] if where else None,
                related=((ctx.path, cnode.span.start_line),),
            )
            break  # once per stage
