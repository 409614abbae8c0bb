"""## What it does
Finds a package-manager cache mount whose target is not where the install, as the user it
runs as, keeps its cache: `USER app` with `--mount=type=cache,target=/root/.cache/pip`
(pip then uses `/home/app/.cache/pip`), or a cache dir moved by `PIP_CACHE_DIR`/`UV_CACHE_DIR`.

## Why is this bad?
The mount is silently unused: the cache is written into the image layer instead, and every
build downloads everything again. A cache mount is also owned by root unless `uid=` is given,
so a non-root user cannot write to it.

## Example
```dockerfile
USER app
RUN --mount=type=cache,target=/root/.cache/pip pip install -r requirements.txt
```

## Use instead
```dockerfile
USER app
RUN --mount=type=cache,target=/home/app/.cache/pip,uid=1000 pip install -r requirements.txt
```
or install as root before `USER app`.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator

from layerwise.analyses import pkgcache
from layerwise.analyses.findings import Finding
from layerwise.analyses.rules import RuleContext
from layerwise.parse.instructions import Run

CODE = "LW203"
NAME = "cache-mount-wrong-user"
SUMMARY = "Cache mount target does not match the cache folder of the user running the install"
SEVERITY = "warning"
FIX = None
NEEDS_CONTEXT = False


def check(ctx: RuleContext) -> Iterator[Finding]:
    for _, step in ctx.steps():
        if not isinstance(step.instruction, Run):
            continue
        mounts = pkgcache.cache_mounts(step)
        if not mounts:
            continue
        for x in ctx.analysis(step).installs:
            if pkgcache.disabled_by(step, x):
                continue  # LW202's business
            d = pkgcache.cache_dir(step, x)
            if d is None or pkgcache.covering_mount(step, d):
                continue
            m = next((m for m in mounts if pkgcache.looks_like_cache_of(m.target, x.manager)), None)
            if m is None:
                continue
            user = step.user or "root"
            env = pkgcache.env_of(step, x)
            if "$" in m.target or "$" in d or "~" in d:
                continue
            if posixpath.normpath(m.target).startswith("/root") and user not in pkgcache.ROOT_USERS:
                why = f"the install runs as {user}, whose cache is {d}"
            else:
                why = f"`{' '.join(x.argv[:2])}` uses {d}"
                if any(k in env for k in ("PIP_CACHE_DIR", "UV_CACHE_DIR", "POETRY_CACHE_DIR", "XDG_CACHE_HOME")):
                    why += " (set by the environment)"
            yield ctx.at(
                CODE,
                step.instruction.node,
                f"cache mount at {m.target} is not used: {why}",
                hint=f"mount the cache at {d}" + ("" if user in pkgcache.ROOT_USERS else " with uid= of that user")
                + ", or set the manager's cache dir to the mount",
            )
            break
