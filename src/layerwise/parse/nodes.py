"""The syntax tree of a Dockerfile: what BuildKit's parser produces, plus exact source spans.

A :class:`Node` mirrors BuildKit's ``parser.Node`` for one instruction (keyword, flags, the
argument list, heredocs, the joined ``original`` line) and adds what BuildKit does not keep:
the exact :class:`Span` of the instruction in the file, so that fixes can replace it and keep
every other byte, and column numbers for diagnostics.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Span:
    """A region of the source text.

    Lines and columns are 1-based (columns count characters); ``end_column`` is the column
    just past the last character. ``start``/``end`` are offsets into the decoded text
    (after a BOM), so ``text[start:end]`` is the instruction as written, continuation lines,
    comments inside it and heredoc bodies included, without the final line ending.
    """

    start_line: int
    start_column: int
    end_line: int
    end_column: int
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Heredoc:
    """A here-document attached to RUN/COPY/ADD (``<<EOF`` ... ``EOF``)."""

    name: str
    content: str
    expand: bool = True  # False when the delimiter word is quoted
    chomp: bool = False  # ``<<-``: leading tabs are stripped
    file_descriptor: int = 0


@dataclass(frozen=True)
class Directive:
    """A parser directive (``# syntax=``, ``# escape=``, ``# check=``) at the top of the file."""

    name: str
    value: str
    line: int


@dataclass(slots=True)
class Node:
    """One instruction as BuildKit's parser sees it.

    ``args`` is BuildKit's ``Next`` chain: for ENV/LABEL the key, value and separator
    (``"="`` or ``""`` for the legacy ``ENV k v`` form) repeat; for HEALTHCHECK the first
    argument is the type (``CMD``/``NONE``); ONBUILD has no args but a ``trigger`` node.
    """

    keyword: str
    flags: list[str]
    args: list[str]
    original: str
    span: Span
    json: bool = False
    heredocs: list[Heredoc] = field(default_factory=list)
    trigger: Node | None = None  # ONBUILD's instruction
    comments: list[str] = field(default_factory=list)  # comment lines right above

    @property
    def cmd(self) -> str:
        """The keyword in lower case (``run``, ``copy``, ...)."""
        return self.keyword.lower()

    @property
    def start_line(self) -> int:
        return self.span.start_line

    @property
    def end_line(self) -> int:
        return self.span.end_line

    def dump(self) -> str:
        """BuildKit's ``Node.Dump()`` format, used by its parser test files."""
        parts = [self.cmd]
        if self.flags:
            parts.append("[" + " ".join(go_quote(f) for f in self.flags) + "]")
        if self.trigger is not None:
            parts.append("(" + self.trigger.dump() + ")")
        parts.extend(go_quote(a) for a in self.args)
        return " ".join(parts).strip()


@dataclass
class Dockerfile:
    """A parsed Dockerfile: directives, instructions, and the text they came from."""

    path: str
    text: str  # decoded, without BOM
    nodes: list[Node]
    directives: list[Directive]
    escape: str = "\\"
    bom: bool = False
    warnings: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        """The file as it was read: ``str(parse(x))`` round-trips ``x`` exactly."""
        return ("\ufeff" if self.bom else "") + self.text

    def to_bytes(self) -> bytes:
        return str(self).encode("utf-8", "surrogatepass")

    def directive(self, name: str) -> str | None:
        for d in self.directives:
            if d.name == name:
                return d.value
        return None

    def dump(self) -> str:
        """All instructions in BuildKit's dump format, one per line."""
        return "".join("(" + n.dump() + ")\n" for n in self.nodes)

    def source(self, node: Node) -> str:
        """The exact text of ``node`` in the file."""
        return self.text[node.span.start : node.span.end]


_GO_ESCAPES = {
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\v": "\\v",
    "\\": "\\\\",
    '"': '\\"',
}


def go_quote(s: str) -> str:
    """Go's ``strconv.Quote``: double quotes, Go escapes, printable Unicode kept."""
    out = ['"']
    for ch in s:
        esc = _GO_ESCAPES.get(ch)
        if esc is not None:
            out.append(esc)
        elif ch == " " or ch.isprintable():
            out.append(ch)
        else:
            code = ord(ch)
            if code < 0x80:
                out.append(f"\\x{code:02x}")
            elif code < 0x10000:
                out.append(f"\\u{code:04x}")
            else:
                out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)
