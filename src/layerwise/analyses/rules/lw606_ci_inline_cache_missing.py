"""## What it does
Finds `docker build --cache-from IMAGE` in CI where no build embeds cache metadata in the image
(`--build-arg BUILDKIT_INLINE_CACHE=1` or `--cache-to type=inline`).

## Why is this bad?
BuildKit reuses layers of a pulled image only when the image carries inline cache metadata. An
image built without it gives BuildKit nothing to match: GitLab's documented pull-then-build
pattern silently rebuilds everything (docs.gitlab.com/ci/docker/docker_layer_caching/).

## Example
```yaml
script:
  - docker pull $CI_REGISTRY_IMAGE:latest || true
  - docker build --cache-from $CI_REGISTRY_IMAGE:latest -t $CI_REGISTRY_IMAGE:latest .
  - docker push $CI_REGISTRY_IMAGE:latest
```

## Use instead
```yaml
  - docker build --cache-from $CI_REGISTRY_IMAGE:latest --build-arg BUILDKIT_INLINE_CACHE=1 -t $CI_REGISTRY_IMAGE:latest .
```

## Fix safety
Safe: the build argument adds cache metadata to the image's config; the layers are the same.
"""

from __future__ import annotations

from collections.abc import Iterator

from layerwise.analyses import cicache
from layerwise.analyses.findings import Finding, Fix
from layerwise.analyses.rules import RuleContext

CODE = "LW606"


def check(ctx: RuleContext) -> Iterator[Finding]:
    from layerwise.analyses import ciedits as edits

    ci = ctx.ci()
    inline_somewhere = any(b.uses_registry_inline for b in (ci.builds if ci is not None else ()))
    for build in ctx.ci_builds():
        images = [s for s in build.cache_from if s.type == "registry" and "=" not in s.raw.split(",", 1)[0]]
        if not images or inline_somewhere or build.cache_to:
            continue
        e = edits.insert_option(build, "--build-arg BUILDKIT_INLINE_CACHE=1") if build.kind != "action" else None
        yield cicache.finding(
            ctx, CODE, build,
            f"{build.label} builds with --cache-from {images[0].raw}, but no CI build embeds cache metadata "
            "in an image: BuildKit finds nothing to reuse in the pulled image",
            pos=images[0].pos, hint="build with --build-arg BUILDKIT_INLINE_CACHE=1 (and push that image)",
            fix=Fix("safe", "--build-arg BUILDKIT_INLINE_CACHE=1", (e,)) if e is not None else None,
        )  # fmt: skip
