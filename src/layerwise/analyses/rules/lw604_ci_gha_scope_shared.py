"""## What it does
Finds `type=gha` cache exports that several builds (other images, targets or build args, or the
entries of a matrix job) write to one scope.

## Why is this bad?
The `gha` cache's `scope` defaults to `buildkit` for every build of the repository. Two images
exporting to one scope overwrite each other's cache: each run imports the other image's layers
and rebuilds its own.

## Example
```yaml
strategy:
  matrix:
    python: ["3.11", "3.12"]
steps:
  - uses: docker/build-push-action@v6
    with:
      build-args: PYTHON=${{ matrix.python }}
      cache-from: type=gha
      cache-to: type=gha,mode=max
```

## Use instead
```yaml
      cache-from: type=gha,scope=py${{ matrix.python }}
      cache-to: type=gha,mode=max,scope=py${{ matrix.python }}
```

## Fix safety
Safe: each build gets a scope of its own (the job, the target, the matrix entry), imported and
exported alike; the first run after the change is cold once.
"""

from __future__ import annotations

from collections.abc import Iterator

from layerwise.analyses import cicache
from layerwise.analyses.findings import Finding, Fix
from layerwise.analyses.rules import RuleContext

CODE = "LW604"


def _identity(build) -> tuple:
    return (build.dockerfile, build.target, tuple(sorted(build.build_args.items())))


def check(ctx: RuleContext) -> Iterator[Finding]:
    from layerwise.analyses import ciedits as edits

    ci = ctx.ci()
    if ci is None:
        return
    writers: dict[str, list] = {}
    for b in ci.builds:
        for spec in b.cache_to:
            if spec.type == "gha" and not spec.opaque and "${{" not in (spec.attrs.get("scope") or ""):
                writers.setdefault(spec.scope or "buildkit", []).append(b)
    for build in ctx.ci_builds():
        for spec in build.cache_to:
            if spec.type != "gha" or spec.opaque:
                continue
            scope = spec.scope or "buildkit"
            others = [b for b in writers.get(scope, []) if b is not build and _identity(b) != _identity(build)]
            if not others and not build.matrix:
                continue
            if not others and "${{" in (spec.attrs.get("scope") or ""):
                continue
            text = cicache.ci_text(ctx, build)
            name = edits.scope_name(build)
            fix_edits = [edits.set_attr(build, text, s, "scope", name)
                         for s in build.cache_from + build.cache_to if s.type == "gha" and s.scope == scope]  # fmt: skip
            fix = Fix("safe", f"scope={name}", tuple(fix_edits)) if fix_edits and None not in fix_edits else None
            what = (f"{len(others)} other build(s) ({', '.join(sorted({o.label for o in others}))})" if others
                    else "every entry of its matrix")  # fmt: skip
            yield cicache.finding(
                ctx, CODE, build,
                f"{build.label} exports its gha cache to scope '{scope}', which {what} also write: "
                "each overwrites the other's cache",
                pos=spec.pos, hint=f"give each build its own scope (scope={name})", fix=fix,
            )  # fmt: skip
