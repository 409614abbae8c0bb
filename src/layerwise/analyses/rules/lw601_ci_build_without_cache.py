"""## What it does
Finds CI builds of this Dockerfile (GitHub Actions `docker/build-push-action` steps, `docker
build` / `docker buildx build` commands in workflows and `.gitlab-ci.yml`) that neither import
nor export a build cache.

## Why is this bad?
A CI runner starts with an empty builder. Without `cache-from`/`cache-to` every CI build is a
cold build: the dependency install runs again on every push, however well the Dockerfile is
ordered. BuildKit only reuses layers it can import from a cache an earlier build exported.

## Example
```yaml
- uses: docker/setup-buildx-action@v3
- uses: docker/build-push-action@v6
  with:
    push: true
    tags: ghcr.io/acme/api:latest
```

## Use instead
```yaml
- uses: docker/setup-buildx-action@v3
- uses: docker/build-push-action@v6
  with:
    cache-from: type=gha,scope=api
    cache-to: type=gha,mode=max,scope=api
    push: true
    tags: ghcr.io/acme/api:latest
```
For `docker build` in GitLab's docker-in-docker: pull the last image and build with
`--cache-from $CI_REGISTRY_IMAGE:latest --build-arg BUILDKIT_INLINE_CACHE=1`, then push it.

## Fix safety
For a `docker/build-push-action` step the fix adds `cache-from`/`cache-to` of type `gha` with a
scope of the build's own (`mode=max`, so that builder stages are kept too). It is safe when the
job already sets up Buildx; otherwise the fix also adds a `docker/setup-buildx-action` step,
which builds with the `docker-container` driver: the image then reaches the runner's Docker
only with `push: true` or `load: true`, so the fix is unsafe when the step sets neither. Commands
in scripts get a hint, not a fix (the cache to use depends on the registry).
"""

from __future__ import annotations

from collections.abc import Iterator

from layerwise.analyses import cicache
from layerwise.analyses.findings import Finding, Fix
from layerwise.analyses.rules import RuleContext

CODE = "LW601"


def _fix(ctx: RuleContext, build) -> Fix | None:
    from layerwise.analyses import ciedits as edits

    if build.kind != "action" or build.no_cache is not None:
        return None
    text = cicache.ci_text(ctx, build)
    scope = edits.scope_name(build)
    add = edits.add_inputs(build, text, [("cache-from", f"type=gha,scope={scope}"),
                                         ("cache-to", f"type=gha,mode=max,scope={scope}")])  # fmt: skip
    if add is None:
        return None
    if build.exporting_builder:
        return Fix("safe", "add cache-from/cache-to (type=gha, mode=max)", (add,))
    return edits.buildx_fix(build, text, "set up Buildx and add cache-from/cache-to (type=gha, mode=max)", add)


def check(ctx: RuleContext) -> Iterator[Finding]:
    for build in ctx.ci_builds():
        if build.cache_from or build.cache_to or build.uses_registry_inline or build.kind == "compose-build":
            continue
        if build.platform == "gitlab":
            hint = ("pull the last image, then build with --cache-from IMAGE --build-arg BUILDKIT_INLINE_CACHE=1 "
                    "and push it")  # fmt: skip
        elif build.kind == "action":
            hint = "add cache-from: type=gha,scope=NAME and cache-to: type=gha,mode=max,scope=NAME"
        else:
            hint = "use docker/build-push-action with cache-from/cache-to, or --cache-from/--cache-to with a Buildx builder"
        yield cicache.finding(
            ctx, CODE, build,
            f"CI build of {ctx.path} in {build.label} imports and exports no build cache: "
            "every CI build starts cold and re-runs the dependency install",
            hint=hint, fix=_fix(ctx, build),
        )  # fmt: skip
