"""A snapshot of a build context: what the docker CLI sends and what COPY checksums see.

:meth:`Snapshot.take` walks the context once (iteratively, never following symlinks) with
fsutil's filter semantics: an entry is sent unless the ignore file excludes it; an excluded
directory is walked into only when an exception pattern could re-include something below it,
and then the parents of re-included entries are sent too. Excluded subtrees are still counted
(count and size, per deciding pattern) so that reports can say what .dockerignore saved.

Per entry it records what BuildKit's COPY content checksum uses (research §3): path, type,
permission bits (incl. setuid/setgid/sticky), size, sha256 of the content for files and the
target of symlinks. Not mtime, not uid/gid (the docker CLI resets them to 0).

Content is hashed only when asked for (:meth:`Snapshot.ensure_digests`, :meth:`digest_of`),
on several threads, and remembered in a persistent stat cache keyed like git's index by
(size, mtime_ns, ctime_ns, inode): an unchanged tree costs only the stat walk. As in git,
"racily clean" entries — modified within :data:`RACY_WINDOW_NS` of the snapshot's start, when
a later change could keep the same stat — are never stored in the cache.

Problems (unreadable folders or files, special files, entries vanishing or changing during the
walk) become :class:`SnapshotWarning` values; nothing raises except a missing context.

The walk itself (and its split over worker processes) is in :mod:`layerwise.context.walk`;
:class:`Entry` and the small value types are in :mod:`layerwise.context.entry`.
"""

from __future__ import annotations

import _thread
import array
import bisect
import marshal
import operator
import os
import stat
import struct
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

from layerwise.context import gopath
from layerwise.context import walk as _walk
from layerwise.context.entry import (
    DIR,
    FILE,
    OTHER,
    STAMP,
    SYMLINK,
    Entry,
    ExcludedStats,
    SnapshotWarning,
)
from layerwise.context.ignore import IgnoreFile
from layerwise.context.walk import SMALL, Walker, hash_file
from layerwise.errors import LayerwiseError, Location
from layerwise.records import Frozen

__all__ = [
    "DIR",
    "FILE",
    "OTHER",
    "RACY_WINDOW_NS",
    "SYMLINK",
    "Change",
    "Entry",
    "ExcludedStats",
    "Snapshot",
    "SnapshotWarning",
    "default_cache_dir",
    "diff",
    "prune_cache_dir",
]

#: Entries whose mtime or ctime is this close to (or after) the start of the snapshot are not
#: trusted by the next one: a change in the same timestamp tick would keep the same stat.
RACY_WINDOW_NS = 2_000_000_000

_CACHE_VERSION = 5  # 5: a token in the header (what a revision's cached git state was checked against)
#: stat-cache files of contexts not snapshot for this long are deleted (when a cache is saved)
CACHE_MAX_AGE_S = 30 * 24 * 3600
#: and beyond this total size, the least recently used ones go too
CACHE_MAX_BYTES = 1 << 30


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "layerwise" / "stat"


class Snapshot:
    """The entries a build context sends (sorted by path), plus what was excluded and the
    problems met. Build one with :meth:`take`."""

    def __init__(
        self,
        root: Path,
        ignore: IgnoreFile | None,
        entries: list[Entry],
        excluded: ExcludedStats,
        warnings: list[SnapshotWarning],
        *,
        started_ns: int,
        cache_file: Path | None,
        cache_hits: int,
        cache_loaded: int = 0,
    ) -> None:
        self.root = root
        self.ignore = ignore
        self.entries = entries
        self.excluded = excluded
        self.warnings = warnings
        self.started_ns = started_ns
        self.cache_file = cache_file
        self.cache_hits = cache_hits
        self.cache_loaded = cache_loaded
        # the cache on disk holds entries this tree no longer has: rewrite it on next save
        self._cache_stale = cache_loaded != cache_hits
        #: number of files whose content this snapshot read and hashed
        self.hashed = 0
        self.hashed_bytes = 0
        self._paths: list[str] | None = None
        self._lock = _thread.allocate_lock()  # (threading.Lock, without importing threading)
        self._failed: set[str] = set()  # files that could not be hashed (already warned about)
        self._racy: set[str] = set()  # files too recently changed to be trusted by the cache
        self._cache_unread = False  # the stat cache is read only once digests are wanted
        self._unsaved = 0  # digests computed since the cache was last written
        self._unsaved_bytes = 0  # and the bytes hashed for them
        self._exit_hook = False
        #: the loaded stat cache's token (None: no cache): a new one each time it is written
        self.cache_token: bytes | None = None
        #: what the walk found against that cache (see :meth:`walk_changes`)
        self._walk_misses: list[str] | None = None
        self._walk_misses_cached: set[str] = set()
        #: the files the walk listed without a digest (a superset of those still without one;
        #: excluded ones too), or None when not known
        self._undigested: list[str] | None = None
        self.walk_links: list[Entry] = []
        self.walk_dirs: list[Entry] = []
        self.walk_others: list[Entry] = []

    # -- construction ----------------------------------------------------------------------

    @classmethod
    def take(
        cls,
        context_dir: str | os.PathLike[str],
        ignore: IgnoreFile | None,
        *,
        cache_dir: str | os.PathLike[str] | None = None,
        use_cache: bool = True,
        digests: bool = False,
        workers: int | None = None,
        progress: Callable[[int], None] | None = None,
        cached_digests: bool = False,
    ) -> Snapshot:
        """Walk ``context_dir`` as the docker CLI / BuildKit would send it.

        ``cache_dir``: where the stat cache lives (default ``$XDG_CACHE_HOME/layerwise/stat``);
        ``use_cache=False`` neither reads nor writes it. ``digests=True`` hashes every file
        not served by the cache during the walk (and saves the cache). ``workers``: processes
        for big trees (default: the CPU count, at most 8; 1 walks in-process). ``progress(entries_seen)``
        is called every few thousand entries. ``cached_digests=True`` takes the digests of
        unchanged files from the stat cache during the walk (searched in place by the C
        listing) without hashing the others: for callers that will want most digests.
        """
        started = _now_ns()
        try:
            root = Path(os.path.realpath(context_dir))
            if not root.is_dir():
                raise OSError
        except OSError:
            raise LayerwiseError(
                "build context is not a directory", Location(os.fspath(context_dir))
            ) from None
        cache_file = None
        cache = StatCache.EMPTY
        if use_cache:
            cache_file = _cache_file_for(root, cache_dir)
            if digests or cached_digests:  # otherwise read on the first ensure_digests(), if any
                cache = _load_cache(cache_file, root)
        if workers is None:
            workers = min(8, os.cpu_count() or 1)
        walker = Walker(root, ignore, cache, progress, hash_now=digests)
        walker.racy_limit = started - RACY_WINDOW_NS
        import gc

        gc_was_enabled = gc.isenabled()
        gc.disable()  # a million acyclic entries would only make the collector rescan them
        try:
            walker.run(workers)
        finally:
            if gc_was_enabled:
                gc.enable()
        walker.cache = StatCache.EMPTY
        cache_loaded = len(cache)
        misses = walker.misses
        if misses is not None and len(misses) > _MISSES_KEPT:
            misses = None  # (a revision's cached git state is then read again in full)
        misses_cached = {p for p in misses if cache.contains(p)} if misses else set()
        token = cache.token if cache_loaded else None
        del cache
        entries = walker.entries
        entries.sort(key=_PATH_KEY)
        walker.warnings.sort(key=lambda w: w.path)
        snap = cls(
            root,
            ignore,
            entries,
            walker.excluded,
            walker.warnings,
            started_ns=started,
            cache_file=cache_file,
            cache_hits=walker.cache_hits,
            cache_loaded=cache_loaded,
        )
        snap._cache_unread = use_cache and not (digests or cached_digests)
        snap.cache_token = token
        snap._walk_misses = misses if token is not None else None
        snap._walk_misses_cached = misses_cached
        snap._undigested = None if misses is None or digests else misses
        snap.walk_links = walker.links
        snap.walk_dirs = walker.dirs
        snap.walk_others = walker.others
        snap.hashed = walker.hashed
        snap.hashed_bytes = walker.hashed_bytes
        snap._failed.update(w.path for w in walker.warnings)
        snap._racy.update(walker.racy)
        if walker.hashed:
            snap._cache_stale = True  # digests computed during the walk are not saved yet
            snap._unsaved, snap._unsaved_bytes = walker.hashed, walker.hashed_bytes
        if digests:
            # every file is hashed already unless the walk left some (big ones) for threads
            snap.ensure_digests(None if walker.deferred else [])
        return snap

    def without_digest(self, root: str) -> list[Entry] | None:
        """The files at or below ``root`` ("": all) that may have no digest yet, from what the
        walk noted (no pass over the others), in the order it noted them (which differs between
        the C listing and its pure-Python twin); None when it noted nothing."""
        if self._undigested is None:
            return None
        prefix = root + "/"
        out = []
        for p in self._undigested:
            if not root or p == root or p.startswith(prefix):
                e = self.get(p)
                if e is not None and e.kind == FILE:
                    out.append(e)
        return out

    def walk_changes(self) -> tuple[list[str], int] | None:
        """What the walk found changed since the stat cache was written (the cache whose token
        is :attr:`cache_token`): (the files sent that it holds no record of, or another stamp:
        new or changed since; how many files it holds that the walk did not send: removed,
        renamed, now excluded or no longer plain files). None when not known (no cache, too
        many changes, a forked walk). Every other file sent is unchanged since the cache was
        written (same size, mtime, ctime and inode: git's test)."""
        misses = self._walk_misses
        if misses is None:
            return None
        sent = [p for p in misses if (e := self.get(p)) is not None and e.kind == FILE]
        cached = self._walk_misses_cached
        vanished = self.cache_loaded - self.cache_hits - sum(1 for p in sent if p in cached)
        return sent, vanished

    # -- lookup ----------------------------------------------------------------------------

    @property
    def paths(self) -> list[str]:
        if self._paths is None or len(self._paths) != len(self.entries):
            self._paths = [e.path for e in self.entries]
        return self._paths

    def get(self, path: str) -> Entry | None:
        paths = self.paths
        i = bisect.bisect_left(paths, path)
        if i < len(paths) and paths[i] == path:
            return self.entries[i]
        return None

    def subtree(self, path: str) -> list[Entry]:
        """The entry at ``path`` and, for a folder, everything below it."""
        if path in ("", "."):
            return list(self.entries)
        paths = self.paths
        out = []
        i = bisect.bisect_left(paths, path)
        if i < len(paths) and paths[i] == path:
            out.append(self.entries[i])
        prefix = path + "/"
        j = bisect.bisect_left(paths, prefix)
        while j < len(paths) and paths[j].startswith(prefix):
            out.append(self.entries[j])
            j += 1
        return out

    def select(self, src: str) -> list[Entry]:
        """The entries ``COPY <src>`` selects: ``src`` relative to the context root, a plain
        path or a Go ``filepath.Match`` wildcard; a selected folder brings its subtree."""
        cleaned = gopath.clean("/" + src)[1:]
        if cleaned in ("", "."):
            return list(self.entries)
        if not any(c in cleaned for c in "*?[\\"):
            return self.subtree(cleaned)
        depth = cleaned.count("/")
        seen: set[str] = set()
        out: list[Entry] = []
        for e in self.entries:
            if e.path.count("/") != depth:
                continue
            try:
                ok = gopath.match(cleaned, e.path)
            except gopath.BadPattern:
                raise LayerwiseError(f"COPY source {src!r}: syntax error in pattern") from None
            if ok:
                for s in self.subtree(e.path):
                    if s.path not in seen:
                        seen.add(s.path)
                        out.append(s)
        out.sort(key=_path_key)
        return out

    @property
    def files(self) -> Iterator[Entry]:
        return (e for e in self.entries if e.kind == FILE)

    @property
    def total_size(self) -> int:
        return sum(e.size for e in self.entries if e.kind == FILE)

    # -- content ---------------------------------------------------------------------------

    def ensure_digests(
        self,
        entries: Iterable[Entry] | None = None,
        *,
        workers: int | None = None,
        progress: Callable[[int], None] | None = None,
        save: bool = True,
    ) -> None:
        """Hash the files among ``entries`` (default: all) that have no digest yet, on
        several threads, then update the stat cache."""
        if self._cache_unread:
            self._apply_cache()
        failed = self._failed
        todo = [
            e
            for e in (self.entries if entries is None else entries)
            if e.kind == FILE and len(e.rec) != 64 and e.path not in failed
        ]
        if todo:
            before = self.hashed_bytes
            self._hash(todo, workers, progress)
            self._unsaved += len(todo)
            self._unsaved_bytes += self.hashed_bytes - before
        if not save or self.cache_file is None or not (self._unsaved or self._cache_stale):
            return
        if not self._worth_saving():
            return  # (a file edited since the cache was written: hashing it again is cheaper)
        if entries is None or len(todo) >= 16 or self._unsaved >= 1024:
            self.save_cache()
        else:
            # a trickle of single files (lazy lookups): write the cache once, at exit
            self._save_at_exit()

    def _worth_saving(self) -> bool:
        """Whether rewriting the whole stat cache (about 3 µs an entry) saves the next run
        more than a tenth of that in hashing (about 50 µs a file plus 1 ns a byte): the files
        a user just edited among 100,000 are hashed again, not the cache rewritten each run."""
        if self.cache_loaded == 0 and self._cache_stale:
            return True  # no cache yet, or an unusable one
        return (self._unsaved * 50_000 + self._unsaved_bytes) * 10 >= len(self.entries) * 3_000

    def digest_of(self, paths: Sequence[str] | None = None) -> str:
        """One sha256 over the selected entries (default: the whole context): their paths,
        types, modes, sizes, link targets and content digests, in path order."""
        if paths is None:
            chosen = list(self.entries)
        else:
            by_path: dict[str, Entry] = {}
            for p in paths:
                for e in self.subtree(gopath.clean(p)):
                    by_path[e.path] = e
            chosen = sorted(by_path.values(), key=_path_key)
        self.ensure_digests(chosen)
        import hashlib

        h = hashlib.sha256()
        for e in chosen:
            d = e.digest if e.kind == FILE else b""
            h.update(
                b"%s\0%s\0%o\0%d\0%s\0%s\n"
                % (
                    os.fsencode(e.path),
                    e.kind.encode(),
                    e.mode,
                    e.size if e.kind == FILE else 0,
                    os.fsencode(e.target or ""),
                    (d or b"?").hex().encode(),
                )
            )
        return h.hexdigest()

    def _save_at_exit(self) -> None:
        if self._exit_hook:
            return
        self._exit_hook = True
        import atexit
        import weakref

        ref = weakref.ref(self)

        def flush() -> None:
            snap = ref()
            if snap is not None and snap._unsaved and snap._worth_saving():
                snap.save_cache()

        atexit.register(flush)

    def _apply_cache(self) -> None:
        """Take the digests of unchanged files from the stat cache (snapshots taken without
        ``digests=True`` read it only when the first digest is asked for)."""
        self._cache_unread = False
        if self.cache_file is None:
            return
        cache = _load_cache(self.cache_file, self.root)
        self.cache_token = cache.token if len(cache) else None
        hits = 0
        for e in self.entries:
            if e.kind == FILE and len(e.rec) == 32:
                cached = cache.get(e.path)
                if cached is not None and cached[:32] == e.rec:
                    e.rec = cached
                    hits += 1
        self.cache_hits += hits
        self.cache_loaded = len(cache)
        self._cache_stale = self.cache_loaded != self.cache_hits

    def _hash(self, todo: list[Entry], workers: int | None, progress: Callable[[int], None] | None) -> None:
        if workers is None:
            workers = min(8, (os.cpu_count() or 1) + 1)
        root = os.fspath(self.root)
        # Big files first, then spread small ones: balanced chunks for the workers.
        todo.sort(key=lambda e: -e.size)
        nchunks = max(1, min(len(todo), workers * 8))
        chunks: list[list[Entry]] = [[] for _ in range(nchunks)]
        for i, e in enumerate(todo):
            chunks[i % nchunks].append(e)
        done = [0]
        failed = self._failed
        racy = self._racy

        native = _walk._hashes()
        root_fd = -1
        if native is not None:
            try:
                root_fd = os.open(root, _walk._DIR_FLAGS)
            except OSError:
                native = None

        def run(chunk: list[Entry]) -> None:
            buf = bytearray(SMALL)
            view = memoryview(buf)
            warnings: list[SnapshotWarning] = []
            nbytes = 0
            rest = chunk
            if native is not None:
                # in C without the GIL; what it cannot read is read again below, with warnings
                recs = [e.rec for e in chunk]
                _, nbytes = native(root_fd, [e.path for e in chunk], recs, len(recs), 0, None, view)
                rest = []
                for e, rec in zip(chunk, recs):
                    if len(rec) > 32:
                        e.rec = rec
                    else:
                        rest.append(e)
            for e in rest:
                rec, msg = hash_file(os.path.join(root, e.path), e.rec, view)
                if msg is not None:
                    warnings.append(SnapshotWarning(e.path, msg))
                if rec is None:
                    failed.add(e.path)
                else:
                    if rec[:32] != e.rec[:32]:
                        # changed since the walk; the new stat and digest describe it now
                        e.size = STAMP.unpack_from(rec)[0]
                        if not self._trusted(rec):
                            racy.add(e.path)
                    e.rec = rec
                    nbytes += e.size
            with self._lock:
                self.hashed += len(chunk)
                self.hashed_bytes += nbytes
                self.warnings.extend(warnings)
                done[0] += len(chunk)
                if progress is not None:
                    progress(done[0])

        try:
            if workers <= 1 or len(todo) < 64:
                for c in chunks:
                    run(c)
            else:
                from concurrent.futures import ThreadPoolExecutor  # (and logging: ~10 ms of start-up, when needed)

                with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="layerwise-hash") as pool:
                    list(pool.map(run, chunks))
        finally:
            if root_fd >= 0:
                os.close(root_fd)
        self.warnings.sort(key=lambda w: w.path)

    # -- stat cache --------------------------------------------------------------------------

    def _trusted(self, rec: bytes) -> bool:
        _, mtime, ctime, _ = STAMP.unpack_from(rec)
        limit = self.started_ns - RACY_WINDOW_NS
        return mtime < limit and ctime < limit

    def save_cache(self) -> None:
        """Write the digests of this snapshot's files to the stat cache (racy ones left out)."""
        if self.cache_file is None:
            return
        racy = self._racy
        entries = self.entries
        tmp = self.cache_file.with_name(f"{self.cache_file.name}.{os.getpid()}.{_thread.get_ident()}.tmp")
        try:
            self.cache_file.parent.mkdir(parents=True, exist_ok=True)
            token = os.urandom(16)
            with open(tmp, "wb") as f:
                _write_chunk(f, (_CACHE_VERSION, os.fsencode(self.root), token))
                count = _write_cache_body(f, entries, racy)
            os.replace(tmp, self.cache_file)
            self.cache_token = token if count else None
            self._walk_misses = None  # (relative to the cache replaced)
            self._cache_stale = False
            self._unsaved = self._unsaved_bytes = 0
            prune_cache_dir(self.cache_file.parent, keep=self.cache_file)
        except OSError as exc:
            self.warnings.append(SnapshotWarning("", f"stat cache not saved ({exc.strerror}): {self.cache_file}"))
            try:
                os.unlink(tmp)
            except OSError:
                pass



def _write_cache_body(f, entries, racy) -> int:
    """The stat cache's body after its header chunk: the files with a trusted digest, by
    fs-encoded path (bytes order, as searched): their count and the paths' length, the paths,
    their offsets, their records. Written as it goes (the paths in 1 MB pieces, then a second
    pass for the records): at 1,000,000 files, building the ~90 MB body in memory first made
    the command's peak (#17: explain at 1M files <= 500 MB). Returns the number of files."""
    head_at = f.tell()
    f.write(_HEAD.pack(0, 0))  # (filled in once the paths are written)
    offsets = array.array("Q", [0])
    piece = bytearray()
    total = 0
    last = b""
    for e in entries:
        if len(e.rec) == 64 and e.path not in racy:
            p = os.fsencode(e.path)
            if p <= last:  # str and bytes order differ only for undecodable names
                return _write_cache_body_sorted(f, head_at, entries, racy)
            last = p
            piece += p
            total += len(p)
            offsets.append(total)
            if len(piece) >= 1 << 20:
                f.write(piece)
                piece.clear()
    f.write(piece)
    count = len(offsets) - 1
    if sys.byteorder != "little":
        offsets.byteswap()
    f.write(offsets)
    del offsets
    piece.clear()
    for e in entries:
        if len(e.rec) == 64 and e.path not in racy:
            piece += e.rec
            if len(piece) >= 1 << 20:
                f.write(piece)
                piece.clear()
    f.write(piece)
    end = f.tell()
    f.seek(head_at)
    f.write(_HEAD.pack(count, total))
    f.seek(end)
    return count


def _write_cache_body_sorted(f, head_at: int, entries, racy) -> int:
    """:func:`_write_cache_body` for entries whose fs-encoded paths are out of bytes order
    (undecodable names): sorted in memory first."""
    pairs = sorted((os.fsencode(e.path), e.rec) for e in entries if len(e.rec) == 64 and e.path not in racy)
    paths = b"".join(p for p, _ in pairs)
    offsets = array.array("Q", [0])
    for p, _ in pairs:
        offsets.append(offsets[-1] + len(p))
    if sys.byteorder != "little":
        offsets.byteswap()
    f.seek(head_at)
    f.truncate()
    f.write(_HEAD.pack(len(pairs), len(paths)))
    f.write(paths)
    f.write(offsets)
    f.write(b"".join(r for _, r in pairs))
    return len(pairs)

def _path_key(e: Entry) -> str:
    return e.path


_PATH_KEY = operator.attrgetter("path")


def _now_ns() -> int:
    return time.time_ns()


def _cache_file_for(root: Path, cache_dir: str | os.PathLike[str] | None) -> Path:
    base = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    # Python's own SHA-256 (the same digest): naming the file loads no OpenSSL (#17: ~3 ms
    # of a warm run)
    try:
        from _sha256 import sha256
    except ImportError:
        try:
            from _sha2 import sha256  # (Python 3.12 and later)
        except ImportError:  # a Python built without them
            from hashlib import sha256

    key = sha256(os.fsencode(root)).hexdigest()[:24]
    return base / f"{key}.cache"


def _write_chunk(f, obj: object) -> None:
    data = marshal.dumps(obj)
    f.write(len(data).to_bytes(8, "little") + data)


def _read_chunk(f, file_size: int) -> object:
    # (marshal.load on a file reads object by object: slow; one read per chunk is not)
    size = int.from_bytes(f.read(8), "little")
    if size > file_size - f.tell():
        raise EOFError
    data = f.read(size)
    if len(data) != size:
        raise EOFError
    return marshal.loads(data)


_pruned: set[Path] = set()


def prune_cache_dir(
    cache_dir: Path, *, keep: Path | None = None, max_age_s: float = CACHE_MAX_AGE_S, max_bytes: int = CACHE_MAX_BYTES
) -> list[Path]:
    """Delete the stat-cache files (one per context folder) not used for ``max_age_s``, then
    the least recently used ones while all of them take more than ``max_bytes``. ``keep`` (the
    file just written) is never deleted. Done once per process and folder; returns what went."""
    if cache_dir in _pruned:
        return []
    _pruned.add(cache_dir)
    files = []
    try:
        with os.scandir(cache_dir) as it:
            for d in it:
                if d.name.endswith(".cache") and d.is_file(follow_symlinks=False):
                    st = d.stat(follow_symlinks=False)
                    files.append((st.st_mtime, st.st_size, Path(d.path)))
    except OSError:
        return []
    files.sort(reverse=True)  # most recently used first
    now = time.time()
    total = 0
    gone = []
    for mtime, size, path in files:
        total += size
        if path == keep:
            continue
        if now - mtime > max_age_s or total > max_bytes:
            try:
                path.unlink()
            except OSError:
                continue
            for kept in (".rev", ".dig"):  # a revision's git state (revcache), folder digests (files)
                try:
                    path.with_suffix(kept).unlink()
                except OSError:
                    pass
            total -= size
            gone.append(path)
    return gone


_HEAD = struct.Struct("<QQ")  # number of files, bytes of paths


class StatCache:
    """One context's stat cache as loaded: the fs-encoded paths of its files, sorted by bytes,
    in one buffer (``offsets[i]:offsets[i + 1]``, little-endian u64), and their records
    (32-byte stamp + 32-byte sha256) in another. The C listing searches it in place (no
    Python object per file is made to load it); Python code gets a dict on demand."""

    __slots__ = ("_dict", "n", "offsets", "paths", "recs", "token")
    EMPTY: StatCache

    def __init__(self, paths: bytes = b"", offsets: bytes = b"\0" * 8, recs: bytes = b"", n: int = 0,
                 token: bytes | None = None) -> None:  # fmt: skip
        self.paths = paths
        self.offsets = offsets
        self.recs = recs
        self.n = n
        self.token = token
        self._dict: dict[str, bytes] | None = None

    def contains(self, path: str) -> bool:
        """Whether the cache holds a record of ``path`` (a binary search of the buffers)."""
        if self._dict is not None:
            return path in self._dict
        key = os.fsencode(path)
        offs = memoryview(self.offsets).cast("Q") if sys.byteorder == "little" else _swapped(self.offsets)
        paths = self.paths
        lo, hi = 0, self.n
        while lo < hi:
            mid = (lo + hi) // 2
            p = paths[offs[mid] : offs[mid + 1]]
            if p < key:
                lo = mid + 1
            elif p > key:
                hi = mid
            else:
                return True
        return False

    def __len__(self) -> int:
        return self.n

    def native(self) -> tuple[bytes, bytes, bytes] | None:
        """What ``_fastscan.list_dir`` searches (None when empty)."""
        return (self.paths, self.offsets, self.recs) if self.n else None

    def as_dict(self) -> dict[str, bytes]:
        if self._dict is None:
            offs = array.array("Q")
            offs.frombytes(self.offsets)
            if sys.byteorder != "little":
                offs.byteswap()
            paths, recs = self.paths, self.recs
            self._dict = {
                os.fsdecode(paths[offs[i] : offs[i + 1]]): recs[64 * i : 64 * i + 64] for i in range(self.n)
            }
        return self._dict

    def get(self, path: str) -> bytes | None:
        return self.as_dict().get(path)


StatCache.EMPTY = StatCache()
#: beyond this many files changed since the stat cache was written, the walk does not list them
_MISSES_KEPT = 4096


def _swapped(offsets: bytes) -> array.array:
    a = array.array("Q")
    a.frombytes(offsets)
    a.byteswap()
    return a


def cache_token(root: Path) -> bytes | None:
    """The token in the header of ``root``'s stat cache file as it is now (None: no usable
    cache), read without loading the cache: what a record kept beside it names."""
    path = _cache_file_for(Path(os.path.realpath(root)), None)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
        with os.fdopen(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                return None
            head = _read_chunk(f, os.fstat(f.fileno()).st_size)
    except (OSError, EOFError, ValueError, TypeError):
        return None
    if type(head) is not tuple or len(head) != 3 or head[:2] != (_CACHE_VERSION, os.fsencode(os.path.realpath(root))):
        return None
    return head[2] if type(head[2]) is bytes else None


def _load_cache(path: Path, root: Path) -> StatCache:
    """The stat cache file: a header chunk (version, context), the number of files and of
    path bytes, then the paths, offsets and records (see :class:`StatCache`). Anything
    unreadable, truncated, or from another version or context gives an empty cache."""
    try:
        # never blocks: a FIFO (or any non-regular file) where the cache should be is no cache
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            return StatCache.EMPTY
        with os.fdopen(fd, "rb") as f:
            file_size = os.fstat(f.fileno()).st_size
            head = _read_chunk(f, file_size)
            if type(head) is not tuple or len(head) != 3 or head[:2] != (_CACHE_VERSION, os.fsencode(root)) \
                    or type(head[2]) is not bytes:  # fmt: skip
                return StatCache.EMPTY
            n, npaths = _HEAD.unpack(f.read(_HEAD.size))
            if f.tell() + npaths + 8 * (n + 1) + 64 * n != file_size:
                return StatCache.EMPTY
            paths = f.read(npaths)
            offsets = f.read(8 * (n + 1))
            recs = f.read(64 * n)
    except (OSError, EOFError, ValueError, TypeError, struct.error):
        return StatCache.EMPTY
    if int.from_bytes(offsets[-8:], "little") != npaths:
        return StatCache.EMPTY
    _touch(path)  # recently used: kept by prune_cache_dir
    return StatCache(paths, offsets, recs, n, head[2])


def _touch(path: Path) -> None:
    try:
        os.utime(path)
    except OSError:
        pass


# -- comparing snapshots -------------------------------------------------------------------


class Change(Frozen):
    """How one path differs between two snapshots: added, removed, modified (content, type,
    size or link target) or mode (permission bits only). (A record written out: a dataclass
    would be built at every start-up.)"""

    __slots__ = _fields = ("kind", "path", "old", "new")

    def __init__(self, kind: str, path: str, old: Entry | None, new: Entry | None) -> None:
        self._init(kind, path, old, new)

    def __str__(self) -> str:
        return f"{self.kind}: {self.path}"


def diff(a: Snapshot, b: Snapshot) -> list[Change]:
    """Changes from ``a`` to ``b`` that a COPY checksum would see (mtime and owner ignored).

    Files present in both are hashed as needed. Content is read when it is hashed, so a
    snapshot kept to compare with later must be taken with ``digests=True`` (or have
    :meth:`Snapshot.ensure_digests` called) before the files change."""
    old = {e.path: e for e in a.entries}
    new = {e.path: e for e in b.entries}
    both_files_a = [old[p] for p in new.keys() & old.keys() if old[p].kind == FILE and new[p].kind == FILE]
    a.ensure_digests(both_files_a)
    b.ensure_digests([new[e.path] for e in both_files_a])
    changes: list[Change] = []
    for path in sorted(old.keys() | new.keys()):
        o, n = old.get(path), new.get(path)
        if o is None:
            changes.append(Change("added", path, None, n))
        elif n is None:
            changes.append(Change("removed", path, o, None))
        elif (
            o.kind != n.kind
            or o.target != n.target
            or (o.kind == FILE and (o.size != n.size or o.digest != n.digest or o.digest is None))
        ):
            changes.append(Change("modified", path, o, n))
        elif o.mode != n.mode:
            changes.append(Change("mode", path, o, n))
    return changes

