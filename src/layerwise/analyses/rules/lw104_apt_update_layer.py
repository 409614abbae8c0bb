"""## What it does
Finds `apt-get install` (or `apt install`) whose package lists come from an `apt-get update`
in an earlier `RUN`, and `RUN`s of the shipped stages that update and install without
removing the lists (`rm -rf /var/lib/apt/lists/*`) and without a cache mount for them. The
shipped stages are those whose layers end up in an image, as for LW201: the last stage, a stage
no other stage uses (a `--target` such as a dev image), and the stages they are built FROM.

## Why is this bad?
The `RUN apt-get update` layer is cached forever: when you later add a package to the
install line, that layer is reused with week-old lists, and the install fails with 404s or
installs stale versions. The lists left in the layer also add tens of megabytes to the image.

## Example
```dockerfile
RUN apt-get update
RUN apt-get install -y gcc
```

## Use instead
```dockerfile
RUN apt-get update \\
 && apt-get install -y --no-install-recommends gcc \\
 && rm -rf /var/lib/apt/lists/*
```

## Fix safety
The fix is safe. It removes the `RUN` that only updates the package lists and starts the
install's `RUN` with that command (`apt-get update && apt-get install ...`, the update written as
it was); a later install that relied on the same lists gets its own update. It ends the install's
`RUN` with `&& rm -rf /var/lib/apt/lists/*` when no later `RUN` of the stage, or of a stage built
from it, installs packages without updating the lists itself (that one would then find no
lists): then the cleanup is left out. Nothing is fixed when the update `RUN` does anything else,
or when the install is an exec-form or heredoc `RUN`.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator

from layerwise.analyses import fixtext
from layerwise.analyses.findings import Finding, Fix
from layerwise.analyses.installs import strip_prefix
from layerwise.analyses.rules import RuleContext
from layerwise.parse.instructions import Run

CODE = "LW104"

_APT = {"apt-get", "apt", "aptitude"}


def _apt_ops(commands: list[list[str]]) -> tuple[bool, bool]:
    update = install = False
    for argv in commands:
        argv, _ = strip_prefix(argv)
        if not argv or posixpath.basename(argv[0]) not in _APT:
            continue
        words = [w for w in argv[1:] if not w.startswith("-")]
        if words[:1] == ["update"]:
            update = True
        elif words[:1] in (["install"], ["upgrade"], ["dist-upgrade"], ["build-dep"]):
            install = True
    return update, install


def _cleans(text: str) -> bool:
    return (bool(re.search(r"/var/lib/apt/lists", text)) and bool(re.search(r"\brm\b", text))) or ("apt-get clean" in text and "lists" in text)


def _lists_mounted(step) -> bool:
    mounts = step.expanded.get("mounts") or []
    return any(m.type == "cache" and m.target.rstrip("/").startswith("/var/lib/apt") for m in mounts)  # type: ignore[union-attr]


CLEANUP = "rm -rf /var/lib/apt/lists/*"


def _update_only(ctx: RuleContext, step) -> str | None:
    """The update command's text when the RUN is nothing but one ``apt-get update`` (no flags)."""
    node = step.instruction.node
    a = ctx.analysis(step)
    if a.opaque or len(a.commands) != 1 or node.flags:
        return None
    start = fixtext.shell_start(ctx.dockerfile, node)
    if start is None:
        return None
    text = ctx.dockerfile.text[start : node.span.end].strip()
    return text if "\n" not in text and not re.search(r"[;&|#`$(<>]", text) else None


def _later_needs_lists(ctx: RuleContext, stage, step) -> bool:
    """Whether a RUN after ``step`` (in its stage, or a stage built from it) installs packages
    without updating the lists in the same RUN: it needs the lists this RUN leaves."""
    later = [s for s in stage.steps if s.index > step.index]
    for other in ctx.build.stages:
        if other.index != stage.index and stage in ctx.lineage(other):
            later += other.steps
    for s in later:
        if isinstance(s.instruction, Run):
            a = ctx.analysis(s)
            update, install = _apt_ops(a.commands)
            if install and not update and not _lists_mounted(s):
                return True
            if a.opaque:
                return True
    return False


def _fix(ctx: RuleContext, stage, step, update_step, delete_update: bool, clean: bool) -> Fix | None:
    df, node = ctx.dockerfile, step.instruction.node
    edits = []
    what = []
    if update_step is not None:
        update = _update_only(ctx, update_step)
        start = fixtext.shell_start(df, node)
        if update is None or start is None:
            return None
        if delete_update:
            edits.append(fixtext.delete(ctx.path, df, update_step.instruction.node))
        edits.append(fixtext.Edit(ctx.path, start, start, f"{update} && "))
        what.append(f"run `{update}` in this RUN")
    if clean and not _later_needs_lists(ctx, stage, step):
        edit = fixtext.append_command(ctx.path, df, node, CLEANUP)
        if edit is not None:
            edits.append(edit)
            what.append("remove the lists at its end")
    if not edits or (update_step is None and len(edits) != 1):
        return None
    return Fix("safe", " and ".join(what), tuple(edits))


def check(ctx: RuleContext) -> Iterator[Finding]:
    shipped = ctx.shipped_stages()
    for stage in ctx.build.stages:
        updated_at = None  # line of an apt-get update RUN without install in this stage
        update_step = None
        merged = False  # the update RUN is removed by the first install's fix
        for step in stage.steps:
            if not isinstance(step.instruction, Run):
                continue
            a = ctx.analysis(step)
            update, install = _apt_ops(a.commands)
            node = step.instruction.node
            if install and not update and updated_at is not None:
                clean = stage.index in shipped and not _cleans(a.text) and not _lists_mounted(step)
                fix = _fix(ctx, stage, step, update_step, not merged, clean)
                merged = merged or fix is not None
                yield ctx.at(
                    CODE,
                    node,
                    f"apt-get install uses the package lists of `apt-get update` at line {updated_at}, "
                    "a cached layer: adding a package here installs from stale lists",
                    hint="run apt-get update && apt-get install ... && rm -rf /var/lib/apt/lists/* in one RUN",
                    related=((ctx.path, updated_at),),
                    fix=fix,
                )
            elif update and install and stage.index in shipped and not _cleans(a.text) and not _lists_mounted(step):
                yield ctx.at(
                    CODE,
                    node,
                    "apt-get update and install leave the package lists (/var/lib/apt/lists) in this layer",
                    hint="end the RUN with && rm -rf /var/lib/apt/lists/*",
                    fix=_fix(ctx, stage, step, None, False, True),
                )
            if update and not install:
                updated_at = node.span.start_line
                update_step = step
                merged = False
