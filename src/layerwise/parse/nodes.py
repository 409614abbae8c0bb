"""The syntax tree of a Dockerfile: what BuildKit's parser produces, plus exact source spans.

A :class:`Node` mirrors BuildKit's ``parser.Node`` for one instruction (keyword, flags, the
argument list, heredocs, the joined ``original`` line) and adds what BuildKit does not keep:
the exact :class:`Span` of the instruction in the file, so that fixes can replace it and keep
every other byte, and column numbers for diagnostics.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence

from layerwise.records import Frozen as _Frozen
from layerwise.shell.quote import go_quote


class Span(_Frozen):
    """A region of the source text.

    Lines and columns are 1-based (columns count characters); ``end_column`` is the column
    just past the last character. ``start``/``end`` are offsets into the decoded text
    (after a BOM), so ``text[start:end]`` is the instruction as written, continuation lines,
    comments inside it and heredoc bodies included, without the final line ending.
    """

    __slots__ = _fields = ("start_line", "start_column", "end_line", "end_column", "start", "end")

    def __init__(self, start_line: int, start_column: int, end_line: int, end_column: int, start: int,
                 end: int) -> None:  # fmt: skip
        self._init(start_line, start_column, end_line, end_column, start, end)


class Heredoc(_Frozen):
    """A here-document attached to RUN/COPY/ADD (``<<EOF`` ... ``EOF``)."""

    __slots__ = _fields = ("name", "content", "expand", "chomp", "file_descriptor")

    def __init__(self, name: str, content: str, expand: bool = True, chomp: bool = False,
                 file_descriptor: int = 0) -> None:  # fmt: skip
        # expand: False when the delimiter word is quoted
        # chomp: ``<<-``: leading tabs are stripped
        self._init(name, content, expand, chomp, file_descriptor)


class Directive(_Frozen):
    """A parser directive (``# syntax=``, ``# escape=``, ``# check=``) at the top of the file."""

    __slots__ = _fields = ("name", "value", "line")

    def __init__(self, name: str, value: str, line: int) -> None:
        self._init(name, value, line)


_NO_SPAN = Span(0, 0, 0, 0, 0, 0)


class _FrozenEmptyList(list):
    """The one shared value of every empty list attribute of the syntax tree (flags, heredocs,
    comments): it reads like ``[]``, and changing it raises instead of changing every node."""

    __slots__ = ()

    def _refuse(self, *args, **kwargs):
        raise TypeError("a node's empty list is shared and read-only: assign a new list instead")

    append = extend = insert = remove = pop = clear = sort = reverse = _refuse
    __setitem__ = __delitem__ = __iadd__ = __imul__ = _refuse


EMPTY: list = _FrozenEmptyList()


class SourceText:
    """The parsed text and where its lines start: a :class:`Node` keeps two offsets into it
    and computes its :class:`Span` when asked (lines by binary search, columns by counting)."""

    __slots__ = ("line_starts", "text")

    def __init__(self, text: str, line_starts: Sequence[int]) -> None:
        self.text = text
        self.line_starts = line_starts  # offset of each line (lines end at "\n"), ascending

    def line_end(self, offset: int) -> int:
        """Where the line holding ``offset`` ends, without its line ending (``\\n`` and any
        ``\\r`` before it)."""
        text = self.text
        end = text.find("\n", offset)
        if end < 0:
            end = len(text)
        while end > offset and text[end - 1] == "\r":
            end -= 1
        return end

    def line_of(self, offset: int) -> int:
        """The 1-based line that holds ``offset``."""
        return bisect_right(self.line_starts, offset)

    def span(self, start: int, end: int) -> Span:
        starts = self.line_starts
        first = bisect_right(starts, start)
        last = bisect_right(starts, end, first - 1)
        return Span(first, start - starts[first - 1] + 1, last, end - starts[last - 1] + 1, start, end)


class _Extra:
    """What few nodes have: flags, heredocs, comments above, an ONBUILD trigger, the JSON
    form, an end offset (an instruction of more than one line), and a span given explicitly
    (not computed from the source text)."""

    __slots__ = ("comments", "end", "flags", "heredocs", "json", "span", "trigger")

    def __init__(self) -> None:
        self.flags: list[str] = EMPTY
        self.heredocs: list[Heredoc] = EMPTY
        self.comments: list[str] = EMPTY
        self.trigger: Node | None = None
        self.json = False
        self.end: int | None = None  # None: the end of the start's line
        self.span: Span | None = None


class Node:
    """One instruction as BuildKit's parser sees it.

    ``args`` is BuildKit's ``Next`` chain: for ENV/LABEL the key, value and separator
    (``"="`` or ``""`` for the legacy ``ENV k v`` form) repeat; for HEALTHCHECK the first
    argument is the type (``CMD``/``NONE``); ONBUILD has no args but a ``trigger`` node.

    A file can hold millions of instructions, so a node is small: the span and (for a one-line
    instruction) ``original`` are computed from the source text on demand, and what most
    instructions do not have (flags, heredocs, comments, trigger, the JSON form, an end offset)
    lives in one optional part. Empty lists are the shared read-only :data:`EMPTY`; equal lines
    share their ``args`` and ``flags`` lists. Never change a node's lists in place.
    """

    __slots__ = ("_original", "_src", "_start", "_x", "args", "keyword")
    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value (as the dataclass was)

    def __init__(
        self,
        keyword: str,
        flags: list[str],
        args: list[str],
        original: str,
        span: Span,
        json: bool = False,
        heredocs: list[Heredoc] | None = None,
        trigger: Node | None = None,
        comments: list[str] | None = None,
    ) -> None:
        self.keyword = keyword
        self.args = args
        self._original: str | None = original
        self._src: SourceText | None = None
        self._start = 0
        self._x: _Extra | None = None
        self.span = span
        if flags:
            self.flags = flags
        if heredocs:
            self.heredocs = heredocs
        if trigger is not None:
            self.trigger = trigger
        if comments:
            self.comments = comments
        if json:
            self.json = json

    @classmethod
    def _new(cls, keyword: str, flags: list[str], args: list[str], original: str, comments: list[str]) -> Node:
        """The parser's constructor: no span yet (see :meth:`_place`)."""
        node = cls.__new__(cls)
        node.keyword = keyword
        node.args = args
        node._original = original
        node._src = None
        node._start = 0
        node._x = None
        if flags:
            node._extra().flags = flags
        if comments:
            node._extra().comments = comments
        return node

    def _extra(self) -> _Extra:
        x = self._x
        if x is None:
            x = self._x = _Extra()
        return x

    @property
    def flags(self) -> list[str]:
        return EMPTY if self._x is None else self._x.flags

    @flags.setter
    def flags(self, value: list[str]) -> None:
        if value or self._x is not None:
            self._extra().flags = value or EMPTY

    @property
    def heredocs(self) -> list[Heredoc]:
        return EMPTY if self._x is None else self._x.heredocs

    @heredocs.setter
    def heredocs(self, value: list[Heredoc]) -> None:
        if value or self._x is not None:
            self._extra().heredocs = value or EMPTY

    @property
    def comments(self) -> list[str]:
        """The comment lines right above the instruction."""
        return EMPTY if self._x is None else self._x.comments

    @comments.setter
    def comments(self, value: list[str]) -> None:
        if value or self._x is not None:
            self._extra().comments = value or EMPTY

    @property
    def json(self) -> bool:
        """The arguments were a JSON array (exec form)."""
        return self._x is not None and self._x.json

    @json.setter
    def json(self, value: bool) -> None:
        if value or self._x is not None:
            self._extra().json = value

    @property
    def trigger(self) -> Node | None:
        """ONBUILD's instruction."""
        return None if self._x is None else self._x.trigger

    @trigger.setter
    def trigger(self, value: Node | None) -> None:
        if value is not None or self._x is not None:
            self._extra().trigger = value

    @property
    def original(self) -> str:
        """The instruction's logical line (continuation lines joined, comments dropped)."""
        if self._original is not None:
            return self._original
        assert self._src is not None
        return self._src.text[self._start : self._stop()]

    @original.setter
    def original(self, value: str) -> None:
        self._original = value

    @property
    def span(self) -> Span:
        x = self._x
        if x is not None and x.span is not None:
            return x.span
        if self._src is None:
            return _NO_SPAN  # not placed: an ONBUILD trigger's own trigger
        return self._src.span(self._start, self._stop())

    @span.setter
    def span(self, value: Span) -> None:
        self._extra().span = value

    def _place(self, src: SourceText, start: int, end: int, original_is_source: bool) -> None:
        """Where the node is in ``src`` (its span is computed from there on demand); when the
        instruction is one line with nothing after it, ``original`` is that text too."""
        self._src, self._start = src, start
        if self._x is not None:
            self._x.span = None
            self._x.end = None
        if original_is_source:
            self._original = None  # and the end is the end of the line: neither is kept
        else:
            self._extra().end = end

    def _stop(self) -> int:
        x = self._x
        if x is None or x.end is None:
            assert self._src is not None
            return self._src.line_end(self._start)
        return x.end

    @property
    def cmd(self) -> str:
        """The keyword in lower case (``run``, ``copy``, ...)."""
        return self.keyword.lower()

    @property
    def start_line(self) -> int:
        if self._src is not None and (self._x is None or self._x.span is None):
            return self._src.line_of(self._start)
        return self.span.start_line

    @property
    def end_line(self) -> int:
        if self._src is not None and (self._x is None or self._x.span is None):
            return self._src.line_of(self._stop())
        return self.span.end_line

    def _fields(self) -> tuple:
        return (self.keyword, self.flags, self.args, self.original, self.span, self.json,
                self.heredocs, self.trigger, self.comments)  # fmt: skip

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._fields() == other._fields()  # type: ignore[attr-defined]

    def __repr__(self) -> str:
        names = ("keyword", "flags", "args", "original", "span", "json", "heredocs", "trigger", "comments")
        return "Node(" + ", ".join(f"{n}={v!r}" for n, v in zip(names, self._fields())) + ")"

    def dump(self) -> str:
        """BuildKit's ``Node.Dump()`` format, used by its parser test files."""
        parts = [self.cmd]
        if self.flags:
            parts.append("[" + " ".join(go_quote(f) for f in self.flags) + "]")
        if self.trigger is not None:
            parts.append("(" + self.trigger.dump() + ")")
        parts.extend(go_quote(a) for a in self.args)
        return " ".join(parts).strip()


class Dockerfile:
    """A parsed Dockerfile: directives, instructions, and the text they came from."""

    _fields = ("path", "text", "nodes", "directives", "escape", "bom", "warnings")

    def __init__(self, path: str, text: str, nodes: list[Node], directives: list[Directive], escape: str = "\\",
                 bom: bool = False, warnings: list[str] | None = None) -> None:  # fmt: skip
        self.path = path
        self.text = text  # decoded, without BOM
        self.nodes = nodes
        self.directives = directives
        self.escape = escape
        self.bom = bom
        self.warnings: list[str] = [] if warnings is None else warnings

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n) for n in self._fields)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return "Dockerfile(" + ", ".join(f"{n}={getattr(self, n)!r}" for n in self._fields) + ")"

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
