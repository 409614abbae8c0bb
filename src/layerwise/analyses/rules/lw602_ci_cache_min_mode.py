"""## What it does
Finds CI builds that export their cache in `mode=min` (BuildKit's default for `cache-to`, and
the only mode of inline cache) while the Dockerfile installs the dependencies in a builder
stage that later copies the code.

## Why is this bad?
`mode=min` exports only the layers of the final image. A builder stage's layers are not in it:
on a fresh runner, when the builder's code-copy step must re-run (any code change), BuildKit
has none of the builder's earlier layers, so the dependency install re-runs too. Measured on
Docker 26.1 / BuildKit 0.13: with `mode=min` every builder step ran after a one-line code
change; with `mode=max` the install was cached and only the code steps ran.

## Example
```yaml
cache-to: type=gha
```
with
```dockerfile
FROM python:3.12-slim AS builder
COPY requirements.txt .
RUN pip install --prefix=/install -r requirements.txt
COPY . .
RUN python -m compileall .
FROM python:3.12-slim
COPY --from=builder /install /usr/local
```

## Use instead
```yaml
cache-to: type=gha,mode=max
```

## Fix safety
Safe: `mode=max` exports more layers (a bigger cache), the image is the same. Inline cache has
no max mode: a hint says to export a registry or `gha` cache instead.
"""

from __future__ import annotations

from collections.abc import Iterator

from layerwise.analyses import cicache
from layerwise.analyses.findings import Finding, Fix
from layerwise.analyses.rules import RuleContext

CODE = "LW602"


def check(ctx: RuleContext) -> Iterator[Finding]:
    from layerwise.analyses import ciedits as edits

    for build in ctx.ci_builds():
        exports = [s for s in build.cache_to if not s.opaque]
        inline = build.uses_registry_inline
        if not (exports or inline) or any(s.mode == "max" for s in exports):
            continue
        if any(s.opaque for s in build.cache_to):
            continue
        where = cicache.install_in_builder(ctx, build)
        if where is None:
            continue
        text = cicache.ci_text(ctx, build)
        fix_edits = []
        for spec in exports:
            if spec.type == "inline":
                continue
            e = edits.set_attr(build, text, spec, "mode", "max")
            if e is not None:
                fix_edits.append(e)
        stage = where.stage.label
        yield cicache.finding(
            ctx, CODE, build,
            f"the cache of {build.label} is exported in min mode, which keeps only the final image's layers: "
            f"the dependency install (line {where.install.line}) is in stage {stage!s}, whose line "
            f"{where.code_copy.line} copies the code, so a code change re-runs the install on every fresh runner",
            pos=(exports[0].pos if exports and exports[0].pos else None),
            hint="export with mode=max" if exports else "export a registry or gha cache with mode=max (inline is min only)",
            fix=Fix("safe", "cache-to mode=max", tuple(fix_edits)) if fix_edits else None,
            step=where.install,
        )  # fmt: skip
