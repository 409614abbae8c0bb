"""The walk behind :meth:`~layerwise.context.snapshot.Snapshot.take`: fsutil's filter
semantics, the stat-cache lookups and hashing done while walking, and the split of big trees
over forked worker processes.

The parent walks breadth-first until a frontier of folders waits, then it and the workers
claim folders from a shared token pipe (so they balance themselves), each doing ignore
matching, stat-cache lookups and, if asked, hashing. Workers stream compact columns through
unlinked temporary files, which the parent turns into :class:`Entry` objects.
"""

from __future__ import annotations

import errno
import hashlib
import marshal
import os
import stat as st
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

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
from layerwise.context.ignore import IgnoreFile

SMALL = 1 << 20  # files up to this size are read in one call
#: files up to this size are hashed by the walk itself when all digests are wanted
_HASH_INLINE_MAX = 1 << 20
_S_IFREG, _S_IFDIR, _S_IFLNK = st.S_IFREG, st.S_IFDIR, st.S_IFLNK
_KINDS = {_S_IFREG: FILE, _S_IFDIR: DIR, _S_IFLNK: SYMLINK}
#: the walk forks workers only for trees with more entries than this (seen breadth-first)
_FORK_MIN_ENTRIES = 2000
#: folders waiting per worker before the walk is shared out (finer = better balance)
_FRONTIER_PER_WORKER = 64


class _Pending:
    """An excluded folder walked into because an exception might re-include something."""

    __slots__ = ("entry", "emitted", "parent", "line", "remote")

    def __init__(self, entry: Entry, parent: _Pending | None, line: int) -> None:
        self.entry = entry
        self.emitted = False
        self.remote = False
        self.parent = parent
        self.line = line


# Hooks the tests replace to simulate failures that root cannot produce with chmod.
_scandir = os.scandir
_open = os.open


_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)


def hash_file(
    path: str, rec: bytes, view: memoryview, dir_fd: int | None = None
) -> tuple[bytes | None, str | None]:
    """(stamp + sha256, warning) for one regular file whose walk stamp starts ``rec``;
    (None, message) if it cannot be read. ``path`` is relative to ``dir_fd`` when given.

    Fast path (the file did not change since the walk): open, one read, fstat, close. Any
    difference from the walk's stamp takes the careful path, which re-checks the type and
    reports a change during the read."""
    try:
        fd = _open(path, _OPEN_FLAGS, dir_fd=dir_fd)
    except FileNotFoundError:
        return None, "vanished before it could be read"
    except PermissionError:
        return None, "cannot read file (permission denied); docker build would fail on it"
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


class Walker:
    """The walk itself. Runs in-process, or split over forked workers for big trees: the
    parent walks breadth-first until it has a frontier of folders, the workers each walk a
    share of it (ignore matching, stat cache lookups and, if asked, hashing included) and send
    back compact columns that the parent turns into :class:`Entry` objects."""

    def __init__(
        self,
        root: Path,
        ignore: IgnoreFile | None,
        cache: dict[str, bytes],
        progress: Callable[[int], None] | None,
        hash_now: bool = False,
    ) -> None:
        self.root = os.fspath(root)
        self.matcher = ignore.matcher if ignore is not None and ignore.matcher.patterns else None
        self.lines = [p.source.line for p in self.matcher.patterns] if self.matcher else []
        self.cache = cache
        self.progress = progress
        self.hash_now = hash_now
        self.entries: list[Entry] = []
        self.warnings: list[SnapshotWarning] = []
        self.excluded = ExcludedStats()
        self.cache_hits = 0
        self.hashed = 0
        self.hashed_bytes = 0
        self.seen = 0
        self.pendings: list[_Pending] = []
        self.emitted_remote: list[str] = []
        self.racy: list[str] = []
        self.racy_limit = 0
        self._view: memoryview | None = None

    # -- entries ---------------------------------------------------------------------------

    def _entry(self, rel: str, s: os.stat_result, kind: str, name: str, dfd: int) -> Entry | None:
        mode = MODES.setdefault(s.st_mode, s.st_mode)
        target = None
        size = 0
        if kind == FILE:
            size = s.st_size
            stamp = stamp_of(s)
            if s.st_mtime_ns >= self.racy_limit or s.st_ctime_ns >= self.racy_limit:
                self.racy.append(rel)
            cached = self.cache.get(rel)
            if cached is not None and cached[:32] == stamp:
                self.cache_hits += 1
                rec = cached
            elif self.hash_now and size < _HASH_INLINE_MAX:
                # bigger files are left to ensure_digests, which hashes them on threads
                rec, size = self._hash_now(name, dfd, rel, stamp, size)
            else:
                rec = stamp
        else:
            rec = stamp_of(s)
            if kind == SYMLINK:
                try:
                    target = os.readlink(name, dir_fd=dfd)
                except OSError as exc:
                    self.warnings.append(SnapshotWarning(rel, f"cannot read symlink ({exc.strerror})"))
                    return None
                size = s.st_size
        return Entry(rel, kind, mode, size, target, rec)

    def _emit(self, entry: Entry, chain: _Pending | None) -> None:
        while chain is not None and not chain.emitted:
            chain.emitted = True
            if chain.remote:
                self.emitted_remote.append(chain.entry.path)
            else:
                self.entries.append(chain.entry)
            chain = chain.parent
        self.entries.append(entry)

    # -- walking ---------------------------------------------------------------------------

    def walk(self, frames: list[tuple], stop_at: int | None = None, min_seen: int = 0) -> list[tuple]:
        """Walk the folders in ``frames`` ((rel, MatchInfo, chain) each). With ``stop_at``,
        go breadth-first and stop once that many folders wait (and ``min_seen`` entries were
        seen); return them."""
        from collections import deque

        queue = deque(frames)
        pop = queue.popleft if stop_at is not None else queue.pop
        while queue:
            if stop_at is not None and len(queue) >= stop_at and self.seen >= min_seen:
                break
            self._walk_dir(*pop(), queue)
        return list(queue)

    def _walk_dir(self, rel_dir: str, info: tuple | None, chain: _Pending | None, queue) -> None:
        root = self.root
        abs_dir = os.path.join(root, rel_dir) if rel_dir else root
        try:
            dfd = os.open(abs_dir, _DIR_FLAGS)
            try:
                it = _scandir(dfd)
            except BaseException:
                os.close(dfd)
                raise
        except FileNotFoundError:
            self.warnings.append(SnapshotWarning(rel_dir, "folder vanished during the snapshot"))
            return
        except OSError as exc:
            if chain is None or chain.emitted:
                self.warnings.append(
                    SnapshotWarning(
                        rel_dir, f"cannot read folder ({exc.strerror}); docker build would fail on it"
                    )
                )
            return
        try:
            self._scan(it, dfd, rel_dir, abs_dir, info, chain, queue)
        finally:
            it.close()
            os.close(dfd)

    def _scan(self, it, dfd: int, rel_dir: str, abs_dir: str, info, chain, queue) -> None:
        # The hot loop of the whole tool: regular files that are sent take the inlined path.
        matcher = self.matcher
        prefix = rel_dir + "/" if rel_dir else ""
        entries_append = self.entries.append
        cache_get = self.cache.get
        pack = STAMP.pack
        modes = MODES
        racy_limit = self.racy_limit
        hash_now = self.hash_now
        seen = hits = 0
        # One regex that tells "no pattern matches" for this folder's children (see _match)
        none_match = None
        info_none = _all_false(len(matcher.patterns)) if matcher is not None else None
        if matcher is not None and info:
            items, none_match = _dir_plan_for(matcher, info, prefix.count("/"))
            if not items:
                matcher = None  # nothing can match below here: skip matching entirely
        try:
            while True:
                try:
                    d = next(it)
                except StopIteration:
                    break
                except OSError as exc:
                    self.warnings.append(SnapshotWarning(rel_dir, f"error reading folder ({exc.strerror})"))
                    break
                rel = prefix + d.name
                try:
                    s = d.stat(follow_symlinks=False)
                except FileNotFoundError:
                    self.warnings.append(SnapshotWarning(rel, "vanished during the snapshot"))
                    continue
                except OSError as exc:
                    self.warnings.append(SnapshotWarning(rel, f"cannot stat ({exc.strerror})"))
                    continue
                seen += 1
                m = s.st_mode
                fmt = m & 0o170000
                if none_match is not None and none_match(rel) is None:
                    child_info = info_none
                elif matcher is not None:
                    excluded, child_info, decider = _match(matcher, rel, info)
                    if excluded:
                        self._excluded(rel, s, fmt, d.name, abs_dir, chain, child_info, decider, queue)
                        continue
                else:
                    child_info = info_none
                if fmt == _S_IFREG and chain is None:
                    size = s.st_size
                    mt = s.st_mtime_ns
                    ct = s.st_ctime_ns
                    stamp = pack(size, mt, ct, s.st_ino & 0xFFFFFFFFFFFFFFFF)
                    if mt >= racy_limit or ct >= racy_limit:
                        self.racy.append(rel)
                    cached = cache_get(rel)
                    if cached is not None and cached[:32] == stamp:
                        hits += 1
                        rec = cached
                    elif hash_now and size < _HASH_INLINE_MAX:
                        rec, size = self._hash_now(d.name, dfd, rel, stamp, size)
                    else:
                        rec = stamp
                    entries_append(Entry(rel, FILE, modes.setdefault(m, m), size, None, rec))
                    continue
                kind = _KINDS.get(fmt, OTHER)
                entry = self._entry(rel, s, kind, d.name, dfd)
                if entry is None:
                    continue
                if chain is None:
                    entries_append(entry)
                else:
                    self._emit(entry, chain)
                if kind == DIR:
                    queue.append((rel, child_info, None))
                elif kind == OTHER:
                    self._warn_special(entry)
        finally:
            before = self.seen
            self.seen += seen
            self.cache_hits += hits
            if self.progress is not None and (self.seen >> 12) != (before >> 12):
                self.progress(self.seen)

    def _hash_now(self, name: str, dfd: int, rel: str, stamp: bytes, size: int) -> tuple[bytes, int]:
        if self._view is None:
            self._view = memoryview(bytearray(SMALL))
        got, msg = hash_file(name, stamp, self._view, dfd)
        if msg is not None:
            self.warnings.append(SnapshotWarning(rel, msg))
        if got is None:
            return stamp, size
        size = STAMP.unpack_from(got)[0]
        self.hashed += 1
        self.hashed_bytes += size
        return got, size

    def _excluded(self, rel, s, fmt, name, abs_dir, chain, child_info, decider, queue) -> None:
        line = self.lines[decider] if decider >= 0 else 0
        if fmt == _S_IFDIR:
            if self.matcher.may_reinclude_below(rel):
                entry = Entry(rel, DIR, MODES.setdefault(s.st_mode, s.st_mode), 0, None, stamp_of(s))
                pending = _Pending(entry, chain, line)
                self.pendings.append(pending)
                queue.append((rel, child_info, pending))
            else:
                count, files, size = _count_tree(os.path.join(abs_dir, name))
                self.excluded.add(line, count + 1, files, size)
        elif fmt == _S_IFREG:
            self.excluded.add(line, 1, 1, s.st_size)
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
        # Forking is only safe while this process runs no other thread (a lock held by one
        # would stay locked forever in the child): otherwise walk in-process.
        if workers > 1 and hasattr(os, "fork") and threading.active_count() == 1:
            frames = self.walk(frames, stop_at=workers * _FRONTIER_PER_WORKER, min_seen=_FORK_MIN_ENTRIES)
            if frames:
                self._run_forked(frames, workers)
                frames = []
        self.walk(frames)
        self.finish()

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
            sub = Walker.__new__(Walker)
            sub.__dict__.update(self.__dict__)
            sub.entries, sub.warnings, sub.excluded = [], [], ExcludedStats()
            sub.cache_hits = sub.hashed = sub.hashed_bytes = sub.seen = 0
            sub.pendings, sub.emitted_remote, sub.racy = [], [], []
            sub._view = None

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
                    (sub.excluded.count, sub.excluded.files, sub.excluded.size, sub.excluded.by_line),
                    sub.emitted_remote,
                    sub.racy,
                    (sub.cache_hits, sub.hashed, sub.hashed_bytes, sub.seen),
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
            self.cache = {}  # the children have their own copy; free ours before merging

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
            count, files, size, by_line = exc
            self.excluded.count += count
            self.excluded.files += files
            self.excluded.size += size
            for line, (c, sz) in by_line.items():
                slot = self.excluded.by_line.setdefault(line, [0, 0])
                slot[0] += c
                slot[1] += sz
            for path in emitted:
                self._mark_emitted(by_path[path])
            hits, hashed, hashed_bytes, seen = counts
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
    outs = [tempfile.TemporaryFile(prefix="layerwise-walk-") for _ in range(n)]
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


def _match(matcher, rel: str, info: tuple | None) -> tuple[bool, tuple | None, int]:
    """fsutil's use of MatchesUsingParentResults, plus the index of the deciding pattern.

    Same logic as :meth:`PatternMatcher.matches_using_parent_results`, with the per-pattern
    dispatch flattened (this runs once per entry of the context). Below the root, the
    patterns that matter for a folder's children (inherited matches, and patterns that can
    match at their depth) are worked out once per (parent MatchInfo, depth)."""
    plan = _plan_for(matcher)
    if info:
        items, any_match = _dir_plan_for(matcher, info, rel.count("/"))
        if not items or (any_match is not None and any_match(rel) is None):
            return False, _all_false(len(plan)), -1
        matched = False
        decider = -1
        hits: list[int] | None = None
        for i, inherited, exclusion, mt, arg, arg2 in items:
            if not inherited:
                if exclusion != matched:
                    continue
                if mt == 1:
                    if rel != arg:
                        continue
                elif mt == 4:
                    if arg(rel) is None:
                        continue
                elif mt == 2:
                    if not rel.startswith(arg):
                        continue
                elif not (rel.endswith(arg) or rel == arg2):
                    continue
            if hits is None:
                hits = [i]
            else:
                hits.append(i)
            matched = not exclusion
            decider = i
        if hits is None:
            return False, _all_false(len(plan)), -1
        out = [False] * len(plan)
        for i in hits:
            out[i] = True
        return matched, tuple(out), decider
    out = [False] * len(plan)
    matched = False
    decider = -1
    depth = rel.count("/")
    for i, (exclusion, mt, arg, arg2, pdepth) in enumerate(plan):
        match = info[i] if info else False
        if not match:
            if exclusion != matched:
                continue
            if info and pdepth >= 0 and pdepth != depth:
                continue  # cannot match a path with another number of "/"
            if mt == 1:
                match = rel == arg
            elif mt == 4:
                match = arg(rel) is not None
            elif mt == 2:
                match = rel.startswith(arg)
            else:
                match = rel.endswith(arg) or rel == arg2
            if not match and not info and "/" in rel:
                pattern = matcher.patterns[i]
                dirs = rel.split("/")[:-1]
                for k in range(1, len(dirs) + 1):
                    if pattern.match("/".join(dirs[:k])):
                        match = True
                        break
        if match:
            out[i] = True
            matched = not exclusion
            decider = i
    return matched, tuple(out), decider


_ALL_FALSE: dict[int, tuple] = {}


def _plan_for(matcher) -> list[tuple]:
    cached = matcher._plan
    if cached is None:
        cached = matcher._plan = (_match_plan(matcher), {})
    return cached[0]


def _dir_plan_for(matcher, info: tuple, depth: int) -> tuple:
    """The cached :func:`_dir_plan` of children at ``depth`` of a folder with ``info``."""
    plan = _plan_for(matcher)
    dir_plans = matcher._plan[1]
    key = (info, depth)
    dir_plan = dir_plans.get(key)
    if dir_plan is None:
        dir_plan = dir_plans[key] = _dir_plan(matcher, plan, info, depth)
    return dir_plan


def _dir_plan(matcher, plan: list[tuple], info: tuple, depth: int) -> tuple:
    """(items, any_match) for the children of one folder: the patterns to evaluate in order,
    and, when nothing is inherited from the parent, one combined regex that tells in a single
    call that none of them matches (the usual case)."""
    import re

    items = tuple(
        (i, inherited) + plan[i][:4]
        for i, inherited in enumerate(info)
        if inherited or plan[i][4] < 0 or plan[i][4] == depth
    )
    any_match = None
    if items and not any(inherited for _, inherited, *_ in items):
        alts = []
        for i, _inh, _exc, mt, arg, arg2 in items:
            p = matcher.patterns[i]
            if mt == 1:
                alts.append(re.escape(arg) + r"\Z")
            elif mt == 2:
                alts.append(re.escape(arg))
            elif mt == 3:
                alt = r"(?s:.*)" + re.escape(arg) + r"\Z"
                if arg2 is not None:
                    alt += "|" + re.escape(arg2) + r"\Z"
                alts.append(alt)
            else:
                alts.append(p.regex.pattern)
        try:
            any_match = re.compile("|".join(f"(?:{a})" for a in alts)).match
        except re.error:  # pragma: no cover - each part compiled on its own already
            any_match = None
    return items, any_match


def _all_false(n: int) -> tuple:
    t = _ALL_FALSE.get(n)
    if t is None:
        t = _ALL_FALSE[n] = (False,) * n
    return t


def _match_plan(matcher) -> list[tuple]:
    """Per pattern: (exclusion, match type, argument, second argument, depth) where depth is
    the number of "/" every path it matches has (-1 when that is not fixed)."""
    plan = []
    for p in matcher.patterns:
        c = p.cleaned
        fixed = "**" not in c and "[" not in c and p.match_type in (1, 4)
        depth = c.count("/") if fixed else -1
        if p.match_type == 1:
            plan.append((p.exclusion, 1, c, None, depth))
        elif p.match_type == 2:
            plan.append((p.exclusion, 2, c[:-2], None, -1))
        elif p.match_type == 3:
            suffix = c[2:]
            # "**/foo" also matches "foo" itself; a suffix without "/" has no such case
            plan.append((p.exclusion, 3, suffix, suffix[1:] if suffix[:1] == "/" else None, -1))
        else:
            plan.append((p.exclusion, 4, p.regex.match, None, depth))
    return plan


def _count_tree(abs_dir: str) -> tuple[int, int, int]:
    """(entries, files, bytes of files) below an excluded folder; unreadable parts skipped
    (as fsutil does for excluded paths)."""
    count = files = size = 0
    stack = [abs_dir]
    while stack:
        try:
            it = _scandir(stack.pop())
        except OSError:
            continue
        with it:
            for d in it:
                count += 1
                try:
                    if d.is_dir(follow_symlinks=False):
                        stack.append(d.path)
                    elif d.is_file(follow_symlinks=False):
                        files += 1
                        size += d.stat(follow_symlinks=False).st_size
                except OSError:
                    continue
    return count, files, size
