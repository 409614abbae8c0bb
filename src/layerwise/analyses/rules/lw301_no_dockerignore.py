"""## What it does
Finds a build that copies the whole context (`COPY . .`) while the project has no
`.dockerignore` (nor `<Dockerfile>.dockerignore`). Needs the build context.

## Why is this bad?
Everything in the folder is sent to the builder and copied into the image: `.git`, virtual
environments, `__pycache__`, test caches, local `.env` files. Any change to any of them
(every commit changes `.git`) invalidates the `COPY . .` layer and all layers after it, and
secrets end up in the image.

## Example
A project with `Dockerfile` and `COPY . .` but no `.dockerignore`.

## Use instead
Add a `.dockerignore`, e.g.
```
.git
**/__pycache__
**/*.py[co]
.venv
.pytest_cache
.mypy_cache
.env
Dockerfile*
.dockerignore
```
`layerwise fix` writes one.
"""

from __future__ import annotations

from collections.abc import Iterator

from layerwise.analyses import copies
from layerwise.analyses.findings import Finding, Fix
from layerwise.analyses.rules import RuleContext

CODE = "LW301"
NAME = "no-dockerignore"
SUMMARY = "No .dockerignore while the whole context is copied"
SEVERITY = "warning"
FIX = "safe"
NEEDS_CONTEXT = True


def check(ctx: RuleContext) -> Iterator[Finding]:
    if ctx.project.ignore is not None or ctx.project.errors:
        return
    for _, step in ctx.steps():
        if copies.is_whole_context(step):
            node = step.instruction.node
            yield ctx.at(
                CODE,
                node,
                f"{node.keyword.upper()} of the whole context with no .dockerignore: .git, caches, "
                "virtualenvs and local files are copied and bust this layer",
                hint="add a .dockerignore (layerwise fix writes one)",
                fix=Fix("safe", "write a .dockerignore"),
            )
            return
