"""The check <-> fix invariants of issue #18, for any project (a folder with a Dockerfile) or a
Dockerfile alone, each checked independently of the fix loop's own bookkeeping:

1. after ``fix``, ``check`` (run from disk, as a user runs it) reports no fixable finding of
   the selected rules;
2. ``fix`` changes nothing that no finding reported: each changed hunk of the Dockerfile
   touches a line a finding of ``check`` on the original points at (the finding's lines, or
   a line it names as related), and the ``.dockerignore`` changes only when a finding with
   a fix that edits it was reported;
3. ``fix`` never makes a file the build reads disappear from the context: every file the
   fixed build reads by name (COPY/ADD sources and the files below them, bind-mount sources,
   files an install reads) is sent, unless the original build already missed it.
"""

from __future__ import annotations

import difflib
import shutil
import tempfile
from collections import Counter
from pathlib import Path

from layerwise.analyses.check import check_dockerfile, check_parsed, selected_rules
from layerwise.analyses.project import ProjectContext
from layerwise.fixes import fix_dockerfile_text, fix_project
from layerwise.parse import parse


def fixable(findings, unsafe_fixes: bool = False) -> list:
    return [f for f in findings if f.fixable(unsafe_fixes)]


def _hunks(old: str, new: str) -> list[tuple[int, int]]:
    """(first, last) 1-based lines of the original each changed hunk covers (an insertion:
    the lines around it). Comment and blank lines are left out of the alignment (the comments
    are checked as a multiset elsewhere): identical comment lines, which a fix may move with
    their instruction, would otherwise let the diff pair the wrong lines and report an
    untouched instruction as changed."""

    def code_lines(text: str) -> list[tuple[int, str]]:
        return [(n, ln) for n, ln in enumerate(text.splitlines(), 1) if ln.strip() and not ln.lstrip().startswith("#")]

    a, b = code_lines(old), code_lines(new)
    sm = difflib.SequenceMatcher(None, [t for _, t in a], [t for _, t in b], autojunk=False)
    ops = [op for op in sm.get_opcodes() if op[0] != "equal"]
    # a line deleted in one place and inserted unchanged in another was moved, not changed (the
    # diff may move the line a fix left alone instead of the one it moved: either reads the same)
    deleted = Counter(t for _, i1, i2, _, _ in ops for _, t in a[i1:i2])
    inserted = Counter(t for _, _, _, j1, j2 in ops for _, t in b[j1:j2])
    moved = deleted & inserted
    out = []
    for _, i1, i2, j1, j2 in ops:
        changed = [n for n, t in a[i1:i2] if not moved[t]]
        added = [t for _, t in b[j1:j2] if not moved[t]]
        if changed:
            out.append((min(changed), max(changed)))
        elif added:
            before = a[i1 - 1][0] if i1 > 0 else 0
            after = a[i2][0] if i2 < len(a) else before + 1
            out.append((before, after))
    return out


def unreported_hunks(original: str, fixed: str, findings, path: str) -> list[tuple[int, int]]:
    """The changed hunks of the Dockerfile that touch no line a finding points at (its lines,
    a related line, the lines its edits cover)."""
    lines: set[int] = set()
    for f in findings:
        if f.path == path:
            lines.update(range(f.line, (f.end_line or f.line) + 1))
        lines.update(r for p, r in f.related if p == path)
        for e in f.fix.edits if f.fix else ():
            if e.path == path:
                first = original.count("\n", 0, e.start_offset) + 1
                lines.update(range(first, original.count("\n", 0, e.end_offset) + 2))
    return [(a, b) for a, b in _hunks(original, fixed) if not any(a <= n <= b for n in lines)]


def _same(a: str, b: str | None) -> bool:
    import os

    return b is not None and os.path.abspath(a) == os.path.abspath(b)


def read_but_not_sent(root: Path, dockerfile: Path) -> set[str]:
    """The files of ``root`` the build reads by name (COPY/ADD sources and the files below
    them, bind-mount sources, files installs read) that its ``.dockerignore`` leaves out."""
    from layerwise.analyses.needed import needed_files
    from layerwise.analyses.rules import RuleContext
    from layerwise.resolve.stages import resolve

    df = parse(dockerfile.read_bytes().decode("utf-8", "surrogateescape"), str(dockerfile))
    project = ProjectContext(root, dockerfile)
    ctx = RuleContext(str(dockerfile), df, resolve(df, {}), project)
    return {rel for rel, _, _ in needed_files(ctx, expand=True) if project.exists(rel) and project.excluded(rel)}


def check_project(root: Path, *, select=None, ignore=(), unsafe_fixes: bool = False) -> list[str]:
    """Fix a copy of the project ``root`` and return the invariants it breaks (empty: none)."""
    problems: list[str] = []
    rules = selected_rules(select, ignore)
    with tempfile.TemporaryDirectory() as d:
        work = Path(d) / "p"
        shutil.copytree(root, work, symlinks=True)
        df_path = work / "Dockerfile"
        before = check_dockerfile(df_path, context=work, rules=rules)
        missing_before = read_but_not_sent(work, df_path)
        original = df_path.read_bytes().decode("utf-8", "surrogateescape")
        result = fix_project(work, df_path, select=set(select) if select else None, ignore=set(ignore),
                             unsafe_fixes=unsafe_fixes)  # fmt: skip
        result.write()
        after = check_dockerfile(df_path, context=work, rules=rules)
        left = fixable(after.findings, unsafe_fixes)
        if left:
            problems.append(f"{root.name}: fixable after fix: {[(f.code, f.line, f.message) for f in left]}")
        if not fixable(before.findings, unsafe_fixes) and result.changed:
            problems.append(f"{root.name}: changed although check reported no fixable finding")
        bad = unreported_hunks(original, result.dockerfile, before.findings, str(df_path))
        if bad:
            problems.append(f"{root.name}: Dockerfile lines {bad} changed without a finding there")
        if result.dockerignore is not None and not any(
            f.fixable(unsafe_fixes) and any(_same(e.path, result.dockerignore_path) for e in f.fix.edits)
            for f in before.findings
        ):
            problems.append(f"{root.name}: .dockerignore changed without a finding that edits it")
        # a file the fixed build reads that is left out of the context, and was not before
        lost = read_but_not_sent(work, df_path) - missing_before
        if lost:
            problems.append(f"{root.name}: after fix the build reads files the context leaves out: {sorted(lost)}")
    return problems


def check_dockerfile_text(text: str, name: str, *, select=None, ignore=(), unsafe_fixes: bool = False):
    """Fix a Dockerfile alone; (invariants broken, fixable before, fixable after)."""
    rules = selected_rules(select, ignore)
    project = ProjectContext(None, name)
    before = check_parsed(parse(text, name), name, project, rules=rules).findings
    out, _, _ = fix_dockerfile_text(text, name, None, select=set(select) if select else None, ignore=set(ignore),
                                    unsafe_fixes=unsafe_fixes)  # fmt: skip
    after = check_parsed(parse(out, name), name, ProjectContext(None, name), rules=rules).findings
    problems = []
    left = fixable(after, unsafe_fixes)
    if left:
        problems.append(f"{name}: fixable after fix: {[(f.code, f.line, f.message) for f in left]}")
    if not fixable(before, unsafe_fixes) and out != text:
        problems.append(f"{name}: changed although check reported no fixable finding")
    bad = unreported_hunks(text, out, before, name)
    if bad:
        problems.append(f"{name}: lines {bad} changed without a finding there")
    return problems, len(fixable(before, unsafe_fixes)), len(left)
