"""The context files a build reads by name: what ``.dockerignore`` must keep sending.

* every source of a ``COPY``/``ADD`` from the context (a file, or each file a folder or
  wildcard source selects: ``COPY . .`` alone needs no particular file);
* the source of a ``RUN --mount=type=bind,source=...`` (and the files below it);
* the requirements/constraints files an install reads (through the ``COPY`` that brought
  them) and their ``-r``/``-c`` includes;
* the README/license files ``pyproject.toml`` names, when the project itself is installed
  from a whole-context copy;
* the ``.git`` a build reads for the project's version (hatch-vcs, setuptools-scm...:
  :mod:`layerwise.analyses.gitversion`).

LW304 reports the needed files ``.dockerignore`` excludes; the ``.dockerignore`` fixes
(LW301, LW303, LW305) leave out any pattern that would exclude one (:func:`keeps_needed`).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Iterator

from layerwise.analyses import copies
from layerwise.parse.instructions import Run

TYPE_CHECKING = False  # (typing.TYPE_CHECKING without importing typing at start-up)
if TYPE_CHECKING:
    from layerwise.analyses.rules import RuleContext
    from layerwise.parse.nodes import Node

_GLOB = r"[*?\[$]"  # (compiled on first use)


def needed_files(ctx: RuleContext, *, expand: bool = False) -> Iterator[tuple[str, str, Node]]:
    """(context path, why, instruction) for each file the build reads by name. ``expand``:
    also each file below a folder or wildcard source (from the snapshot). A path leaving the
    context (``../x``) is no context file: left out."""
    for rel, why, node in _needed(ctx, expand):
        rel = posixpath.normpath(rel)
        if rel != ".." and not rel.startswith(("../", "/")):
            yield rel, why, node


def _needed(ctx: RuleContext, expand: bool) -> Iterator[tuple[str, str, Node]]:
    project = ctx.project
    for stage in ctx.build.stages:
        copied_to: dict[str, str] = {}  # image path -> context path, for files copied by name
        whole_dests: list[str] = []
        for step in stage.steps:
            inst = step.instruction
            node = inst.node
            if copies.from_context(step):
                dest = copies.dest_path(step)
                for s in copies.sources(step):
                    n = s.strip("/")
                    if copies.REMOTE.match(s):
                        continue
                    if not n or n == ".":
                        whole_dests.append(dest)
                        continue
                    why = f"a source of this {node.keyword.upper()}"
                    if not re.search(_GLOB, n):
                        yield n, why, node
                        copied_to[posixpath.normpath(posixpath.join(dest, posixpath.basename(n)))] = n
                        copied_to[posixpath.normpath(dest)] = n
                    if expand and (re.search(_GLOB, n) or project.is_file(n) is False):
                        for f in project.select(s) or []:
                            yield f, why, node
            elif isinstance(inst, Run):
                for m in step.expanded.get("mounts") or []:  # type: ignore[union-attr]
                    src = (m.source or "").strip("/")
                    if m.type == "bind" and not m.from_ and src and src != "." and not re.search(_GLOB, src):
                        yield src, "the source of a bind mount", node
                        if expand and project.is_file(src) is False:
                            for f in project.select(src) or []:
                                yield f, "below the source of a bind mount", node
                for x in ctx.analysis(step).installs:
                    for r in x.requirements + x.constraints:
                        rel = _context_rel(step, r, copied_to) or _from_whole(step, r, whole_dests)
                        if rel:
                            yield rel, f"read by `{' '.join(x.argv[:2])}`", node
                            for f in project.requirements_closure([rel])[1:]:
                                yield f, f"included by {rel}", node
                    if x.project and whole_dests:
                        for t in x.targets or ["."]:
                            rel = _from_whole(step, t.split("[", 1)[0], whole_dests)
                            if rel is None:
                                continue
                            for f in project.pyproject_files(rel):
                                yield f, "named in pyproject.toml, read by the build backend", node
    from layerwise.analyses.gitversion import git_reads

    yield from git_reads(ctx)


def keeps_needed(patterns: Iterable[str], needed: Iterable[str]) -> list[str]:
    """The patterns that, each by itself, exclude none of the ``needed`` paths."""
    from layerwise.context import gopath
    from layerwise.context.ignore import IgnoreFile

    needed = [n for n in needed if n and n not in (".", "")]
    names = {c for n in needed for c in gopath.clean(n).split("/")}
    out = []
    for p in patterns:
        if _names_cannot_match(p, names):
            out.append(p)  # (no matcher compiled for it: most proposed patterns name no needed file)
            continue
        probe = IgnoreFile.from_patterns([p])
        if not any(probe.excludes(n) for n in needed):
            out.append(p)
    return out


def _names_cannot_match(pattern: str, names: set[str]) -> bool:
    """Whether a plain ignore pattern (no exception, class, escape, ``^`` (left raw in its
    regex, an anchor) or ``**`` in its last component, already clean) certainly excludes no path made of ``names``: a path or a parent
    it matches ends with a name that its last component matches, which holds each of that
    component's literal runs (``**/*.key``: ``.key``). False when it cannot tell."""
    from layerwise.context import gopath

    if (not pattern or pattern != pattern.strip() or pattern[0] == "!" or any(c in pattern for c in "[]\\^")
            or gopath.clean(pattern) != pattern):  # fmt: skip
        return False
    last = pattern.rpartition("/")[2]
    if "**" in last:
        return False
    runs = [r for r in last.replace("?", "*").split("*") if r]
    if not runs:
        return False
    return not any(all(r in name for r in runs) for name in names)


def _context_rel(step, path: str, copied_to: dict[str, str]) -> str | None:
    """The context path of a file an install reads (via the COPY that brought it)."""
    img = posixpath.normpath(path if path.startswith("/") else posixpath.join(step.workdir or "/", path))
    return copied_to.get(img)


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
