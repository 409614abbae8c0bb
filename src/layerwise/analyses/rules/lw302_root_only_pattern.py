"""## What it does
Finds `.dockerignore` patterns such as `*.pyc`, `__pycache__/` or `.venv` that only match at
the root of the build context. Docker's patterns are anchored at the context root (unlike
`.gitignore`): `*.pyc` excludes `x.pyc` but not `app/x.pyc`. Reported only for the junk
Python projects have in sub-folders (bytecode, caches, virtualenvs, editor files): another
name anchored at the root (`README.md`, `./resources`) may mean just the root, and excluding
it everywhere could drop the application's own files from the image, so it is left alone.
It speaks from what the snapshot of the context sees: a warning when files the pattern
was meant for are sent from a sub-folder; an `info` (which does not fail `check`) for a
name such as `__pycache__` that no sub-folder holds today; nothing for the caches tools write
at the project root (`.pytest_cache`, `.mypy_cache`...) while none is deeper.

## Why is this bad?
The files the pattern was meant to exclude are still sent and copied: `app/__pycache__`
changes on every local run, so `COPY . .` (and every layer after it) rebuilds although no
source changed.

## Example
```
__pycache__/
*.pyc
```

## Use instead
```
**/__pycache__
**/*.pyc
```

## Fix safety
The fix is safe: it puts `**/` in front of the pattern, in place (the rest of the file is
kept), so it excludes the same name in every folder. A file the build reads by that name in
a sub-folder would be excluded too: LW304 then reports it and its fix adds an exception.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator

from layerwise.analyses.findings import Finding, Fix
from layerwise.analyses.rules import RuleContext
from layerwise.analyses.rules._ignore_edits import insert_at
from layerwise.context.junknames import DEEP_NAMES, JUNK_ANYWHERE, ROOT_CACHES

CODE = "LW302"

def check(ctx: RuleContext) -> Iterator[Finding]:
    ign = ctx.project.ignore
    if ign is None or ign.path is None:
        return
    snap = ctx.project.snapshot if len(ign.matcher.patterns) else None
    deep_names: list[str] | None = None
    for p in ign.matcher.patterns:
        cleaned = p.cleaned.rstrip("/")
        if p.exclusion or "/" in cleaned or cleaned.startswith("**") or not cleaned or cleaned not in JUNK_ANYWHERE:
            continue
        examples: list[str] = []
        if snap is not None:
            if deep_names is None:
                deep_names = [e.path for e in snap.entries if "/" in e.path]
            examples = [q for q in deep_names if fnmatch.fnmatchcase(q.rsplit("/", 1)[1], cleaned)
                        and not any(fnmatch.fnmatchcase(part, cleaned) for part in q.split("/")[:-1])][:3]  # fmt: skip
        if examples:
            severity = "warning"  # evidence: files the pattern was meant for are sent (the rule's own severity)
        elif cleaned in DEEP_NAMES or (snap is None and cleaned in ROOT_CACHES):
            severity = "info"  # none sent today: a note, not a failure
        else:
            continue
        src = p.source
        shown = f" (still sent: {', '.join(examples)})" if examples else " (none below the root today)"
        edit = insert_at(ctx, src.line, getattr(src, "column", 1) or 1, src.text, "**/") if src.line else None
        yield Finding(
            code=CODE,
            message=f"pattern `{src.text}` only matches at the context root; `**/{cleaned}` "
            f"excludes it in every folder{shown}",
            path=str(ign.path),
            line=src.line or 1,
            column=getattr(src, "column", 1) or 1,
            severity=severity,
            hint=f"write **/{cleaned}",
            fix=Fix("safe", f"rewrite as **/{src.text}", (edit,) if edit and not src.text.startswith("/") else ()),
        )
