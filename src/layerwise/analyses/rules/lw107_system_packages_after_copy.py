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
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator

from layerwise.analyses import copies
from layerwise.analyses.findings import Finding, Fix
from layerwise.analyses.installs import strip_prefix
from layerwise.analyses.rules import RuleContext
from layerwise.parse.instructions import Run

CODE = "LW107"
NAME = "system-packages-after-copy"
SUMMARY = "System packages installed after the source copy: reinstalled on every code change"
SEVERITY = "warning"
FIX = None  # the move-above-the-copy fix is not written yet: no finding carries edits
NEEDS_CONTEXT = False

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
                fix=Fix("safe", "move the RUN above the copy (layerwise fix)"),
                line=where[0] if where else None,
                column=where[1] if where else None,
                related=((ctx.path, cnode.span.start_line),),
            )
            break  # once per stage: the first one says it
