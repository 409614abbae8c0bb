"""Minimal text edits on a Dockerfile (the pyupgrade way): every fix is a list of
:class:`TextEdit` on offsets of the original text, applied back to front, so that every byte
outside the edited instructions survives (comments, blank lines, casing, continuation style,
line endings)."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass

from layerwise.errors import LayerwiseError, Location
from layerwise.parse.nodes import Dockerfile, Node


@dataclass(frozen=True)
class TextEdit:
    """Replace ``text[start:end]`` with ``replacement`` (an insertion when start == end)."""

    start: int
    end: int
    replacement: str


class EditConflict(LayerwiseError):
    pass


@dataclass
class ProposedFix:
    """One rule's fix: its text edits, with the rule code, a message and ruff-like safety."""

    code: str
    message: str
    edits: list[TextEdit]
    safety: str = "safe"
    line: int = 0


def apply_edits(text: str, edits: list[TextEdit]) -> str:
    """Apply non-overlapping edits (insertions at the same offset keep their order)."""
    ordered = sorted(enumerate(edits), key=lambda ie: (ie[1].start, ie[1].end, ie[0]))
    prev_end = -1
    for _, e in ordered:
        if e.start < prev_end:
            raise EditConflict(f"overlapping edits at offset {e.start}")
        prev_end = max(prev_end, e.end)
    out = []
    pos = 0
    for _, e in ordered:
        out.append(text[pos : e.start])
        out.append(e.replacement)
        pos = e.end
    out.append(text[pos:])
    return "".join(out)


def newline_of(text: str) -> str:
    """The file's line ending: CRLF when its first line ends so, else LF."""
    i = text.find("\n")
    return "\r\n" if i > 0 and text[i - 1] == "\r" else "\n"


def newline_at(text: str, offset: int) -> str:
    """The line ending of the line containing ``offset`` (a file with mixed endings keeps each
    line's: lines inserted next to it take its ending); the file's when that line has none."""
    i = text.find("\n", offset)
    if i < 0:
        return newline_of(text)
    return "\r\n" if i > 0 and text[i - 1] == "\r" else "\n"


def line_start(text: str, offset: int) -> int:
    return text.rfind("\n", 0, offset) + 1


def line_end(text: str, offset: int) -> int:
    """Offset just past the line ending of the line containing ``offset`` (or EOF)."""
    i = text.find("\n", offset)
    return len(text) if i < 0 else i + 1


def block_start(df: Dockerfile, node: Node) -> int:
    """Start of the node's line, extended upwards over the comment lines directly above it
    (no blank line between): they describe it and move with it."""
    text = df.text
    start = line_start(text, node.span.start)
    while start > 0:
        prev = line_start(text, start - 1)
        line = text[prev:start].strip()
        if line.startswith("#") and not _is_directive_line(df, prev):
            start = prev
        else:
            break
    return start


def _is_directive_line(df: Dockerfile, offset: int) -> bool:
    line_no = df.text.count("\n", 0, offset) + 1
    return any(d.line == line_no for d in df.directives)


def block(df: Dockerfile, node: Node) -> tuple[int, int]:
    """(start, end) of the node with its comment lines, whole lines, line ending included."""
    return block_start(df, node), line_end(df.text, node.span.end)


def indentation(df: Dockerfile, node: Node) -> str:
    text = df.text
    return text[line_start(text, node.span.start) : node.span.start]


def replace_node(df: Dockerfile, node: Node, new_source: str) -> TextEdit:
    """Replace exactly the instruction's text (continuations and heredocs included)."""
    return TextEdit(node.span.start, node.span.end, new_source)


def insert_before(df: Dockerfile, node: Node, lines: list[str], *, above_comments: bool = True) -> TextEdit:
    """Insert whole lines before ``node`` (above its comment block by default), indented like it."""
    at = block_start(df, node) if above_comments else line_start(df.text, node.span.start)
    nl = newline_at(df.text, at)
    ind = indentation(df, node)
    return TextEdit(at, at, "".join(ind + line + nl for line in lines))


def insert_after(df: Dockerfile, node: Node, lines: list[str]) -> TextEdit:
    end = node.span.end
    nl = newline_at(df.text, end)
    at = line_end(df.text, end)
    prefix = "" if df.text[end:at].endswith("\n") else nl  # the node ends the file without \n
    ind = indentation(df, node)
    return TextEdit(at, at, prefix + "".join(ind + line + nl for line in lines))


def move_after(df: Dockerfile, node: Node, anchor: Node) -> list[TextEdit]:
    """Move ``node`` (with its comment lines) to just after ``anchor``, bytes unchanged."""
    start, end = block(df, node)
    moved = df.text[start:end]
    if not moved.endswith("\n"):
        moved += newline_at(df.text, anchor.span.end)
    at = line_end(df.text, anchor.span.end)
    prefix = "" if df.text[anchor.span.end : at].endswith("\n") else newline_at(df.text, start)
    return [TextEdit(start, end, ""), TextEdit(at, at, prefix + moved)]


def unified_diff(path: str, old: str, new: str) -> str:
    import difflib  # only when a diff is shown (start-up cost of check, #17)

    return "".join(
        difflib.unified_diff(
            old.splitlines(keepends=True),
            new.splitlines(keepends=True),
            fromfile=f"a/{path}",
            tofile=f"b/{path}",
        )
    )


def write_atomic(path: str | os.PathLike[str], text: str, *, bom: bool = False) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder and a rename:
    the file is either the old or the new one, never half written (see :func:`write_all_atomic`)."""
    write_all_atomic([FileWrite(os.fspath(path), text, bom)])


@dataclass(frozen=True)
class FileWrite:
    """One file to write: its new text, and the text it was made from (``original``: None
    when the file did not exist) so that an edit saved meanwhile is noticed, not lost."""

    path: str
    text: str
    bom: bool = False
    original: str | None = None
    check_original: bool = False  # compare the file with ``original`` just before the rename


def write_all_atomic(
    files: list[FileWrite] | list[tuple[str | os.PathLike[str], str, bool]],
    *,
    roots: list[str | os.PathLike[str]] | None = None,
) -> list[str]:
    """Write several files all or nothing, keeping what the user had (returns the paths written).

    Every new content goes to a temporary file beside its target first, written and synced,
    with the target's owner, group and mode (a new file gets the mode a normal file creation
    gives: 0666 less the umask). Only when every temporary file is complete, and every target
    is found unchanged since it was read (``FileWrite.original``), are they renamed over the
    targets. A symlink is written through when its target is inside one of ``roots`` (default:
    the folder of the path) and refused when it leaves them: the link stays a link. A folder,
    a read-only file, a full disk, a file changed meanwhile: a located error, every target as
    it was, no temporary file left. SIGTERM, SIGHUP and Ctrl-C during the preparation end it
    the same way (KeyboardInterrupt: the command exits 128 + the signal); during the renames
    they wait until the last one is done."""
    from layerwise.bench.signals import held_while

    plan = [f if isinstance(f, FileWrite) else FileWrite(os.fspath(f[0]), f[1], f[2]) for f in files]
    temps: list[str] = []  # every temporary file name, listed before it is created
    with held_while() as guard:
        try:
            staged = [_stage(f, roots, temps) for f in plan]
            guard.holding = True  # from here to the last rename: no signal stops it halfway
            for f, target in staged:
                _recheck(f, target)
            for (f, target), tmp in zip(staged, list(temps)):
                try:
                    os.replace(tmp, target)
                except OSError as exc:
                    raise LayerwiseError(f"cannot write: {exc.strerror or exc}", Location(f.path)) from None
                temps.remove(tmp)
            for folder in dict.fromkeys(os.path.dirname(target) for _, target in staged):
                _fsync_dir(folder)
        finally:
            guard.holding = True
            for tmp in temps:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass
    return [f.path for f in plan]


def _target(f: FileWrite, roots: list[str | os.PathLike[str]] | None) -> str:
    """The file to replace for ``f.path``: itself, or the file its symlink(s) point to when that
    stays inside the project; a located error otherwise."""
    path = f.path
    if not os.path.islink(path):
        return path
    real = os.path.realpath(path)
    bases = [os.path.realpath(r) for r in (roots or [os.path.dirname(os.path.abspath(path))])]
    if not any(real == b or real.startswith(b.rstrip(os.sep) + os.sep) for b in bases):
        raise LayerwiseError("is a symlink to a file outside the project: not written (edit that file yourself)",
                             Location(path))  # fmt: skip
    if not os.path.lexists(real) or os.path.islink(real):
        raise LayerwiseError("is a symlink to a missing file (or a symlink loop): not written", Location(path))
    return real


def _stage(f: FileWrite, roots: list[str | os.PathLike[str]] | None, temps: list[str]) -> tuple[FileWrite, str]:
    """Check the target and write the new content to a temporary file beside it (its name
    appended to ``temps`` before it exists, so that no interruption can leave it behind)."""
    loc = Location(f.path)
    target = _target(f, roots)
    try:
        st: os.stat_result | None = os.lstat(target)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise LayerwiseError(f"cannot write: {exc.strerror or exc}", loc) from None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise LayerwiseError("is a folder, not a file: not written", loc)
    if st is not None and not stat.S_ISREG(st.st_mode):
        raise LayerwiseError("is not a regular file (a FIFO, socket or device?): not written", loc)
    if st is not None and not st.st_mode & 0o222:
        raise LayerwiseError("the file is read-only: not written (make it writable to fix it)", loc)
    import secrets  # only when a file is written (start-up cost of check, #17)

    folder = os.path.dirname(target) or "."
    tmp = os.path.join(folder, f".{os.path.basename(target)}.{secrets.token_hex(4)}.layerwise")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    temps.append(tmp)
    try:
        # a new file: 0666 less the umask, as any editor creates it; an existing one: private
        # until it has the old file's owner and mode
        fd = os.open(tmp, flags, 0o600 if st is not None else 0o666)
    except OSError as exc:
        temps.remove(tmp)
        raise LayerwiseError(f"cannot write in its folder: {exc.strerror or exc}", loc) from None
    try:
        with os.fdopen(fd, "wb") as out:
            if st is not None:
                _keep_owner(out.fileno(), st, loc)
                os.fchmod(out.fileno(), stat.S_IMODE(st.st_mode))  # after chown, which clears setuid
            out.write(_encode(f.text, f.bom))
            out.flush()
            os.fsync(out.fileno())
    except OSError as exc:
        raise LayerwiseError(f"cannot write: {exc.strerror or exc}", loc) from None
    return f, target


def _keep_owner(fd: int, st: os.stat_result, loc: Location) -> None:
    now = os.fstat(fd)
    if (now.st_uid, now.st_gid) == (st.st_uid, st.st_gid):
        return
    try:
        os.fchown(fd, st.st_uid, st.st_gid)
    except PermissionError:
        raise LayerwiseError(f"cannot keep the file's owner and group ({st.st_uid}:{st.st_gid}): not written "
                             "(run fix as its owner)", loc) from None  # fmt: skip


def _encode(text: str, bom: bool) -> bytes:
    # surrogateescape: the bytes of a file read so that were not UTF-8 come back unchanged
    text = ("\ufeff" if bom else "") + text
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # other lone surrogates (text not read from a file)
        return text.encode("utf-8", "surrogatepass")


def _recheck(f: FileWrite, target: str) -> None:
    """Refuse when the file is no longer what the fix was computed from (saved meanwhile)."""
    if not f.check_original:
        return
    if f.original is None:
        if os.path.lexists(target):
            raise LayerwiseError("was created while layerwise fix ran: not written (run fix again)", Location(f.path))
        return
    expected = _encode(f.original, f.bom)
    now = None
    try:  # without blocking or following a link: what is there now may be anything
        fd = os.open(target, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        fd = -1
    if fd >= 0:
        try:
            if stat.S_ISREG(os.fstat(fd).st_mode):
                chunks, want = [], len(expected) + 1
                while want > 0:
                    chunk = os.read(fd, want)
                    if not chunk:
                        break
                    chunks.append(chunk)
                    want -= len(chunk)
                now = b"".join(chunks)
        except OSError:
            now = None
        finally:
            os.close(fd)
    if now != expected:
        raise LayerwiseError("changed while layerwise fix ran: not written (run fix again)", Location(f.path))


def _fsync_dir(folder: str) -> None:
    """Make the renames durable: once fix says "wrote", a crash keeps the new files."""
    try:
        fd = os.open(folder or ".", os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
