"""## What it does
Finds dependency installs that download into a `RUN --mount=type=cache` in a Dockerfile that
CI builds.

## Why is this bad?
BuildKit never exports cache mounts with `cache-to` (moby/buildkit#1474, open since 2020): on
a fresh CI runner the mount starts empty. When the install's layer is not reused (dependency
files changed, or no cache imported), every package is downloaded again; the mount speeds up
only the builds on one machine.

## Example
```dockerfile
RUN --mount=type=cache,target=/root/.cache/pip pip install -r requirements.txt
```
built by a workflow on hosted runners.

## Use instead
Keep the dependency layer itself in the exported cache (dependency files copied alone before
the install, `cache-to` with `mode=max`), so that the install is skipped; or save the mount's
folder between runs (e.g. the `reproducible-containers/buildkit-cache-dance` action).

## Fix safety
No fix: this is a note on where the time goes, the Dockerfile is right for local builds.
"""

from __future__ import annotations

from collections.abc import Iterator

from layerwise.analyses import cicache
from layerwise.analyses.findings import Finding
from layerwise.analyses.rules import RuleContext

CODE = "LW603"


def check(ctx: RuleContext) -> Iterator[Finding]:
    for build in ctx.ci_builds():
        step = cicache.cache_mount_install(ctx, build)
        if step is None or (build.exporting_builder is False and build.platform == "gitlab"):
            continue
        yield cicache.finding(
            ctx, CODE, build,
            f"{ctx.path}:{step.line} downloads into a cache mount, which no CI cache export carries: "
            f"on a fresh runner of {build.label} it is empty, so changed dependencies download again",
            hint="keep the install layer in the exported cache (mode=max), or save the mount between runs",
            step=step,
        )  # fmt: skip
