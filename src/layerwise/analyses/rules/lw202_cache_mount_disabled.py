"""## What it does
Finds a `RUN --mount=type=cache` for a package manager whose cache the same install then
turns off: `pip --no-cache-dir`, `PIP_NO_CACHE_DIR` with any value (pip reads `off`, `0`
and `false` as "disable" too), `uv --no-cache`, `UV_NO_CACHE`.

## Why is this bad?
The mount is there to keep downloaded wheels between builds; with the cache disabled, every
rebuild of the layer downloads everything again, and the mount only adds complexity.

## Example
```dockerfile
ENV PIP_NO_CACHE_DIR=off
RUN --mount=type=cache,target=/root/.cache/pip pip install -r requirements.txt
```

## Use instead
```dockerfile
RUN --mount=type=cache,target=/root/.cache/pip pip install -r requirements.txt
```
(the cache lives in the mount, never in the image, so it needs no disabling).
"""

from __future__ import annotations

from collections.abc import Iterator

from layerwise.analyses import pkgcache
from layerwise.analyses.findings import Edit, Finding, Fix
from layerwise.analyses.rules import RuleContext
from layerwise.parse.instructions import Run

CODE = "LW202"
NAME = "cache-mount-disabled"
SUMMARY = "A cache mount made useless by --no-cache-dir, PIP_NO_CACHE_DIR or UV_NO_CACHE"
SEVERITY = "warning"
FIX = "safe"
NEEDS_CONTEXT = False


def check(ctx: RuleContext) -> Iterator[Finding]:
    for _, step in ctx.steps():
        if not isinstance(step.instruction, Run):
            continue
        mounts = pkgcache.cache_mounts(step)
        if not mounts:
            continue
        for x in ctx.analysis(step).installs:
            why = pkgcache.disabled_by(step, x)
            if not why:
                continue
            d = pkgcache.cache_dir(step, x)
            m = pkgcache.covering_mount(step, d) or next(
                (m for m in mounts if pkgcache.looks_like_cache_of(m.target, x.manager)), None
            )
            if m is None:
                continue
            node = step.instruction.node
            where = ctx.locate(node, why.split("=", 1)[0])
            fix = None
            if why.startswith("--"):
                src = ctx.dockerfile.source(node)
                i = src.find(" " + why)
                if i >= 0:
                    s = node.span.start + i
                    fix = Fix("safe", f"remove {why}", (Edit(ctx.path, s, s + 1 + len(why), ""),))
            yield ctx.at(
                CODE,
                node,
                f"the cache mount at {m.target} is useless: `{' '.join(x.argv[:2])}` runs with {why}",
                hint=f"drop {why.split('=', 1)[0]} (the cache stays in the mount, not in the image)",
                fix=fix,
                line=where[0] if where else None,
                column=where[1] if where else None,
            )
