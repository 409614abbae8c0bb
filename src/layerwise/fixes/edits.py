"""Minimal text edits on a Dockerfile (the pyupgrade way): every fix is a list of
:class:`TextEdit` on offsets of the original text, applied back to front, so that every byte
outside the edited instructions survives (comments, blank lines, casing, continuation style,
line endings)."""

from __future__ import annotations

import difflib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

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
    nl = newline_of(df.text)
    at = block_start(df, node) if above_comments else line_start(df.text, node.span.start)
    ind = indentation(df, node)
    return TextEdit(at, at, "".join(ind + line + nl for line in lines))


def insert_after(df: Dockerfile, node: Node, lines: list[str]) -> TextEdit:
    nl = newline_of(df.text)
    end = node.span.end
    at = line_end(df.text, end)
    prefix = "" if df.text[end:at].endswith("\n") else nl  # the node ends the file without \n
    ind = indentation(df, node)
    return TextEdit(at, at, prefix + "".join(ind + line + nl for line in lines))


def move_after(df: Dockerfile, node: Node, anchor: Node) -> list[TextEdit]:
    """Move ``node`` (with its comment lines) to just after ``anchor``, bytes unchanged."""
    start, end = block(df, node)
    moved = df.text[start:end]
    if not moved.endswith("\n"):
        moved += newline_of(df.text)
    at = line_end(df.text, anchor.span.end)
    prefix = "" if df.text[anchor.span.end : at].endswith("\n") else newline_of(df.text)
    return [TextEdit(start, end, ""), TextEdit(at, at, prefix + moved)]


def unified_diff(path: str, old: str, new: str) -> str:
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
    the file is either the old or the new one, never half written; its mode is kept."""
    write_all_atomic([(path, text, bom)])


def write_all_atomic(files: list[tuple[str | os.PathLike[str], str, bool]]) -> None:
    """Write several files all or nothing: every new content goes to a temporary file beside
    its target first (written and synced); only when all of them are complete are they renamed
    over the targets. A read-only target, a full disk or any other error leaves every target
    as it was and no temporary file behind."""
    staged: list[tuple[str, Path]] = []
    try:
        for path, text, bom in files:
            p = Path(path)
            data = (("\ufeff" if bom else "") + text).encode("utf-8", "surrogatepass")
            mode = p.stat().st_mode & 0o7777 if p.exists() else None
            if mode is not None and not mode & 0o222:
                raise LayerwiseError("the file is read-only: not written (make it writable to fix it)",
                                     Location(str(p)))  # fmt: skip
            try:
                fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".layerwise", dir=p.parent)
            except OSError as exc:
                raise LayerwiseError(f"cannot write: {exc.strerror or exc}", Location(str(p))) from None
            staged.append((tmp, p))
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
                    f.flush()
                    os.fsync(f.fileno())
                if mode is not None:
                    os.chmod(tmp, mode)
            except OSError as exc:
                raise LayerwiseError(f"cannot write: {exc.strerror or exc}", Location(str(p))) from None
        for tmp, p in staged:
            os.replace(tmp, p)
        staged = []
    finally:
        for tmp, _ in staged:
            try:
                os.unlink(tmp)
            except OSError:
                pass
