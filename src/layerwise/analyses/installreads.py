"""What an install reads, followed through the image: the requirements files it names (with an
absolute path or relative to its WORKDIR), traced back to the context file a ``COPY`` put
there, and their ``-r``/``-c`` includes, which pip resolves relative to the including file
(``/etc/requirements.txt`` with ``-r base.txt`` reads ``/etc/base.txt``), nested."""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from typing import TYPE_CHECKING

from layerwise.analyses import copies

if TYPE_CHECKING:
    from layerwise.analyses.rules import RuleContext
    from layerwise.resolve.stages import Stage, Step

MAX_INCLUDES = 200  # a cycle or a huge tree of includes stops here


def context_source(ctx: RuleContext, stage: Stage, step: Step, path: str) -> str | None:
    """The context path of the file at image path ``path`` before ``step``: the latest COPY
    from the context (this stage or the stages it is built FROM) that put it there, or None
    (not copied by name, or a later step may have replaced it)."""
    path = posixpath.normpath(path)
    for st in reversed(ctx.lineage(stage)):
        for s in reversed(st.steps):
            if st is stage and s.index >= step.index:
                continue
            if not copies.from_context(s):
                continue
            srcs = [x for x in copies.sources(s) if not copies.REMOTE.match(x)]
            dest = posixpath.normpath(copies.dest_path(s))
            raw_dest = str(s.expanded.get("dest", getattr(s.instruction, "dest", "")))
            folder = raw_dest.endswith("/") or raw_dest in (".", "..") or len(srcs) > 1
            for src in srcs:
                n = copies._norm(src)
                if n in copies.WHOLE:
                    if path == dest or path.startswith(dest.rstrip("/") + "/"):
                        rel = posixpath.relpath(path, dest)
                        return rel if ctx.project.is_file(rel) is not False else None
                    continue
                if any(c in n for c in "*?[$"):
                    continue
                n = n.lstrip("/")
                landing = posixpath.join(dest, posixpath.basename(n)) if folder else dest
                if path == posixpath.normpath(landing):
                    return n
                if ctx.project.is_file(n) is False and path.startswith(posixpath.normpath(landing).rstrip("/") + "/"):
                    return posixpath.join(n, posixpath.relpath(path, landing))  # below a copied folder
    return None


def requirement_reads(ctx: RuleContext, stage: Stage, step: Step, files: list[str]) -> Iterator[tuple[str, str | None, str]]:
    """(image path, context path or None, why) of each requirements file the install reads:
    ``files`` as written (absolute, or relative to the WORKDIR) and their includes, nested."""
    todo = [(copies.image_path(step, f), "-r/-c file") for f in files]
    seen: set[str] = set()
    while todo and len(seen) < MAX_INCLUDES:
        img, why = todo.pop(0)
        if img in seen:
            continue
        seen.add(img)
        rel = context_source(ctx, stage, step, img)
        yield img, rel, why
        if rel is None or not ctx.project.known:
            continue
        base = posixpath.dirname(rel) or "."
        for _, _, inc in ctx.project.requirement_includes(rel):
            if inc.startswith("/") or any(c in inc for c in "$*?["):
                continue
            # pip joins an include to the including file's folder: the same offset in the image
            rel_inc = posixpath.relpath(posixpath.normpath(inc), base)
            todo.append((posixpath.normpath(posixpath.join(posixpath.dirname(img), rel_inc)), f"included by {img}"))
