"""Snapshot: fsutil walk semantics, recorded metadata, stat cache, robustness."""

from __future__ import annotations

import hashlib
import os
import socket
import time
import tracemalloc
from pathlib import Path

import pytest

from layerwise.context import snapshot as snapmod
from layerwise.context import walk as walkmod
from layerwise.context.ignore import IgnoreFile
from layerwise.context.snapshot import DIR, FILE, OTHER, SYMLINK, Entry, Snapshot, diff
from layerwise.errors import LayerwiseError


def make_tree(root: Path, spec: dict[str, str | None]) -> Path:
    """``{"a/b.txt": "content", "empty/": None}``: files with content, folders ending in /."""
    for name, content in spec.items():
        p = root / name
        if name.endswith("/"):
            p.mkdir(parents=True, exist_ok=True)
        else:
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(content or "")
    return root


def take(root: Path, patterns: list[str] | None = None, **kw) -> Snapshot:
    ignore = IgnoreFile.from_patterns(patterns) if patterns is not None else None
    kw.setdefault("use_cache", False)
    return Snapshot.take(root, ignore, **kw)


NATIVE = walkmod._native_list_dir()
NATIVE_HASH = walkmod._native_hash_files()


@pytest.fixture(autouse=True, params=["c", "c-hashlib", "python"])
def backend(request, monkeypatch):
    """Every test runs with the walk's C listing and hashing, with the C listing but hashlib
    (no libcrypto to load), and with the pure-Python twins."""
    if request.param.startswith("c"):
        if NATIVE is None or (request.param == "c" and NATIVE_HASH is None):
            if os.environ.get("CI") == "true":
                pytest.fail("the C accelerator layerwise.context._fastscan was not built, or cannot load libcrypto")
            pytest.skip("the C accelerator (or its libcrypto) is not available here")
        from layerwise.context._fastscan import make_entries

        monkeypatch.setattr(walkmod, "_list_dir", NATIVE)
        monkeypatch.setattr(walkmod, "_make_entries", make_entries)
        monkeypatch.setattr(walkmod, "_hash_files", NATIVE_HASH if request.param == "c" else None)
    else:
        monkeypatch.setattr(walkmod, "_list_dir", walkmod._list_dir_py)
        monkeypatch.setattr(walkmod, "_make_entries", walkmod._make_entries_py)
        monkeypatch.setattr(walkmod, "_hash_files", None)
    return request.param


def only_in_ci(*slow: str) -> pytest.MarkDecorator:
    """Run one test with every ``backend``, those named here marked slow: CI runs them, the inner
    loop does not. For tests where such a variant repeats another's work (no digests taken: the C
    listing with or without hashlib is the same code), or only repeats, on a bigger tree, what
    the other tests of that backend already check."""
    return pytest.mark.parametrize(
        "backend",
        [pytest.param(b, marks=pytest.mark.slow) if b in slow else b for b in ("c", "c-hashlib", "python")],
        indirect=True,
    )


def c_cannot_read(monkeypatch, name: str) -> None:
    """Make the C hashing leave files called ``name`` unread, as it does with any file it fails
    to open or read (the Python path then reads them again and reports why)."""
    real = walkmod._hash_files
    if real is None:
        return

    def hash_files(dfd, rels, recs, stop, strip, skip, buf):
        skip = set(skip or ()) | {i for i in range(stop) if os.path.basename(rels[i]) == name}
        return real(dfd, rels, recs, stop, strip, skip, buf)

    monkeypatch.setattr(walkmod, "_hash_files", hash_files)


@pytest.fixture
def future_clock(monkeypatch):
    """Make every file of the test look old enough to be trusted by the stat cache."""
    monkeypatch.setattr(snapmod, "_now_ns", lambda: time.time_ns() + 60 * 10**9)


# -- what is sent ----------------------------------------------------------------------------------

SENT_CASES = [
    # (tree, patterns, expected sent paths)
    ({"a.txt": "a", "b.log": "b"}, ["*.log"], ["a.txt"]),
    ({"empty/": None, "x": "x"}, [], ["empty", "x"]),  # empty folders are entries
    ({"pkg/__pycache__/m.pyc": "", "pkg/m.py": ""}, ["**/__pycache__"], ["pkg", "pkg/m.py"]),
    ({"pkg/__pycache__/m.pyc": "", "pkg/m.py": ""}, ["__pycache__"], ["pkg", "pkg/__pycache__", "pkg/__pycache__/m.pyc", "pkg/m.py"]),
    # exception under an excluded folder: the folder itself is sent, its other files are not
    ({"docs/README.md": "", "docs/api.md": "", "docs/img/x.png": ""}, ["docs", "!docs/README.md"], ["docs", "docs/README.md"]),
    # a wildcard exception makes the walk enter every excluded folder
    ({"a/b/keep.txt": "", "a/b/drop.txt": "", "c/drop": ""}, ["*", "!**/keep.txt"], ["a", "a/b", "a/b/keep.txt"]),
    # exception deeper than the excluded folder
    ({"build/lib/x/keep.py": "", "build/lib/y.py": ""}, ["build", "!build/lib/x"], ["build", "build/lib", "build/lib/x", "build/lib/x/keep.py"]),
    # an exception that cannot re-include anything: folder pruned
    ({"node_modules/a/b.js": "", "src/x.js": ""}, ["node_modules", "!src"], ["src", "src/x.js"]),
    # re-excluded after an exception
    ({"d/a": "", "d/b": ""}, ["d", "!d", "d/b"], ["d", "d/a"]),
]


@pytest.mark.parametrize("tree,patterns,expected", SENT_CASES)
def test_sent_paths(tmp_path, tree, patterns, expected) -> None:
    make_tree(tmp_path, tree)
    snap = take(tmp_path, patterns)
    assert snap.paths == expected


@pytest.mark.parametrize("tree,patterns,expected", SENT_CASES)
def test_sent_paths_match_the_matcher(tmp_path, tree, patterns, expected) -> None:
    """Every sent file is one MatchesOrParentMatches keeps, and every file it keeps is sent."""
    make_tree(tmp_path, tree)
    ig = IgnoreFile.from_patterns(patterns)
    snap = Snapshot.take(tmp_path, ig, use_cache=False)
    files = {n for n in tree if not n.endswith("/")}
    assert {e.path for e in snap.entries if e.kind == FILE} == {f for f in files if not ig.excludes(f)}


def test_excluded_stats(tmp_path) -> None:
    make_tree(tmp_path, {".git/objects/ab": "12345", ".git/HEAD": "ref", "x.log": "123", "a.py": ""})
    ig = IgnoreFile.from_text(".git\n*.log\n")
    snap = Snapshot.take(tmp_path, ig, use_cache=False)
    assert snap.paths == ["a.py"]
    ex = snap.excluded
    assert (ex.count, ex.files, ex.size) == (5, 3, 11)  # .git, .git/objects, 2 files; x.log
    assert ex.by_line == {1: [4, 8], 2: [1, 3]}


def test_recorded_metadata(tmp_path) -> None:
    make_tree(tmp_path, {"run.sh": "#!/bin/sh\n", "d/": None})
    os.chmod(tmp_path / "run.sh", 0o4755)
    os.chmod(tmp_path / "d", 0o700)
    os.symlink("run.sh", tmp_path / "link")
    snap = take(tmp_path, digests=True)
    run, d, link = snap.get("run.sh"), snap.get("d"), snap.get("link")
    assert (run.kind, run.mode, run.size) == (FILE, 0o4755, 10)
    assert run.digest == hashlib.sha256(b"#!/bin/sh\n").digest()
    assert (d.kind, d.mode) == (DIR, 0o700)
    assert (link.kind, link.target, link.digest) == (SYMLINK, "run.sh", None)


def test_symlinks_are_never_followed(tmp_path) -> None:
    make_tree(tmp_path, {"real/f": "x"})
    os.symlink("b", tmp_path / "a")
    os.symlink("a", tmp_path / "b")  # loop
    os.symlink("..", tmp_path / "real" / "up")  # folder loop
    os.symlink("/etc", tmp_path / "outside")  # out of the context
    snap = take(tmp_path, digests=True)
    assert snap.paths == ["a", "b", "outside", "real", "real/f", "real/up"]
    assert {e.path: e.target for e in snap.entries if e.kind == SYMLINK} == {
        "a": "b",
        "b": "a",
        "outside": "/etc",
        "real/up": "..",
    }
    assert snap.warnings == []


def test_fifo_and_socket_are_recorded_not_read(tmp_path, monkeypatch) -> None:
    os.mkfifo(tmp_path / "pipe")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(tmp_path / "sock"))
    try:
        opened: list[str] = []
        real_open = walkmod._open
        monkeypatch.setattr(walkmod, "_open", lambda p, *a, **k: opened.append(p) or real_open(p, *a, **k))
        snap = take(tmp_path, digests=True)
    finally:
        sock.close()
    assert [(e.path, e.kind, e.special) for e in snap.entries] == [
        ("pipe", OTHER, "fifo"),
        ("sock", OTHER, "socket"),
    ]
    assert opened == []
    assert {w.path for w in snap.warnings} == {"pipe", "sock"}


def test_non_utf8_names(tmp_path) -> None:
    raw = os.fsencode(str(tmp_path)) + b"/caf\xe9.txt"
    with open(raw, "wb") as f:
        f.write(b"x")
    snap = take(tmp_path, ["*.md"], digests=True)
    (entry,) = snap.entries
    assert os.fsencode(entry.path) == b"caf\xe9.txt"
    assert entry.digest == hashlib.sha256(b"x").digest()
    assert snap.select(entry.path) == [entry]


def test_unreadable_file_is_a_warning(tmp_path, monkeypatch) -> None:
    make_tree(tmp_path, {"secret": "s", "ok": "o"})
    real_open = walkmod._open

    def fake_open(path, *a, **k):
        if os.fsdecode(path).endswith("secret"):
            raise PermissionError(13, "Permission denied")
        return real_open(path, *a, **k)

    monkeypatch.setattr(walkmod, "_open", fake_open)
    c_cannot_read(monkeypatch, "secret")
    snap = take(tmp_path, digests=True)
    assert snap.get("secret").digest is None
    assert snap.get("ok").digest is not None
    assert [(w.path, "permission denied" in w.message) for w in snap.warnings] == [("secret", True)]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file_real_chmod(tmp_path) -> None:
    make_tree(tmp_path, {"secret": "s"})
    os.chmod(tmp_path / "secret", 0)
    snap = take(tmp_path, digests=True)
    assert [w.path for w in snap.warnings] == ["secret"]


def test_unreadable_folder_is_a_warning(tmp_path, monkeypatch) -> None:
    make_tree(tmp_path, {"locked/x": "1", "open/y": "2"})
    real_list_dir = walkmod._list_dir

    def fake_list_dir(path, prefix, *args):
        if prefix == "locked/":
            raise PermissionError(13, "Permission denied")
        return real_list_dir(path, prefix, *args)

    monkeypatch.setattr(walkmod, "_list_dir", fake_list_dir)
    snap = take(tmp_path)
    assert snap.paths == ["locked", "open", "open/y"]
    assert [w.path for w in snap.warnings] == ["locked"]
    # excluded: fsutil ignores permission errors there, and so do we
    snap = take(tmp_path, ["locked", "!locked/x"])
    assert snap.warnings == []


def test_file_vanishing_before_hashing(tmp_path) -> None:
    make_tree(tmp_path, {"gone": "x", "stays": "y"})
    snap = take(tmp_path)
    (tmp_path / "gone").unlink()
    snap.ensure_digests()
    assert snap.get("gone").digest is None
    assert [(w.path, w.message) for w in snap.warnings] == [("gone", "vanished before it could be read")]


def test_file_changing_after_the_walk(tmp_path) -> None:
    make_tree(tmp_path, {"f": "old"})
    snap = take(tmp_path)
    (tmp_path / "f").write_text("new content")
    snap.ensure_digests()
    e = snap.get("f")
    assert e.digest == hashlib.sha256(b"new content").digest()
    assert e.size == len("new content")
    assert [w.path for w in snap.warnings] == ["f"]


def test_missing_context(tmp_path) -> None:
    with pytest.raises(LayerwiseError):
        take(tmp_path / "nope")


# -- stat cache ------------------------------------------------------------------------------------


def test_stat_cache_reuse_counts_hashes(tmp_path, future_clock) -> None:
    ctx = make_tree(tmp_path / "ctx", {"a": "1", "b/c": "22", "b/d": "333"})
    cache = tmp_path / "cache"
    first = Snapshot.take(ctx, None, cache_dir=cache, digests=True)
    assert (first.hashed, first.cache_hits) == (3, 0)
    second = Snapshot.take(ctx, None, cache_dir=cache, digests=True)
    assert (second.hashed, second.cache_hits) == (0, 3)
    assert [e.digest for e in second.entries] == [e.digest for e in first.entries]
    (ctx / "b" / "c").write_text("changed")
    third = Snapshot.take(ctx, None, cache_dir=cache, digests=True)
    assert (third.hashed, third.cache_hits) == (1, 2)
    assert third.get("b/c").digest == hashlib.sha256(b"changed").digest()


def test_lazy_hashing_of_a_selection(tmp_path, future_clock) -> None:
    ctx = make_tree(tmp_path / "ctx", {"req.txt": "flask", "app/main.py": "x", "app/util.py": "y"})
    snap = Snapshot.take(ctx, None, cache_dir=tmp_path / "cache")
    assert snap.hashed == 0 and all(e.digest is None for e in snap.files)
    snap.digest_of(["req.txt"])
    assert snap.hashed == 1
    snap.digest_of(["app"])
    assert snap.hashed == 3


def test_racy_entries_are_not_trusted(tmp_path) -> None:
    """A file written in the same timestamp tick as the cache could change again without a
    visible stat change (git's racy-clean problem): it is hashed again next time."""
    ctx = make_tree(tmp_path / "ctx", {"f": "aaaa"})
    cache = tmp_path / "cache"
    first = Snapshot.take(ctx, None, cache_dir=cache, digests=True)
    st1 = os.stat(ctx / "f")
    # same size, mtime restored: only ctime could tell, and it may share the tick
    (ctx / "f").write_text("bbbb")
    os.utime(ctx / "f", ns=(st1.st_atime_ns, st1.st_mtime_ns))
    second = Snapshot.take(ctx, None, cache_dir=cache, digests=True)
    assert second.hashed == 1 and second.cache_hits == 0
    assert second.get("f").digest == hashlib.sha256(b"bbbb").digest()
    assert first.get("f").digest != second.get("f").digest


def test_mtime_restored_change_is_seen_through_ctime(tmp_path, future_clock) -> None:
    ctx = make_tree(tmp_path / "ctx", {"f": "aaaa"})
    cache = tmp_path / "cache"
    Snapshot.take(ctx, None, cache_dir=cache, digests=True)
    st1 = os.stat(ctx / "f")
    time.sleep(0.01)  # let ctime move on (not a timing assertion)
    (ctx / "f").write_text("bbbb")
    os.utime(ctx / "f", ns=(st1.st_atime_ns, st1.st_mtime_ns))
    if os.stat(ctx / "f").st_ctime_ns == st1.st_ctime_ns:
        pytest.skip("filesystem ctime granularity too coarse")
    again = Snapshot.take(ctx, None, cache_dir=cache, digests=True)
    assert again.hashed == 1
    assert again.get("f").digest == hashlib.sha256(b"bbbb").digest()


def test_corrupt_cache_is_ignored(tmp_path, future_clock) -> None:
    ctx = make_tree(tmp_path / "ctx", {"f": "x"})
    cache = tmp_path / "cache"
    snap = Snapshot.take(ctx, None, cache_dir=cache, digests=True)
    snap.cache_file.write_bytes(b"garbage")
    again = Snapshot.take(ctx, None, cache_dir=cache, digests=True)
    assert again.hashed == 1


# -- parallel walk ---------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("warm", [False, True], ids=["cold", "warm"])
def test_parallel_walk_equals_in_process_walk(tmp_path, future_clock, monkeypatch, backend, warm) -> None:
    """Big trees are walked in parallel: on threads with the C listing (it releases the GIL)
    when the stat cache serves files or C hashes them, in forked workers otherwise (the
    pure-Python listing, or a cold snapshot hashing every file with hashlib). Either way: the
    in-process snapshot."""
    monkeypatch.setattr(walkmod, "_FRONTIER_PER_WORKER", 8)
    used: list[tuple[str, int]] = []
    real_threaded = walkmod.Walker._run_threaded
    real_fork_map = walkmod._fork_map
    monkeypatch.setattr(
        walkmod.Walker,
        "_run_threaded",
        lambda self, frames, n: used.append(("threads", n - 1)) or real_threaded(self, frames, n),
    )
    monkeypatch.setattr(walkmod, "_fork_map", lambda fn, n, *a: used.append(("fork", n)) or real_fork_map(fn, n, *a))
    spec: dict[str, str | None] = {}
    for i in range(60):
        for j in range(45):
            spec[f"d{i}/sub{j % 3}/f{j}.{'pyc' if j % 7 == 0 else 'py'}"] = f"{i}-{j}"
    spec["docs/keep.md"] = "k"
    spec["docs/drop.md"] = "d"
    spec["empty/"] = None
    make_tree(tmp_path / "ctx", spec)
    os.symlink("d1", tmp_path / "ctx" / "link")
    patterns = ["**/*.pyc", "docs", "!docs/keep.md", "d5"]
    ignore = IgnoreFile.from_patterns(patterns)
    cache = tmp_path / "cache"
    one = Snapshot.take(tmp_path / "ctx", ignore, workers=1, digests=True, cache_dir=cache, use_cache=warm)
    two = Snapshot.take(tmp_path / "ctx", ignore, workers=2, digests=True, cache_dir=cache, use_cache=warm)
    # the second walk really ran in this process plus one other worker
    assert used == [("threads" if backend == "c" or (backend == "c-hashlib" and warm) else "fork", 1)]
    assert len(one.entries) > 2000
    assert [(e.path, e.kind, e.mode, e.size, e.target, e.digest) for e in one.entries] == [
        (e.path, e.kind, e.mode, e.size, e.target, e.digest) for e in two.entries
    ]
    assert (one.excluded.count, one.excluded.size, one.excluded.by_line) == (
        two.excluded.count,
        two.excluded.size,
        two.excluded.by_line,
    )
    files = sum(1 for _ in one.files)
    assert one.hashed == files
    assert (two.hashed, two.cache_hits) == ((0, files) if warm else (files, 0))


# -- select / diff ---------------------------------------------------------------------------------

SELECT_CASES = [
    (".", ["a.txt", "b.txt", "pkg", "pkg/m.py", "pkg/sub", "pkg/sub/n.py"]),
    ("pkg", ["pkg", "pkg/m.py", "pkg/sub", "pkg/sub/n.py"]),
    ("/pkg/", ["pkg", "pkg/m.py", "pkg/sub", "pkg/sub/n.py"]),
    ("*.txt", ["a.txt", "b.txt"]),
    ("pkg/*.py", ["pkg/m.py"]),
    ("pkg/*", ["pkg/m.py", "pkg/sub", "pkg/sub/n.py"]),
    ("[a]*", ["a.txt"]),
    ("nothing", []),
]


@pytest.mark.parametrize("src,expected", SELECT_CASES)
def test_select(tmp_path, src, expected) -> None:
    make_tree(tmp_path, {"a.txt": "", "b.txt": "", "pkg/m.py": "", "pkg/sub/n.py": ""})
    assert [e.path for e in take(tmp_path).select(src)] == expected


def test_diff(tmp_path) -> None:
    make_tree(tmp_path, {"same": "s", "mod": "1", "gone": "g", "mode": "m", "touched": "t"})
    a = take(tmp_path, digests=True)
    (tmp_path / "mod").write_text("2")
    (tmp_path / "gone").unlink()
    (tmp_path / "new").write_text("n")
    os.chmod(tmp_path / "mode", 0o600)
    os.utime(tmp_path / "touched", (1, 1))  # mtime only: not a change for COPY
    b = take(tmp_path)
    assert [(c.kind, c.path) for c in diff(a, b)] == [
        ("removed", "gone"),
        ("modified", "mod"),
        ("mode", "mode"),
        ("added", "new"),
    ]


# -- memory ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["any"])  # builds entries itself: no walk, no backend to vary
def test_entries_are_compact(backend) -> None:
    """1,000,000 files must fit in 500 MB: measure what the walker keeps per file."""
    n = 20_000
    modes = {0o100644: 0o100644}
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    entries = [
        Entry(
            f"src/app/package{i % 97}/module_{i}.py",
            FILE,
            modes[0o100644],
            1000 + i,
            None,
            os.urandom(64),
        )
        for i in range(n)
    ]
    used = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    assert len(entries) == n
    assert used / n < 450, f"{used / n:.0f} bytes per entry"


# -- differential: the optimised walker against a plain port of fsutil's walk ------------------

POOL = [
    "a", "b", "*.py", "**/*.py", "a/*", "a/**", "**/c", "c", "a/b", "a/b/c", "[ab]", "?",
    "**", "*/c*", "b/**/x.py", "!a/b", "!**/x.py", "!c", "!a/b/c", "!a", "!*.txt", "!b/c",
]


def fsutil_reference(root: Path, ignore: IgnoreFile) -> list[str]:
    """fsutil filter.go's Walk, written plainly: recursion, MatchesUsingParentResults,
    the prefix pruning, and parents of re-included entries emitted on demand."""
    m = ignore.matcher
    out: list[str] = []

    def walk(rel_dir: str, info, pending: list[str]) -> None:
        for name in sorted(os.listdir(root / rel_dir if rel_dir else root)):
            rel = f"{rel_dir}/{name}" if rel_dir else name
            is_dir = (root / rel).is_dir() and not (root / rel).is_symlink()
            excluded, child_info = m.matches_using_parent_results(rel, info)
            if excluded:
                if is_dir and m.may_reinclude_below(rel):
                    walk(rel, child_info, pending + [rel])
                continue
            out.extend(p for p in pending if p not in out)
            pending.clear()
            out.append(rel)
            if is_dir:
                walk(rel, child_info, [])

    walk("", None, [])
    return sorted(out)


# no digests: the C listing with hashlib ("c-hashlib") walks exactly as "c"; the pure-Python
# listing's first 10 seeds in the inner loop, all 40 in CI
@pytest.mark.parametrize(
    ("backend", "seed"),
    [
        pytest.param(b, seed, marks=pytest.mark.slow)
        if b == "c-hashlib" or (b == "python" and seed >= 10)
        else (b, seed)
        for b in ("c", "c-hashlib", "python")
        for seed in range(40)
    ],
    indirect=["backend"],
)
def test_walker_matches_fsutil_reference(tmp_path, seed) -> None:
    import random

    rng = random.Random(seed)
    for _ in range(25):
        dirs = [rng.choice("abc") for _ in range(rng.randint(0, 3))]
        leaf = rng.choice(["a", "b", "c", "x.py", "y.txt"])
        target = tmp_path.joinpath(*dirs, leaf)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            if "." in leaf:
                target.write_text("x")
            else:
                target.mkdir(exist_ok=True)
        except (FileExistsError, NotADirectoryError, IsADirectoryError):
            continue  # a file where a folder is wanted, or the other way round
    patterns = rng.sample(POOL, rng.randint(1, 5))
    ignore = IgnoreFile.from_patterns(patterns)
    snap = Snapshot.take(tmp_path, ignore, use_cache=False, workers=1)
    assert snap.paths == fsutil_reference(tmp_path, ignore), patterns


def test_fsutil_differs_from_matches_or_parent_matches() -> None:
    """A BuildKit quirk the walker keeps: MatchesUsingParentResults skips patterns that
    cannot change the result *for the folder*, so a folder's MatchInfo misses them and its
    children are judged without them. MatchesOrParentMatches re-checks every parent."""
    ig = IgnoreFile.from_patterns(["[ab]", "!**/x.py", "a/b", "**/c"])
    assert ig.matches_or_parent_matches("a/a/c/x.py")  # "**/c" matches parent a/a/c
    assert not ig.excludes("a/a/c/x.py")  # excludes() follows the walk: sent
    m = ig.matcher
    info = None
    for p in ["a", "a/a", "a/a/c"]:
        _, info = m.matches_using_parent_results(p, info)
    assert m.matches_using_parent_results("a/a/c/x.py", info)[0] is False  # fsutil: sent


def test_stat_cache_with_non_utf8_names(tmp_path, future_clock) -> None:
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    with open(os.fsencode(str(ctx)) + b"/\xff\xfe.bin", "wb") as f:
        f.write(b"data")
    cache = tmp_path / "cache"
    assert Snapshot.take(ctx, None, cache_dir=cache, digests=True).hashed == 1
    again = Snapshot.take(ctx, None, cache_dir=cache, digests=True)
    assert (again.hashed, again.cache_hits) == (0, 1)
    assert again.entries[0].digest == hashlib.sha256(b"data").digest()


def test_stat_cache_read_only_when_digests_are_wanted(tmp_path, future_clock) -> None:
    ctx = make_tree(tmp_path / "ctx", {"a": "1", "b": "2"})
    cache = tmp_path / "cache"
    Snapshot.take(ctx, None, cache_dir=cache, digests=True)
    lazy = Snapshot.take(ctx, None, cache_dir=cache)
    assert lazy.cache_hits == 0 and all(e.digest is None for e in lazy.files)
    assert lazy.digest_of(["a"]) == Snapshot.take(ctx, None, cache_dir=cache, digests=True).digest_of(["a"])
    assert (lazy.hashed, lazy.cache_hits) == (0, 2)


def test_single_lazy_digests_are_saved_later(tmp_path, future_clock) -> None:
    """Lazy one-file lookups do not rewrite the cache each time; save_cache() (also run at
    exit) writes them."""
    ctx = make_tree(tmp_path / "ctx", {"a": "1", "b": "2"})
    cache = tmp_path / "cache"
    snap = Snapshot.take(ctx, None, cache_dir=cache)
    snap.ensure_digests([snap.get("a")])
    assert not snap.cache_file.exists()
    snap.save_cache()
    again = Snapshot.take(ctx, None, cache_dir=cache, digests=True)
    assert (again.hashed, again.cache_hits) == (1, 1)


@only_in_ci("c-hashlib", "python")  # their stat cache is tested on small trees above; 2,000 files once
def test_one_edited_file_among_many_is_hashed_again_not_the_cache_rewritten(tmp_path, future_clock) -> None:
    """The user's loop (edit a file, run again) on a big tree: rewriting the whole stat cache
    for one digest costs more than hashing that file again next time; many digests (or big
    files) are saved, and on a small tree one is."""
    ctx = make_tree(tmp_path / "ctx", {f"d{i // 100}/f{i}": str(i) for i in range(2000)})
    cache = tmp_path / "cache"
    Snapshot.take(ctx, None, cache_dir=cache, digests=True)
    cache_file = next(cache.glob("*.cache"))
    written = cache_file.read_bytes()
    (ctx / "d3" / "f301").write_text("edited")
    snap = Snapshot.take(ctx, None, cache_dir=cache, cached_digests=True)
    assert snap.cache_hits == 1999
    snap.ensure_digests()  # the edited file
    assert snap.hashed == 1 and cache_file.read_bytes() == written  # not rewritten
    for i in range(0, 2000, 4):
        (ctx / f"d{i // 100}" / f"f{i}").write_text("many")
    snap = Snapshot.take(ctx, None, cache_dir=cache, cached_digests=True)
    snap.ensure_digests()
    assert snap.hashed == 501 and cache_file.read_bytes() != written
    again = Snapshot.take(ctx, None, cache_dir=cache, digests=True)
    assert again.hashed == 0  # the first edited file saved with the others
    small = make_tree(tmp_path / "small", {"a": "1", "b": "2"})
    Snapshot.take(small, None, cache_dir=cache, digests=True)
    (small / "a").write_text("edited")
    snap = Snapshot.take(small, None, cache_dir=cache, cached_digests=True)
    snap.ensure_digests()
    assert Snapshot.take(small, None, cache_dir=cache, digests=True).hashed == 0


# -- the stat cache folder does not grow forever ------------------------------------------------------


def _cache_file(folder: Path, name: str, size: int, age_days: float) -> Path:
    p = folder / f"{name}.cache"
    p.write_bytes(b"x" * size)
    t = time.time() - age_days * 86400
    os.utime(p, (t, t))
    return p


def test_stat_cache_file_is_named_by_the_sha256_of_the_context_path(tmp_path) -> None:
    """The name the caches written before had (hashlib's sha256), with Python's own SHA-256
    module, which loads no OpenSSL: existing caches are found."""
    root = tmp_path / "ctx é"
    name = hashlib.sha256(os.fsencode(root)).hexdigest()[:24] + ".cache"
    assert snapmod._cache_file_for(root, tmp_path / "c") == tmp_path / "c" / name


def test_prune_cache_dir_drops_unused_and_least_recently_used(tmp_path) -> None:
    folder = tmp_path / "stat"
    folder.mkdir()
    fresh = _cache_file(folder, "fresh", 100, 1)
    old = _cache_file(folder, "old", 100, 40)
    big_recent = _cache_file(folder, "big", 600, 0.5)
    oldest_kept = _cache_file(folder, "lru", 400, 5)
    keep = _cache_file(folder, "keep", 10, 90)  # the one just written: never deleted
    other = folder / "notes.txt"
    other.write_text("not ours")
    gone = snapmod.prune_cache_dir(folder, keep=keep, max_age_s=30 * 86400, max_bytes=1000)
    assert sorted(p.name for p in gone) == ["lru.cache", "old.cache"]
    assert fresh.exists() and big_recent.exists() and keep.exists() and other.exists()
    assert not old.exists() and not oldest_kept.exists()
    # once per process and folder
    assert snapmod.prune_cache_dir(folder, max_age_s=0) == []


def test_saving_a_cache_prunes_stale_ones_and_loading_marks_use(tmp_path, future_clock) -> None:
    ctx = make_tree(tmp_path / "ctx", {"a": "1"})
    cache = tmp_path / "cache"
    cache.mkdir()
    stale = _cache_file(cache, "0" * 24, 10, 400)
    first = Snapshot.take(ctx, None, cache_dir=cache, digests=True)
    assert first.cache_file.exists() and not stale.exists()
    t = time.time() - 100 * 86400
    os.utime(first.cache_file, (t, t))
    Snapshot.take(ctx, None, cache_dir=cache, digests=True)  # served by the cache: not rewritten
    assert time.time() - first.cache_file.stat().st_mtime < 3600


def test_stat_cache_with_undecodable_and_unicode_names_is_served(tmp_path, future_clock) -> None:
    """The cache file sorts paths by their bytes (what the C listing searches); names whose
    str order differs from their byte order (undecodable bytes) are still found."""
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    raw = os.fsencode(str(ctx))
    # 'a\udcff' (undecodable) sorts before 'a\U0001f600' as str, after it as bytes (FF > F0)
    for name in (b"a\xff", b"a\xc3\xa9", b"a\xe2\x82\xac", b"a\xf0\x9f\x98\x80", b"ab", b"a", b"b/\xfe"):
        path = raw + b"/" + name
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(name)
    cache = tmp_path / "cache"
    first = Snapshot.take(ctx, None, cache_dir=cache, digests=True)
    second = Snapshot.take(ctx, None, cache_dir=cache, digests=True)
    files = sum(1 for _ in first.files)
    assert (second.hashed, second.cache_hits) == (0, files) and files == 7
    assert [e.digest for e in second.entries] == [e.digest for e in first.entries]
    loaded = snapmod._load_cache(first.cache_file, first.root)
    assert len(loaded) == files
    assert {os.fsencode(p) for p in loaded.as_dict()} == {os.fsencode(e.path) for e in first.files}


@pytest.mark.parametrize("damage", ["truncate", "append", "offsets"])
def test_damaged_stat_cache_is_ignored(tmp_path, future_clock, damage) -> None:
    ctx = make_tree(tmp_path / "ctx", {"a": "1", "b/c": "22"})
    cache = tmp_path / "cache"
    first = Snapshot.take(ctx, None, cache_dir=cache, digests=True)
    data = first.cache_file.read_bytes()
    if damage == "truncate":
        data = data[:-10]
    elif damage == "append":
        data += b"x"
    else:  # the last offset no longer ends the paths
        data = data[: -64 * 2 - 8] + b"\xff" * 8 + data[-64 * 2 :]
    first.cache_file.write_bytes(data)
    again = Snapshot.take(ctx, None, cache_dir=cache, digests=True)
    assert (again.hashed, again.cache_hits) == (2, 0)
    assert [e.digest for e in again.entries] == [e.digest for e in first.entries]
