"""Folder (Merkle) digests kept with the stat cache (context/files.py, #17): a later command
takes those of the folders nothing changed in, and computes again those above a change; the
digests are always what a fresh computation gives (file changed, added, removed, renamed, mode
changed, .dockerignore changed, folders added or removed, symlinks moved)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from layerwise.context import files as filesmod
from layerwise.context import snapshot as snapmod
from layerwise.context.states import load_state, one_walk


@pytest.fixture
def tree(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    # every stamp trusted (as files written a minute before the snapshot): cache hits
    monkeypatch.setattr(snapmod, "_now_ns", lambda: time.time_ns() + 60 * 10**9)
    root = tmp_path / "ctx"
    for rel, text in {"Dockerfile": "FROM scratch\nCOPY . /app\n", ".dockerignore": "*.log\n",
                      "app/a.py": "a\n", "app/b.py": "b\n", "app/sub/c.py": "c\n", "docs/d.md": "d\n",
                      "top.txt": "t\n", "x.log": "excluded\n"}.items():  # fmt: skip
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    os.symlink("app/a.py", root / "link")
    return root


FOLDERS = ["", "app", "app/sub", "docs"]


def _digests(root: Path, builder: str = "buildkit") -> tuple[dict[str, bytes], bool]:
    """Every folder's digest, and whether any was computed (not all taken from the kept ones)."""
    with one_walk():
        files = load_state(str(root), None, None, builder=builder).files
        got = {f: files.folder_digest(f, builder) for f in FOLDERS if f == "" or f in files}
        return got, files._tree._computed


def _fresh(root: Path, monkeypatch, builder: str = "buildkit") -> dict[str, bytes]:
    with monkeypatch.context() as m:
        m.setattr(filesmod, "_stored_digests", lambda tree: {})
        m.setattr(filesmod._Tree, "save_digests", lambda self: None)
        m.setattr(snapmod.Snapshot, "save_cache", lambda self: None)
        return _digests(root, builder)[0]


def _warm(root: Path, builder: str = "buildkit") -> None:
    _digests(root, builder)
    _digests(root, builder)


def test_unchanged_tree_takes_every_digest_kept(tree, monkeypatch) -> None:
    _warm(tree)
    got, computed = _digests(tree)
    assert not computed
    assert got == _fresh(tree, monkeypatch)


def _changed(tree: Path, monkeypatch, builder: str = "buildkit") -> dict[str, bytes]:
    before = _fresh(tree, monkeypatch, builder)
    return before


@pytest.mark.parametrize("change", ["content", "added", "removed", "renamed", "mode", "dir-added", "dir-removed",
                                    "dir-renamed", "link", "ignore-more", "ignore-less", "ignore-file"])  # fmt: skip
def test_a_change_gives_the_fresh_digests(tree, monkeypatch, change) -> None:
    (tree / "empty").mkdir()
    _warm(tree)
    old = _fresh(tree, monkeypatch)
    if change == "content":
        (tree / "app" / "sub" / "c.py").write_text("changed\n")
    elif change == "added":
        (tree / "app" / "sub" / "new.py").write_text("new\n")
    elif change == "removed":
        (tree / "app" / "sub" / "c.py").unlink()
    elif change == "renamed":
        os.rename(tree / "app" / "sub" / "c.py", tree / "app" / "sub" / "c2.py")
    elif change == "mode":
        os.chmod(tree / "app" / "sub" / "c.py", 0o755)
    elif change == "dir-added":
        (tree / "app" / "sub" / "new-empty").mkdir()
    elif change == "dir-removed":
        (tree / "empty").rmdir()
    elif change == "dir-renamed":
        os.rename(tree / "empty", tree / "empty2")
    elif change == "link":
        (tree / "link").unlink()
        os.symlink("app/b.py", tree / "link")
    elif change == "ignore-more":
        (tree / ".dockerignore").write_text("*.log\ndocs\n")
    elif change == "ignore-less":
        (tree / ".dockerignore").write_text("# nothing\n")
    elif change == "ignore-file":
        (tree / "Dockerfile.dockerignore").write_text("app/sub\n")  # BuildKit's, beside the Dockerfile
    got, computed = _digests(tree)
    fresh = _fresh(tree, monkeypatch)
    assert got == fresh
    assert computed
    assert got[""] != old[""]
    if change in ("content", "added", "removed", "renamed", "mode", "dir-added"):
        assert got["docs"] == old["docs"]  # (taken as kept: nothing changed there)
    again, computed = _digests(tree)  # and kept again, for the next command
    assert again == fresh and not computed


def test_folder_mode_counts_for_the_legacy_builder(tree, monkeypatch) -> None:
    _warm(tree, "legacy")
    os.chmod(tree / "docs", 0o700)
    got, computed = _digests(tree, "legacy")
    assert computed
    assert got == _fresh(tree, monkeypatch, "legacy")


def test_another_cache_or_a_damaged_file_is_not_read(tree, monkeypatch) -> None:
    _warm(tree)
    snap = snapmod.Snapshot.take(tree, None, digests=True)
    dig = snap.cache_file.with_suffix(".dig")
    assert dig.exists()
    dig.write_bytes(b"\x00garbage")
    got, computed = _digests(tree)
    assert computed and got == _fresh(tree, monkeypatch)
    _warm(tree)
    snapmod.Snapshot.take(tree, snapmod.IgnoreFile.read(tree / ".dockerignore"), digests=True).save_cache()
    got, computed = _digests(tree)  # (a new stat cache: the kept digests name the old one)
    assert computed and got == _fresh(tree, monkeypatch)


def test_racy_files_keep_their_folders_out(tree, monkeypatch) -> None:
    _warm(tree)
    mark = time.time_ns()
    time.sleep(0.01)
    (tree / "app" / "sub" / "c.py").write_text("changed just now\n")
    with monkeypatch.context() as m:
        m.setattr(snapmod, "_now_ns", lambda: mark + snapmod.RACY_WINDOW_NS)  # c.py too recent to trust
        _digests(tree)
    (tree / "app" / "sub" / "c.py").write_text("changed again\n")  # (same size: a racy stamp could match)
    got, computed = _digests(tree)
    assert computed and got == _fresh(tree, monkeypatch)


def test_a_file_the_cache_does_not_hold_keeps_its_folders_out(tree, monkeypatch) -> None:
    _warm(tree)
    # a big tree's loop: the stat cache is not rewritten for one new file
    monkeypatch.setattr(snapmod.Snapshot, "_worth_saving", lambda self: False)
    (tree / "app" / "sub" / "new.py").write_text("new\n")
    got, computed = _digests(tree)
    assert computed and got == _fresh(tree, monkeypatch)
    (tree / "app" / "sub" / "new.py").unlink()  # neither in the cache nor walked now
    got, computed = _digests(tree)
    assert got == _fresh(tree, monkeypatch)
    assert _digests(tree) == (got, False)  # (kept: the walk is the cache's again)
