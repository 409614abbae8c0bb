"""## What it does
Finds `apt-get install` (or `apt install`) whose package lists come from an `apt-get update`
in an earlier `RUN`, and `RUN`s of the shipped stages that update and install without
removing the lists (`rm -rf /var/lib/apt/lists/*`) and without a cache mount for them.

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
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator

from layerwise.analyses.findings import Finding
from layerwise.analyses.installs import strip_prefix
from layerwise.analyses.rules import RuleContext
from layerwise.parse.instructions import Run

CODE = "LW104"
NAME = "apt-update-layer"
SUMMARY = "apt-get update in another RUN than apt-get install, or package lists left in the layer"
SEVERITY = "warning"
FIX = None
NEEDS_CONTEXT = False

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


def check(ctx: RuleContext) -> Iterator[Finding]:
    shipped = ctx.shipped_stages()
    for stage in ctx.build.stages:
        updated_at = None  # line of an apt-get update RUN without install in this stage
        for step in stage.steps:
            if not isinstance(step.instruction, Run):
                continue
            a = ctx.analysis(step)
            update, install = _apt_ops(a.commands)
            node = step.instruction.node
            if install and not update and updated_at is not None:
                yield ctx.at(
                    CODE,
                    node,
                    f"apt-get install uses the package lists of `apt-get update` at line {updated_at}, "
                    "a cached layer: adding a package here installs from stale lists",
                    hint="run apt-get update && apt-get install ... && rm -rf /var/lib/apt/lists/* in one RUN",
                    related=((ctx.path, updated_at),),
                )
            elif update and install and stage.index in shipped and not _cleans(a.text) and not _lists_mounted(step):
                yield ctx.at(
                    CODE,
                    node,
                    "apt-get update and install leave the package lists (/var/lib/apt/lists) in this layer",
                    hint="end the RUN with && rm -rf /var/lib/apt/lists/*",
                )
            if update and not install:
                updated_at = node.span.start_line
