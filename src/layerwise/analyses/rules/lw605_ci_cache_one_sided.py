"""## What it does
Finds CI builds that import a cache no build of the repository exports (`cache-from` without a
matching `cache-to`), or export one nothing imports.

## Why is this bad?
An import with nothing behind it finds no cache: every build is cold although the workflow
looks cached. An export that nothing reads costs upload time and cache storage for nothing.
Builds that only import a cache another workflow exports (pull requests reading the main
branch's cache) are fine and not reported.

A `type=local` cache is connected when a later step of the exporting job moves the export to
the folder the import reads, Docker's documented pattern for `actions/cache` (`cache-to:
type=local,dest=/tmp/.buildx-cache-new,mode=max`, then `rm -rf /tmp/.buildx-cache && mv
/tmp/.buildx-cache-new /tmp/.buildx-cache`); `layerwise explain --ci` reads the same move. The
hint never proposes exporting a local cache into the folder it is imported from: BuildKit adds
the new layers there and keeps the old ones, so it grows without limit (the reason for the
move: docker/build-push-action#252, moby/buildkit#1896), unless the export sets `reset=true`
(moby/buildkit#6612, Buildx 0.35 or later), which the hint mentions.

## Example
```yaml
cache-from: type=gha,scope=api
```

## Use instead
```yaml
cache-from: type=gha,scope=api
cache-to: type=gha,mode=max,scope=api
```

## Fix safety
For `gha` and `registry` caches the missing side is added with the same scope or reference
(`mode=max`). Adding `cache-from` is safe. Adding `cache-to` is safe when the job already sets
up Buildx; otherwise the default `docker` driver could not export it (LW608), so the fix also
adds a `docker/setup-buildx-action` step, and with its `docker-container` driver the image
reaches the runner's Docker only with `push: true` or `load: true`: the fix is safe when the
step sets one of them (or `outputs:`), unsafe when it sets neither. Other backends get a hint.
"""

from __future__ import annotations

from collections.abc import Iterator

from layerwise.analyses import cicache
from layerwise.analyses.findings import Finding, Fix
from layerwise.analyses.rules import RuleContext

CODE = "LW605"


def _mirror(spec, to: bool) -> str | None:
    attrs = {k: v for k, v in spec.attrs.items() if k not in ("mode", "src", "dest")}
    if spec.type == "gha":
        body = "type=gha" + (f",scope={attrs['scope']}" if "scope" in attrs else "")
    elif spec.type == "registry" and "ref" in attrs and "=" in spec.raw:
        body = f"type=registry,ref={attrs['ref']}"
    else:
        return None
    return body + (",mode=max" if to else "")


def _local_hint(build, spec, *, imports: bool) -> str | None:
    """What connects a one-sided ``type=local`` cache: never an export into the folder the build
    imports from (BuildKit adds the new layers and keeps the old: it grows without limit), but
    an export to a new folder moved over the old one after the build."""
    here = spec.location
    if here is None:
        return None
    other_side = build.cache_to if imports else build.cache_from
    other = next((o.location for o in other_side if o.location is not None and not o.opaque), None)
    if imports:
        if other is not None:
            return f"move the export where this import reads it, in a step after the build: rm -rf {here} && mv {other} {here}"
        return (f"export to a new folder (cache-to: type=local,dest={here}-new,mode=max) and move it over this one "
                f"after the build (rm -rf {here} && mv {here}-new {here}); an export into the folder it imports "
                "from keeps every old layer and grows without limit, unless it sets reset=true (Buildx 0.35 or later)")
    if other is not None:
        return f"move it where the import reads it, in a step after the build: rm -rf {other} && mv {here} {other}"
    return f"import it (cache-from: type=local,src={here})"


def _finding(ctx: RuleContext, build, spec, *, imports: bool) -> Finding:
    """The finding for a one-sided ``spec``: an import nothing exports (``imports``), or the
    reverse; its fix adds the missing side to the action's inputs when there is none yet."""
    from layerwise.analyses import ciedits as edits

    missing = "cache-to" if imports else "cache-from"
    mirror = _mirror(spec, to=imports)
    fix = None
    if mirror is not None and build.kind == "action" and not getattr(build, missing.replace("-", "_")) \
            and missing not in build.inputs:
        text = cicache.ci_text(ctx, build)
        e = edits.add_inputs(build, text, [(missing, mirror)])
        if e is not None and imports and not build.exporting_builder:
            # the default docker driver cannot export it (LW608): set up Buildx too
            fix = edits.buildx_fix(build, text, f"set up Buildx and {missing}: {mirror}", e)
        elif e is not None:
            fix = Fix("safe", f"{missing}: {mirror}", (e,))
    if imports:
        message = (f"{build.label} imports the cache {spec.raw!r}, which no CI build of the repository exports: "
                   "the import finds nothing and the build is cold")
        hint = _local_hint(build, spec, imports=True) or f"export it too (cache-to: {mirror or 'the same cache'})"
    else:
        message = (f"{build.label} exports the cache {spec.raw!r}, which no CI build imports: "
                   "the upload costs time and storage and no build reuses it")
        hint = _local_hint(build, spec, imports=False) or f"import it (cache-from: {mirror or 'the same cache'})"
    return cicache.finding(ctx, CODE, build, message, pos=spec.pos, hint=hint, fix=fix)


def check(ctx: RuleContext) -> Iterator[Finding]:
    for build in ctx.ci_builds():
        for spec in build.cache_from:
            if spec.opaque or cicache.exported_by_some_build(ctx, spec):
                continue
            if spec.type == "registry" and "=" not in spec.raw.split(",", 1)[0]:
                continue  # ``--cache-from IMAGE``: LW606 says what that image needs
            yield _finding(ctx, build, spec, imports=True)
        for spec in build.cache_to:
            if spec.opaque or spec.type == "inline" or cicache.imported_by_some_build(ctx, spec):
                continue
            yield _finding(ctx, build, spec, imports=False)
