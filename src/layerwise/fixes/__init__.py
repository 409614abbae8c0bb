"""Fixes: rewrite a project's Dockerfile and ``.dockerignore`` for a cache-friendly build.

:func:`fix_project` runs the fixers like ruff's fix loop: parse, let the first fixer that has
something to do produce its edits, apply them, parse again, until nothing changes. Every fix
is a set of text edits on instruction spans, so the bytes outside them are kept. A result that
does not parse is never produced (it raises instead).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from layerwise.errors import LayerwiseError, Location
from layerwise.fixes.edits import apply_edits, unified_diff

MAX_PASSES = 16


@dataclass
class AppliedFix:
    code: str
    message: str
    safety: str
    line: int


@dataclass
class FixResult:
    dockerfile_path: str
    original: str
    dockerfile: str  # the fixed Dockerfile text
    dockerignore_path: str | None = None
    dockerignore_original: str | None = None
    dockerignore: str | None = None  # new text, None when unchanged
    applied: list[AppliedFix] = field(default_factory=list)
    hints: list[AppliedFix] = field(default_factory=list)
    bom: bool = False
    roots: list[str] = field(default_factory=list)  # symlinks written through must stay inside them

    @property
    def changed(self) -> bool:
        return self.dockerfile != self.original or self.dockerignore is not None

    def diff(self, relative_to: str | os.PathLike[str] | None = None) -> str:
        def rel(p: str) -> str:
            return os.path.normpath(os.path.relpath(p, relative_to) if relative_to else p)

        out = unified_diff(rel(self.dockerfile_path), self.original, self.dockerfile)
        if self.dockerignore is not None and self.dockerignore_path:
            out += unified_diff(rel(self.dockerignore_path), self.dockerignore_original or "", self.dockerignore)
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
        return write_all_atomic(todo, roots=self.roots or None)


def _uses_buildkit_features(df) -> bool:
    if df.directive("syntax"):
        return True
    return any(n.cmd == "run" and any(f.startswith("--mount") for f in n.flags) for n in df.nodes) or any(
        n.heredocs for n in df.nodes
    )


def _chosen(select: set[str] | None, ignore: set[str]) -> set[str]:
    """The codes of the rules ``--select``/``--ignore`` leave on, read as ``check`` reads them
    (code prefixes or ``ALL``, the longest prefix wins)."""
    from layerwise.analyses.check import selected_rules

    return {r.code for r in selected_rules(select, ignore)}


def _selected(code: str, chosen: set[str]) -> bool:
    """Whether a rule whose code starts with ``code`` is among ``chosen``."""
    return any(c.startswith(code) for c in chosen)


def fix_dockerfile_text(
    text: str,
    path: str,
    context: str | os.PathLike[str] | None,
    *,
    select: set[str] | None = None,
    ignore: set[str] = frozenset(),  # type: ignore[assignment]
    cache_mount: bool | None = None,
    build_args: dict[str, str] | None = None,
) -> tuple[str, list[AppliedFix], list[AppliedFix]]:
    """The fixed Dockerfile text, the fixes applied and the hints (fixes not applied)."""
    from layerwise.analyses.check import is_suppressed
    from layerwise.analyses.project import ProjectContext
    from layerwise.analyses.rules import RuleContext
    from layerwise.fixes.layout import fix_layout, project_from
    from layerwise.fixes.mechanical import rule_fixes
    from layerwise.parse import parse
    from layerwise.resolve.stages import resolve

    project = project_from(context)
    applied: list[AppliedFix] = []
    hints: dict[tuple[str, str], AppliedFix] = {}
    chosen = _chosen(select, ignore)
    df = parse(text, path)
    if cache_mount is None:
        cache_mount = _uses_buildkit_features(df)
    for _ in range(MAX_PASSES):
        build = resolve(df, build_args or {})
        # the LW2xx/LW502 fixes need no context
        rules = RuleContext(path, df, build, ProjectContext(None, path), cache_mount=cache_mount)

        def unsuppressed(fixes: list, df=df) -> list:
            """The fixes no inline comment (``# layerwise: ignore[...]``) turns off."""
            return [f for f in fixes if not is_suppressed(df, path, f.code, f.line)]

        candidates = []
        if _selected("LW101", chosen):
            fixes, layout_hints = fix_layout(df, build, project)
            for h in layout_hints:
                hints[(h.code, h.message)] = AppliedFix(h.code, h.message, "hint", h.line)
            candidates += unsuppressed(fixes)[:1]
        # one rule a pass, each pass on the text the one before wrote
        for code in ("LW502", "LW202", "LW201", "LW204", "LW104", "LW203"):
            if candidates:
                break
            if _selected(code, chosen):
                candidates += unsuppressed(rule_fixes(rules, code))
            if code == "LW204":
                candidates = candidates[:1]  # one ENV a pass: it may serve the RUNs after it
        if not candidates:
            break
        edits = [e for f in candidates for e in f.edits]
        new = apply_edits(text, edits)
        if new == text:
            break
        try:
            df = parse(new, path)  # (the next pass works on it)
        except LayerwiseError as exc:  # a bug in a fixer: never write such a file
            raise LayerwiseError(f"internal error: a fix produced an invalid Dockerfile ({exc.message})",
                                 Location(path)) from None  # fmt: skip
        text = new
        applied += [AppliedFix(f.code, f.message, f.safety, f.line) for f in candidates]
    return text, applied, list(hints.values())


def needed_paths(text: str, path: str, context: str | os.PathLike[str] | None) -> list[str]:
    """Context files the build needs by name: COPY sources, what installs read, the README and
    license files pyproject.toml names."""
    from layerwise.fixes.commands import analyse_run
    from layerwise.fixes.layout import _requirements_closure, project_from
    from layerwise.parse import parse
    from layerwise.parse.instructions import Copy, Run
    from layerwise.resolve.stages import resolve

    project = project_from(context)
    build = resolve(parse(text, path))
    out: list[str] = []
    for stage in build.stages:
        for step in stage.steps:
            inst = step.instruction
            if isinstance(inst, Copy) and not step.expanded.get("from"):
                for s in step.expanded.get("sources", inst.sources):  # type: ignore[union-attr]
                    s = s.strip("/")
                    if s and s != "." and not re.search(r"[*?\[]", s) and "://" not in s:
                        out.append(os.path.normpath(s))
            elif isinstance(inst, Run):
                for x in analyse_run(inst).installs:
                    out += [os.path.normpath(r) for r in x.reads if not r.startswith("/")]
    req = [p for p in out if p.endswith((".txt", ".in"))]
    closure, _, _ = _requirements_closure(project, req)
    out += closure
    pyproject = project.read_text("pyproject.toml")
    if pyproject:
        try:
            import tomllib
        except ImportError:  # pragma: no cover - Python 3.10
            import tomli as tomllib  # type: ignore[no-redef]
        try:
            meta = tomllib.loads(pyproject).get("project", {})
        except (ValueError, RecursionError):  # invalid, or nested too deep: no metadata
            meta = {}
        readme = meta.get("readme")
        if isinstance(readme, dict):
            readme = readme.get("file")
        if isinstance(readme, str):
            out.append(readme)
        lic = meta.get("license")
        if isinstance(lic, dict) and isinstance(lic.get("file"), str):
            out.append(lic["file"])
        for f in meta.get("license-files", []) if isinstance(meta.get("license-files"), list) else []:
            if isinstance(f, str) and not re.search(r"[*?\[]", f):
                out.append(f)
        out.append("pyproject.toml")
    seen: list[str] = []
    for p in out:
        # a path leaving the context is no context file (never a .dockerignore exception)
        if p not in seen and p != ".." and not p.startswith(("../", "/")) and project.inside(p) is not False:
            seen.append(p)
    return seen


def _roots(context_dir: str | os.PathLike[str] | None, df_path: str) -> list[str]:
    """The folders a symlinked Dockerfile or .dockerignore may point into: the project (the
    folder given), and the Dockerfile's own folder when it lives outside it."""
    roots = [os.path.abspath(context_dir)] if context_dir is not None else []
    df_dir = os.path.dirname(os.path.abspath(df_path))
    if not any(df_dir == r or df_dir.startswith(r.rstrip(os.sep) + os.sep) for r in roots):
        roots.append(df_dir)
    return roots


def fix_project(
    context_dir: str | os.PathLike[str] | None,
    dockerfile_path: str | os.PathLike[str],
    *,
    select: set[str] | None = None,
    ignore: set[str] = frozenset(),  # type: ignore[assignment]
    cache_mount: bool | None = None,
    dockerignore: bool = True,
) -> FixResult:
    """Fix a project's Dockerfile (and, with a context, its ``.dockerignore``). Writes nothing:
    call :meth:`FixResult.write`."""
    from layerwise.fixes.dockerignore import fix_dockerignore
    from layerwise.parse import parse_file

    df_path = os.fspath(dockerfile_path)
    if _links_out(df_path):  # refused before it is read: its text is never shown
        raise LayerwiseError(OUTSIDE_LINK, Location(df_path))
    df = parse_file(df_path)  # raises a located error when it does not parse: nothing written
    original = df.text
    text, applied, hints = fix_dockerfile_text(
        original, df_path, context_dir, select=select, ignore=ignore, cache_mount=cache_mount
    )
    result = FixResult(df_path, original, text, applied=applied, hints=hints, bom=df.bom)
    result.roots = _roots(context_dir, df_path)
    if context_dir is not None and dockerignore and _selected("LW3", _chosen(select, ignore)):
        ctx = Path(context_dir)
        ign = ctx / ".dockerignore"
        per_df = Path(df_path).parent / (Path(df_path).name + ".dockerignore")
        if per_df.is_file():
            ign = per_df
        if os.path.lexists(ign) and not ign.is_file() and not ign.is_symlink():
            what = "a folder" if ign.is_dir() else "not a regular file"
            raise LayerwiseError(f"is {what}: fix cannot write .dockerignore (rename it, or use --no-dockerignore)",
                                 Location(str(ign)))  # fmt: skip
        # read confined (a link out: refused, never shown); bytes decoded as they are: CRLF kept
        existing = _read_ignore_file(ign) if ign.is_file() or ign.is_symlink() else None
        fixed = fix_dockerignore(existing, needed=needed_paths(text, df_path, ctx))
        if fixed.text is not None:
            result.dockerignore_path = str(ign)
            result.dockerignore_original = existing
            result.dockerignore = fixed.text
            parts = []
            if existing is None:
                parts.append("LW301: new .dockerignore with the Python entries in **/ form")
            if fixed.rewritten:
                parts.append("LW302: " + ", ".join(f"{o} -> {n}" for _, o, n in fixed.rewritten))
            if existing is not None and fixed.added:
                parts.append(f"LW303/LW305: {len(fixed.added)} entries added")
            if fixed.exceptions:
                parts.append("LW304: keep " + ", ".join(e[1:] for e in fixed.exceptions))
            for p in parts:
                code, _, message = p.partition(": ")
                result.applied.append(AppliedFix(code, message, "safe", 0))
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
