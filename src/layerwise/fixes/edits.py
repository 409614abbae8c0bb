"""Minimal text edits on a Dockerfile (the pyupgrade way): every fix is a list of
:class:`TextEdit` on offsets of the original text, applied back to front, so that every byte
outside the edited instructions survives (comments, blank lines, casing, continuation style,
line endings)."""

from __future__ import annotations

import os
import stat

from layerwise.analyses.fixtext import newline_of
from layerwise.errors import LayerwiseError, Location
from layerwise.parse.nodes import Dockerfile, Node
from layerwise.records import Frozen, Record


class TextEdit(Frozen):
    """Replace ``text[start:end]`` with ``replacement`` (an insertion when start == end).

    (This module's records are written out: a dataclass would be built at every start-up.)"""

    __slots__ = _fields = ("start", "end", "replacement")

    def __init__(self, start: int, end: int, replacement: str) -> None:
        self._init(start, end, replacement)


class EditConflict(LayerwiseError):
    pass


class ProposedFix(Record):
    """One rule's fix: its text edits, with the rule code, a message and ruff-like safety."""

    _fields = ("code", "message", "edits", "safety", "line")

    def __init__(self, code: str, message: str, edits: list[TextEdit], safety: str = "safe", line: int = 0) -> None:
        self.code = code
        self.message = message
        self.edits = edits
        self.safety = safety
        self.line = line


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


def line_origins(text: str, edits: list[TextEdit]) -> list[int]:
    """For each line of ``apply_edits(text, edits)`` (index 0: line 1), the line of ``text``
    it comes from: a line an edit removed and another wrote again (a move) keeps its line;
    any other line an edit wrote comes from the line where that edit starts. So that what a
    later pass of ``fix`` reports is said at the user's line."""
    ordered = sorted(edits, key=lambda e: (e.start, e.end))
    removed: dict[str, list[int]] = {}  # whole lines the edits remove, by text
    for e in ordered:
        if e.start == line_start(text, e.start):
            first = text.count("\n", 0, e.start) + 1
            for i, whole in enumerate(text[e.start : e.end].split("\n")[:-1]):
                removed.setdefault(whole, []).append(first + i)
    origins: list[int] = []
    pos = 0
    line = 1  # the line of text at pos
    for e in ordered:
        kept = text.count("\n", pos, e.start)
        origins.extend(range(line, line + kept))
        line += kept
        written = e.replacement.split("\n")[:-1]
        if e.start == line_start(text, e.start):
            origins.extend(removed[w].pop(0) if removed.get(w) else line for w in written)
        else:  # (the first line written continues a line kept before it)
            origins.extend([line] * len(written))
        line += text.count("\n", e.start, e.end)
        pos = e.end
    origins.extend(range(line, line + text.count("\n", pos) + 1))
    return origins


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

    if os.path.isabs(path):  # (a/ + an absolute path: a patch git apply refuses)
        below = os.path.relpath(path)
        if below != os.pardir and not below.startswith(os.pardir + os.sep):
            path = below  # relative to the current folder, where the patch applies
    out = []
    for line in difflib.unified_diff(
        old.splitlines(keepends=True), new.splitlines(keepends=True), fromfile=f"a/{path}", tofile=f"b/{path}"
    ):
        out.append(line)
        if not line.endswith("\n"):  # a last line without its newline: said as git says it
            out.append("\n\\ No newline at end of file\n")
    return "".join(out)


def write_atomic(path: str | os.PathLike[str], text: str, *, bom: bool = False) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder and a rename:
    the file is either the old or the new one, never half written (see :func:`write_all_atomic`)."""
    write_all_atomic([FileWrite(os.fspath(path), text, bom)])


class FileWrite(Frozen):
    """One file to write: its new text, and the text it was made from (``original``: None
    when the file did not exist) so that an edit saved meanwhile is noticed, not lost."""

    __slots__ = _fields = ("path", "text", "bom", "original", "check_original")

    def __init__(self, path: str, text: str, bom: bool = False, original: str | None = None,
                 check_original: bool = False) -> None:  # fmt: skip
        # check_original: compare the file with ``original`` just before the rename
        self._init(path, text, bom, original, check_original)


def write_all_atomic(
    files: list[FileWrite] | list[tuple[str | os.PathLike[str], str, bool]],
    *,
    roots: list[str | os.PathLike[str]] | None = None,
    command: str = "fix",
) -> list[str]:
    """Write several files all or nothing, keeping what the user had (returns the paths written).

    Every new content goes to a temporary file beside its target first, written and synced,
    with the target's owner, group, mode and extended attributes (ACLs among them; a new file
    gets the mode a normal file creation gives: 0666 less the umask). Only when every temporary
    file is complete, and every target is found unchanged since it was read
    (``FileWrite.original``), are they renamed over the targets. A target with other hard links
    (a rename would leave them on the old text), or with an extended attribute the temporary
    file cannot take, is rewritten in place instead, its old bytes kept to put back should a
    later write of the set fail. A symlink is written through when its target is inside one of
    ``roots`` (default: the folder of the path) and refused when it leaves them: the link stays
    a link. A folder, a read-only file, a full disk, a file changed meanwhile: a located error,
    every target as it was, no temporary file left. SIGTERM, SIGHUP and Ctrl-C during the
    preparation end it the same way (KeyboardInterrupt: the command exits 128 + the signal);
    during the writes they wait until the last one is done. ``command`` names the layerwise
    command writing (``fix``, ``pin``) in the messages."""
    from layerwise.signals import held_while

    plan = [f if isinstance(f, FileWrite) else FileWrite(os.fspath(f[0]), f[1], f[2]) for f in files]
    temps: list[str] = []  # every temporary file name, listed before it is created
    staged: list[_Staged] = []
    rewritten: list[_Staged] = []  # written in place: put back if a later write fails
    with held_while() as guard:
        try:
            for f in plan:
                staged.append(_stage(f, roots, temps, command))
            guard.holding = True  # from here to the last write: no signal stops it halfway
            for st in staged:
                _recheck(st.file, st.target, command)
            for st in staged:
                if st.fd is not None:
                    rewritten.append(st)
                    _rewrite(st.fd, _encode(st.file.text, st.file.bom), Location(st.file.path))
            for st in staged:
                if st.tmp is not None:
                    try:
                        os.replace(st.tmp, st.target)
                    except OSError as exc:
                        raise LayerwiseError(f"cannot write: {exc.strerror or exc}", Location(st.file.path)) from None
                    temps.remove(st.tmp)
            for folder in dict.fromkeys(os.path.dirname(st.target) for st in staged):
                _fsync_dir(folder)
        except BaseException:
            for st in rewritten:
                try:
                    _rewrite(st.fd, st.old, Location(st.file.path))
                except LayerwiseError:
                    pass
            raise
        finally:
            guard.holding = True
            for tmp in temps:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass
            for st in staged:
                if st.fd is not None:
                    os.close(st.fd)
    return [f.path for f in plan]


class _Staged(Record):
    """A file ready to be written: its new content in ``tmp`` (renamed over ``target``), or
    ``target`` itself open as ``fd`` to be rewritten in place, with its ``old`` bytes."""

    _fields = ("file", "target", "tmp", "fd", "old")

    def __init__(self, file: FileWrite, target: str, tmp: str | None = None, fd: int | None = None,
                 old: bytes = b"") -> None:  # fmt: skip
        self.file = file
        self.target = target
        self.tmp = tmp
        self.fd = fd
        self.old = old


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


def _stage(f: FileWrite, roots: list[str | os.PathLike[str]] | None, temps: list[str], command: str) -> _Staged:
    """Check the target and write the new content to a temporary file beside it (its name
    appended to ``temps`` before it exists, so that no interruption can leave it behind); or,
    for a target a rename would not keep whole, open it to be rewritten in place."""
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
    if st is not None and st.st_nlink > 1:  # a rename would leave the other links on the old text
        return _open_in_place(f, target, st, command)
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
    kept = True
    try:
        with os.fdopen(fd, "wb") as out:
            if st is not None:
                _keep_owner(out.fileno(), st, loc)
                os.fchmod(out.fileno(), stat.S_IMODE(st.st_mode))  # after chown, which clears setuid
                kept = _copy_xattrs(target, out.fileno())
            out.write(_encode(f.text, f.bom))
            out.flush()
            os.fsync(out.fileno())
    except OSError as exc:
        raise LayerwiseError(f"cannot write: {exc.strerror or exc}", loc) from None
    if not kept:  # an attribute the new file cannot take (a security label...)
        os.unlink(tmp)
        temps.remove(tmp)
        return _open_in_place(f, target, st, command)
    return _Staged(f, target, tmp=tmp)


def _copy_xattrs(path: str, fd: int) -> bool:
    """Give the file open as ``fd`` the extended attributes of ``path`` (user attributes, ACLs,
    security labels); False when one cannot be set."""
    if not hasattr(os, "listxattr"):
        return True
    try:
        names = os.listxattr(path, follow_symlinks=False)
    except OSError:  # a file system without extended attributes: nothing to keep
        return True
    for name in names:
        try:
            os.setxattr(fd, name, os.getxattr(path, name, follow_symlinks=False))
        except OSError:
            return False
    return True


def _open_in_place(f: FileWrite, target: str, st: os.stat_result, command: str) -> _Staged:
    """Open ``target`` (the file ``st`` describes, nothing swapped in) to rewrite it in place,
    and read its bytes to put back should the set not be written whole."""
    loc = Location(f.path)
    flags = os.O_RDWR | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(target, flags)
    except OSError as exc:
        raise LayerwiseError(f"cannot write: {exc.strerror or exc}", loc) from None
    try:
        now = os.fstat(fd)
        if (now.st_dev, now.st_ino) != (st.st_dev, st.st_ino):
            raise LayerwiseError(f"changed while layerwise {command} ran: not written (run {command} again)", loc)
        chunks = []
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
    except BaseException:
        os.close(fd)
        raise
    return _Staged(f, target, fd=fd, old=b"".join(chunks))


def _rewrite(fd: int, data: bytes, loc: Location) -> None:
    """Replace the whole content of the file open as ``fd`` with ``data``, synced."""
    try:
        done = 0
        while done < len(data):
            done += os.pwrite(fd, data[done:], done)
        os.ftruncate(fd, len(data))
        os.fsync(fd)
    except OSError as exc:
        raise LayerwiseError(f"cannot write: {exc.strerror or exc}", loc) from None


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


def _recheck(f: FileWrite, target: str, command: str = "fix") -> None:
    """Refuse when the file is no longer what the fix was computed from (saved meanwhile)."""
    if not f.check_original:
        return
    if f.original is None:
        if os.path.lexists(target):
            raise LayerwiseError(f"was created while layerwise {command} ran: not written (run {command} again)",
                                 Location(f.path))  # fmt: skip
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
        raise LayerwiseError(f"changed while layerwise {command} ran: not written (run {command} again)",
                             Location(f.path))  # fmt: skip


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
