"""## What it does
Finds a whole-context `COPY . .` that also sends the Dockerfile, `.dockerignore` or compose
files into the image because `.dockerignore` does not exclude them. Needs the build context.

## Why is this bad?
Editing the Dockerfile (or a compose file) then changes the `COPY . .` layer and rebuilds
everything after it, although the application did not change; and the files end up in the
image for nothing.

## Example
```
# .dockerignore
.git
__pycache__
```

## Use instead
```
# .dockerignore
.git
**/__pycache__
Dockerfile*
.dockerignore
compose*.y*ml
docker-compose*.y*ml
```

## Fix safety
The fix is safe: it appends the names of the build files the whole-context copy sends
(`Dockerfile`, `.dockerignore`, compose files), as they are at the context root, to
`.dockerignore`, leaving out any the build reads by name (a `COPY Dockerfile ...`). BuildKit
reads the Dockerfile and `.dockerignore` before it applies the ignore patterns, so the build
itself is unchanged.

When the build computes the project's version from the `.git` this copy sends (hatch-vcs,
setuptools-scm, poetry-dynamic-versioning...: `RUN pip install .` of the copied tree), the fix
leaves out the files git tracks, and the hint says why: git would take a tracked file left out
of the context for a deleted one, and the version would turn "dirty"
(`1.2.4.dev0+g1a2b3c4.d20260101` instead of `1.2.3`).
"""

from __future__ import annotations

import fnmatch
import functools
import re
from collections.abc import Iterator

from layerwise.analyses import copies
from layerwise.analyses.findings import Finding, Fix
from layerwise.analyses.rules import RuleContext
from layerwise.analyses.rules._ignore_edits import append_lines, new_patterns

CODE = "LW106"

_BUILD_FILES = ("Dockerfile", "*.Dockerfile", "Dockerfile.*", "Containerfile", ".dockerignore",
                "*.dockerignore", "docker-compose*.yml", "docker-compose*.yaml", "compose*.yml",
                "compose*.yaml")  # fmt: skip


@functools.cache
def _build_file_match():
    """``fnmatch.fnmatchcase`` against any of ``_BUILD_FILES``, as one pattern (compiled once,
    not ten)."""
    return re.compile("|".join(fnmatch.translate(g) for g in _BUILD_FILES)).match


def check(ctx: RuleContext) -> Iterator[Finding]:
    project = ctx.project
    whole = [step for _, step in ctx.steps() if copies.is_whole_context(step)]
    if not whole or project.root is None:
        return
    sent = []
    try:
        top = sorted(p.name for p in project.root.iterdir())
    except OSError:
        return
    is_build_file = _build_file_match()
    candidates = [n for n in top if is_build_file(n)]
    rel = project.dockerfile_rel
    if rel and rel not in candidates:
        candidates.append(rel)
    for name in candidates:
        if project.exists(name) and not project.excluded(name):
            sent.append(name)
    if not sent:
        return
    step = whole[0]
    hint = "add them to .dockerignore: " + ", ".join(sent)
    plain = [n for n in sent if _plain(n)]
    keep = new_patterns(ctx, plain)
    from layerwise.analyses.gitversion import tracked_note

    hint += tracked_note(ctx, plain)
    edit = append_lines(ctx, keep)
    fix = Fix("safe", "add the build files to .dockerignore", (edit,) if edit else ())
    yield ctx.at(
        CODE,
        step.instruction.node,
        f"{step.instruction.node.keyword.upper()} of the whole context also copies {', '.join(sent)}: "
        "editing them rebuilds this layer and everything after it",
        hint=hint,
        fix=fix,
    )


def _plain(name: str) -> bool:
    """A name that means itself as a .dockerignore pattern."""
    return not any(c in name for c in "*?[]\\") and not name.startswith(("!", "#")) and name.strip() == name
