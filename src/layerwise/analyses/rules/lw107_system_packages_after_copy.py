"""## What it does
Finds system package installs (`apt-get install`, `apk add`, `yum`/`dnf install`, `npm
install`...) that come after a `COPY`/`ADD` of the whole build context in the same stage,
although they need no file of it.

## Why is this bad?
Every source edit changes the `COPY . .` layer, so every later step runs again: the system
packages are downloaded and installed again on each code change, for nothing, and the build
is minutes slower.

## Example
```dockerfile
COPY . /app
RUN apt-get update && apt-get install -y gcc && rm -rf /var/lib/apt/lists/*
RUN pip install -r /app/requirements.txt
```

## Use instead
```dockerfile
RUN apt-get update && apt-get install -y gcc && rm -rf /var/lib/apt/lists/*
COPY requirements.txt /app/
RUN pip install -r /app/requirements.txt
COPY . /app
```

## Fix safety
The fix moves the `RUN` (with the comment lines above it) to just above the copy, bytes
unchanged. It is safe when the move provably changes nothing the `RUN` sees: every command of
it is known not to read the build context (`apt-get`, `apk`, `dnf`, `useradd`...), it names no
path (no copied file, no `$(...)`, no redirection from a file), the copy does not write to `/`,
and the instructions it moves past are metadata that it does not use (`LABEL`, `EXPOSE`, or an
`ENV`/`ARG` whose name it does not mention). It is unsafe when it moves past other `RUN`s that
read no context either (their order changes). Past a `WORKDIR`, `USER`, another `COPY`/`ADD`,
or any other `RUN`, there is no fix: the hint says where to move it. Nor when LW101's fix moves
the same copy below the dependency install (and so below this `RUN`): that one fix does both
(when LW101 is not selected, or an inline directive turns it off at the copy, this fix moves
the `RUN`).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator

from layerwise.analyses import copies, fixtext
from layerwise.analyses.findings import Edit, Finding, Fix
from layerwise.analyses.installs import strip_prefix
from layerwise.analyses.rules import RuleContext
from layerwise.parse.instructions import Run

CODE = "LW107"

_SYSTEM = {"apt-get": ("install",), "apt": ("install",), "apk": ("add",), "yum": ("install",),
           "dnf": ("install",), "microdnf": ("install",), "zypper": ("install", "in")}  # fmt: skip


def system_install(commands: list[list[str]]) -> str | None:
    """The first system package install of a RUN, as text."""
    for argv in commands:
        argv, _ = strip_prefix(argv)
        if not argv:
            continue
        name = posixpath.basename(argv[0])
        subs = _SYSTEM.get(name)
        if subs is None:
            continue
        words = [w for w in argv[1:] if not w.startswith("-")]
        if words and words[0] in subs:
            return " ".join(argv[:2] if argv[1] in subs else [argv[0], words[0]])
    return None


def _reads_nothing(ctx: RuleContext, step, dest: str) -> bool:
    """Whether the RUN is provably independent of the files a copy to ``dest`` brings."""
    from layerwise.analyses.commands import analyse_run

    a = analyse_run(step.instruction)
    if a.opaque or not a.context_free or step.instruction.node.heredocs:
        return False
    text = ctx.analysis(step).text
    if re.search(r"\$\(|`|<", text) or dest.rstrip("/") in text:
        return False
    from layerwise.analyses.commands import touches_copy

    if touches_copy(a, step, dest):  # chmod +x start.sh: a copied file (even without the context)
        return False
    for argv in a.commands:
        for w in argv[1:]:
            if "/" in w and not w.startswith(("/", "-", "http://", "https://")) and "=" not in w:
                return False  # a relative path: maybe a copied file
            if ctx.project.known and not w.startswith("-") and ctx.project.exists(w):
                return False
    return True


def _lw101_moves(ctx: RuleContext, copy_step) -> bool:
    """Whether LW101's fix moves this copy below the install (and so below the RUN) in this
    check: LW101 runs, has a layout fix for the copy, and no inline directive turns it off."""
    from layerwise.analyses.directives import FileDirectives
    from layerwise.analyses.rules.lw101_copy_before_install import _layout

    line = copy_step.instruction.node.span.start_line
    if not ctx.runs("LW101") or line not in _layout(ctx)[0]:
        return False
    return not FileDirectives(ctx.path, ctx.dockerfile.text, ctx.dockerfile).suppresses("LW101", line, record=False)


def _move_fix(ctx: RuleContext, stage, copy_step, step) -> Fix | None:
    if _lw101_moves(ctx, copy_step):
        return None  # that one fix does both
    dest = posixpath.normpath(copies.dest_path(copy_step))
    if dest == "/" or not _reads_nothing(ctx, step, dest):
        return None
    between = stage.steps[copy_step.index + 1 : step.index]
    safety = fixtext.move_safety(between, ctx.analysis(step).text, past_context_free_runs=True)
    if safety is None:
        return None
    df = ctx.dockerfile
    moved = fixtext.block_text(df, step.instruction.node)
    start, end = fixtext.block(df, step.instruction.node)
    at = fixtext.block_start(df, copy_step.instruction.node)
    cnode = copy_step.instruction.node
    return Fix(safety, f"move the RUN above the {cnode.keyword.upper()} at line {cnode.span.start_line}",
               (Edit(ctx.path, at, at, moved), Edit(ctx.path, start, end, "")))  # fmt: skip


def check(ctx: RuleContext) -> Iterator[Finding]:
    for stage in ctx.build.stages:
        copy_step = None
        for step in stage.steps:
            if copy_step is None and copies.is_whole_context(step):
                copy_step = step
                continue
            if copy_step is None or not isinstance(step.instruction, Run):
                continue
            a = ctx.analysis(step)
            what = system_install(a.commands)
            if what is None:
                continue
            node = step.instruction.node
            cnode = copy_step.instruction.node
            where = ctx.locate(node, what.split()[0])
            yield ctx.at(
                CODE,
                node,
                f"`{what}` runs after the {cnode.keyword.upper()} of the whole context (line "
                f"{cnode.span.start_line}): every source edit installs the system packages again",
                hint=f"move this RUN above line {cnode.span.start_line}",
                fix=_move_fix(ctx, stage, copy_step, step),
                line=where[0] if where else None,
                column=where[1] if where else None,
                related=((ctx.path, cnode.span.start_line),),
            )
            break  # once per stage: the first one says it
