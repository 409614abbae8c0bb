"""The fix loop, ruff's model: the findings carry their fixes, one loop applies them.

Each pass runs ``check``'s rules (the same selection, inline ignores, build args) on the
current texts, takes the fixes of the findings whose applicability is allowed (``safe``, and
``unsafe`` with ``--unsafe-fixes``), applies those whose edits do not overlap an edit already
taken (per file, back to front; one fix per isolation group), and starts again on the result,
until no finding has a fix left to apply (or :data:`MAX_PASSES` passes). A fix left out of a
pass is not lost: the next pass re-checks and its finding, if still there, offers it again.

The files a fix may edit are the Dockerfile, the ``.dockerignore`` the build uses (created
when a fix inserts into it and it does not exist) and the repository's CI files (workflows,
``.gitlab-ci.yml``: the LW6xx rules' fixes), which the rules then read from the loop's texts. A Dockerfile result that does not parse is
never produced: it is an internal error, raised before anything is written.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from layerwise.analyses.findings import Edit, Finding
from layerwise.analyses.project import ProjectContext
from layerwise.analyses.rules._ignore_edits import ignore_file_of
from layerwise.errors import LayerwiseError, Location
from layerwise.fixes.edits import TextEdit, apply_edits, line_origins

MAX_PASSES = 16


@dataclass
class AppliedFix:
    code: str
    message: str
    safety: str
    line: int


@dataclass
class LoopResult:
    dockerfile: str
    ignore_path: str | None  # the .dockerignore the build uses (or would use once written)
    ignore_original: str | None  # None: there was none
    ignore: str | None  # its final text (None: none)
    applied: list[AppliedFix] = field(default_factory=list)
    hints: list[AppliedFix] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)  # what check reports on the result
    others: dict[str, tuple[str, str]] = field(default_factory=dict)  # CI file -> (original, fixed)


class _IgnoreOverlay(ProjectContext):
    """The project as the build would see it with the ``.dockerignore`` text a pass wrote."""

    def __init__(self, root, dockerfile_path, ignore_path: str, ignore_text: str | None) -> None:
        super().__init__(root, dockerfile_path)
        self.ignore_path = ignore_path
        self.ignore_text = ignore_text

    @cached_property
    def ignore(self):
        if self.ignore_text is None:
            return None
        from layerwise.context.ignore import IgnoreFile

        try:
            return IgnoreFile.from_text(self.ignore_text, Path(self.ignore_path))
        except LayerwiseError as exc:
            self.errors.append(exc)
            return None


def _key(path: str) -> str:
    return os.path.normcase(os.path.abspath(path))


def _overlaps(e: Edit, taken: list[Edit]) -> bool:
    for t in taken:
        if e.start_offset < t.end_offset and t.start_offset < e.end_offset:
            return True
        if e.start_offset == e.end_offset == t.start_offset or t.start_offset == t.end_offset == e.start_offset:
            return True  # two inserts at one place (or one at a replaced range's start): order unknown
    return False


def _hint(f: Finding, unsafe_fixes: bool, declared: str | None) -> str | None:
    if f.fix is not None and f.fix.edits and not f.fix.applicable(unsafe_fixes):
        return f"line {f.line}: {f.fix.description} ({f.fix.safety} fix: use --unsafe-fixes to apply it)"
    if declared and (f.fix is None or not f.fix.edits) and f.hint:
        return f"line {f.line}: {f.hint}"
    return None


def fix_loop(
    text: str,
    path: str,
    context: str | os.PathLike[str] | None,
    *,
    dockerfile_path: str | os.PathLike[str] | None = None,
    rules=None,
    unsafe_fixes: bool = False,
    cache_mount: bool | None = None,
    build_args: dict[str, str] | None = None,
    dockerignore: bool = True,
    read_ignore: Callable[[Path], str | None] | None = None,
) -> LoopResult:
    """Fix ``text`` (the Dockerfile shown as ``path``) and the ``.dockerignore`` of ``context``
    (in memory: nothing is written). ``read_ignore`` reads the ``.dockerignore`` (None when
    there is none; default: its bytes as they are, CRLF kept)."""
    from layerwise.analyses.check import check_parsed, uses_buildkit_features
    from layerwise.analyses.rules import get_rule
    from layerwise.parse import parse

    df_path = os.fspath(dockerfile_path or path)
    base = ProjectContext(context, df_path)
    texts: dict[str, str | None] = {_key(path): text}
    ignore_path = ignore_original = None
    if context is not None:
        ignore_path = ignore_file_of(context, df_path)
        p = Path(ignore_path)
        if read_ignore is not None:
            ignore_original = read_ignore(p)
        else:
            from layerwise.fixes import _read_ignore_file  # confined, bounded, never blocking

            ignore_original = _read_ignore_file(p) if p.is_file() or p.is_symlink() else None
        if dockerignore:
            texts[_key(ignore_path)] = ignore_original
    others: dict[str, tuple[str, str]] = {}  # key -> (path as shown, original text)
    if context is not None:
        from layerwise.ci import load_ci

        for shown, ci_text in load_ci(context).texts.items():
            k = _key(shown)
            if k not in texts:
                texts[k] = ci_text
                others[k] = (shown, ci_text)
    df = parse(text, path)
    if cache_mount is None:
        cache_mount = uses_buildkit_features(df)  # decided once, on the user's file
    applied: list[AppliedFix] = []
    df_key = _key(path)
    origin = list(range(1, text.count("\n") + 2))  # each line of the current text: the user's line

    def at(f: Finding) -> int:
        """The line of the user's file a finding of this pass is at (other files: its own)."""
        return origin[f.line - 1] if _key(f.path) == df_key and 0 < f.line <= len(origin) else f.line

    project: ProjectContext = base
    findings: list[Finding] = []
    for n in range(MAX_PASSES + 1):
        findings = check_parsed(df, path, project, rules=rules, build_args=build_args,
                                cache_mount=cache_mount).findings  # fmt: skip
        if n == MAX_PASSES:
            break
        taken: dict[str, list[Edit]] = {}
        groups: set[str] = set()
        chosen: list[Finding] = []
        for f in findings:
            if f.fix is None or not f.fix.applicable(unsafe_fixes):
                continue
            keys = [_key(e.path) for e in f.fix.edits]
            if any(k not in texts for k in keys):
                continue  # a file fix may not edit (--no-dockerignore)
            if f.fix.isolation is not None and f.fix.isolation in groups:
                continue
            if all(e in taken.get(k, []) for e, k in zip(f.fix.edits, keys)):
                chosen.append(f)  # the same edits as a fix already taken: resolved by it
                continue
            if any(_overlaps(e, taken.get(k, [])) for e, k in zip(f.fix.edits, keys)):
                continue  # the next pass offers it again, on the new text
            for e, k in zip(f.fix.edits, keys):
                taken.setdefault(k, []).append(e)
            if f.fix.isolation is not None:
                groups.add(f.fix.isolation)
            chosen.append(f)
        if not chosen:
            break
        # (said at the user's lines, as check said them: a later pass reads the rewritten text)
        for f in chosen:
            if f.fix is not None:
                done = AppliedFix(f.code, f"line {at(f)}: {f.fix.description}", f.fix.safety, at(f))
                if done not in applied:  # (the same fix of a line a fix wrote there: said once)
                    applied.append(done)
        new_texts = dict(texts)
        for k, edits in taken.items():
            text_edits = [TextEdit(e.start_offset, e.end_offset, e.replacement) for e in edits]
            new_texts[k] = apply_edits(texts[k] or "", text_edits)
            if k == df_key:
                origin = [origin[i - 1] for i in line_origins(texts[k] or "", text_edits)]
        new_df = new_texts[_key(path)]
        assert new_df is not None
        try:
            df = parse(new_df, path)
        except LayerwiseError as exc:  # a bug in a rule's fix: never write such a file
            raise LayerwiseError(f"internal error: a fix produced an invalid Dockerfile ({exc.message})",
                                 Location(path)) from None  # fmt: skip
        if ignore_path is not None and new_texts.get(_key(ignore_path)) != texts.get(_key(ignore_path)):
            project = _IgnoreOverlay(context, df_path, ignore_path, new_texts[_key(ignore_path)])
        texts = new_texts
        project.overlay = {k: texts[k] or "" for k in others}
    hints: dict[tuple[str, str], AppliedFix] = {}
    for f in findings:
        rule = get_rule(f.code)
        # (at the lines of the fixed text, which its message speaks of too: "above line 9")
        msg = _hint(f, unsafe_fixes, rule.fix if rule else None)
        if msg is not None:
            hints.setdefault((f.code, msg), AppliedFix(f.code, msg, "hint", f.line))
    final_ignore = texts.get(_key(ignore_path)) if ignore_path is not None and dockerignore else ignore_original
    changed = {shown: (orig, texts[k] or "") for k, (shown, orig) in others.items() if texts[k] != orig}
    return LoopResult(texts[_key(path)] or "", ignore_path, ignore_original, final_ignore, applied,
                      list(hints.values()), findings, changed)  # fmt: skip
