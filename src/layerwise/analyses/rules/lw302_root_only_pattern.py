"""## What it does
Finds `.dockerignore` patterns such as `*.pyc`, `__pycache__/` or `.venv` that only match at
the root of the build context. Docker's patterns are anchored at the context root (unlike
`.gitignore`): `*.pyc` excludes `x.pyc` but not `app/x.pyc`. Reported for the names Python
projects have in sub-folders, and, with a snapshot of the context, for any pattern that
leaves matching files deeper in the tree.

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
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator

from layerwise.analyses.findings import Finding, Fix
from layerwise.analyses.rules import RuleContext

CODE = "LW302"
NAME = "root-only-ignore-pattern"
SUMMARY = ".dockerignore pattern only matches at the context root"
SEVERITY = "warning"
FIX = "safe"
NEEDS_CONTEXT = True

# Names that live in sub-folders of Python projects: a root-only pattern for them is a bug.
DEEP_NAMES = ("*.pyc", "*.pyo", "*.pyd", "*.py[co]", "*.py[cod]", "*$py.class", "__pycache__",
              "*.egg-info", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".hypothesis",
              ".ipynb_checkpoints", ".DS_Store", "node_modules", "*.swp", "*~", ".coverage",
              "*.log", ".tox", ".nox")  # fmt: skip


def check(ctx: RuleContext) -> Iterator[Finding]:
    ign = ctx.project.ignore
    if ign is None or ign.path is None:
        return
    snap = ctx.project.snapshot if len(ign.matcher.patterns) else None
    deep_names: list[str] | None = None
    for p in ign.matcher.patterns:
        cleaned = p.cleaned.rstrip("/")
        if p.exclusion or "/" in cleaned or cleaned.startswith("**") or not cleaned:
            continue
        known = cleaned in DEEP_NAMES
        examples: list[str] = []
        if snap is not None:
            if deep_names is None:
                deep_names = [e.path for e in snap.entries if "/" in e.path]
            examples = [q for q in deep_names if fnmatch.fnmatchcase(q.rsplit("/", 1)[1], cleaned)
                        and not any(fnmatch.fnmatchcase(part, cleaned) for part in q.split("/")[:-1])][:3]  # fmt: skip
        if not known and not examples:
            continue
        src = p.source
        shown = f" (still sent: {', '.join(examples)})" if examples else ""
        yield Finding(
            code=CODE,
            message=f"pattern `{src.text}` only matches at the context root; `**/{cleaned}` "
            f"excludes it in every folder{shown}",
            path=str(ign.path),
            line=src.line or 1,
            column=getattr(src, "column", 1) or 1,
            hint=f"write **/{cleaned}",
            fix=Fix("safe", f"rewrite as **/{cleaned}"),
        )
