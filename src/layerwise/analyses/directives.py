"""Inline directives: the comments that turn findings off, and the ones that turn nothing off
(LW001, ruff's RUF100).

The syntax, ruff's shape (``noqa`` is accepted wherever ``ignore`` is)::

    # layerwise: ignore[LW201]             this instruction: a comment right above it (blank and
                                           comment lines between are fine) or a comment line
                                           inside it; in another file (.dockerignore,
                                           requirements.txt...): the line it ends, or the
                                           line below a comment line of its own
    # layerwise: ignore[LW201, LW101]      several codes, or code prefixes (LW2)
    # layerwise: ignore                    every rule, at the same place
    # layerwise: ignore-file[LW301]        the whole file that holds the comment
    # layerwise: ignore-file               every rule, in the whole file
    # layerwise: ignore[LW201] -- reason   a reason after the codes (kept, never parsed)

In a Dockerfile a directive is a comment line (``RUN x  # layerwise: ...`` is shell text);
elsewhere it may end any line. A directive of the Dockerfile that suppresses nothing is
reported as LW001 (its fix removes it, or only its unused codes), when that is certain: each
code it names is a rule that ran (selected, and with the build context when it needs one);
a bare ``ignore`` only when every rule ran. Directives in other files are honoured, not
checked for use.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Iterable

from layerwise.analyses.findings import Edit, Finding, Fix
from layerwise.records import Record

UNUSED_CODE = "LW001"


@functools.cache
def _directive_re() -> re.Pattern[str]:
    """The directive comment (compiled on first use: most files hold none, and the check of
    one without any never compiles it)."""
    return re.compile(
        r"#[ \t]*layerwise:[ \t]*(?:ignore|noqa)(?P<file>-file)?\b"
        r"(?:[ \t]*\[(?P<codes>[A-Za-z0-9,\s]*)\])?(?P<rest>[^\r\n]*)",
        re.I,
    )


class Directive(Record):
    """One ``# layerwise: ignore...`` comment of a file (a record written out: a dataclass
    would be built at every start-up)."""

    _fields = ("line", "column", "file_wide", "codes", "reason", "start", "end", "codes_span", "own_line", "used")

    def __init__(self, line: int, column: int, file_wide: bool, codes: tuple[str, ...] | None, reason: str,
                 start: int, end: int, codes_span: tuple[int, int] | None, own_line: bool,
                 used: set[str] | None = None) -> None:  # fmt: skip
        self.line = line  # 1-based
        self.column = column  # 1-based column of its '#'
        self.file_wide = file_wide
        self.codes = codes  # None: every rule
        self.reason = reason  # what follows the codes ("-- the reason"), without the "--"
        self.start = start  # offset of its '#'
        self.end = end  # offset of its end (the end of the line, line ending excluded)
        self.codes_span = codes_span  # offsets of the text between the brackets
        self.own_line = own_line  # nothing but blanks before it on its line
        self.used: set[str] = set() if used is None else used  # the codes that turned a finding off ("*": bare)

    def match(self, code: str) -> list[str]:
        """The codes of this directive that cover ``code`` (["*"] for a bare directive)."""
        if self.codes is None:
            return ["*"]
        return [c for c in self.codes if code.startswith(c)]


def parse_directives(text: str, *, comment_lines_only: bool) -> list[Directive]:
    """The directives of a file's text (a Dockerfile: ``comment_lines_only``)."""
    if "layerwise" not in text and "LAYERWISE" not in text.upper():
        return []
    out = []
    newlines: list[int] | None = None
    for m in _directive_re().finditer(text):
        line_start = text.rfind("\n", 0, m.start()) + 1
        if comment_lines_only and not text[line_start : m.start() + 1].lstrip(" \t").startswith("#"):
            continue
        if newlines is None:
            newlines = [k.start() for k in re.finditer("\n", text)]
        codes = None
        if m.group("codes") is not None:
            codes = tuple(dict.fromkeys(c.strip().upper() for c in m.group("codes").split(",") if c.strip()))
        rest = m.group("rest").strip()
        reason = rest[2:].strip() if rest.startswith("--") else rest
        out.append(Directive(
            line=bisect.bisect_left(newlines, m.start()) + 1,
            column=m.start() - line_start + 1,
            file_wide=bool(m.group("file")),
            codes=codes,
            reason=reason,
            start=m.start(),
            end=m.end(),
            codes_span=m.span("codes") if m.group("codes") is not None else None,
            own_line=not text[line_start : m.start()].strip(),
        ))  # fmt: skip
    return out


class FileDirectives:
    """The directives of one file and the places they cover."""

    def __init__(self, path: str, text: str, dockerfile=None) -> None:
        self.path = path
        self.text = text
        self.dockerfile = dockerfile
        self.items = parse_directives(text, comment_lines_only=dockerfile is not None)
        self.file_wide = [d for d in self.items if d.file_wide]
        self.by_line: dict[int, list[Directive]] = {}
        for d in self.items:
            if not d.file_wide:
                self.by_line.setdefault(d.line, []).append(d)
        self._lines: list[str] | None = None

    def _line(self, number: int) -> str:
        if self._lines is None:
            self._lines = self.text.split("\n")
        return self._lines[number - 1] if 0 < number <= len(self._lines) else ""

    def covering(self, line: int) -> list[Directive]:
        """The directives that cover a finding at ``line`` (file-wide ones included)."""
        if not self.items:
            return []
        out = list(self.file_wide)
        if not self.by_line:
            return out
        if self.dockerfile is None:
            out += self.by_line.get(line, [])
            out += [d for d in self.by_line.get(line - 1, []) if d.own_line]
            return out
        nodes = self.dockerfile.nodes
        # the instruction holding the line (a search: a file can have millions of them)
        i = bisect.bisect_right(nodes, line, key=lambda n: n.start_line) - 1
        if i < 0:
            return out
        node = nodes[i]
        for k in range(node.start_line, node.end_line + 1):  # comment lines inside it
            out += self.by_line.get(k, [])
        k = node.start_line - 1  # the comments above it, up to the instruction before
        while k >= 1:
            above = self._line(k).strip()
            if above and not above.startswith("#"):
                break
            out += self.by_line.get(k, [])
            k -= 1
        return out

    def suppresses(self, code: str, line: int, *, record: bool = True) -> bool:
        hit = False
        for d in self.covering(line):
            got = d.match(code)
            if got:
                hit = True
                if record:
                    d.used.update(got)
        return hit


class Suppressions:
    """The directives of a checked Dockerfile and of the other files its findings point into:
    which findings they turn off, and (LW001) which of them turn nothing off."""

    def __init__(self, dockerfile, path: str, sources: dict[str, str]) -> None:
        self.path = path
        self.sources = sources
        self.files: dict[str, FileDirectives | None] = {path: FileDirectives(path, dockerfile.text, dockerfile)}

    def _file(self, path: str) -> FileDirectives | None:
        if path not in self.files:
            text = self.sources.get(path)
            if text is None:
                from layerwise import safefs

                try:  # regular files only, never blocking, bounded
                    text = safefs.read_text(path)
                except safefs.FileAccessError:
                    text = None
                else:
                    self.sources[path] = text
            self.files[path] = None if text is None else FileDirectives(path, text)
        return self.files[path]

    def suppressed(self, f: Finding) -> bool:
        """Whether a directive turns the finding ``f`` off (and record that it did)."""
        fd = self._file(f.path)
        return fd is not None and fd.suppresses(f.code, f.line)

    def unused(self, ran: Iterable[str], known: Iterable[str]) -> list[Finding]:
        """LW001 findings: the Dockerfile's directives (or codes of them) that turned nothing
        off although the rules they name ran (``ran``: the codes of the rules that ran;
        ``known``: every rule's code)."""
        ran, known = set(ran), sorted(set(known))
        fd = self.files[self.path]
        assert fd is not None
        out = []
        if any(d.codes is not None and d.match(UNUSED_CODE) for d in fd.file_wide):
            return []  # ignore-file[LW001]
        for d in fd.items:
            if d.codes is not None and d.match(UNUSED_CODE):
                continue  # naming LW001 (or a prefix of it): kept on purpose
            if d.codes is None:
                if not d.used and set(known) <= ran:
                    what = "ignore-file" if d.file_wide else "ignore"
                    out.append(self._finding(fd, d, f"`# layerwise: {what}` suppresses nothing here",
                                             "remove the comment", self._remove(fd, d)))  # fmt: skip
                continue
            unknown = [c for c in d.codes if not any(k.startswith(c) for k in known)]
            unused = [
                c for c in d.codes
                if c not in d.used and c not in unknown
                and all(k in ran for k in known if k.startswith(c))
            ]  # fmt: skip
            if not unknown and not unused:
                continue
            keep = [c for c in d.codes if c not in unknown and c not in unused]
            parts = []
            if unused:
                parts.append(f"{', '.join(unused)} {'suppresses' if len(unused) == 1 else 'suppress'} nothing here")
            if unknown:
                parts.append(f"unknown rule code{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}")
            message = "unused ignore directive: " + "; ".join(parts)
            if keep:
                assert d.codes_span is not None
                edit = Edit(self.path, d.codes_span[0], d.codes_span[1], ", ".join(keep))
                out.append(self._finding(fd, d, message, f"keep only [{', '.join(keep)}]", edit))
            else:
                out.append(self._finding(fd, d, message, "remove the comment", self._remove(fd, d)))
        return out

    def _finding(self, fd: FileDirectives, d: Directive, message: str, hint: str, edit: Edit) -> Finding:
        return Finding(
            code=UNUSED_CODE,
            message=message,
            path=self.path,
            line=d.line,
            column=d.column,
            end_line=d.line,
            end_column=d.column + (d.end - d.start),
            severity="warning",
            fix=Fix("safe", "remove the unused ignore directive" if not edit.replacement else "drop the unused codes",
                    (edit,)),  # fmt: skip
            hint=hint,
        )

    def _remove(self, fd: FileDirectives, d: Directive) -> Edit:
        """The edit that removes a directive: its whole line when the line holds nothing else,
        else the directive and the blanks before it."""
        text = fd.text
        line_start = text.rfind("\n", 0, d.start) + 1
        nl = text.find("\n", d.end)
        line_end = len(text) if nl < 0 else nl + 1
        if not text[line_start : d.start].strip() and not text[d.end : line_end].strip():
            return Edit(self.path, line_start, line_end, "")
        start = d.start
        while start > line_start and text[start - 1] in " \t":
            start -= 1
        return Edit(self.path, start, d.end, "")


_LAST: tuple[object, str, Suppressions] | None = None


def is_suppressed(df, path: str, code: str, line: int) -> bool:
    """Whether an inline directive turns ``code`` off at ``line`` of the Dockerfile ``df``
    shown as ``path``: what ``fix`` honours too."""
    global _LAST
    if _LAST is None or _LAST[0] is not df or _LAST[1] != path:
        _LAST = (df, path, Suppressions(df, path, {}))
    fd = _LAST[2].files[path]
    return fd is not None and fd.suppresses(code, line, record=False)
