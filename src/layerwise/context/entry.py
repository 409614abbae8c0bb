"""One entry of a build context snapshot, and the small value types around it."""

from __future__ import annotations

import os
import stat as st
import struct
from dataclasses import dataclass, field

__all__ = ["FILE", "DIR", "SYMLINK", "OTHER", "Entry", "SnapshotWarning", "ExcludedStats", "STAMP", "stamp_of"]

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

    __slots__ = ("path", "kind", "st_mode", "size", "target", "rec")

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


@dataclass(frozen=True, slots=True)
class SnapshotWarning:
    """Something about the context the user should know; ``path`` is context-relative."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path or '.'}: {self.message}"


@dataclass
class ExcludedStats:
    """What the ignore file kept out of the context."""

    count: int = 0  # entries (files, links, other and folders)
    files: int = 0
    size: int = 0  # bytes of excluded files
    #: pattern line (0 for patterns not from a file) -> [count, size]
    by_line: dict[int, list[int]] = field(default_factory=dict)

    def add(self, line: int, count: int, files: int, size: int) -> None:
        self.count += count
        self.files += files
        self.size += size
        slot = self.by_line.setdefault(line, [0, 0])
        slot[0] += count
        slot[1] += size
