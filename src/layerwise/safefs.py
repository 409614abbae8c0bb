"""The one way layerwise reads a file of the user's project (requirements and their ``-r``/``-c``
includes, constraints, ``pyproject.toml``, lock files, ``.dockerignore``, the Dockerfile,
``[tool.layerwise]``).

The project may be hostile (a pull request from a stranger, run in CI), so a read

- stays inside the project root: the path is resolved (symlinks included) and must be the root
  or below it, and the file actually opened is checked again through ``/proc/self/fd`` (a
  component swapped for a symlink between the check and the open is caught);
- opens only regular files, without blocking (``O_NONBLOCK``: a FIFO named
  ``requirements.txt`` is refused, never waited on; no controlling terminal is taken);
- is bounded: the size is checked before reading and the read is streamed in chunks that stop
  at the limit (a growing file, ``/dev/zero`` behind a link, a 3 GB sparse file: never read
  whole).

Every refusal is a :class:`LayerwiseError` with the path as its location; the callers turn
the ones about includes and project files into located messages, never into the contents.
"""

from __future__ import annotations

import errno
import os
import stat

from layerwise.errors import LayerwiseError, Location

# Limits, in bytes. A Dockerfile can legitimately be big (generated ones: tests parse 100 MB);
# a requirements file, pyproject.toml, lock file or .dockerignore above these is not a real one.
DOCKERFILE_LIMIT = 256 * 1024 * 1024
PROJECT_FILE_LIMIT = 64 * 1024 * 1024
_CHUNK = 1024 * 1024

_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)


class FileAccessError(LayerwiseError):
    """A project file that is not read: outside the project, not a regular file, too big..."""

    reason = "unreadable"


class OutsideProject(FileAccessError):
    reason = "outside"


class NotRegularFile(FileAccessError):
    reason = "not-regular"


class FileTooLarge(FileAccessError):
    reason = "too-large"


def inside(path: str, root: str) -> bool:
    """Whether the (resolved, absolute) ``path`` is ``root`` or below it."""
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def contained(root: str | os.PathLike[str], rel: str | os.PathLike[str]) -> str | None:
    """The resolved absolute path of ``rel`` (relative to ``root``; a leading ``/`` means the
    root, as in a build context) when it stays inside ``root`` once every symlink is followed,
    else None. The file need not exist."""
    root_real = os.path.realpath(root)
    rel = os.fspath(rel)
    target = os.path.realpath(os.path.join(root_real, rel.lstrip("/")))
    return target if inside(target, root_real) else None


def project_root(start: str | os.PathLike[str]) -> str:
    """The project a path belongs to: the nearest folder from ``start`` (a folder, or a file's
    folder) upwards holding ``.git`` (the repository), else ``start``'s folder itself. Absolute,
    not resolved (links in ``start`` are the user's own)."""
    p = os.path.abspath(start)
    if not os.path.isdir(p):
        p = os.path.dirname(p)
    d = p
    while True:
        if os.path.lexists(os.path.join(d, ".git")):
            return d
        parent = os.path.dirname(d)
        if parent == d:
            return p
        d = parent


def _opened_path(fd: int) -> str | None:
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:  # no /proc: the resolve-then-open check stands alone
        return None


def open_file(path: str | os.PathLike[str], *, root: str | os.PathLike[str] | None = None,
              display: str | None = None) -> int:  # fmt: skip
    """An fd open for reading on the regular file ``path``. With ``root``, ``path`` is relative
    to it (a leading ``/`` is the root) and must stay inside it, links followed."""
    name = display if display is not None else os.fspath(path)
    loc = Location(name)
    if root is not None:
        root_real = os.path.realpath(root)
        target = contained(root_real, path)
        if target is None:
            raise OutsideProject("points outside the project (not read)", loc)
        flags = _FLAGS | getattr(os, "O_NOFOLLOW", 0)  # resolved: a link here is a swap
    else:
        root_real = None
        target = os.fspath(path)
        flags = _FLAGS
    try:
        fd = os.open(target, flags)
    except FileNotFoundError:
        raise FileAccessError("no such file", loc) from None
    except PermissionError:
        raise FileAccessError("permission denied", loc) from None
    except OSError as exc:
        if exc.errno == errno.ELOOP and root is not None:
            raise OutsideProject("changed into a symlink while read (not read)", loc) from None
        if exc.errno == errno.ENXIO:  # a socket, or a FIFO opened write-only elsewhere
            raise NotRegularFile("is not a regular file (a FIFO, socket or device?)", loc) from None
        raise FileAccessError(f"cannot read: {exc.strerror or exc}", loc) from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise NotRegularFile("is a directory, not a file", loc)
        if not stat.S_ISREG(st.st_mode):
            raise NotRegularFile("is not a regular file (a FIFO, socket or device?)", loc)
        if root_real is not None:
            real = _opened_path(fd)
            if real is not None and not inside(real, root_real):
                raise OutsideProject("points outside the project (not read)", loc)
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_bytes(path: str | os.PathLike[str], *, root: str | os.PathLike[str] | None = None,
               limit: int = PROJECT_FILE_LIMIT, display: str | None = None) -> bytes:  # fmt: skip
    """The bytes of a regular file, at most ``limit`` of them (more: :class:`FileTooLarge`),
    read in chunks; confined to ``root`` when given (see :func:`open_file`)."""
    name = display if display is not None else os.fspath(path)
    fd = open_file(path, root=root, display=name)
    try:
        size = os.fstat(fd).st_size
        if size > limit:
            raise FileTooLarge(f"is too large ({size_text(size)}; the limit is {size_text(limit)})", Location(name))
        chunks: list[bytes] = []
        total = 0
        while True:
            try:
                chunk = os.read(fd, min(_CHUNK, limit + 1 - total))
            except BlockingIOError:  # pragma: no cover - regular files do not block
                raise NotRegularFile("would block (not a regular file?)", Location(name)) from None
            except OSError as exc:
                raise FileAccessError(f"cannot read: {exc.strerror or exc}", Location(name)) from None
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:  # grew while read
                raise FileTooLarge(f"is too large (more than {size_text(limit)})", Location(name))
        return b"".join(chunks)
    finally:
        os.close(fd)


def read_text(path: str | os.PathLike[str], *, root: str | os.PathLike[str] | None = None,
              limit: int = PROJECT_FILE_LIMIT, display: str | None = None, errors: str = "replace") -> str:  # fmt: skip
    """:func:`read_bytes` decoded as UTF-8 (``errors`` as for :meth:`bytes.decode`)."""
    return read_bytes(path, root=root, limit=limit, display=display).decode("utf-8", errors)


def is_file(path: str | os.PathLike[str], *, root: str | os.PathLike[str] | None = None) -> bool:
    """Whether ``path`` is a regular file (inside ``root`` when given), without opening it."""
    if root is not None:
        target = contained(root, path)
        if target is None:
            return False
        path = target
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


def size_text(n: int) -> str:
    return f"{n / (1024 * 1024):.0f} MB" if n >= 1024 * 1024 else f"{n} bytes"
