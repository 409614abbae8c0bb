"""Edits of the ``.dockerignore`` that the build-context rules (LW301-LW305) attach to their
findings: append lines, rewrite a pattern in place, or create the file. A pattern is only
proposed when it excludes no file the build reads (:mod:`layerwise.analyses.needed`)."""

from __future__ import annotations

import os
from pathlib import Path

from layerwise.analyses.findings import Edit

TYPE_CHECKING = False  # (typing.TYPE_CHECKING without importing typing at start-up)
if TYPE_CHECKING:
    from layerwise.analyses.rules import RuleContext


def ignore_file_of(context: str | os.PathLike[str], dockerfile_path: str | os.PathLike[str] | None) -> str:
    """The ignore file a BuildKit build of ``context`` reads (``<Dockerfile>.dockerignore``
    beside the Dockerfile, else ``.dockerignore``), or where a new one goes."""
    from layerwise.context.ignore import ignore_file_candidates

    for cand in ignore_file_candidates(Path(context), dockerfile_path, "buildkit"):
        if cand.is_file():
            return str(cand)
    return str(Path(context) / ".dockerignore")


def ignore_target(ctx: RuleContext) -> tuple[str, str | None] | None:
    """(path, text) of the ``.dockerignore`` the build uses (text None: there is none yet);
    None without a build context."""
    project = ctx.project
    if project.root is None:
        return None
    if hasattr(project, "ignore_text"):  # the fix loop's view, with the text it wrote
        return project.ignore_path, project.ignore_text  # type: ignore[attr-defined]
    ign = project.ignore
    if ign is None or ign.path is None:
        return ignore_file_of(project.root, project.dockerfile_path), None
    from layerwise import safefs
    from layerwise.errors import LayerwiseError

    try:  # as fix reads it: bytes as they are (CRLF kept), never through a link out
        return str(ign.path), safefs.read_bytes(ign.path).decode("utf-8", "surrogateescape")
    except (OSError, LayerwiseError):
        return None


def append_lines(ctx: RuleContext, lines: list[str], comment: str | None = None, *, create: bool = False) -> Edit | None:
    """An edit that appends ``lines`` (after a ``# comment``) to the ``.dockerignore``. When
    there is none, it is created only with ``create`` (LW301's new file) or when no copy of
    the whole context is there for LW301 to report: a new file gets the whole Python list,
    not just one rule's lines."""
    target = ignore_target(ctx)
    if target is None or not lines:
        return None
    path, text = target
    if text is None and not create:
        from layerwise.analyses import copies

        if any(copies.is_whole_context(step) for _, step in ctx.steps()):
            return None
    last = (text or "").rfind("\n")  # the new lines take the ending of the last line that has one
    nl = "\r\n" if last > 0 and text[last - 1] == "\r" else "\n"  # type: ignore[index]
    body = "".join(line + nl for line in ([f"# {comment}"] if comment else []) + lines)
    if not text:
        return Edit(path, 0, 0, body)
    prefix = "" if text.endswith(("\n", "\r")) else nl
    return Edit(path, len(text), len(text), prefix + body)


def insert_at(ctx: RuleContext, line: int, column: int, expected: str, insertion: str) -> Edit | None:
    """An edit inserting ``insertion`` before ``expected`` at 1-based ``line``/``column`` of
    the ``.dockerignore`` (None when the text there is not ``expected``)."""
    target = ignore_target(ctx)
    if target is None or target[1] is None:
        return None
    path, text = target
    start = 0
    for _ in range(line - 1):
        start = text.find("\n", start) + 1
        if start == 0:
            return None
    if start == 0 and text.startswith("\ufeff"):
        start = 1
    at = start + column - 1
    if not text.startswith(expected, at):
        return None
    return Edit(path, at, at, insertion)


def needed(ctx: RuleContext) -> list[str]:
    """The context files the build reads by name (each file below a folder source too)."""
    got = getattr(ctx, "_needed_files", None)
    if got is None:
        from layerwise.analyses.needed import needed_files

        got = sorted({rel for rel, _, _ in needed_files(ctx, expand=True)})
        ctx._needed_files = got  # type: ignore[attr-defined]
    return got


def new_patterns(ctx: RuleContext, patterns: list[str]) -> list[str]:
    """The patterns not in the ``.dockerignore`` yet that exclude no file the build needs (nor,
    when the build computes its version from the ``.git`` it is sent, a file git tracks: it
    would look deleted, and the version dirty)."""
    from layerwise.context.ignore import read_patterns

    target = ignore_target(ctx)
    present = {p.text for p in read_patterns(target[1])} if target and target[1] else set()
    fresh = []
    for p in patterns:
        if p not in present and p not in fresh:
            fresh.append(p)
    from layerwise.analyses.needed import keeps_needed

    keep = keeps_needed(fresh, needed(ctx))
    from layerwise.analyses.gitversion import kept_tracked

    tracked = kept_tracked(ctx) if keep else []
    return keeps_needed(keep, tracked) if tracked else keep
