"""## What it does
Finds `ADD` of local files or folders, where `COPY` does the same.

## Why is this bad?
`ADD` also downloads URLs and unpacks local archives: a reader has to check which of these
an `ADD` line does, and an archive added later to the copied folder is silently extracted.
`COPY` says what it does.

## Example
```dockerfile
ADD . /app
```

## Use instead
```dockerfile
COPY . /app
```

## Fix safety
The fix is safe: it replaces the `ADD` keyword with `COPY` (same case), nothing else. It is
only offered for local sources that are not archives, with no `--checksum`, `--keep-git-dir`
or `--unpack`: there `COPY` copies exactly what `ADD` copied.
"""

from __future__ import annotations

from collections.abc import Iterator

from layerwise.analyses import copies
from layerwise.analyses.findings import Edit, Finding, Fix
from layerwise.analyses.rules import RuleContext
from layerwise.parse.instructions import Add

CODE = "LW502"


def check(ctx: RuleContext) -> Iterator[Finding]:
    for _, step in ctx.steps():
        inst = step.instruction
        if not isinstance(inst, Add) or inst.checksum or inst.keep_git_dir is not None or inst.unpack is not None:
            continue
        srcs = copies.sources(step)
        if any(copies.REMOTE.match(s) or copies.ARCHIVE.search(s) for s in srcs):
            continue
        node = inst.node
        kw = node.span.start
        what = f"local {'files' if len(srcs) > 1 else srcs[0]}" if srcs else "a here-document"
        yield ctx.at(
            CODE,
            node,
            f"ADD of {what}: COPY does the same without ADD's URL and archive magic",
            hint="use COPY",
            fix=Fix("safe", "ADD of local files -> COPY",
                    (Edit(ctx.path, kw, kw + len(node.keyword), "COPY" if node.keyword.isupper() else "copy"),)),
        )  # fmt: skip
