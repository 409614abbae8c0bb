"""## What it does
Finds a file the build needs that `.dockerignore` excludes: a `COPY` source, a requirements
file an install reads (and its `-r`/`-c` includes), the README/license file that
`pyproject.toml` names when the project itself is installed, or the `.git` a build of the
project from the copied tree reads for its version (hatch-vcs, setuptools-scm...; not when
`SETUPTOOLS_SCM_PRETEND_VERSION` or the like gives the version). Needs the build context.

A folder that a broad pattern excludes but whose files an exception re-includes (`*` then
`!src/**`) is sent with those files: it is not reported.

## Why is this bad?
The build fails (`"/README.md": not found`, `Readme file does not exist`, `setuptools-scm was
unable to detect version`), often only after a broad pattern such as `*.md` or `*.txt` was
added to `.dockerignore`.

## Example
```
# .dockerignore
*.md
```
with `readme = "README.md"` in `pyproject.toml` and `RUN pip install .`.

## Use instead
```
*.md
!README.md
```

## Fix safety
The fix is safe: it appends an exception (`!README.md`) for exactly the excluded file, at the
end of `.dockerignore` where it takes precedence; nothing else is sent.
"""

from __future__ import annotations

from collections.abc import Iterator

from layerwise.analyses.findings import Finding, Fix
from layerwise.analyses.needed import needed_files
from layerwise.analyses.rules import RuleContext
from layerwise.analyses.rules._ignore_edits import append_lines

CODE = "LW304"


def check(ctx: RuleContext) -> Iterator[Finding]:
    project = ctx.project
    if project.ignore is None:
        return
    seen: set[tuple[str, int]] = set()
    for rel, why, node in needed_files(ctx):
        if (rel, id(node)) in seen or not project.excluded(rel) or not project.exists(rel):
            continue  # (one finding for a file an instruction needs twice: a bind-mounted .git it builds with)
        seen.add((rel, id(node)))
        if project.is_file(rel) is False and project.select(rel):
            continue  # a folder excluded, but with files re-included (`*`, `!src/**`): it is sent
        pat = project.deciding_pattern(rel)
        where = f"{project.ignore.name}:{pat.source.line} `{pat.source.text}`" if pat is not None else project.ignore.name
        edit = append_lines(ctx, [f"!{rel}"])
        yield ctx.at(
            CODE,
            node,
            f"{rel} ({why}) is excluded by {where}, so the build cannot see it",
            hint=f"add !{rel} to .dockerignore",
            fix=Fix("safe", f"add !{rel} to .dockerignore", (edit,) if edit else ()),
        )
