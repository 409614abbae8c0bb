"""## What it does
Finds CI builds that export a `gha`, `local`, `registry`, `s3` or `azblob` cache with the
default `docker` driver (no `docker/setup-buildx-action` or `docker buildx create --use` before
them in the job).

## Why is this bad?
The default `docker` driver exports only inline cache, unless the Docker daemon uses the
containerd image store. Elsewhere the build stops with `Cache export is not supported for the
docker driver` (docs.docker.com/build/cache/backends/).

## Example
```yaml
steps:
  - uses: docker/build-push-action@v6
    with:
      cache-to: type=gha,mode=max
```

## Use instead
```yaml
steps:
  - uses: docker/setup-buildx-action@v3
  - uses: docker/build-push-action@v6
    with:
      cache-to: type=gha,mode=max
```

## Fix safety
The fix adds a `docker/setup-buildx-action` step before the build. Safe when the build pushes
or loads its image (`push:`, `load:`, `outputs:`); unsafe otherwise, since with the
`docker-container` driver the image no longer lands in the runner's Docker by itself.
"""

from __future__ import annotations

from collections.abc import Iterator

from layerwise.analyses import cicache
from layerwise.analyses.findings import Finding
from layerwise.analyses.rules import RuleContext

CODE = "LW608"

_NEED_BUILDX = ("gha", "local", "registry", "s3", "azblob")


def check(ctx: RuleContext) -> Iterator[Finding]:
    from layerwise.analyses import ciedits as edits

    for build in ctx.ci_builds():
        if build.exporting_builder:
            continue
        specs = [s for s in build.cache_to if s.type in _NEED_BUILDX and not s.opaque]
        if not specs:
            continue
        fix = None
        if build.kind == "action":
            fix = edits.buildx_fix(build, cicache.ci_text(ctx, build), "add a docker/setup-buildx-action step")
        yield cicache.finding(
            ctx, CODE, build,
            f"{build.label} exports a {specs[0].type} cache with the default docker driver, which cannot export it "
            "(without the containerd image store): the build fails with 'Cache export is not supported'",
            pos=specs[0].pos,
            hint="set up Buildx first (docker/setup-buildx-action, or docker buildx create --use)",
            fix=fix,
        )  # fmt: skip
