"""## What it does
Finds Python and tooling junk in the build context that a `COPY`/`ADD` copies into the image:
`__pycache__`, `*.pyc`, virtualenvs, `.pytest_cache`/`.mypy_cache`, `.git`, `*.egg-info`,
`build/`/`dist/` beside the `setup.py`/`pyproject.toml` that builds them (a `build/` folder
elsewhere may be the application's own files). Needs the build context (it reads a snapshot of what is sent).

What the build reads by name is not junk: a path a `COPY` names as its source (`COPY dist/
/tmp/dist/` then `RUN pip install /tmp/dist/*.whl`), a bind-mount source, and the `.git` of a
project whose build computes its version from git (hatch-vcs, setuptools-scm, versioningit,
poetry-dynamic-versioning, pdm-backend's `scm` source...) when the Dockerfile builds or
installs it from the copied tree (`COPY . /build` then `pip install .`, `uv build`...).
Junk below a folder a `COPY` names (`COPY src /app` with `src/__pycache__`) is still junk.

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
reads (a `COPY`/`ADD` source, a bind-mount source such as `.git`, a file an install reads),
nor, while a build computes its version from the `.git` it is sent, a file git tracks (it
would look deleted to git, and the version dirty). When every entry is left out, the finding
is a hint, with no fix.
"""

from __future__ import annotations

import itertools
import posixpath
import re
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
    wanted = _wanted(ctx, copy_steps)
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
            paths = [p for p in paths if not _is_wanted(p, wanted)]
            if paths:
                hits.append((j, paths))
        if not hits:
            continue
        node = step.instruction.node
        parts = [f"{j.what} ({', '.join(paths[:2])}{', ...' if len(paths) > 2 else ''})" for j, paths in hits[:4]]
        patterns = sorted({s for j, _ in hits for s in j.suggestion.split(", ")})
        suggestion = ", ".join(patterns)
        edit = append_lines(ctx, new_patterns(ctx, patterns))
        from layerwise.analyses.gitversion import tracked_note

        yield ctx.at(
            CODE,
            node,
            f"{node.keyword.upper()} copies junk that changes on every run: {'; '.join(parts)}",
            hint=f"add to .dockerignore: {suggestion}" + tracked_note(ctx, patterns),
            fix=Fix("safe", f"add {suggestion} to .dockerignore", (edit,) if edit else ()),
        )


def _wanted(ctx: RuleContext, copy_steps: list) -> list[str]:
    """The context paths the build reads by name, which are no junk even with a junk name: a
    COPY source (``COPY dist/ /tmp/dist/``; a wildcard source's folder: ``dist`` of
    ``dist/*.whl``), a bind-mount source, a file an install reads, the ``.git`` a build reads
    for its version (:mod:`layerwise.analyses.needed`)."""
    from layerwise.analyses.needed import needed_files

    out = {rel for rel, _, _ in needed_files(ctx)}
    for step in copy_steps:
        for s in copies.sources(step):
            if copies.REMOTE.match(s) or copies._norm(s) in copies.WHOLE:
                continue
            parts = posixpath.normpath(s.strip("/")).split("/")
            fixed = list(itertools.takewhile(lambda part: not re.search(r"[*?\[$]", part), parts))
            if fixed and fixed != ["."]:
                out.add("/".join(fixed))
    return sorted(out)


def _is_wanted(path: str, wanted: list[str]) -> bool:
    """``path`` is read by name, or holds a path that is."""
    return any(w == path or w.startswith(path + "/") for w in wanted)
