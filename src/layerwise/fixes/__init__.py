"""Fixes: rewrite a project's Dockerfile and ``.dockerignore`` for a cache-friendly build.

:func:`fix_project` applies the fixes the findings of ``layerwise check`` carry, with one
loop (:mod:`layerwise.fixes.loop`, ruff's model): no detector of its own, no fixed order.
Every fix is a set of text edits, so the bytes outside them are kept. A result that does not
parse is never produced (it raises instead).
"""

from __future__ import annotations

import os
from pathlib import Path

from layerwise.errors import LayerwiseError, Location
from layerwise.fixes.edits import unified_diff
from layerwise.records import Record

TYPE_CHECKING = False  # (typing.TYPE_CHECKING without importing typing at start-up)
if TYPE_CHECKING:
    from layerwise.fixes.loop import AppliedFix

__all__ = ["MAX_PASSES", "AppliedFix", "FixResult", "fix_dockerfile_text", "fix_project"]


def __getattr__(name: str):
    """The fix loop's names, imported on first use: ``check`` imports this package (its rules
    plan their edits with :mod:`~layerwise.fixes.layout`) but never runs the loop."""
    if name in ("MAX_PASSES", "AppliedFix", "fix_loop"):
        from layerwise.fixes import loop

        return getattr(loop, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class FixResult(Record):
    """What ``fix`` made of a project (a record written out: no dataclass built at start-up)."""

    _fields = ("dockerfile_path", "original", "dockerfile", "dockerignore_path", "dockerignore_original",
               "dockerignore", "applied", "hints", "bom", "roots", "others")  # fmt: skip

    def __init__(self, dockerfile_path: str, original: str, dockerfile: str, dockerignore_path: str | None = None,
                 dockerignore_original: str | None = None, dockerignore: str | None = None,
                 applied: list[AppliedFix] | None = None, hints: list[AppliedFix] | None = None, bom: bool = False,
                 roots: list[str] | None = None, others: dict[str, tuple[str, str]] | None = None) -> None:  # fmt: skip
        self.dockerfile_path = dockerfile_path
        self.original = original
        self.dockerfile = dockerfile  # the fixed Dockerfile text
        self.dockerignore_path = dockerignore_path
        self.dockerignore_original = dockerignore_original
        self.dockerignore = dockerignore  # new text, None when unchanged
        self.applied: list[AppliedFix] = [] if applied is None else applied
        self.hints: list[AppliedFix] = [] if hints is None else hints
        self.bom = bom
        self.roots: list[str] = [] if roots is None else roots  # symlinks written through must stay inside them
        self.others: dict[str, tuple[str, str]] = {} if others is None else others  # CI file -> (original, fixed)

    @property
    def changed(self) -> bool:
        return self.dockerfile != self.original or self.dockerignore is not None or bool(self.others)

    def diff(self, relative_to: str | os.PathLike[str] | None = None) -> str:
        def rel(p: str) -> str:
            return os.path.normpath(os.path.relpath(p, relative_to) if relative_to else p)

        out = unified_diff(rel(self.dockerfile_path), self.original, self.dockerfile)
        if self.dockerignore is not None and self.dockerignore_path:
            out += unified_diff(rel(self.dockerignore_path), self.dockerignore_original or "", self.dockerignore)
        for path, (before, after) in self.others.items():
            out += unified_diff(rel(path), before, after)
        return out

    def write(self) -> list[str]:
        """Write the changed files, both or neither, each only if it is still what the fix read
        (owner, mode, line endings and symlinks kept: :func:`write_all_atomic`); returns their paths."""
        from layerwise.fixes.edits import FileWrite, write_all_atomic

        todo: list[FileWrite] = []
        if self.dockerfile != self.original:
            todo.append(FileWrite(self.dockerfile_path, self.dockerfile, self.bom, self.original, True))
        if self.dockerignore is not None and self.dockerignore_path:
            todo.append(FileWrite(self.dockerignore_path, self.dockerignore, False, self.dockerignore_original, True))
        for path, (before, after) in self.others.items():
            todo.append(FileWrite(path, after, False, before, True))
        return write_all_atomic(todo, roots=self.roots or None)


def _rules(select: set[str] | None, ignore: set[str]):
    """The rules ``--select``/``--ignore`` leave on, read as ``check`` reads them (code
    prefixes or ``ALL``, the longest prefix wins)."""
    from layerwise.analyses.check import selected_rules

    return selected_rules(select, ignore)


def fix_dockerfile_text(
    text: str,
    path: str,
    context: str | os.PathLike[str] | None,
    *,
    select: set[str] | None = None,
    ignore: set[str] = frozenset(),  # type: ignore[assignment]
    cache_mount: bool | None = None,
    build_args: dict[str, str] | None = None,
    unsafe_fixes: bool = False,
) -> tuple[str, list[AppliedFix], list[AppliedFix]]:
    """The fixed Dockerfile text, the fixes applied and the hints (fixes not applied). With a
    ``context``, the ``.dockerignore`` fixes are applied in memory too (they can change what
    the rules see) but only the Dockerfile is returned."""
    from layerwise.fixes.loop import fix_loop

    out = fix_loop(text, path, context, rules=_rules(select, ignore), unsafe_fixes=unsafe_fixes,
                   cache_mount=cache_mount, build_args=build_args)  # fmt: skip
    return out.dockerfile, out.applied, out.hints


def _roots(context_dir: str | os.PathLike[str] | None, df_path: str) -> list[str]:
    """The folders a symlinked Dockerfile or .dockerignore may point into: the project of each
    (the repository holding it, else its folder: :func:`layerwise.safefs.project_root`), as
    it is read (a link into the repository, outside the context folder, is written through)."""
    from layerwise import safefs

    roots = [safefs.project_root(context_dir)] if context_dir is not None else []
    df_root = safefs.project_root(os.path.dirname(os.path.abspath(df_path)))
    if df_root not in roots:
        roots.append(df_root)
    return roots


def fix_project(
    context_dir: str | os.PathLike[str] | None,
    dockerfile_path: str | os.PathLike[str],
    *,
    select: set[str] | None = None,
    ignore: set[str] = frozenset(),  # type: ignore[assignment]
    cache_mount: bool | None = None,
    dockerignore: bool = True,
    unsafe_fixes: bool = False,
    build_args: dict[str, str] | None = None,
) -> FixResult:
    """Fix a project's Dockerfile (and, with a context, its ``.dockerignore``): the fixes the
    findings of ``check`` carry, applied by :func:`~layerwise.fixes.loop.fix_loop`. Writes
    nothing: call :meth:`FixResult.write`."""
    from layerwise.parse import parse_file

    df_path = os.fspath(dockerfile_path)
    if _links_out(df_path):  # refused before it is read: its text is never shown
        raise LayerwiseError(OUTSIDE_LINK, Location(df_path))
    df = parse_file(df_path)  # raises a located error when it does not parse: nothing written
    if context_dir is not None and dockerignore:
        from layerwise.analyses.rules._ignore_edits import ignore_file_of

        ign = Path(ignore_file_of(context_dir, df_path))
        if os.path.lexists(ign) and not ign.is_file() and not ign.is_symlink():
            what = "a folder" if ign.is_dir() else "not a regular file"
            raise LayerwiseError(f"is {what}: fix cannot write .dockerignore (rename it, or use --no-dockerignore)",
                                 Location(str(ign)))  # fmt: skip
    from layerwise.fixes.loop import fix_loop

    out = fix_loop(df.text, df_path, context_dir, rules=_rules(select, ignore), unsafe_fixes=unsafe_fixes,
                   cache_mount=cache_mount, build_args=build_args, dockerignore=dockerignore,
                   # read confined (a link out: refused, never shown); bytes decoded as they are: CRLF kept
                   read_ignore=lambda p: _read_ignore_file(p) if p.is_file() or p.is_symlink() else None)  # fmt: skip
    result = FixResult(df_path, df.text, out.dockerfile, applied=out.applied, hints=out.hints, bom=df.bom)
    result.roots = _roots(context_dir, df_path)
    if out.others:
        from layerwise import safefs

        result.others = out.others
        result.roots.append(safefs.project_root(context_dir or "."))  # CI files live at the repository root
    if out.ignore_path is not None and out.ignore != out.ignore_original:
        result.dockerignore_path = out.ignore_path
        result.dockerignore_original = out.ignore_original
        result.dockerignore = out.ignore
    return result


OUTSIDE_LINK = "is a symlink to a file outside the project: not written (edit that file yourself)"


def _links_out(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` leads, through symlinks, out of its project (its repository, else its folder)."""
    from layerwise import safefs

    root = safefs.project_root(os.path.dirname(os.path.abspath(path)))
    return safefs.contained(root, os.path.relpath(os.path.abspath(path), root)) is None


def _read_ignore_file(path: Path) -> str | None:
    """The .dockerignore fix edits: read confined to its project (a symlink out of it, a FIFO,
    a huge file: a located error, nothing written, never its contents shown). A dangling link:
    None (no file)."""
    from layerwise import safefs
    from layerwise.errors import LayerwiseError, Location

    root = safefs.project_root(path.parent)
    rel = os.path.relpath(os.path.abspath(path), root)
    if _links_out(path):
        raise LayerwiseError(OUTSIDE_LINK, Location(str(path)))
    if not path.exists():
        return None
    try:
        return safefs.read_text(rel, root=root, display=str(path), errors="surrogateescape")
    except safefs.FileAccessError as exc:
        raise LayerwiseError(f"{exc.message}: not rewritten", Location(str(path))) from None
