"""The context report's per-entry work in C (``_fastscan.report_pass`` and ``json_lines``, #17)
against its Python twins, on the names and kinds of entries that take other paths through
them: odd, upper-case and non-ASCII names, names that are not UTF-8, links, a fifo, setuid
files, files not readable by all, excluded folders, entries of another type."""

from __future__ import annotations

import io
import json
import os
import random
from pathlib import Path

import pytest

from layerwise.context import report
from layerwise.context.entry import FILE, OTHER, Entry
from layerwise.context.ignore import IgnoreFile
from layerwise.context.snapshot import Snapshot
from tests.shared import run_cli

REPORT_PASS = report._native("report_pass")
JSON_LINES = report._native("json_lines")


@pytest.fixture
def _need_c() -> None:
    if REPORT_PASS is None or JSON_LINES is None:
        if os.environ.get("CI") == "true":
            pytest.fail("the C accelerator layerwise.context._fastscan was not built")
        pytest.skip("the C accelerator is not available here")


NAMES = [
    "app/main.py", "app/__pycache__/m.pyc", "pkg/x.pyc", "pkg/X.PYC", ".venv/pyvenv.cfg", ".venv/lib/s.py",
    ".env", ".env.local", ".env.example", "deploy/server.pem", "deploy/SERVER.PEM", "deploy/.aws/credentials",
    "a b  /trailing  ", "日本語/ファイル.txt", "emoji/😀.env", "emoji/:smile:.pem", "x]y/z.key", "dist/p.whl",
    "setup.py", "sub/setup.py", ".git/HEAD", "keys/my-Service-Account-1.json", "keys/serviceaccount.JSON",
    "keys/plain.json", "conf/secrets.yaml", "conf/SECRETS.YML", "conf/secrets.json", "q\"uote\\back.txt",
    "ctl\x01x/\x7fdel", "tab\tname/nl\nname", "kelvin/\u212aEY.pem", "sigma/ΣΑΣ.key", "id_rsa", "ID_RSA",
    "a.egg-info/PKG-INFO", ".coverage", ".coverage.host.1", ".DS_Store", "docs/.DS_Store", "logs/x.log",
    "logs/X.LOG", "foo", "foobar/z", "zz/foo", "root.txt", "zz/keep",
]  # fmt: skip


def _tree(root: Path) -> Path:
    for name in NAMES:
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("x" * len(name))
    (root / os.fsdecode(b"bad\xffname.pem")).write_text("k")
    (root / os.fsdecode(b"dir\xfe")).mkdir()
    (root / os.fsdecode(b"dir\xfe") / "f.txt").write_text("abc")
    os.chmod(root / "pkg/x.pyc", 0o4755)
    os.chmod(root / "root.txt", 0o600)
    os.symlink("app/main.py", root / "link")
    os.symlink("../../out\"side\u00e9", root / "bad link")
    os.mkfifo(root / "fifo")
    (root / ".dockerignore").write_text("*.log\n__pycache__\nfoo*\n!keep\nsub/x\n**/deep\n.git\nexcluded/\n")
    (root / "excluded" / "inner").mkdir(parents=True)
    (root / "excluded" / "inner" / "big.bin").write_bytes(b"\0" * 1000)
    return root


def _snapshot(root: Path, digests: bool) -> Snapshot:
    return Snapshot.take(root, IgnoreFile.read(root / ".dockerignore"), digests=digests, use_cache=False)


@pytest.mark.usefixtures("_need_c")
@pytest.mark.parametrize("digests", [False, True])
def test_report_pass_is_the_python_one(tmp_path, digests) -> None:
    snap = _snapshot(_tree(tmp_path), digests)
    gate = report._name_gate(report._RootOnlyCandidates(snap.ignore))
    c = REPORT_PASS(snap.entries, snap.paths, FILE, *gate)
    py = report._report_pass_py(snap.entries, snap.paths, FILE, *gate)
    assert c == py
    sent_files, _size, top, candidates, unreadable = c
    assert sent_files > 40 and set(top) >= {"", "app", "keys", "日本語"}
    names = {snap.paths[i].rpartition("/")[2] for i in candidates}
    assert {"my-Service-Account-1.json", "serviceaccount.JSON", "SERVER.PEM", "\u212aEY.pem", "ΣΑΣ.key",
            "bad\udcffname.pem", "x.pyc", "X.PYC", ".coverage.host.1", "id_rsa"} <= names  # fmt: skip
    assert "plain.json" not in names and "main.py" not in names
    assert [snap.paths[i] for i in unreadable] == ["root.txt"]


@pytest.mark.usefixtures("_need_c")
def test_report_pass_on_generated_names() -> None:
    """Random names from the parts the gate looks for, in any case and script, at any depth,
    with files, folders and links mixed: C and Python note the same."""
    rng = random.Random(5)
    parts = ["", ".", "a", "Z", "/", "secrets", ".Y", "ml", ".json", "Service-Account", "serviceaccount", ".pem",
             ".KEY", ".coverage", ".pyc", ".DS_Store", ".env", "_rsa", "id", ".egg-info", "foo", ".log", "é", "\u212a",
             "Σ", "😀", "\udcff", "pyvenv.cfg", "setup.py", "node_modules"]  # fmt: skip
    paths = sorted({"".join(rng.choice(parts) for _ in range(rng.randint(1, 5))).strip("/") or "x" for _ in range(5000)})
    kinds = ["file", "dir", "symlink", "other"]
    entries = [Entry(p, rng.choice(kinds), rng.choice([0o100644, 0o100600, 0o40755]), rng.randint(0, 1 << 40), None, b"s" * 32)
               for p in paths]  # fmt: skip
    ignore = IgnoreFile.from_text("*.log\nfoo*\n__pycache__\nA?c\n")
    gate = report._name_gate(report._RootOnlyCandidates(ignore))
    c = REPORT_PASS(entries, paths, FILE, *gate)
    assert c == report._report_pass_py(entries, paths, FILE, *gate)
    assert len(c[3]) > 500


@pytest.mark.usefixtures("_need_c")
def test_report_pass_with_a_catch_all_head() -> None:
    """An empty head (a root-only ``*`` gave one, before such patterns, which may mean the
    root only, stopped being advised on) makes every name a candidate."""
    assert report._RootOnlyCandidates(IgnoreFile.from_text("*\n")).heads == ()  # (no advice for it now)
    gate = (frozenset(), (), ("",), ())
    paths = ["a", "b/c", "b/d.txt"]
    entries = [Entry(p, FILE, 0o100644, 1, None, b"s" * 32) for p in paths]
    assert REPORT_PASS(entries, paths, FILE, *gate) == report._report_pass_py(entries, paths, FILE, *gate)
    assert REPORT_PASS(entries, paths, FILE, *gate)[3] == [0, 1, 2]


class _NotAnEntry:
    """An object with an entry's attributes but not its type: the C functions read it by name."""

    def __init__(self, e: Entry) -> None:
        self.path, self.kind, self.st_mode, self.size, self.target, self.rec = e.path, e.kind, e.st_mode, e.size, e.target, e.rec

    @property
    def special(self):
        return Entry(self.path, self.kind, self.st_mode, self.size, self.target, self.rec).special


@pytest.mark.usefixtures("_need_c")
@pytest.mark.parametrize("digests", [False, True])
def test_json_lines_are_the_python_ones(tmp_path, digests) -> None:
    snap = _snapshot(_tree(tmp_path), digests)
    entries = snap.entries
    assert {e.kind for e in entries} == {"file", "dir", "symlink", "other"}
    assert any(e.digest is not None for e in entries) == digests
    encode = json.JSONEncoder(ensure_ascii=True, separators=(", ", ": ")).encode
    expected = ",\n    ".join(encode(report._file_dict(e)) for e in entries)
    assert JSON_LINES(entries, 0, len(entries), OTHER) == expected
    assert report._json_lines_py(entries, 0, len(entries)) == expected
    assert JSON_LINES(entries, 3, 9, OTHER) == report._json_lines_py(entries, 3, 9)
    assert JSON_LINES(entries, 5, 5, OTHER) == ""
    mixed = [e if i % 2 else _NotAnEntry(e) for i, e in enumerate(entries)]
    assert JSON_LINES(mixed, 0, len(mixed), OTHER) == expected


@pytest.mark.usefixtures("_need_c")
def test_json_escapes_every_code_point_as_json_does() -> None:
    chars = [chr(c) for c in range(0x3000)] + ["\ud800", "\udcff", "\U0001F600", "\U0010FFFF", "\uffff"]
    paths = ["".join(chars[i : i + 97]) for i in range(0, len(chars), 97)]
    entries = [Entry(p, FILE, 0o100644, i, None, b"s" * 32) for i, p in enumerate(paths)]
    assert JSON_LINES(entries, 0, len(entries), OTHER) == report._json_lines_py(entries, 0, len(entries))


@pytest.mark.usefixtures("_need_c")
def test_json_numbers_as_python_writes_them() -> None:
    """Every permission/setuid/sticky combination and sizes up to 2**63 - 1, with and without
    a digest, for each kind (fifo, socket and devices as other entries)."""
    import stat

    rng = random.Random(3)
    kinds = [("file", stat.S_IFREG), ("dir", stat.S_IFDIR), ("symlink", stat.S_IFLNK), ("other", stat.S_IFIFO),
             ("other", stat.S_IFSOCK), ("other", stat.S_IFCHR), ("other", stat.S_IFBLK)]  # fmt: skip
    sizes = [0, 1, 9, 10, 99, 100, 2**31 - 1, 2**31, 2**32, 10**15, 2**63 - 1]
    entries = []
    for perm in range(0o10000):
        kind, fmt = kinds[perm % len(kinds)]
        rec = b"s" * 32 + (rng.randbytes(32) if perm % 3 else b"")
        target = "t\u00e9" if kind == "symlink" else None
        entries.append(Entry(f"p{perm}", kind, fmt | perm, sizes[perm % len(sizes)], target, rec))
    assert JSON_LINES(entries, 0, len(entries), OTHER) == report._json_lines_py(entries, 0, len(entries))


@pytest.mark.parametrize("pure", [False, True])
def test_write_json_in_batches_is_one_document(tmp_path, monkeypatch, pure) -> None:
    """write_json writes the file list in batches (C or Python): the same bytes as the whole
    report through the encoder, whatever the batch size."""
    if pure:
        monkeypatch.setattr(report, "_json_lines", None)
    monkeypatch.setattr(report, "_JSON_BATCH", 7)
    snap = _snapshot(_tree(tmp_path), True)
    rep = report.build_report(snap, None)
    out = io.StringIO()
    report.write_json(rep, out)
    whole = json.loads(out.getvalue())
    assert whole["files"] == [report._file_dict(e) for e in snap.entries]
    monkeypatch.setattr(report, "_JSON_BATCH", 100_000)
    again = io.StringIO()
    report.write_json(rep, again)
    assert again.getvalue() == out.getvalue()


def test_write_json_without_entries(tmp_path) -> None:
    (tmp_path / ".dockerignore").write_text("*\n")
    (tmp_path / "a").write_text("x")
    rep = report.build_report(Snapshot.take(tmp_path, IgnoreFile.read(tmp_path / ".dockerignore"), use_cache=False), None)
    assert rep.snapshot is not None and not rep.snapshot.entries
    out = io.StringIO()
    report.write_json(rep, out)
    assert json.loads(out.getvalue())["files"] == [] and out.getvalue().endswith('"files": []\n}\n')


@pytest.mark.usefixtures("_need_c")
def test_the_report_is_the_same_with_either_pass(tmp_path, monkeypatch) -> None:
    snap = _snapshot(_tree(tmp_path), False)
    c = report.build_report(snap, None, count_excluded=True)
    monkeypatch.setattr(report, "_report_pass", report._report_pass_py)
    py = report.build_report(snap, None, count_excluded=True)
    assert report.report_dict(c) == report.report_dict(py)
    assert c.secrets and c.junk and c.root_only_patterns


def _wide_tree(root: Path, folders: int = 200, subfolders: int = 4, files: int = 5) -> Path:
    """Folders of folders of files: wide enough that the walk shares hundreds of folders out
    to its threads once 2,000 entries are seen."""
    for d in range(folders):
        for k in range(subfolders):
            sub = root / f"d{d:03d}" / f"s{k}"
            sub.mkdir(parents=True)
            for f in range(files):
                (sub / f"f{f}.py").write_text("x")
    return root


def test_a_threaded_walk_leaves_no_cycle_holding_the_entries(tmp_path, monkeypatch) -> None:
    """The threaded walk (C listing, 2 threads) keeps no reference cycle through which the
    entries outlive their snapshot until a garbage collection (#17: the collection traversed
    and freed 100,000 entries after a warm context run)."""
    import gc

    from layerwise.context import walk

    if walk.BACKEND != "c":
        pytest.skip("threads walk only with the C listing")
    # threads from 100 entries seen on, not 2,000: a fifth of the files to write and delete
    monkeypatch.setattr(walk, "_FORK_MIN_ENTRIES", 100)
    root = _wide_tree(tmp_path, folders=200, subfolders=2, files=1)
    was = gc.isenabled()
    gc.disable()
    try:
        gc.collect()
        walked_on: list[int] = []
        real = walk.Walker._run_threaded

        def spy(self, frames, workers):
            walked_on.append(len(frames))
            return real(self, frames, workers)

        walk.Walker._run_threaded = spy
        try:
            snap = Snapshot.take(root, None, use_cache=False, workers=2)
        finally:
            walk.Walker._run_threaded = real
        assert len(snap.entries) > 900 and walked_on and walked_on[0] > 100  # on threads
        del snap
        gc.set_debug(gc.DEBUG_SAVEALL)
        gc.collect()
        kinds = {type(o).__name__ for o in gc.garbage}
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        if was:
            gc.enable()
    assert "Entry" not in kinds and "Walker" not in kinds, kinds


def test_context_command_restores_the_collector(tmp_path) -> None:
    import gc

    root = _wide_tree(tmp_path / "ctx", folders=3, subfolders=1, files=2)
    assert gc.isenabled()
    for fmt in ("text", "json"):
        result = run_cli(["context", str(root), "--format", fmt])
        assert result.exit_code == 0 and "d000" in result.output
        assert gc.isenabled()
    gc.disable()
    try:
        assert run_cli(["context", str(root)]).exit_code == 0
        assert not gc.isenabled()  # (as the caller had it)
    finally:
        gc.enable()
