"""## What it does
Finds a file the build needs that `.dockerignore` excludes: a `COPY` source, a requirements
file an install reads (and its `-r`/`-c` includes), or the README/license file that
`pyproject.toml` names when the project itself is installed. Needs the build context.

## Why is this bad?
The build fails (`"/README.md": not found`, `Readme file does not exist`), often only after a
broad pattern such as `*.md` or `*.txt` was added to `.dockerignore`.

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
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator

from layerwise.analyses import copies
from layerwise.analyses.findings import Finding, Fix
from layerwise.analyses.rules import RuleContext
from layerwise.parse.instructions import Run

CODE = "LW304"
NAME = "needed-file-ignored"
SUMMARY = ".dockerignore excludes a file the build needs"
SEVERITY = "error"
FIX = "safe"
NEEDS_CONTEXT = True


def _context_rel(step, path: str, copied_to: dict[str, str]) -> str | None:
    """The context path of a file an install reads (via the COPY that brought it)."""
    img = posixpath.normpath(path if path.startswith("/") else posixpath.join(step.workdir or "/", path))
    return copied_to.get(img)


def check(ctx: RuleContext) -> Iterator[Finding]:
    project = ctx.project
    if project.ignore is None:
        return
    for stage in ctx.build.stages:
        copied_to: dict[str, str] = {}  # image path -> context path, for files copied whole-context
        whole_dests: list[str] = []
        for step in stage.steps:
            inst = step.instruction
            needs: list[tuple[str, str]] = []
            if copies.from_context(step):
                dest = copies.dest_path(step)
                for s in copies.sources(step):
                    n = s.strip("/")
                    if copies.REMOTE.match(s) or not n or n in (".", "*") or re.search(r"[*?\[$]", n):
                        if n in (".", ""):
                            whole_dests.append(dest)
                        continue
                    needs.append((n, f"a source of this {inst.node.keyword.upper()}"))
                    copied_to[posixpath.normpath(posixpath.join(dest, posixpath.basename(n)))] = n
                    copied_to[posixpath.normpath(dest)] = n
            elif isinstance(inst, Run):
                for m in step.expanded.get("mounts") or []:  # type: ignore[union-attr]
                    src = (m.source or "").strip("/")
                    if m.type == "bind" and not m.from_ and src and src != "." and not re.search(r"[*?\[$]", src):
                        needs.append((src, "the source of a bind mount"))
                for x in ctx.analysis(step).installs:
                    for r in x.requirements + x.constraints:
                        rel = _context_rel(step, r, copied_to) or _from_whole(step, r, whole_dests)
                        if rel:
                            needs.append((rel, f"read by `{' '.join(x.argv[:2])}`"))
                            for f in project.requirements_closure([rel])[1:]:
                                needs.append((f, f"included by {rel}"))
                    if x.project and whole_dests:
                        for t in x.targets or ["."]:
                            rel = _from_whole(step, t.split("[", 1)[0], whole_dests)
                            if rel is None:
                                continue
                            for f in project.pyproject_files(rel):
                                needs.append((f, "named in pyproject.toml, read by the build backend"))
            for rel, why in needs:
                if not project.excluded(rel) or not project.exists(rel):
                    continue
                pat = project.deciding_pattern(rel)
                where = f"{project.ignore.name}:{pat.source.line} `{pat.source.text}`" if pat is not None else project.ignore.name
                yield ctx.at(
                    CODE,
                    inst.node,
                    f"{rel} ({why}) is excluded by {where}, so the build cannot see it",
                    hint=f"add !{rel} to .dockerignore",
                    fix=Fix("safe", f"add !{rel} to .dockerignore"),
                )


def _from_whole(step, path: str, whole_dests: list[str]) -> str | None:
    """The context path of ``path`` when a whole-context copy put the context at a dest above it."""
    img = posixpath.normpath(path if path.startswith("/") else posixpath.join(step.workdir or "/", path))
    for d in whole_dests:
        d = posixpath.normpath(d)
        if img == d:
            return "."
        if img.startswith(d.rstrip("/") + "/"):
            return img[len(d.rstrip("/")) + 1 :]
    return None
