"""What an install reads, followed through the image: the requirements files it names (with an
absolute path or relative to its WORKDIR), traced back to the context file a ``COPY`` put
there, and their ``-r``/``-c`` includes, which pip resolves relative to the including file
(``/etc/requirements.txt`` with ``-r base.txt`` reads ``/etc/base.txt``), nested."""

from __future__ import annotations

import posixpath
from collections.abc import Iterator

from layerwise.analyses import copies

TYPE_CHECKING = False  # (typing.TYPE_CHECKING without importing typing at start-up)
if TYPE_CHECKING:
    from layerwise.analyses.rules import RuleContext
    from layerwise.resolve.stages import Stage, Step

MAX_INCLUDES = 200  # a cycle or a huge tree of includes stops here


class _CopyIndex:
    """Where the context-copies of a stage chain put files: built once per stage (a lookup is
    then a few dict and list reads, so a long stage stays linear)."""

    def __init__(self, ctx: RuleContext, stage: Stage) -> None:
        self.offset: dict[int, int] = {}  # stage index -> position of its first step
        self.files: dict[str, list[tuple[int, str]]] = {}  # image path -> (position, context path)
        self.trees: list[tuple[int, str, str]] = []  # (position, image folder, context folder)
        pos = 0
        for st in ctx.lineage(stage):
            self.offset[st.index] = pos
            for s in st.steps:
                if copies.from_context(s):
                    self._add(ctx, s, pos + s.index)
            pos += len(st.steps)

    def _add(self, ctx: RuleContext, s: Step, pos: int) -> None:
        srcs = [x for x in copies.sources(s) if not copies.REMOTE.match(x)]
        dest = posixpath.normpath(copies.dest_path(s))
        raw_dest = str(s.expanded.get("dest", getattr(s.instruction, "dest", "")))
        folder = raw_dest.endswith("/") or raw_dest in (".", "..") or len(srcs) > 1
        for src in srcs:
            n = copies._norm(src)
            if n in copies.WHOLE:
                self.trees.append((pos, dest, "."))
                continue
            if any(c in n for c in "*?[$"):
                continue
            n = n.lstrip("/")
            landing = posixpath.normpath(posixpath.join(dest, posixpath.basename(n)) if folder else dest)
            self.files.setdefault(landing, []).append((pos, n))
            if ctx.project.is_file(n) is False:
                self.trees.append((pos, landing, n))  # a folder: the files below it

    def lookup(self, ctx: RuleContext, pos: int, path: str) -> str | None:
        best: tuple[int, str] | None = None
        for p, rel in self.files.get(path, ()):
            if p < pos and (best is None or p > best[0]):
                best = (p, rel)
        for p, folder, rel in self.trees:
            if p < pos and (best is None or p > best[0]) and (path == folder or path.startswith(folder.rstrip("/") + "/")):
                best = (p, posixpath.normpath(posixpath.join(rel, posixpath.relpath(path, folder))))
        return best[1] if best else None


def context_source(ctx: RuleContext, stage: Stage, step: Step, path: str) -> str | None:
    """The context path of the file at image path ``path`` before ``step``: the latest COPY
    from the context (this stage or the stages it is built FROM) that put it there, or None
    (not copied by name)."""
    cache = ctx.__dict__.setdefault("_copy_index", {})
    index = cache.get(stage.index)
    if index is None:
        index = cache[stage.index] = _CopyIndex(ctx, stage)
    return index.lookup(ctx, index.offset[stage.index] + step.index, posixpath.normpath(path))


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
