"""The walk behind :meth:`~layerwise.context.snapshot.Snapshot.take`: fsutil's filter
semantics, the stat-cache lookups and hashing done while walking, and the split of big trees
over threads or forked worker processes.

The walk goes breadth-first until a frontier of folders waits (hashing nothing yet: those
files are hashed in parallel after the walk), then shares the frontier out, each worker
doing ignore matching, stat-cache lookups and, if asked, hashing:

* on threads when the C accelerator (``_fastscan``) lists the folders and, for a cold
  snapshot, hashes the files: both run without the GIL;
* on forked workers otherwise (hashlib on many small files would hold the GIL most of the
  time): they claim folders from a shared token pipe (so they balance themselves) and stream
  compact columns through unlinked temporary files, which the parent turns into
  :class:`Entry` objects.
"""

from __future__ import annotations

import errno
import marshal
import os
import stat as st
import sys
import time
from collections.abc import Callable, Collection, Iterator
from itertools import repeat

from layerwise.context.entry import (
    DIR,
    FILE,
    MODES,
    OTHER,
    STAMP,
    SYMLINK,
    Entry,
    ExcludedStats,
    SnapshotWarning,
    stamp_of,
)
from layerwise.context.ignore import IgnoreFile, PatternMatcher
from layerwise.context.matching import WalkMatcher

TYPE_CHECKING = False  # (typing.TYPE_CHECKING without importing typing at start-up)
if TYPE_CHECKING:
    from pathlib import Path  # (only in annotations: the walk works on str paths)

SMALL = 1 << 20  # files up to this size are read in one call
#: files up to this size are hashed by the walk itself when all digests are wanted
_HASH_INLINE_MAX = 1 << 20
_S_IFREG, _S_IFDIR, _S_IFLNK = st.S_IFREG, st.S_IFDIR, st.S_IFLNK
_KINDS = {_S_IFREG: FILE, _S_IFDIR: DIR, _S_IFLNK: SYMLINK}
#: the walk forks workers only for trees with more entries than this (seen breadth-first)
_FORK_MIN_ENTRIES = 2000
#: folders waiting per worker before the walk is shared out (finer = better balance)
_FRONTIER_PER_WORKER = 64
#: the interpreter's thread switch interval during a threaded walk (seconds)
_SWITCH_INTERVAL = 0.0005


class _NoLock:
    """``contextlib.nullcontext()`` without importing contextlib at start-up: a walk on one
    thread emits without a lock."""

    __slots__ = ()

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


_NO_LOCK = _NoLock()


def walk_matcher(matcher: PatternMatcher) -> WalkMatcher:
    """The walk's form of an ignore file's matcher, made once per matcher."""
    wm = matcher._plan
    if wm is None:
        wm = matcher._plan = WalkMatcher(matcher)
    return wm


class _Pending:
    """An excluded folder walked into because an exception might re-include something."""

    __slots__ = ("emitted", "entry", "line", "parent", "remote")

    def __init__(self, entry: Entry, parent: _Pending | None, line: int) -> None:
        self.entry = entry
        self.emitted = False
        self.remote = False
        self.parent = parent
        self.line = line


# Hooks the tests replace to simulate failures that root cannot produce with chmod.
_scandir = os.scandir
_open = os.open

_INO_MASK = 0xFFFFFFFFFFFFFFFF


#: ``keep_fd`` flags of a folder listing (``_list_dir``): keep the folder open for the caller
#: always, or only when some regular file is not a stat-cache hit (to hash it relative to
#: the folder), or only when some entry is a symlink (to read it); IN_PLACE: check that the
#: folder opened is the path given, reached through no symlink
KEEP_ALWAYS, KEEP_FOR_MISSES, IN_PLACE, KEEP_FOR_LINKS = 1, 2, 4, 8


def _list_dir_py(
    path: str,
    prefix: str,
    cache: dict[str, bytes] | None,
    racy_limit: int,
    modes: dict[int, int],
    keep_fd: int = 0,
) -> tuple[list[str], list[int], list[int], list[bytes], int, int, list[str], list[tuple[str | None, int]], int]:
    """The folder ``path``, listed and lstat'ed:
    ``(rels, modes, sizes, recs, nreg, hits, racy, errors, fd)``.

    The pure-Python twin of ``layerwise.context._fastscan.list_dir`` (its C source documents
    the contract): regular files first (``nreg`` of them), each entry's ``rec`` being its
    32-byte stat stamp or, when ``cache`` holds the path with the same stamp, the cached
    record (``hits`` counts those); ``racy`` lists the regular files changed at or after
    ``racy_limit``; ``errors`` has ``(rel, errno)`` per entry that could not be stat'ed and
    ``(None, errno)`` if reading the folder failed part-way; ``fd`` is an open descriptor of
    the folder (the caller closes it) when ``keep_fd`` asks for it (flags: :data:`KEEP_ALWAYS`,
    :data:`KEEP_FOR_MISSES`, :data:`KEEP_FOR_LINKS`), else -1; with :data:`IN_PLACE` it also
    makes sure the opened folder is ``path``, reached through no symlink (a parent swapped
    for one: OSError ELOOP). Raises OSError if the folder cannot be listed at all."""
    dfd = os.open(path, _SUBDIR_FLAGS)
    try:
        if keep_fd & IN_PLACE:
            # (the C listing has the kernel check it as it opens the folder: openat2)
            where = _opened_dir(dfd)
            if where is not None and where != path:
                raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), path)
        listing = _list_open_dir(dfd, prefix, cache, racy_limit, modes)
    except BaseException:
        os.close(dfd)
        raise
    nreg, hits = listing[4], listing[5]
    keep = (
        keep_fd & KEEP_ALWAYS
        or (keep_fd & KEEP_FOR_MISSES and hits < nreg)
        or (keep_fd & KEEP_FOR_LINKS and any(m & 0o170000 == _S_IFLNK for m in listing[1][nreg:]))
    )
    if not keep:
        os.close(dfd)
        dfd = -1
    return (*listing, dfd)


def _list_open_dir(dfd: int, prefix: str, cache: dict[str, bytes] | None, racy_limit: int, modes: dict[int, int]):
    reg_rels: list[str] = []
    reg_modes: list[int] = []
    reg_sizes: list[int] = []
    reg_recs: list[bytes] = []
    rels: list[str] = []
    out_modes: list[int] = []
    sizes: list[int] = []
    recs: list[bytes] = []
    racy: list[str] = []
    errors: list[tuple[str | None, int]] = []
    hits = 0
    pack = STAMP.pack
    cache_get = cache.get if cache is not None else {}.get
    with _scandir(dfd) as it:
        while True:
            try:
                d = next(it)
            except StopIteration:
                break
            except OSError as exc:
                errors.append((None, exc.errno or errno.EIO))
                break
            rel = prefix + d.name
            try:
                s = d.stat(follow_symlinks=False)
            except OSError as exc:
                errors.append((rel, exc.errno or errno.EIO))
                continue
            m = s.st_mode
            mt = s.st_mtime_ns
            ct = s.st_ctime_ns
            rec = pack(s.st_size, mt, ct, s.st_ino & _INO_MASK)
            if m & 0o170000 == _S_IFREG:
                if mt >= racy_limit or ct >= racy_limit:
                    racy.append(rel)
                cached = cache_get(rel)
                if cached is not None and cached[:32] == rec:
                    hits += 1
                    rec = cached
                reg_rels.append(rel)
                reg_modes.append(modes.setdefault(m, m))
                reg_sizes.append(s.st_size)
                reg_recs.append(rec)
            else:
                rels.append(rel)
                out_modes.append(modes.setdefault(m, m))
                sizes.append(s.st_size)
                recs.append(rec)
    nreg = len(reg_rels)
    return reg_rels + rels, reg_modes + out_modes, reg_sizes + sizes, reg_recs + recs, nreg, hits, racy, errors


def _native_list_dir() -> Callable | None:
    """The C version of :func:`_list_dir_py` if it was built (and not switched off with
    ``LAYERWISE_PURE_PYTHON=1``)."""
    from layerwise.context import native

    return native.function("list_dir")


def _native_hash_files() -> Callable | None:
    """``_fastscan.hash_files`` (sha256 of a folder's files without the GIL, through the
    libcrypto that hashlib uses) if the C listing is in use and libcrypto could be loaded."""
    if _list_dir is _list_dir_py:
        return None
    from layerwise.context import native

    hash_files, sha256_setup = native.function("hash_files"), native.function("sha256_setup")
    if hash_files is None or sha256_setup is None:
        return None
    for lib in _libcrypto_candidates():
        try:
            if sha256_setup(lib):
                return hash_files
        except (OSError, ValueError):
            continue
    return None


def _libcrypto_candidates() -> list[str]:
    """The libcrypto this process already mapped for hashlib (Linux), then the usual names."""
    found: list[str] = []
    try:
        import _hashlib  # noqa: F401  (maps libcrypto into the process)

        with open("/proc/self/maps", encoding="utf-8", errors="surrogateescape") as maps:
            for line in maps:
                path = line.rstrip("\n").partition("/")[2]
                if path and os.path.basename(path).startswith("libcrypto") and "/" + path not in found:
                    found.append("/" + path)
    except (ImportError, OSError):
        pass
    return found + ["libcrypto.so.3", "libcrypto.so.1.1", "libcrypto.3.dylib", "libcrypto.dylib", "libcrypto.so"]


def _lookup_form(cache) -> object:
    """The stat cache as the folder listing takes it: a dict for the pure-Python listing;
    for the C one, a dict or the buffers of a ``snapshot.StatCache``, searched in place."""
    if cache is None or isinstance(cache, dict):
        return cache
    if _list_dir is _list_dir_py:
        return cache.as_dict()
    return cache.native()


def _make_entries_py(entry_type, paths, kind, modes, sizes, recs, stop: int, out: list) -> None:
    """``out.extend(entry_type(paths[i], kind, modes[i], sizes[i], None, recs[i]) for i < stop)``
    (the C version, ``_fastscan.make_entries``, fills the slots without calling __init__)."""
    out.extend(map(entry_type, paths[:stop], repeat(kind), modes[:stop], sizes[:stop], repeat(None), recs[:stop]))


#: lists one folder: the C accelerator when available, else its pure-Python twin (tests
#: replace it to simulate failures, or to compare both)
_list_dir = _native_list_dir() or _list_dir_py
_make_entries = _make_entries_py
if _list_dir is not _list_dir_py:
    from layerwise.context.native import function as _native_function

    _make_entries = _native_function("make_entries")
#: which of the two the walk uses ("c" or "python"), for reports and benchmarks
BACKEND = "python" if _list_dir is _list_dir_py else "c"


def _hashes() -> Callable | None:
    """``_hash_files``: hashes a folder's files in C, in place (None: hash_file in Python);
    tests replace it. Looked up on first use (it loads libcrypto: a walk that hashes nothing,
    as check's, does not pay for it at start-up)."""
    g = globals()
    if "_hash_files" not in g:
        g["_hash_files"] = _native_hash_files()
    return g["_hash_files"]


def __getattr__(name: str):
    if name == "_hash_files":
        return _hashes()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)
#: the walk's folders: never through a symlink (one swapped in for a listed folder: ELOOP)
_SUBDIR_FLAGS = _DIR_FLAGS | getattr(os, "O_NOFOLLOW", 0)


def _opened_dir(fd: int) -> str | None:
    """The path the kernel has for an open folder (None: no /proc)."""
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return None


def hash_file(
    path: str, rec: bytes, view: memoryview, dir_fd: int | None = None
) -> tuple[bytes | None, str | None]:
    """(stamp + sha256, warning) for one regular file whose walk stamp starts ``rec``;
    (None, message) if it cannot be read. ``path`` is relative to ``dir_fd`` when given.

    Fast path (the file did not change since the walk): open, one read, fstat, close. Any
    difference from the walk's stamp takes the careful path, which re-checks the type and
    reports a change during the read."""
    import hashlib  # (here: a check that hashes nothing does not load OpenSSL at start-up)

    try:
        fd = _open(path, _OPEN_FLAGS, dir_fd=dir_fd)
    except FileNotFoundError:
        return None, "vanished before it could be read"
    except PermissionError:
        return None, "cannot read file (permission denied): BuildKit sends it empty, the legacy builder fails on it"
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return None, "replaced by a symlink during the snapshot"
        return None, f"cannot read file ({exc.strerror})"
    try:
        expected = rec[:32]
        size = STAMP.unpack_from(rec)[0] if len(rec) >= 32 else -1
        if 0 <= size < SMALL:
            data = os.read(fd, size + 1)
            if len(data) == size and stamp_of(os.fstat(fd)) == expected:
                return expected + hashlib.sha256(data).digest(), None
            os.lseek(fd, 0, os.SEEK_SET)
        before = os.fstat(fd)
        if not st.S_ISREG(before.st_mode):
            return None, "changed type during the snapshot"
        stamp = stamp_of(before)
        h = hashlib.sha256()
        got = 0
        while True:
            n = os.readv(fd, [view])
            if not n:
                break
            h.update(view[:n])
            got += n
        after = os.fstat(fd)
    except OSError as exc:
        return None, f"cannot read file ({exc.strerror})"
    finally:
        os.close(fd)
    if stamp_of(after) != stamp or got != before.st_size:
        return None, "changed while being read; its digest is unknown"
    msg = None
    if stamp != expected:
        msg = "changed during the snapshot (new content used)"
    return stamp + h.digest(), msg



def _one_thread() -> bool:
    """Whether this process runs one thread (``threading`` is imported only when some code
    started threads through it: a walk on one thread, as check's, does not import it)."""
    threading = sys.modules.get("threading")
    return threading is None or threading.active_count() == 1

class Walker:
    """The walk itself. Runs in-process, or split over forked workers for big trees: the
    parent walks breadth-first until it has a frontier of folders, the workers each walk a
    share of it (ignore matching, stat cache lookups and, if asked, hashing included) and send
    back compact columns that the parent turns into :class:`Entry` objects."""

    def __init__(
        self,
        root: str | Path,
        ignore: IgnoreFile | None,
        cache,
        progress: Callable[[int], None] | None,
        hash_now: bool = False,
    ) -> None:
        self.root = os.fspath(root)
        #: the walk opens folders under the resolved root and checks each one it opened is
        #: really there: a folder (or a parent of it) swapped for a symlink while walking is
        #: not followed (its files outside the context are never listed nor hashed)
        self.real_root = os.path.realpath(self.root)
        #: the real root and "/": the absolute path of a context path is root_slash + path
        self.root_slash = self.real_root.rstrip("/") + "/"
        self.matcher = walk_matcher(ignore.matcher) if ignore is not None and ignore.matcher.patterns else None
        self.lines = self.matcher.lines if self.matcher else []
        self.cache = cache
        self._lookup = _lookup_form(cache)
        self.progress = progress
        self.hash_now = hash_now
        self.entries: list[Entry] = []
        self.warnings: list[SnapshotWarning] = []
        self.excluded = ExcludedStats()
        self.cache_hits = 0
        #: files listed without a digest (not hashed during the walk: too big, unreadable,
        #: or not asked for)
        self.deferred = 0
        self.hashed = 0
        self.hashed_bytes = 0
        self.seen = 0
        self.pendings: list[_Pending] = []
        self.emitted_remote: list[str] = []
        self.racy: list[str] = []
        #: regular files listed without a stat-cache record (the cache's misses: new or
        #: changed since it was written; excluded ones too), and the symlinks sent: what a
        #: revision's cached git state must ask git about again (None: not known, a forked walk)
        self.misses: list[str] | None = [] if cache else None
        self.links: list[Entry] = []
        #: the folders and special files sent (what persisted folder digests are checked against)
        self.dirs: list[Entry] = []
        self.others: list[Entry] = []
        self.racy_limit = 0
        self._view: memoryview | None = None
        self.emit_lock = _NO_LOCK
        self._depth_first = True
        #: hash while walking: when digests are wanted, except in the breadth-first start of
        #: a parallel walk (its files are left to the parallel hashing that follows the walk)
        self._hashing = hash_now

    # -- entries ---------------------------------------------------------------------------

    def _entry(self, rel: str, kind: str, mode: int, size: int, rec: bytes, name: str, dfd: int) -> Entry | None:
        """The entry of one listed path that is not a plain file sent outside excluded folders
        (those take the vectorised path in :meth:`_scan`). ``name`` is relative to the open
        folder ``dfd``, or absolute when ``dfd`` is -1."""
        target = None
        if kind == FILE:
            if len(rec) == 32 and self._hashing and size < _HASH_INLINE_MAX:
                # bigger files are left to ensure_digests, which hashes them on threads
                rec, size = self._hash_now(name, dfd, rel, rec, size)
            if len(rec) == 32:
                self.deferred += 1
        elif kind == SYMLINK:
            try:
                target = os.readlink(name, dir_fd=dfd if dfd >= 0 else None)
            except OSError as exc:
                self.warnings.append(SnapshotWarning(rel, f"cannot read symlink ({exc.strerror})"))
                return None
        else:
            size = 0
        return Entry(rel, kind, mode, size, target, rec)

    def _emit(self, entry: Entry, chain: _Pending | None) -> None:
        """Add an entry found below excluded folders, and those folders before it once."""
        with self.emit_lock:  # threads may share the chain's upper folders
            while chain is not None and not chain.emitted:
                chain.emitted = True
                if chain.remote:
                    self.emitted_remote.append(chain.entry.path)
                else:
                    self.entries.append(chain.entry)
                    self.dirs.append(chain.entry)
                chain = chain.parent
        self.entries.append(entry)

    # -- walking ---------------------------------------------------------------------------

    def walk(self, frames: list[tuple], stop_at: int | None = None, min_seen: int = 0) -> list[tuple]:
        """Walk the folders in ``frames`` ((rel, MatchInfo, chain) each). With ``stop_at``,
        go breadth-first and stop once that many folders wait (and ``min_seen`` entries were
        seen); return them."""
        from collections import deque

        queue = deque(frames)
        self._depth_first = stop_at is None
        self._hashing = self.hash_now and self._depth_first
        pop = queue.pop if self._depth_first else queue.popleft
        while queue:
            if stop_at is not None and len(queue) >= stop_at and self.seen >= min_seen:
                break
            self._walk_dir(*pop(), queue)
        return list(queue)

    def _walk_dir(self, rel_dir: str, info: tuple | None, chain: _Pending | None, queue) -> None:
        if rel_dir:
            abs_dir = self.root_slash + rel_dir
            # the listing checks where the folder it opened is; it stays open only when its
            # files (to hash) or symlinks are to be read (relative to it) here: a warm
            # snapshot closes nearly every folder in the listing, without the GIL
            keep = IN_PLACE | KEEP_FOR_LINKS | (KEEP_FOR_MISSES if self._hashing else 0)
        else:
            abs_dir = self.real_root
            keep = KEEP_ALWAYS  # (the root is checked below)
        try:
            listing = _list_dir(abs_dir, rel_dir + "/" if rel_dir else "", self._lookup, self.racy_limit, MODES, keep)
        except FileNotFoundError:
            self.warnings.append(SnapshotWarning(rel_dir, "folder vanished during the snapshot"))
            return
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.ENOTDIR) and rel_dir:
                self.warnings.append(SnapshotWarning(rel_dir, "folder replaced by a symlink during the snapshot "
                                                     "(not followed)"))  # fmt: skip
                return
            if chain is None or chain.emitted:
                self.warnings.append(
                    SnapshotWarning(
                        rel_dir, f"cannot read folder ({exc.strerror}); docker build would fail on it"
                    )
                )
            return
        dfd = listing[8]
        if dfd >= 0 and not rel_dir:
            where = _opened_dir(dfd)
            if where is not None and where != abs_dir:  # a parent swapped for a symlink meanwhile
                os.close(dfd)
                self.warnings.append(SnapshotWarning(rel_dir, "folder replaced by a symlink during the snapshot "
                                                     "(not followed)"))  # fmt: skip
                return
        try:
            self._scan(listing, dfd, rel_dir, abs_dir, info, chain, queue)
        finally:
            if dfd >= 0:
                os.close(dfd)

    def _scan(self, listing: tuple, dfd: int, rel_dir: str, abs_dir: str, info, chain, queue) -> None:
        """Turn one folder's listing (see :func:`_list_dir_py`) into entries. The hot path of
        the whole tool is the block of plain files that nothing excludes, outside excluded
        folders, already in the stat cache: they become entries in one ``map``."""
        rels, modes, sizes, recs, nreg, hits, racy, errors, _fd = listing
        if errors:
            self._listing_errors(rel_dir, errors)
        if racy:
            self.racy.extend(racy)
        if hits < nreg and self.misses is not None:
            self.misses.extend([rels[i] for i in range(nreg) if len(recs[i]) <= 32])
        n = len(rels)
        matcher = self.matcher
        # which entries some pattern may match: the others are sent, with nothing inherited
        flagged: Collection[int] = ()
        if matcher is not None:
            screen = matcher.folder(info, rel_dir.count("/") + 1 if rel_dir else 0)
            if screen is None:
                matcher = None  # nothing can match below here: skip matching entirely
            else:
                flagged = screen(rels)
        hash_now = self._hashing
        done = hits  # regular files with their digest
        if hash_now and hits < nreg and dfd >= 0 and (native := _hashes()) is not None:
            # every file no pattern may exclude is sent: hash them all in one call, without
            # the GIL (the others, and any the C path could not read, are hashed below)
            got, nbytes = native(dfd, rels, recs, nreg, len(rel_dir) + 1 if rel_dir else 0, flagged or None, self._buffer())
            self.hashed += got
            self.hashed_bytes += nbytes
            done += got
        plain = (
            chain is None
            and not (flagged and min(flagged) < nreg)
            and not (hash_now and done < nreg)
        )
        start = 0
        if plain:
            _make_entries(Entry, rels, FILE, modes, sizes, recs, nreg, self.entries)
            self.deferred += nreg - done
            start = nreg
        subdirs: list[tuple] = []
        strip = len(rel_dir) + 1 if rel_dir else 0
        append = self.entries.append if chain is None else None
        for i in range(start, n):
            rel = rels[i]
            mode = modes[i]
            rec = recs[i]
            child_info = ()
            if i in flagged:
                excluded, child_info, decider = matcher.match(rel, info)
                if excluded:
                    if i < nreg and len(rec) > 32:
                        hits -= 1  # a cache hit, but not an entry
                    self._excluded(rel, mode, sizes[i], rec, rel[strip:], abs_dir, chain, child_info, decider, queue)
                    continue
            if i >= nreg and mode & 0o170000 == _S_IFDIR:  # (most entries here: as _entry makes it)
                entry = Entry(rel, DIR, mode, 0, None, rec)
                subdirs.append((rel, child_info, None))
                self.dirs.append(entry)
                if append is not None:
                    append(entry)
                else:
                    self._emit(entry, chain)
                continue
            kind = FILE if i < nreg else _KINDS.get(mode & 0o170000, OTHER)
            name = rel[strip:]
            entry = self._entry(rel, kind, mode, sizes[i], rec, name if dfd >= 0 else os.path.join(abs_dir, name), dfd)
            if entry is None:
                continue
            if append is not None:
                append(entry)
            else:
                self._emit(entry, chain)
            if kind == SYMLINK:
                self.links.append(entry)
            elif kind == OTHER:
                self.others.append(entry)
                self._warn_special(entry)
        if subdirs:
            # walked depth-first in name order (the queue is a stack): entries come out in
            # long sorted runs, which the snapshot's final sort merges cheaply
            queue.extend(reversed(subdirs) if self._depth_first else subdirs)
        before = self.seen
        self.seen += n
        self.cache_hits += hits
        if self.progress is not None and (self.seen >> 12) != (before >> 12):
            self.progress(self.seen)

    def _listing_errors(self, rel_dir: str, errors: list[tuple[str | None, int]]) -> None:
        for rel, err in errors:
            if rel is None:
                self.warnings.append(SnapshotWarning(rel_dir, f"error reading folder ({os.strerror(err)})"))
            elif err == errno.ENOENT:
                self.warnings.append(SnapshotWarning(rel, "vanished during the snapshot"))
            else:
                self.warnings.append(SnapshotWarning(rel, f"cannot stat ({os.strerror(err)})"))

    def _buffer(self) -> memoryview:
        if self._view is None:
            self._view = memoryview(bytearray(SMALL))
        return self._view

    def _hash_now(self, name: str, dfd: int, rel: str, stamp: bytes, size: int) -> tuple[bytes, int]:
        got, msg = hash_file(name, stamp, self._buffer(), dfd if dfd >= 0 else None)
        if msg is not None:
            self.warnings.append(SnapshotWarning(rel, msg))
        if got is None:
            return stamp, size
        size = STAMP.unpack_from(got)[0]
        self.hashed += 1
        self.hashed_bytes += size
        return got, size

    def _excluded(self, rel, mode, size, rec, name, abs_dir, chain, child_info, decider, queue) -> None:
        line = self.lines[decider] if decider >= 0 else 0
        fmt = mode & 0o170000
        if fmt == _S_IFDIR:
            if self.matcher.may_reinclude_below(rel):
                entry = Entry(rel, DIR, mode, 0, None, rec)
                pending = _Pending(entry, chain, line)
                self.pendings.append(pending)
                queue.append((rel, child_info, pending))
            else:
                self.excluded.add_tree(line, self.root_slash + rel)
        elif fmt == _S_IFREG:
            self.excluded.add(line, 1, 1, size)
        else:
            self.excluded.add(line, 1, 0, 0)

    def finish(self) -> None:
        for p in self.pendings:
            if not p.emitted and not p.remote:
                self.excluded.add(p.line, 1, 0, 0)
        if self.progress is not None:
            self.progress(self.seen)

    def _warn_special(self, entry: Entry) -> None:
        self.warnings.append(
            SnapshotWarning(entry.path, f"special file ({entry.special}) is sent as-is and never read")
        )

    # -- parallel walk ----------------------------------------------------------------------

    def run(self, workers: int) -> None:
        frames: list[tuple] = [("", None, None)]
        if workers > 1:
            # The C listing releases the GIL for its system calls: threads share the work,
            # unless every file is to be hashed (a cold snapshot) in Python: many small reads
            # and hashes on threads fight over the GIL, and forked workers do not. Hashed in C
            # (without the GIL), a cold snapshot takes the threads too.
            cold = self.hash_now and not self.cache and _hashes() is None
            if _list_dir is not _list_dir_py and not cold:
                frames = self.walk(frames, stop_at=workers * _FRONTIER_PER_WORKER, min_seen=_FORK_MIN_ENTRIES)
                if frames:
                    self._run_threaded(frames, workers)
                    frames = []
            # Forking is only safe while this process runs no other thread (a lock held by
            # one would stay locked forever in the child): otherwise walk in-process.
            elif hasattr(os, "fork") and _one_thread():
                frames = self.walk(frames, stop_at=workers * _FRONTIER_PER_WORKER, min_seen=_FORK_MIN_ENTRIES)
                if frames:
                    self._run_forked(frames, workers)
                    frames = []
        self.walk(frames)
        self.finish()

    def _sub(self) -> Walker:
        """A walker sharing this one's settings and stat cache, with its own results."""
        sub = Walker.__new__(Walker)
        sub.__dict__.update(self.__dict__)
        sub.entries, sub.warnings, sub.excluded = [], [], ExcludedStats()
        sub.cache_hits = sub.hashed = sub.hashed_bytes = sub.seen = sub.deferred = 0
        sub.pendings, sub.emitted_remote, sub.racy = [], [], []
        sub.misses, sub.links = ([] if self.misses is not None else None), []
        sub.dirs, sub.others = [], []
        sub._view = None
        return sub

    def _run_threaded(self, frames: list[tuple], workers: int) -> None:
        import threading

        """Walk the frontier on ``workers`` threads (this one included), each taking the next
        folder from a shared queue and walking all of it; then merge their results."""
        from collections import deque

        todo = deque(reversed(frames))
        subs = [self._sub() for _ in range(workers)]
        main = threading.get_ident()
        progress = self.progress
        base = self.seen

        def report(_n: int) -> None:
            if progress is not None and threading.get_ident() == main:
                progress(base + sum(s.seen for s in subs))

        emit_lock = threading.Lock()
        for sub in subs:
            sub.progress = report
            sub.emit_lock = emit_lock
        errors: list[BaseException] = []

        def work(sub: Walker) -> None:
            try:
                while True:
                    try:
                        frame = todo.pop()
                    except IndexError:
                        break
                    sub.walk([frame])
                sub.finish()
            except BaseException as exc:  # noqa: BLE001 - re-raised in the calling thread
                todo.clear()
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(sub,), name="layerwise-walk", daemon=True) for sub in subs[1:]]
        # A thread coming back from its system calls waits for the GIL until the holder is
        # asked to let go (every 5 ms by default): far too long for the short Python bursts
        # between folders (0.30 -> 0.23 s on the 100k-file bench at 0.5 ms).
        interval = sys.getswitchinterval()
        sys.setswitchinterval(min(interval, _SWITCH_INTERVAL))
        try:
            for t in threads:
                t.start()
            work(subs[0])
            for t in threads:
                t.join()
        finally:
            sys.setswitchinterval(interval)
        if errors:
            raise errors[0]
        for sub in subs:
            self.entries.extend(sub.entries)
            self.warnings.extend(sub.warnings)
            self.racy.extend(sub.racy)
            if self.misses is not None and sub.misses is not None:
                self.misses.extend(sub.misses)
            self.links.extend(sub.links)
            self.dirs.extend(sub.dirs)
            self.others.extend(sub.others)
            self.pendings.extend(sub.pendings)
            self.excluded.merge(sub.excluded)
            self.cache_hits += sub.cache_hits
            self.hashed += sub.hashed
            self.hashed_bytes += sub.hashed_bytes
            self.deferred += sub.deferred
            self.seen += sub.seen
        # each sub's progress (report) holds subs: a cycle that kept the subs' lists, and so
        # every entry, alive until a garbage collection; broken, they go with the snapshot
        for sub in subs:
            sub.__dict__.clear()
        subs.clear()

    def walk_claimed(self, frames: list[tuple], token_fd: int, group: int, claimed: list[int]) -> None:
        """Walk the frontier groups this process claims from the shared token pipe: every
        read of 4 bytes takes one group, so the processes balance themselves."""
        while True:
            try:
                b = os.read(token_fd, 4)
            except BlockingIOError:
                break
            if len(b) < 4:
                break
            k = int.from_bytes(b, "little")
            claimed.append(k)
            self.walk(frames[k * group : (k + 1) * group])

    def _run_forked(self, frames: list[tuple], workers: int) -> None:
        self.misses = None  # (not sent back by the workers)
        self.links = []
        for p in self.pendings:
            p.remote = True  # seen by the children as their parents' folders
        group = -(-len(frames) // 8192)  # at most 8192 tokens: 32 kB, fits a pipe's buffer
        ntokens = -(-len(frames) // group)
        token_r, token_w = os.pipe()
        os.set_blocking(token_r, False)
        os.write(token_w, b"".join(k.to_bytes(4, "little") for k in range(ntokens)))
        os.close(token_w)
        progress = self.progress

        def child(out, counter) -> None:
            """In the worker: walk claimed folders, stream entries to ``out`` in frames."""
            sub = self._sub()

            def flush() -> None:
                es = sub.entries
                if es:
                    _write_frame(
                        out,
                        b"E",
                        (
                            [e.path for e in es],
                            [e.kind for e in es],
                            [e.st_mode for e in es],
                            [e.size for e in es],
                            [e.target for e in es],
                            [e.rec for e in es],
                        ),
                    )
                    es.clear()

            def report(n: int) -> None:
                counter(n)
                if len(sub.entries) >= _FRAME_ENTRIES:
                    flush()

            sub.progress = report
            sub.walk_claimed(frames, token_r, group, [])
            sub.finish()
            flush()
            _write_frame(
                out,
                b"S",
                (
                    [(w.path, w.message) for w in sub.warnings],
                    sub.excluded.state(),
                    sub.emitted_remote,
                    sub.racy,
                    (sub.cache_hits, sub.hashed, sub.hashed_bytes, sub.seen, sub.deferred),
                ),
            )

        def on_progress(total: int) -> None:
            if progress is not None:
                progress(self.seen + total)

        claimed: list[int] = []

        def local() -> None:
            # the children are forked: in this process the folders are local again
            for p in self.pendings:
                p.remote = False
            self.walk_claimed(frames, token_r, group, claimed)
            self.cache = self._lookup = {}  # the children have their own copy; free ours before merging

        try:
            outputs = _fork_map(child, workers - 1, on_progress, local)
        except (OSError, RuntimeError):  # no fork, or a worker died: walk the rest here
            for p in self.pendings:
                p.remote = False
            self.walk_claimed(frames, token_r, group, claimed)  # tokens still unclaimed
            done = set(claimed)
            for k in range(ntokens):
                if k not in done:  # claimed by a worker whose results are lost
                    self.walk(frames[k * group : (k + 1) * group])
            return
        finally:
            os.close(token_r)
        try:
            parts = [_parse_output(out) for out in outputs]
        except (OSError, RuntimeError, ValueError, EOFError):  # unreadable worker output
            parts = None
        finally:
            for out in outputs:
                out.close()
        if parts is None:
            for p in self.pendings:
                p.remote = False
            done = set(claimed)
            for k in range(ntokens):
                if k not in done:
                    self.walk(frames[k * group : (k + 1) * group])
            return
        by_path = {p.entry.path: p for p in self.pendings}
        for entries, (warns, exc, emitted, racy, counts) in parts:
            self.entries.extend(entries)
            self.racy.extend(racy)
            self.warnings.extend(SnapshotWarning(p, m) for p, m in warns)
            self.excluded.merge(ExcludedStats(*exc))
            for path in emitted:
                self._mark_emitted(by_path[path])
            hits, hashed, hashed_bytes, seen, deferred = counts
            self.deferred += deferred
            self.cache_hits += hits
            self.hashed += hashed
            self.hashed_bytes += hashed_bytes
            self.seen += seen
        for p in self.pendings:
            p.remote = False

    def _mark_emitted(self, pending: _Pending | None) -> None:
        while pending is not None and not pending.emitted:
            pending.emitted = True
            self.entries.append(pending.entry)
            pending = pending.parent


_FRAME_ENTRIES = 16384  # entries per frame a worker writes


def _write_frame(out, tag: bytes, payload: object) -> None:
    data = marshal.dumps(payload)
    out.write(tag + len(data).to_bytes(8, "little") + data)


def _read_frames(f) -> Iterator[tuple[bytes, object]]:
    """The frames a worker wrote; raises RuntimeError if the summary frame is missing."""
    f.seek(0)
    while True:
        head = f.read(9)
        if not head:
            raise RuntimeError("a snapshot worker stopped early")
        tag, size = head[:1], int.from_bytes(head[1:], "little")
        data = f.read(size)
        if len(data) != size:
            raise RuntimeError("a snapshot worker stopped early")
        yield tag, marshal.loads(data)
        if tag == b"S":
            return


def _parse_output(out) -> tuple[list[Entry], tuple]:
    """A worker's entries (built frame by frame, so only one frame is decoded at a time) and
    its summary."""
    entries: list[Entry] = []
    for tag, payload in _read_frames(out):
        if tag == b"E":
            paths, kinds, modes, sizes, targets, recs = payload
            modes = [MODES.setdefault(m, m) for m in modes]
            entries.extend(map(Entry, paths, kinds, modes, sizes, targets, recs))
        else:
            return entries, payload
    raise RuntimeError("a snapshot worker stopped early")  # pragma: no cover


def _fork_map(
    fn: Callable,
    n: int,
    on_progress: Callable[[int], None] | None,
    local: Callable[[], None] | None = None,
) -> list:
    """Run ``fn(out, counter)`` in ``n`` forked children and ``local()`` in this process
    meanwhile. Each child writes its results to its own unlinked temporary file ``out`` (so a
    busy parent never blocks it, and the results sit in the page cache rather than in either
    process); the files are returned, rewound, once every child exited successfully.

    ``counter(k)`` publishes a child's progress through shared memory; the parent polls it.
    A child that fails makes the call raise RuntimeError.
    """
    import gc
    import mmap
    import tempfile

    shm = mmap.mmap(-1, 8 * max(n, 1))
    outs = [tempfile.TemporaryFile(prefix="layerwise-walk-") for _ in range(n)]  # noqa: SIM115 - closed by the caller
    pids: list[int] = []
    gc.freeze()  # keep the children from copying every object the collector would touch
    try:
        for i in range(n):
            pid = os.fork()
            if pid == 0:  # child
                code = 1
                try:
                    gc.disable()

                    def counter(k: int, _i: int = i) -> None:
                        shm[8 * _i : 8 * _i + 8] = k.to_bytes(8, "little")

                    with open(outs[i].fileno(), "wb", buffering=1 << 20, closefd=False) as out:
                        fn(out, counter)
                    code = 0
                finally:
                    os._exit(code)
            pids.append(pid)
    finally:
        gc.unfreeze()
    failed = False
    try:
        if local is not None:
            local()
        pending = set(pids)
        while pending:
            for pid in list(pending):
                done, status = os.waitpid(pid, os.WNOHANG)
                if done:
                    pending.discard(pid)
                    failed = failed or status != 0
            if on_progress is not None:
                on_progress(sum(int.from_bytes(shm[8 * i : 8 * i + 8], "little") for i in range(n)))
            if pending:
                time.sleep(0.01)
    except BaseException:
        for pid in pids:
            try:
                os.kill(pid, 9)
                os.waitpid(pid, 0)
            except OSError:
                pass
        for out in outs:
            out.close()
        raise
    finally:
        shm.close()
    if failed:
        for out in outs:
            out.close()
        raise RuntimeError("a snapshot worker failed")
    return outs

