"""## What it does
Finds CI builds with `no-cache: true` or `--no-cache`.

## Why is this bad?
Every step of every CI build runs again, dependency install included, whatever the cache
holds. Builds that must pick up new base-image or package versions are better served by a
scheduled build without cache than by disabling it on every push.

## Example
```yaml
with:
  no-cache: true
```

## Use instead
Remove it, and rebuild without cache on a schedule if fresh packages matter.

## Fix safety
Unsafe: removing it changes which package versions a build gets (cached layers keep the old
ones), which may be what the option was for.
"""

from __future__ import annotations

from collections.abc import Iterator

from layerwise.analyses import cicache
from layerwise.analyses.findings import Finding, Fix
from layerwise.analyses.rules import RuleContext

CODE = "LW607"


def check(ctx: RuleContext) -> Iterator[Finding]:
    from layerwise.analyses import ciedits as edits

    for build in ctx.ci_builds():
        if build.no_cache is None:
            continue
        text = cicache.ci_text(ctx, build)
        if build.kind == "action":
            e = edits.remove_input_line(build, text, "no-cache")
        else:
            e = edits.remove_flag(build, text, "--no-cache")
        yield cicache.finding(
            ctx, CODE, build,
            f"{build.label} builds with no cache: every step runs again on every build",
            pos=build.no_cache, hint="remove no-cache; rebuild without cache on a schedule if needed",
            fix=Fix("unsafe", "remove no-cache", (e,)) if e is not None else None,
        )  # fmt: skip
