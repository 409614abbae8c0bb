"""Per-rule snapshots, ruff's way: ``fixtures/LWxxx/`` is a small project (a Dockerfile and
its context) that the rule LWxxx reports on; ``snapshots/LWxxx.snap`` is the readable record
of what layerwise says and does on it, with only that rule selected:

* ``check``: the text report (code frames, hints, fixes), as ``layerwise check`` prints it;
* ``fix``: the unified diff ``layerwise fix --diff`` shows, and the fixes it names;
* ``check after fix``: what is left.

``tests/unit/rules/test_snapshots.py`` fails when a snapshot differs from what the code says
now, and prints the difference. After a deliberate change, regenerate and review the diffs:

    python -m tests.unit.rules.snapshots --update          # every rule
    python -m tests.unit.rules.snapshots --update LW201    # some rules

(without ``--update`` it only reports which snapshots differ, exit 1 if any).
"""

from __future__ import annotations

import contextlib
import difflib
import os
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures"
SNAPSHOTS = HERE / "snapshots"
COMMAND = "python -m tests.unit.rules.snapshots --update"

#: rules whose fixture is checked with more rules than their own (LW001 speaks about the
#: directives of the rules that ran)
SELECT = {"LW001": ["ALL"]}


def codes() -> list[str]:
    return sorted(p.name for p in FIXTURES.iterdir() if p.is_dir() and p.name.startswith("LW"))


@contextlib.contextmanager
def _in_copy(code: str):
    """The fixture copied to a temporary folder, which is the working directory meanwhile (the
    paths in the report are then relative: ``Dockerfile``, ``.dockerignore``)."""
    old = os.getcwd()
    with tempfile.TemporaryDirectory(prefix=f"layerwise-{code}-") as d:
        root = Path(d) / "project"
        shutil.copytree(FIXTURES / code, root, symlinks=True)
        os.chdir(root)
        try:
            yield root
        finally:
            os.chdir(old)


def _report(result, **kwargs) -> str:
    from layerwise.report.findings import render_text

    text = render_text(result.findings, result.sources, color=False, **kwargs)
    errors = "".join(f"error: {e}\n" for e in result.errors)
    return errors + text


def _fix_section(code: str, select: list[str], unsafe: bool) -> str:
    """``fix --diff`` on a fresh copy of the fixture, and ``check`` after the fix."""
    import layerwise
    from layerwise.fixes import fix_project

    flag = " --unsafe-fixes" if unsafe else ""
    kwargs = {"unsafe_fixes": True} if unsafe else {}
    out = [f"\n## fix --diff{flag}\n\n"]
    with _in_copy(code):
        fixed = fix_project(".", "Dockerfile", select=set(select), **kwargs)
        out.append(fixed.diff(relative_to=".") or "(no change)\n")
        out += [f"fixed: {f.code} ({f.safety}) {f.message}\n" for f in fixed.applied]
        out += [f"hint: {h.code} {h.message}\n" for h in fixed.hints]
        if fixed.changed:
            fixed.write()
            after = layerwise.check_project(".", select=select, config=False)
            out.append(f"\n## check after fix{flag}\n\n" + _report(after, **kwargs))
    return "".join(out)


def render(code: str) -> str:
    """The snapshot text of one rule's fixture: check, fix (safe fixes) and, when the rule
    offers unsafe fixes there, fix --unsafe-fixes."""
    import layerwise

    select = SELECT.get(code, [code])
    out = [f"# {code}: fixtures/{code}, layerwise check/fix --select {','.join(select)}\n"]
    with _in_copy(code) as root:
        result = layerwise.check_project(".", select=select, config=False)
        # the same findings from the text and the context folder
        same = layerwise.check_text((root / "Dockerfile").read_text(), context=".", select=select)
        assert same.findings == result.findings, f"{code}: check_text and check_project disagree"
    if not any(f.code == code for f in result.findings):
        raise AssertionError(f"fixtures/{code}: {code} reports nothing on its own fixture")
    out.append("\n## check\n\n" + _report(result))
    out.append(_fix_section(code, select, unsafe=False))
    if any(f.fix is not None and f.fix.safety == "unsafe" for f in result.findings):
        out.append(_fix_section(code, select, unsafe=True))
    return "".join(out)


def snapshot_path(code: str) -> Path:
    return SNAPSHOTS / f"{code}.snap"


def difference(code: str, got: str | None = None) -> str:
    """The unified diff from the stored snapshot to what the code says now ("" when equal)."""
    path = snapshot_path(code)
    want = path.read_text(encoding="utf-8") if path.exists() else ""
    got = render(code) if got is None else got
    if got == want:
        return ""
    return "".join(difflib.unified_diff(want.splitlines(True), got.splitlines(True),
                                        f"snapshots/{code}.snap", "now"))  # fmt: skip


def main(argv: list[str]) -> int:
    update = "--update" in argv
    wanted = [a.upper() for a in argv if not a.startswith("-")] or codes()
    unknown = sorted(set(wanted) - set(codes()))
    if unknown:
        print(f"no fixture for {', '.join(unknown)} (tests/unit/rules/fixtures/)", file=sys.stderr)
        return 2
    # the snapshots' stat caches stay out of the user's ~/.cache/layerwise
    saved = os.environ.get("XDG_CACHE_HOME")
    cache = os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="layerwise-snapshots-cache-")
    changed = []
    try:
        for code in wanted:
            got = render(code)
            diff = difference(code, got)
            if not diff:
                continue
            changed.append(code)
            print(diff)
            if update:
                SNAPSHOTS.mkdir(exist_ok=True)
                snapshot_path(code).write_text(got, encoding="utf-8")
    finally:
        shutil.rmtree(cache, ignore_errors=True)
        if saved is None:
            del os.environ["XDG_CACHE_HOME"]
        else:
            os.environ["XDG_CACHE_HOME"] = saved
    stale = sorted(p for p in SNAPSHOTS.glob("*.snap") if p.stem not in codes()) if SNAPSHOTS.exists() else []
    for p in stale:
        if update:
            p.unlink()
        print(f"{'removed' if update else 'stale'}: snapshots/{p.name} (no fixture)", file=sys.stderr)
    verb = "updated" if update else "differ"
    print(f"{len(changed)} snapshot(s) {verb}" + (f": {', '.join(changed)}" if changed else ""), file=sys.stderr)
    return 0 if update or not (changed or stale) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
