"""## What it does
Finds Python and tooling junk in the build context that a `COPY`/`ADD` copies into the image:
`__pycache__`, `*.pyc`, virtualenvs, `.pytest_cache`/`.mypy_cache`, `.git`, `*.egg-info`,
`build/`/`dist/` beside the `setup.py`/`pyproject.toml` that builds them (a `build/` folder
elsewhere may be the application's own files). Needs the build context (it reads a snapshot of what is sent).

## Why is this bad?
These files change whenever you run the code, the tests or git: each change invalidates the
`COPY` layer and every layer after it, and they bloat the image (a copied `.venv` can be
hundreds of megabytes and shadow the image's own packages).

## Example
`COPY . .` with `app/__pycache__/` and `.venv/` in the project and no `.dockerignore` entry.

## Use instead
Exclude them in `.dockerignore` (`**/__pycache__`, `**/*.pyc`, `.venv`, `.git`...).

## Fix safety
The fix is safe: it appends to `.dockerignore` the entries for the junk this `COPY` copies
(as the snapshot of the context shows it), and only those that exclude no file the build
reads (a `COPY`/`ADD` source, a bind-mount source such as `.git`, a file an install reads).
"""

from __future__ import annotations

from collections.abc import Iterator

from layerwise.analyses import copies
from layerwise.analyses.findings import Finding, Fix
from layerwise.analyses.rules import RuleContext
from layerwise.analyses.rules._ignore_edits import append_lines, new_patterns

CODE = "LW303"


def check(ctx: RuleContext) -> Iterator[Finding]:
    copy_steps = [step for _, step in ctx.steps() if copies.from_context(step)]
    if not copy_steps:
        return
    report = ctx.context_report()
    if report is None:
        return
    junk = report.junk
    if not junk:
        return
    for step in copy_steps:
        srcs = [s for s in copies.sources(step) if not copies.REMOTE.match(s)]
        selected: set[str] | None = None
        hits = []
        for j in junk:
            if copies.is_whole_context(step):
                paths = list(j.paths)
            else:
                if selected is None:
                    selected = {p for s in srcs for p in (ctx.project.select(s) or [])}
                paths = [p for p in j.paths if p in selected or any(q.startswith(p + "/") for q in selected)]
            if paths:
                hits.append((j, paths))
        if not hits:
            continue
        node = step.instruction.node
        parts = [f"{j.what} ({', '.join(paths[:2])}{', ...' if len(paths) > 2 else ''})" for j, paths in hits[:4]]
        patterns = sorted({s for j, _ in hits for s in j.suggestion.split(", ")})
        suggestion = ", ".join(patterns)
        edit = append_lines(ctx, new_patterns(ctx, patterns))
        yield ctx.at(
            CODE,
            node,
            f"{node.keyword.upper()} copies junk that changes on every run: {'; '.join(parts)}",
            hint=f"add to .dockerignore: {suggestion}",
            fix=Fix("safe", f"add {suggestion} to .dockerignore", (edit,) if edit else ()),
        )
