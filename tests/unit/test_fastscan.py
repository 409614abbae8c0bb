"""The C accelerator of the snapshot walk, called directly: ``list_dir`` against its
pure-Python twin, and ``hash_files`` (sha256 through libcrypto, without the GIL) against
hashlib and against files that change under it."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from layerwise.context import walk as walkmod
from layerwise.context.entry import FILE, MODES, Entry

NATIVE = walkmod._native_list_dir()
HASH_FILES = walkmod._native_hash_files()


@pytest.fixture(autouse=True)
def _need_c() -> None:
    if NATIVE is None or HASH_FILES is None:
        if os.environ.get("CI") == "true":
            pytest.fail("the C accelerator layerwise.context._fastscan was not built, or cannot load libcrypto")
        pytest.skip("the C accelerator (or its libcrypto) is not available here")


def listing(folder: Path, prefix: str = "", cache=None, keep_fd: int = 1):
    """The C listing of ``folder`` (closing its descriptor if one is returned)."""
    out = NATIVE(str(folder), prefix, cache, 1 << 62, MODES, keep_fd)
    return out


def stamps(folder: Path, prefix: str = ""):
    rels, _modes, _sizes, recs, nreg, *_rest, fd = listing(folder, prefix)
    return rels, recs, nreg, fd


SIZES = [0, 1, 2, 55, 64, 65535, 65536, 65537, 262143, 262144, 262145, (1 << 20) + 7, 3 << 20]


@pytest.mark.parametrize("buffer", [1 << 16, 1 << 20], ids=["64k", "1m"])
def test_digests_equal_hashlib(tmp_path, buffer) -> None:
    blobs = {f"f{n:08d}": os.urandom(n) for n in SIZES}
    for name, data in blobs.items():
        (tmp_path / name).write_bytes(data)
    rels, recs, nreg, fd = stamps(tmp_path, "sub/dir/")
    try:
        got, nbytes = HASH_FILES(fd, rels, recs, nreg, len("sub/dir/"), None, bytearray(buffer))
    finally:
        os.close(fd)
    assert (got, nbytes) == (len(blobs), sum(SIZES))
    for rel, rec in zip(rels, recs):
        data = blobs[rel.removeprefix("sub/dir/")]
        assert len(rec) == 64
        assert rec[32:] == hashlib.sha256(data).digest(), rel
        assert int.from_bytes(rec[:8], "little") == len(data)


def test_paths_without_a_folder_descriptor(tmp_path) -> None:
    """dfd -1: the names are paths (here absolute) as they are."""
    (tmp_path / "a").write_bytes(b"abc")
    rels, recs, nreg, fd = stamps(tmp_path)
    os.close(fd)
    paths = [str(tmp_path / r) for r in rels]
    assert HASH_FILES(-1, paths, recs, nreg, 0, None, bytearray(1 << 16)) == (1, 3)
    assert recs[0][32:] == hashlib.sha256(b"abc").digest()


def test_skip_stop_and_records_that_already_have_a_digest(tmp_path) -> None:
    for name in "abcd":
        (tmp_path / name).write_bytes(name.encode())
    rels, recs, _nreg, fd = stamps(tmp_path)
    try:
        cached = recs[0] + b"\x11" * 32  # a cache hit: left alone
        recs[0] = cached
        got = HASH_FILES(fd, rels, recs, 3, 0, {1}, bytearray(1 << 16))
    finally:
        os.close(fd)
    assert rels == ["a", "b", "c", "d"]
    assert got == (1, 1)  # only c: a has its digest, b is skipped, d is past stop
    assert recs[0] is cached
    assert [len(r) for r in recs] == [64, 32, 64, 32]
    assert recs[2][32:] == hashlib.sha256(b"c").digest()


def _changed(tmp_path: Path, change) -> tuple[list[bytes], list[bytes]]:
    (tmp_path / "f").write_bytes(b"0123456789")
    (tmp_path / "g").write_bytes(b"unchanged")
    rels, recs, nreg, fd = stamps(tmp_path)
    before = list(recs)
    change(tmp_path / "f")
    try:
        HASH_FILES(fd, rels, recs, nreg, 0, None, bytearray(1 << 16))
    finally:
        os.close(fd)
    assert rels[:2] == ["f", "g"]
    assert recs[1][32:] == hashlib.sha256(b"unchanged").digest()
    return before, recs


def _grow(p: Path) -> None:
    with open(p, "ab") as f:
        f.write(b"more")


def _rewrite_same_size(p: Path) -> None:
    st = p.stat()
    p.write_bytes(b"abcdefghij")
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))


def _to_symlink(p: Path) -> None:
    p.unlink()
    p.symlink_to("g")


def _to_fifo(p: Path) -> None:
    p.unlink()
    os.mkfifo(p)


def _to_folder(p: Path) -> None:
    p.unlink()
    p.mkdir()


def _vanish(p: Path) -> None:
    p.unlink()


def _shrink(p: Path) -> None:
    os.truncate(p, 3)


@pytest.mark.parametrize(
    "change", [_grow, _shrink, _rewrite_same_size, _to_symlink, _to_fifo, _to_folder, _vanish], ids=lambda f: f.__name__[1:]
)
def test_a_file_that_changed_since_the_listing_keeps_its_stamp(tmp_path, change) -> None:
    """Whatever happened to it (also a FIFO, which must not block the walk), the C path
    leaves the file for the careful Python path, which reports it."""
    before, after = _changed(tmp_path, change)
    assert after[0] is before[0]


def test_bad_arguments_are_errors_not_crashes(tmp_path) -> None:
    (tmp_path / "a").write_bytes(b"a")
    rels, recs, nreg, fd = stamps(tmp_path)
    try:
        with pytest.raises(ValueError, match="64 KiB"):
            HASH_FILES(fd, rels, recs, nreg, 0, None, bytearray(100))
        with pytest.raises(IndexError):
            HASH_FILES(fd, rels, recs, nreg + 1, 0, None, bytearray(1 << 16))
        with pytest.raises(TypeError):
            HASH_FILES(fd, [b"a"], recs, 1, 0, None, bytearray(1 << 16))
        with pytest.raises(TypeError):
            HASH_FILES(fd, rels, recs, nreg, 0, None, b"\0" * (1 << 16))  # read-only buffer
        with pytest.raises(TypeError):
            HASH_FILES(fd, rels, recs, nreg, 0, 3, bytearray(1 << 16))  # skip is no collection
    finally:
        os.close(fd)
    assert [len(r) for r in recs] == [32]


def test_a_library_without_sha256_is_refused(tmp_path) -> None:
    """In a fresh interpreter (the loaded library stays for the process): a path that is no
    libcrypto is refused and hash_files stays unavailable; the real one is then taken."""
    (tmp_path / "fake.so").write_bytes(b"not a library")
    from layerwise.context import _fastscan

    # loaded alone (the layerwise.context package would set it up on import)
    code = f"""
import importlib.util
spec = importlib.util.spec_from_file_location("_fastscan", {_fastscan.__file__!r})
f = importlib.util.module_from_spec(spec)
spec.loader.exec_module(f)
try:
    f.hash_files(-1, [], [], 0, 0, None, bytearray(1 << 16))
except RuntimeError as e:
    print("unavailable:", e)
print(f.sha256_setup({str(tmp_path / "fake.so")!r}), f.sha256_setup("libc.so.6"))
print(f.sha256_setup({walkmod._libcrypto_candidates()[0]!r}), f.hash_files(-1, [], [], 0, 0, None, bytearray(1 << 16)))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.splitlines() == [
        "unavailable: hash_files: sha256_setup() has not succeeded",
        "False False",
        "True (0, 0)",
    ]


def test_hashing_lets_other_threads_run(tmp_path) -> None:
    """The GIL is released for the reading and hashing: another Python thread makes progress
    while one call hashes 64 MiB (with the GIL held it could not run at all)."""
    (tmp_path / "big").write_bytes(os.urandom(1 << 20) * 64)
    rels, recs, nreg, fd = stamps(tmp_path)
    ticks = []
    inside = threading.Event()
    done = threading.Event()

    def ticker() -> None:
        inside.wait()
        while not done.is_set():
            ticks.append(1)
            time.sleep(0)  # lets the GIL go, for the main thread to take back

    t = threading.Thread(target=ticker)
    t.start()
    # no forced switches: the ticker runs only when this thread lets the GIL go by itself
    interval = sys.getswitchinterval()
    sys.setswitchinterval(60)
    try:
        inside.set()
        HASH_FILES(fd, rels, recs, nreg, 0, None, bytearray(1 << 16))
        during = len(ticks)
    finally:
        sys.setswitchinterval(interval)
        done.set()
        t.join()
        os.close(fd)
    assert len(recs[0]) == 64
    assert during > 0


@pytest.mark.parametrize("keep_fd", range(16))
@pytest.mark.parametrize("cached", [False, True], ids=["miss", "hit"])
@pytest.mark.parametrize("link", [True, False], ids=["link", "nolink"])
def test_listing_equals_the_python_twin(tmp_path, keep_fd, cached, link) -> None:
    """The same listing from both (descriptors aside); the folder stays open with
    KEEP_ALWAYS, with KEEP_FOR_MISSES when some regular file missed the cache, with
    KEEP_FOR_LINKS when it holds a symlink; IN_PLACE (the place check) changes neither."""
    for name in ["b", "a", "é", "z.py"]:
        (tmp_path / name).write_bytes(name.encode())
    (tmp_path / "sub").mkdir()
    if link:
        (tmp_path / "ln").symlink_to("a")
    first = listing(tmp_path, "p/", None, 0)
    cache = {rel: rec + b"\x22" * 32 for rel, rec in zip(first[0], first[3])} if cached else None
    c = listing(tmp_path, "p/", cache, keep_fd)
    py = walkmod._list_dir_py(str(tmp_path), "p/", cache, 1 << 62, MODES, keep_fd)
    for out in (c, py):
        if out[8] >= 0:
            os.close(out[8])
    def by_entry(out):
        rels, modes, sizes, recs, nreg, hits, racy, errors = out[:8]
        rows = list(zip(rels, modes, sizes, recs))
        return sorted(rows[:nreg]), sorted(rows[nreg:]), nreg, hits, sorted(racy), errors

    assert by_entry(c) == by_entry(py)
    assert by_entry(c)[2:4] == (4, 4 if cached else 0)
    expect_open = bool(
        keep_fd & walkmod.KEEP_ALWAYS
        or (keep_fd & walkmod.KEEP_FOR_MISSES and not cached)
        or (keep_fd & walkmod.KEEP_FOR_LINKS and link)
    )
    assert (c[8] >= 0, py[8] >= 0) == (expect_open, expect_open)


@pytest.mark.parametrize("openat2", [True, False], ids=["openat2", "proc"])
@pytest.mark.parametrize("keep_fd", [4, 5, 7, 12, 15])
def test_place_check_fails_through_a_symlinked_parent(tmp_path, keep_fd, openat2) -> None:
    """With IN_PLACE both listings refuse (ELOOP, nothing left open) a folder whose path
    goes through a symlink: the opened folder is not at that path (a parent swapped for a
    link during the walk); without it they list it. The C listing has the kernel check it
    (openat2), or reads /proc/self/fd as the Python one does (kernels without openat2)."""
    import errno

    from layerwise.context._fastscan import set_openat2

    (tmp_path / "real" / "sub").mkdir(parents=True)
    (tmp_path / "real" / "sub" / "f").write_text("x")
    (tmp_path / "via").symlink_to(tmp_path / "real")
    through = str(tmp_path / "via" / "sub")
    was = set_openat2(openat2)
    try:
        _place_check_cases(tmp_path, through, keep_fd, errno.ELOOP)
    finally:
        set_openat2(was)


def _place_check_cases(tmp_path, through: str, keep_fd: int, eloop: int) -> None:
    fds = set(os.listdir("/proc/self/fd"))
    for lister in (NATIVE, walkmod._list_dir_py):
        with pytest.raises(OSError) as exc:
            lister(through, "", None, 1 << 62, MODES, keep_fd)
        assert exc.value.errno == eloop
        out = lister(str(tmp_path / "real" / "sub"), "", None, 1 << 62, MODES, keep_fd)
        assert out[0] == ["f"]
        if out[8] >= 0:
            os.close(out[8])
        out = lister(through, "", None, 1 << 62, MODES, keep_fd & ~walkmod.IN_PLACE)
        assert out[0] == ["f"]
        if out[8] >= 0:
            os.close(out[8])
    assert set(os.listdir("/proc/self/fd")) == fds


@pytest.mark.skipif(
    sys.platform != "linux" or tuple(map(int, os.uname().release.split(".")[:2])) < (5, 6),
    reason="openat2 is Linux 5.6 and later",
)
def test_place_check_is_the_kernels_where_it_has_openat2(tmp_path) -> None:
    """The C listing's place check is openat2's (no readlink of /proc per folder): the call
    is accepted, so the listing does not fall back to /proc for good (a wrong open_how size
    or flag would: E2BIG, EINVAL)."""
    from layerwise.context._fastscan import set_openat2

    (tmp_path / "sub").mkdir()
    assert set_openat2(True) is True  # on by default
    out = listing(tmp_path / "sub", "sub/", None, walkmod.IN_PLACE)
    assert out[0] == [] and out[8] == -1
    assert set_openat2(True) is True  # not switched off by a refused call


def test_c_made_entries_equal_python_made_ones() -> None:
    """_fastscan.make_entries fills an Entry's slots without its __init__: same objects."""
    from layerwise.context._fastscan import make_entries

    args = (["a", "b/c"], FILE, [0o100644, 0o100755], [1, 2], [b"x" * 32, b"y" * 64])
    c_made: list = []
    py_made: list = []
    make_entries(Entry, *args, 2, c_made)
    walkmod._make_entries_py(Entry, *args, 2, py_made)
    assert [(e.path, e.kind, e.st_mode, e.size, e.target, e.rec, type(e)) for e in c_made] == [
        (e.path, e.kind, e.st_mode, e.size, e.target, e.rec, type(e)) for e in py_made
    ]
    c_made[0].size = 5  # writable like any Entry
    assert c_made[0].size == 5

    class NotAnEntry:
        __slots__ = ("path",)

    with pytest.raises(TypeError):
        make_entries(NotAnEntry, *args, 2, [])
    with pytest.raises(IndexError):
        make_entries(Entry, *args, 3, [])


def _index(records: dict[bytes, bytes]) -> tuple[bytes, bytes, bytes]:
    """A stat cache's buffers as snapshot.StatCache holds them: fs-encoded paths sorted by
    bytes, n + 1 little-endian u64 offsets, 64-byte records."""
    import struct

    keys = sorted(records)
    offsets = [0]
    for k in keys:
        offsets.append(offsets[-1] + len(k))
    return b"".join(keys), struct.pack(f"<{len(offsets)}Q", *offsets), b"".join(records[k] for k in keys)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("prefix", ["", "p/", "p/é q/"])
def test_index_lookups_find_what_the_dict_finds(tmp_path, prefix, seed) -> None:
    """The listing searches the cache's buffers (below the folder's prefix, each name from the
    previous one's on, without the GIL): the same records as from the cache as a dict, with
    names that sort around a subfolder's paths (a-b < a/x < a0), undecodable and long names,
    names the cache lacks or holds with another stamp, and other folders' paths around them
    (few or many: the galloping search's steps)."""
    import random

    rng = random.Random(seed)
    names = ["a", "a-b", "a0", "a.py", "b", "z", "é", "\udcff.bin", "x" * 200, "y" * 255, "-", "~", "zz" * 100]
    names += [f"m{i}.py" for i in range(40)]
    for n in names:
        (tmp_path / n).write_bytes(os.fsencode(n)[:10])
    (tmp_path / "a").unlink()
    (tmp_path / "a").mkdir()  # a folder named between files: its paths are in the cache too
    first = listing(tmp_path, prefix, None, 0)
    rels, recs, nreg = first[0], first[3], first[4]
    records: dict[bytes, bytes] = {}
    for rel, rec in zip(rels[:nreg], recs[:nreg]):
        roll = rng.random()
        if roll < 0.7:
            records[os.fsencode(rel)] = rec + os.urandom(32)  # a hit
        elif roll < 0.85:
            records[os.fsencode(rel)] = b"\0" * 32 + os.urandom(32)  # another stamp: a miss
    others = ["", "p", "p/", "p/a/x", "p/a/y/z", "p/a-", "p/zz/q", "o/a", "q", "p/é q/a/x", prefix + "a/inner"]
    others += [f"{prefix}a/deep/{k:05d}" for k in range(rng.choice([0, 3, 300, 3000]))]  # between a-b and a0
    others += [f"{prefix}m{rng.randrange(40)}.py/{k}" for k in range(rng.choice([0, 50]))]
    for other in others:
        records.setdefault(os.fsencode(other) or b"!", os.urandom(64))
    as_dict = {os.fsdecode(k): v for k, v in records.items()}
    by_index = listing(tmp_path, prefix, _index(records), 0)
    by_dict = listing(tmp_path, prefix, as_dict, 0)
    assert by_index[:8] == by_dict[:8]
    hits = by_index[5]
    assert 0 < hits < nreg
    assert hits == sum(1 for rel, rec in zip(rels[:nreg], recs[:nreg])
                       if records.get(os.fsencode(rel), b"")[:32] == rec)  # fmt: skip


def test_a_damaged_index_finds_nothing(tmp_path) -> None:
    import struct

    (tmp_path / "f").write_text("x")
    first = listing(tmp_path, "", None, 0)
    paths, offsets, recs = _index({b"f": first[3][0] + b"\1" * 32})
    assert listing(tmp_path, "", (paths, offsets, recs), 0)[5] == 1
    bad = struct.pack("<2Q", 0, 99)  # past the end of the paths
    assert listing(tmp_path, "", (paths, bad, recs), 0)[5] == 0


def test_suffix_screen_equals_str_endswith() -> None:
    """_fastscan.ends_with_any, the walk's ignore screen by required suffixes, finds what
    str.endswith finds (its pure-Python twin): ASCII paths as bytes, the others (non-ASCII
    text, undecodable names' surrogate escapes) and non-ASCII suffixes by the slow path."""
    import random

    from layerwise.context._fastscan import ends_with_any

    from layerwise.context.matching import _suffix_screen_py

    alphabet = ["a", "b", "/", ".", "_", "é", "\udcff", "漢", "\U0001f40d", "y"]
    rng = random.Random(17)
    paths = ["", "a", "pkg/__pycache__", "x.pyc", "pyc", "é.pyc", "a/é", "\udcff.pyc", ".pyc\udcff"]
    paths += ["".join(rng.choices(alphabet, k=rng.randint(0, 12))) for _ in range(3000)]
    for suffixes in [
        ("__pycache__", ".pyc"),
        (".pyc",),
        ("é",),
        ("a/é", "y"),
        ("\udcff",),
        ("\U0001f40d", "b"),
        ("ab", "/a"),
    ]:
        want = _suffix_screen_py(paths, suffixes)
        got = ends_with_any(paths, suffixes)
        assert got == sorted(got) and set(got) == set(want), suffixes
        assert want, suffixes  # (each case hits some path: the comparison says something)
    assert ends_with_any(paths, ("a" * 40,)) == []  # longer than any path
    assert ends_with_any(["abc"], ()) == []
    with pytest.raises(TypeError):
        ends_with_any(["abc", 3], ("c",))


def test_stat_cache_index_hit_is_the_whole_path(tmp_path) -> None:
    """Within a folder's range of the stat cache's index only the names are compared while
    searching; a hit is then compared in full. A damaged (unsorted) index whose range holds
    another folder's path ending with the same name, with the file's very stamp, gives no
    hit; the same record under the right path does."""
    (tmp_path / "b").write_bytes(b"content")
    rels, recs, _nreg, fd = stamps(tmp_path, "d/")
    os.close(fd)
    assert rels == ["d/b"]
    record = recs[0] + b"\x11" * 32

    def index(paths: list[bytes]) -> tuple[bytes, bytes, bytes]:
        offsets = [0]
        for p in paths:
            offsets.append(offsets[-1] + len(p))
        packed = b"".join(o.to_bytes(8, "little") for o in offsets)
        return b"".join(paths), packed, record * len(paths)

    damaged = index([b"d/a", b"q/b", b"d/c", b"d/d", b"d/e"])  # "q/b" inside the "d/" range
    out = listing(tmp_path, "d/", damaged, 0)
    assert out[5] == 0 and out[3] == recs  # no hit: the stamp alone
    good = index([b"d/a", b"d/b", b"d/c", b"d/d", b"d/e"])
    out = listing(tmp_path, "d/", good, 0)
    assert out[5] == 1 and out[3] == [record]


def test_entry_type_checked_again_when_the_class_changes() -> None:
    """make_entries remembers the last class it checked (its six slots looked up once, not
    per folder), until the class's dict changes: a slot replaced by a property is refused."""
    from layerwise.context._fastscan import make_entries

    class Slotted:
        __slots__ = ("kind", "path", "rec", "size", "st_mode", "target")  # (found by name)

    args = (["a"], FILE, [0o100644], [1], [b"x" * 32], 1)
    out: list = []
    make_entries(Slotted, *args, out)
    make_entries(Slotted, *args, out)  # (from the remembered check)
    assert [e.path for e in out] == ["a", "a"]
    Slotted.path = property(lambda self: "p")  # type: ignore[assignment]
    with pytest.raises(TypeError):
        make_entries(Slotted, *args, out)
    assert len(out) == 2
