"""One entry of a build context snapshot, and the small value types around it."""

from __future__ import annotations

import os
import stat as st
import struct

from layerwise.records import Frozen

__all__ = ["DIR", "FILE", "OTHER", "STAMP", "SYMLINK", "Entry", "ExcludedStats", "SnapshotWarning", "stamp_of"]

FILE = "file"
DIR = "dir"
SYMLINK = "symlink"
OTHER = "other"

STAMP = struct.Struct("<QqqQ")  # size, mtime_ns, ctime_ns, inode
MODES: dict[int, int] = {}  # shares the int objects of the few distinct st_mode values


def stamp_of(s: os.stat_result) -> bytes:
    return STAMP.pack(s.st_size, s.st_mtime_ns, s.st_ctime_ns, s.st_ino & 0xFFFFFFFFFFFFFFFF)


class Entry:
    """One path of the context. ``rec`` holds the 32-byte stat stamp, followed by the 32-byte
    sha256 of the content once known (one object, often shared with the stat cache)."""

    __slots__ = ("kind", "path", "rec", "size", "st_mode", "target")

    def __init__(
        self, path: str, kind: str, st_mode: int, size: int, target: str | None, rec: bytes
    ) -> None:
        self.path = path
        self.kind = kind
        self.st_mode = st_mode
        self.size = size
        self.target = target
        self.rec = rec

    @property
    def mode(self) -> int:
        """Permission bits plus setuid/setgid/sticky (what the COPY checksum sees)."""
        return self.st_mode & 0o7777

    @property
    def digest(self) -> bytes | None:
        """sha256 of the content (files only), None until hashed."""
        return self.rec[32:] if len(self.rec) == 64 else None

    @property
    def hexdigest(self) -> str | None:
        d = self.digest
        return d.hex() if d is not None else None

    @property
    def special(self) -> str | None:
        """For ``other`` entries: fifo, socket, char-device, block-device."""
        if self.kind != OTHER:
            return None
        return _special_name(self.st_mode)

    @property
    def name(self) -> str:
        return self.path.rpartition("/")[2]

    @property
    def mtime_ns(self) -> int:
        return STAMP.unpack_from(self.rec)[1]

    def header(self) -> tuple:
        """What the COPY checksum sees apart from the content digest."""
        return (self.kind, self.mode, self.size if self.kind == FILE else 0, self.target or "")

    def __repr__(self) -> str:
        extra = f" -> {self.target}" if self.target is not None else ""
        return f"Entry({self.path!r}, {self.kind}, {self.mode:04o}, {self.size}{extra})"


def _special_name(mode: int) -> str:
    if st.S_ISFIFO(mode):
        return "fifo"
    if st.S_ISSOCK(mode):
        return "socket"
    if st.S_ISCHR(mode):
        return "char-device"
    if st.S_ISBLK(mode):
        return "block-device"
    return "unknown"


class SnapshotWarning(Frozen):
    """Something about the context the user should know; ``path`` is context-relative. (A
    record written out: a dataclass would be built at every start-up.)"""

    __slots__ = _fields = ("path", "message")

    def __init__(self, path: str, message: str) -> None:
        self._init(path, message)

    def __str__(self) -> str:
        return f"{self.path or '.'}: {self.message}"


class ExcludedStats:
    """What the ignore file kept out of the context: entries (files, links, other and
    folders), files, bytes of files, and per pattern line (0 for patterns not from a file)
    ``[count, size]``.

    Excluded folders are counted only when a figure is first read (the walk records them and
    goes on; only reports ask), by walking them then. ``not_counted`` and ``partial_by_line``
    read what is known without walking them (#17: a 100,000-file ``.venv`` costs nothing)."""

    def __init__(
        self,
        count: int = 0,
        files: int = 0,
        size: int = 0,
        by_line: dict[int, list[int]] | None = None,
        trees: list[tuple[int, str]] | None = None,
    ) -> None:
        self._count = count
        self._files = files
        self._size = size
        self._by_line: dict[int, list[int]] = {} if by_line is None else by_line
        #: excluded folders not counted yet: (pattern line, absolute path)
        self.trees: list[tuple[int, str]] = [] if trees is None else trees

    def add(self, line: int, count: int, files: int, size: int) -> None:
        self._count += count
        self._files += files
        self._size += size
        slot = self._by_line.setdefault(line, [0, 0])
        slot[0] += count
        slot[1] += size

    def add_tree(self, line: int, abs_dir: str) -> None:
        """An excluded folder, to be counted (itself and all below it) when asked."""
        self.trees.append((line, abs_dir))

    def merge(self, other: ExcludedStats) -> None:
        self._count += other._count
        self._files += other._files
        self._size += other._size
        for line, (count, size) in other._by_line.items():
            slot = self._by_line.setdefault(line, [0, 0])
            slot[0] += count
            slot[1] += size
        self.trees.extend(other.trees)

    def state(self) -> tuple:
        """Plain values (for a worker process to send back); ``ExcludedStats(*state)``."""
        return (self._count, self._files, self._size, self._by_line, self.trees)

    @property
    def not_counted(self) -> int:
        """Excluded folders whose contents are not counted yet (reading it walks nothing)."""
        return len(self.trees)

    def partial_by_line(self) -> tuple[dict[int, list[int]], dict[int, int]]:
        """Without walking: ``[count, size]`` per pattern line of what is counted, and per line
        the number of excluded folders not counted yet."""
        folders: dict[int, int] = {}
        for line, _ in self.trees:
            folders[line] = folders.get(line, 0) + 1
        return {k: list(v) for k, v in self._by_line.items()}, folders

    def _resolve(self) -> None:
        trees, self.trees = self.trees, []
        for line, abs_dir in trees:
            count, files, size = count_tree(abs_dir)
            self.add(line, count + 1, files, size)

    @property
    def count(self) -> int:
        self._resolve()
        return self._count

    @property
    def files(self) -> int:
        self._resolve()
        return self._files

    @property
    def size(self) -> int:
        self._resolve()
        return self._size

    @property
    def by_line(self) -> dict[int, list[int]]:
        self._resolve()
        return self._by_line

    def __repr__(self) -> str:
        return f"ExcludedStats(count={self.count}, files={self.files}, size={self.size})"


def count_tree(abs_dir: str) -> tuple[int, int, int]:
    """(entries, files, bytes of files) below an excluded folder; unreadable parts skipped
    (as fsutil does for excluded paths)."""
    count = files = size = 0
    stack = [abs_dir]
    while stack:
        try:
            it = os.scandir(stack.pop())
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
