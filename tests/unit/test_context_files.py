"""context/files.py: the states of a build context as views of one snapshot, COPY selections as
views, and content digests from per-folder (Merkle) digests.

The folder digests are a shortcut: the digest of a selection read through them must be the
digest of its listing (``items_digest``), and two selections must have equal digests exactly
when their listings are equal. Checked on random trees and random revisions of them."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from layerwise.analyses.cache import SelectedFiles
from layerwise.analyses.explain import diff_files
from layerwise.context.files import ContextFiles, Entry, items_digest, selection
from layerwise.context.snapshot import Snapshot

SOURCES = ["", ".", "a", "a/b", "a/b/", "*.txt", "a/*", "*/x", "a/f1.txt", "c", "[ab]", "nothere"]


def make_tree(root: Path, rng: random.Random) -> None:
    folders = [root]
    for i in range(rng.randint(5, 40)):
        parent = rng.choice(folders)
        kind = rng.random()
        name = rng.choice(["a", "b", "c", "x", "f1.txt", "a.txt", "a-b", f"n{i}", f"d{i}.txt"])
        path = parent / name
        if path.exists() or path.is_symlink():
            continue
        if kind < 0.3:
            path.mkdir()
            if rng.random() < 0.2:
                path.chmod(0o700)
            folders.append(path)
        elif kind < 0.9:
            path.write_bytes(rng.choice([b"", b"one", b"two", b"one\n" * 3]))
            if rng.random() < 0.2:
                path.chmod(0o755)
        else:
            os.symlink(rng.choice(["a", "../x", "f1.txt"]), path)


def take(root: Path) -> ContextFiles:
    return ContextFiles(Snapshot.take(root, None, use_cache=False))


def revise(files: ContextFiles, rng: random.Random) -> ContextFiles:
    """Another state of the same snapshot, as a revision's would be: files changed, removed,
    added (with their folders)."""
    other = files.overlay()
    paths = list(files)
    for _ in range(rng.randint(0, 4)):
        if not paths:
            break
        p = rng.choice(paths)
        e = other.get(p)
        if e is None:  # removed already
            continue
        r = rng.random()
        if e.kind == "file" and r < 0.4:
            other[p] = Entry("file", e.mode, rng.choice([b"\1" * 32, b"\2" * 32, e.digest]), "")
        elif e.kind == "file" and r < 0.6:
            other[p] = Entry("file", e.mode ^ 0o100, e.digest, "")
        elif e.kind != "dir" and r < 0.8:
            other.pop(p)
        else:
            base = p if e.kind == "dir" else os.path.dirname(p)
            new = f"{base}/new{rng.randint(0, 3)}" if base else f"new{rng.randint(0, 3)}"
            other[new] = Entry("dir", 0o755)
            other[f"{new}/f1.txt"] = Entry("file", 0o644, b"\3" * 32, "")
    return other


@pytest.mark.parametrize("seed", range(12))
def test_folder_digests_agree_with_the_listing(tmp_path, seed) -> None:
    rng = random.Random(seed)
    make_tree(tmp_path, rng)
    base = take(tmp_path)
    states = [base, revise(base, rng), revise(base, rng), base.overlay()]
    for builder in ("buildkit", "legacy"):
        for src in SOURCES:
            seen: dict[bytes, dict] = {}
            for state in states:
                sel = selection(state, src)
                plain = selection(dict(state.items()), src)  # the same files, not a view
                if sel is None:
                    assert plain is None
                    continue
                items = sel.items()
                assert items == plain.items()
                d = sel.digest(builder)
                assert d == items_digest(items, builder) == plain.digest(builder)
                for other_digest, other_items in seen.items():
                    same = _same(other_items, items, builder)
                    assert (other_digest == d) == same, (src, builder)
                seen[d] = items


@pytest.mark.parametrize("seed", range(12))
def test_digests_of_changes_are_equal_exactly_when_the_selections_are(tmp_path, seed) -> None:
    """States of one snapshot compared by what they change (explain's revision against the
    working tree): no listing, no folder digest, and the same answer."""
    rng = random.Random(50 + seed)
    make_tree(tmp_path, rng)
    base = take(tmp_path)
    states = [base, revise(base, rng), revise(base, rng), revise(base, rng), base.overlay()]
    for builder in ("buildkit", "legacy"):
        for src in SOURCES:
            seen: list[tuple[bytes, dict]] = []
            for state in states:
                sel = selection(state.by_changes(), src)
                if sel is None:
                    continue
                d, items = sel.digest(builder), selection(state, src).items()
                for other_digest, other_items in seen:
                    assert (other_digest == d) == _same(other_items, items, builder), (src, builder)
                seen.append((d, items))


def _same(a: dict, b: dict, builder: str) -> bool:
    """Listings equal as the cache key sees them (a folder's mode counts for the legacy
    builder only, and the copied folder's own mode never)."""
    def norm(items: dict) -> dict:
        return {n: (k, 0 if k == "dir" and (builder == "buildkit" or not n) else m, d, t)
                for n, (k, m, d, t) in items.items()}  # fmt: skip

    return norm(a) == norm(b)


@pytest.mark.parametrize("seed", range(12))
def test_changes_of_two_states_of_one_snapshot_are_read_from_their_overlays(tmp_path, seed) -> None:
    rng = random.Random(100 + seed)
    make_tree(tmp_path, rng)
    base = take(tmp_path)
    before, after = revise(base, rng), revise(base, rng)
    for src in SOURCES:
        a, b = selection(before, src), selection(after, src)
        if a is None or b is None:
            continue
        old, new = SelectedFiles([("0", a)]), SelectedFiles([("0", b)])
        fast = diff_files(old, new)
        full = diff_files(old.as_dict(), new.as_dict())
        # (the views name each change by its context path, the listings by its copied name)
        named = [(new.context_path("0:" + c.path) or old.context_path("0:" + c.path), c.change) for c in full]
        assert [(c.path, c.change) for c in fast] == named, src


def test_changes_are_named_by_their_context_path(tmp_path) -> None:
    (tmp_path / "app" / "pkg").mkdir(parents=True)
    (tmp_path / "app" / "pkg" / "mod.py").write_text("x = 1\n")
    (tmp_path / "run.py").write_text("y = 1\n")
    cases = (("app", "app/pkg/mod.py"), ("./app/pkg/", "app/pkg/mod.py"), ("run.py", "run.py"),
             ("*.py", "run.py"), (".", "app/pkg/mod.py"))  # fmt: skip
    before = take(tmp_path)
    old = [SelectedFiles([("0", selection(before, src))]) for src, _ in cases]
    for sel in old:
        sel.as_dict()  # (digests are read when listed: list them before the edit)
    (tmp_path / "app" / "pkg" / "mod.py").write_text("x = 2\n")
    (tmp_path / "run.py").write_text("y = 2\n")
    after = take(tmp_path)
    for (src, path), a in zip(cases, old):
        b = SelectedFiles([("0", selection(after, src))])
        assert path in [c.path for c in diff_files(a, b)], src


def test_a_revision_shares_the_snapshot_entries(tmp_path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "f").write_text("x")
    (tmp_path / "g").write_text("y")
    base = take(tmp_path)
    rev = base.overlay()
    rev["a/f"] = Entry("file", 0o644, b"\1" * 32, "")
    rev.pop("g")
    assert rev.same_base(base) and rev.overlaid == {"a/f": rev["a/f"], "g": None}
    assert list(rev) == ["a", "a/f"] and len(rev) == 2 and "g" not in rev and "g" in base
    assert base["a/f"].digest != rev["a/f"].digest
    # the folder above the change has another digest, the untouched ones keep theirs
    assert base.folder_digest("a", "buildkit") != rev.folder_digest("a", "buildkit")
    assert base.folder_digest("", "buildkit") != rev.folder_digest("", "buildkit")


def _three_folders_one_changed(tmp_path):
    """A snapshot of d0/f, d1/f, d2/f, and an overlay of it in which d0/f has other content."""
    for i in range(3):
        (tmp_path / f"d{i}").mkdir()
        (tmp_path / f"d{i}" / "f").write_text(str(i))
    base = take(tmp_path)
    rev = base.overlay()
    rev["d0/f"] = Entry("file", 0o644, b"\1" * 32, "")
    return base, rev


def test_a_revision_against_the_working_tree_lists_and_hashes_nothing_but_its_changes(tmp_path) -> None:
    base, rev = _three_folders_one_changed(tmp_path)
    same = base.overlay()
    same["d1/f"] = base["d1/f"]  # put back as it is: no change
    a, b, c = (selection(s.by_changes(), "") for s in (base, rev, same))
    assert a.digest("buildkit") != b.digest("buildkit") and a.digest("buildkit") == c.digest("buildkit")
    assert base._tree.digests == {} and a._items is None and b._items is None  # no listing, no folder digest


def test_a_folder_digest_is_computed_once_per_snapshot(tmp_path) -> None:
    base, rev = _three_folders_one_changed(tmp_path)
    rev.folder_digest("", "buildkit")
    memo = base._tree.digests["buildkit"]
    assert set(memo) == {"", "d0", "d1", "d2"}  # the snapshot's, computed once for both states
    assert set(rev._memo["buildkit"]) == {"", "d0"}  # the revision's own: only above its change


def test_the_report_name_prefilters_never_drop_a_match() -> None:
    """context's report tests a name against its secret and junk globs only when their literal
    heads and tails could match: never a name one of the globs matches."""
    from layerwise.context import report

    rng = random.Random(7)
    parts = ["", ".", "*", "a", "secrets", ".y", "ml", ".json", "service-account", ".pem", ".key", ".coverage",
             ".pyc", ".DS_Store", "x", ".tfvars", "serviceaccount", ".kdbx", ".p12", "id", "_rsa"]  # fmt: skip
    names = {"".join(rng.choice(parts) for _ in range(rng.randint(1, 4))) for _ in range(20000)}
    names |= {g.replace("*", "") for g, _ in report._SECRET_GLOBS} | {g.replace("*", "z") for g, _, _ in report._JUNK_FILES}
    secret = junk = 0
    for n in names:
        if report._SECRET_GLOB(n):
            secret += 1
            assert report._secret_maybe(n), n
        if report._JUNK_FILE_GLOB(n):
            junk += 1
            assert report._junk_file_maybe(n), n
    assert secret > 100 and junk > 100


def test_the_report_one_pass_gate_keeps_every_name_a_finding_tests() -> None:
    """build_report's one pass notes a name for the findings when _name_gate lets it through:
    every name a junk, secret, virtualenv, Python-project or root-only test could concern."""
    from layerwise.context import report
    from layerwise.context.ignore import IgnoreFile

    ignore = IgnoreFile.from_text("*.log\n__pycache__\n.coverage.*\nfoo*\n!keep\nsub/x\n**/deep\n")
    root_only = report._RootOnlyCandidates(ignore)
    # (foo* may mean the root only: no advice, so no candidate)
    assert sorted(p.cleaned for p in root_only.patterns) == ["*.log", ".coverage.*", "__pycache__"]
    exact, tails, heads, middles = report._name_gate(root_only)

    def gated(name: str) -> bool:
        lower = name.lower()
        return name in exact or lower.endswith(tails) or lower.startswith(heads) or any(m in lower for m in middles)

    rng = random.Random(11)
    parts = ["", ".", "a", "Z", "secrets", ".y", "ml", ".json", "service-account", ".pem", ".KEY", ".coverage",
             ".pyc", ".DS_Store", ".env", ".", "_rsa", "id", ".egg-info", "foo", ".log", "__pycache__", "build",
             "pyvenv.cfg", "setup.py", ".aws", "dist", ".venv"]  # fmt: skip
    names = {"".join(rng.choice(parts) for _ in range(rng.randint(1, 3))) for _ in range(20000)}
    matching = 0
    for n in names:
        concerns = (
            n in report._SECRET_NAMES or n in report._SECRET_DIRS or n in report._JUNK_DIRS
            or n.startswith(".env.") or n.endswith(".egg-info") or n == "pyvenv.cfg" or n in report._PY_PROJECT_FILES
            or report._SECRET_GLOB(n.lower()) or report._JUNK_FILE_GLOB(n)
            or any(p.match(n) for p in root_only.patterns)
        )  # fmt: skip
        if concerns:
            matching += 1
            assert gated(n), n
    assert matching > 1000
