"""## What it does
Finds a `RUN --mount=type=cache` for a package manager whose cache the same install then
turns off: `pip --no-cache-dir`, `PIP_NO_CACHE_DIR` with any value (pip reads `off`, `0`
and `false` as "disable" too), `uv --no-cache`, `UV_NO_CACHE`.

## Why is this bad?
The mount is there to keep downloaded wheels between builds; with the cache disabled, every
rebuild of the layer downloads everything again, and the mount only adds complexity.

## Example
```dockerfile
ENV PIP_NO_CACHE_DIR=off
RUN --mount=type=cache,target=/root/.cache/pip pip install -r requirements.txt
```

## Use instead
```dockerfile
RUN --mount=type=cache,target=/root/.cache/pip pip install -r requirements.txt
```
(the cache lives in the mount, never in the image, so it needs no disabling).

## Fix safety
The fix is safe: it removes the `--no-cache-dir`/`--no-cache` option (with its spacing) from
the install that has a cache mount. What is installed does not change; the downloads are
kept in the mount, which is never part of the image. An environment variable that disables
the cache (`PIP_NO_CACHE_DIR`) is reported but not edited.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from layerwise.analyses import fixtext, pkgcache
from layerwise.analyses.findings import Edit, Finding, Fix
from layerwise.analyses.rules import RuleContext
from layerwise.parse.instructions import Run

CODE = "LW202"


def check(ctx: RuleContext) -> Iterator[Finding]:
    for _, step in ctx.steps():
        if not isinstance(step.instruction, Run):
            continue
        mounts = pkgcache.cache_mounts(step)
        if not mounts:
            continue
        a = ctx.analysis(step)
        for x in a.installs:
            why = pkgcache.disabled_by(step, x)
            if not why:
                continue
            d = pkgcache.cache_dir(step, x)
            m = pkgcache.covering_mount(step, d) or next(
                (m for m in mounts if pkgcache.looks_like_cache_of(m.target, x.manager)), None
            )
            if m is None:
                continue
            node = step.instruction.node
            where = ctx.locate(node, why.split("=", 1)[0])
            fix = None
            word = fixtext.install_word(ctx.dockerfile, step.instruction, a, x, x.argv.index(why, 1)) if why in x.argv[1:] else None
            if word is not None:  # that option word of this install, not the same text elsewhere
                s, e = (node.span.start + i for i in _option_span(ctx.dockerfile.source(node), *(o - node.span.start for o in word)))
                fix = Fix("safe", f"remove {why}", (Edit(ctx.path, s, e, ""),))
            yield ctx.at(
                CODE,
                node,
                f"the cache mount at {m.target} is useless: `{' '.join(x.argv[:2])}` runs with {why}",
                hint=f"drop {why.split('=', 1)[0]} (the cache stays in the mount, not in the image)",
                fix=fix,
                line=where[0] if where else None,
                column=where[1] if where else None,
            )


def _option_span(src: str, start: int, end: int) -> tuple[int, int]:
    """What to delete from ``src`` to drop the option word at ``src[start:end]``, leaving valid
    and tidy continuation lines: the word and the blanks before it; at the start of a line, the
    word and the blanks after it (the indentation stays); alone on a continuation line
    (``    --no-cache \\``), that whole line; alone on the last line, that line and the line
    break before it."""
    line_start = src.rfind("\n", 0, start) + 1
    if line_start > 0 and not src[line_start:start].strip():  # first word of a continuation line
        cont = re.match(r"[ \t]*\\[ \t]*\r?\n", src[end:])
        if cont:
            return line_start, end + cont.end()
        blanks = re.match(r"[ \t]*", src[end:])
        after = end + blanks.end()
        if after < len(src) and src[after] not in "\r\n":
            return start, after
        before = re.search(r"[ \t]*\\[ \t]*\r?\n[ \t]*$", src[:start])
        if before:
            return before.start(), after
    while start > 0 and src[start - 1] in " \t":
        start -= 1
    return start, end
