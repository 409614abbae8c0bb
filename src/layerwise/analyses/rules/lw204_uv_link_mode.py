"""## What it does
Finds `uv sync` / `uv pip install` with a cache mount on uv's cache but without
`UV_LINK_MODE=copy` (or `--link-mode=copy`).

## Why is this bad?
uv hard-links packages from its cache into the environment. A cache mount is another file
system, so the links fail; uv warns (`Failed to hardlink files; falling back to full copy`)
on every build, and with `--link-mode=symlink` setups the environment would point into a
mount that is gone after the RUN.

## Example
```dockerfile
RUN --mount=type=cache,target=/root/.cache/uv uv sync --locked
```

## Use instead
```dockerfile
ENV UV_LINK_MODE=copy
RUN --mount=type=cache,target=/root/.cache/uv uv sync --locked
```

## Fix safety
The fix is safe: it inserts `ENV UV_LINK_MODE=copy` on its own line above the first such
`RUN` of the stage (one a pass: the `ENV` serves the `RUN`s after it). uv copies the files
out of the cache instead of trying hard links across the mount, which fail and fall back to a
copy with a warning; the installed files are the same.
"""

from __future__ import annotations

from collections.abc import Iterator

from layerwise.analyses import pkgcache
from layerwise.analyses.findings import Finding, Fix
from layerwise.analyses.rules import RuleContext
from layerwise.parse.instructions import Run

CODE = "LW204"


def check(ctx: RuleContext) -> Iterator[Finding]:
    for stage, step in ctx.steps():
        if not isinstance(step.instruction, Run):
            continue
        mounts = pkgcache.cache_mounts(step)
        if not mounts:
            continue
        for x in ctx.analysis(step).installs:
            if x.manager not in ("uv", "uv-pip") or pkgcache.disabled_by(step, x):
                continue
            if "UV_LINK_MODE" in pkgcache.env_of(step, x) or x.has("--link-mode"):
                continue
            d = pkgcache.cache_dir(step, x)
            m = pkgcache.covering_mount(step, d) or next(
                (m for m in mounts if pkgcache.looks_like_cache_of(m.target, "uv")), None
            )
            if m is None:
                continue
            node = step.instruction.node
            yield ctx.at(
                CODE,
                node,
                f"`{' '.join(x.argv[:2])}` with a cache mount at {m.target}: hard links cannot cross "
                "into the mount, set UV_LINK_MODE=copy",
                hint="add ENV UV_LINK_MODE=copy before this RUN",
                fix=Fix("safe", "uv with a cache mount: set UV_LINK_MODE=copy (hard links cannot cross into the mount)",
                        (ctx.insert_line_before(node, "ENV UV_LINK_MODE=copy"),),
                        isolation=f"{CODE}:{stage.index}"),  # one ENV a pass: it serves the RUNs after it
            )  # fmt: skip
            break
