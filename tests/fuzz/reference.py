"""Comparison with BuildKit's own parser (the ``dockerfile`` wheel: BuildKit v0.12.5's Go parser),
shared by the property tests and ``bench/fuzz_long.py``."""

from __future__ import annotations

import json
import re

from layerwise.errors import LayerwiseError
from layerwise.parse import ParseError, parse, parser
from layerwise.shell import lex as shell

try:
    import dockerfile as buildkit
except ImportError:  # pragma: no cover - the wheel is a test extra
    buildkit = None

MAX_LINE_BYTES = 64 * 1024


def comparable(text: str) -> bool:
    """Inputs the wheel can be asked about (it crashes on surrogates, stops at NUL) and on which
    the two BuildKit versions agree by design."""
    if "\x00" in text or any("\ud800" <= c <= "\udfff" for c in text):
        return False
    if "\\u0000" in text.lower():  # a JSON NUL: the wheel's C strings cut it (BuildKit keeps it)
        return False
    if any(len(line.encode("utf-8")) >= MAX_LINE_BYTES - 2 for line in text.split("\n")):
        return False
    if _CHECK_DIRECTIVE.search(text):  # newer than v0.12.5, where it ends the directives
        return False
    return True


_CHECK_DIRECTIVE = re.compile(r"(?im)^\s*#\s*check\s*=")


def normalise(node) -> tuple:
    args = list(node.args)
    if node.cmd in ("env", "label"):  # the separator element is newer than v0.12.5
        args = [a for i, a in enumerate(args) if i % 3 != 2]
    is_json = node.json
    if node.trigger is not None:
        is_json = node.trigger.json  # the wheel reports the trigger's JSON flag
        if node.trigger.trigger is not None:  # ONBUILD ONBUILD ...: the wheel shows one level
            args = [node.trigger.keyword, ""]
        else:
            args = [node.trigger.keyword, *normalise(node.trigger)[3]]
    # The wheel does not show an ONBUILD trigger's heredocs (the lines they span still count).
    docs = [] if node.cmd == "onbuild" else node.heredocs
    return (node.cmd, is_json, list(node.flags), args, node.original, node.start_line,
            node.end_line, [(h.name, h.content, h.file_descriptor) for h in docs])  # fmt: skip


def reference_node(ref) -> tuple:
    # the wheel turns Go's empty strings into None
    cmd = (ref.cmd or "").lower()
    value = ["" if v is None else v for v in ref.value]
    if cmd == "onbuild" and ref.sub_cmd is not None:
        value = [ref.sub_cmd, *value]
    original = ref.original or ""
    if ref.heredocs:  # the wheel appends the heredoc bodies to Original; BuildKit does not
        original = original.split("\n", 1)[0]
    return (cmd, ref.json, ["" if f is None else f for f in ref.flags], value, original, ref.start_line,
            ref.end_line, [(h.name, h.content, h.file_descriptor) for h in ref.heredocs])  # fmt: skip


class Incomparable(Exception):
    """The wheel cannot answer (it returned bytes that are not UTF-8: BuildKit's HEALTHCHECK
    splits on a 0x85/0xA0 byte inside a multi-byte character)."""


def _lenient_parse_json(rest: str):
    """BuildKit v0.12.5's parseJSON: ``json.NewDecoder(...).Decode`` ignores what follows the
    array (``CMD ["a"] junk`` is JSON there); newer BuildKit (and we) use ``json.Unmarshal``."""
    rest = parser.go_trim_left_space(rest)
    if not rest.startswith("["):
        return None
    try:
        value, _end = json.JSONDecoder(parse_constant=parser._reject_constant).raw_decode(rest)
    except (ValueError, RecursionError):
        return None
    if not isinstance(value, list):
        return None
    if not all(isinstance(v, str) for v in value):
        raise parser._NotStringArray()
    return [parser._LONE_SURROGATE.sub("\ufffd", v) for v in value], True


_NEWER_MODIFIER = re.compile(r"(?:^|[^$])(?:\$\$)*\$\{(#|\w*[%#/])")  # not after $$


def _v0125_heredocs_from_line(line: str):
    """v0.12.5's shell lexer does not know ``${#x}``, ``${x%..}``, ``${x#..}``, ``${x/../..}``
    (newer BuildKit does): ProcessWords fails and the line has no heredocs there."""
    if _NEWER_MODIFIER.search(line):
        return []
    if _HEREDOC_WITH_EXPANSION.search(line):
        # Newer ProcessWords shares one words buffer across nesting levels and resets it when
        # a ${x-word} modifier word is lexed, so "<<${X-}" loses its "<<"; v0.12.5 gave each
        # level its own buffer.
        saved = shell._ShellWord
        shell._ShellWord = _FreshBuffers
        try:
            return _strict_heredocs(_SPACED_HEREDOC.sub("< <", line))
        finally:
            shell._ShellWord = saved
    # nor ``<< EOF`` (blanks between << and the delimiter): there << is a word of its own.
    return _strict_heredocs(_SPACED_HEREDOC.sub("< <", line))


_SPACED_HEREDOC = re.compile(r"<<(?=[\t\r ])")


_strict_heredocs = parser._heredocs_from_line


class _FreshBuffers(shell._ShellWord):
    """v0.12.5's lexer: every processStopOn level splits words into a buffer of its own."""

    __slots__ = ("_want_words",)

    @property
    def words_buffer(self):
        return [] if self._want_words else None

    @words_buffer.setter
    def words_buffer(self, value):
        self._want_words = value is not None

_HEREDOC_WITH_EXPANSION = re.compile(r"<<(?:\\.|[^\s<])*\$\{")


def _diff(text: str, reference) -> str | None:
    try:
        ours = parse(text, "Dockerfile")
        ours_err = None
    except ParseError as exc:
        ours, ours_err = None, exc
    theirs, theirs_err = reference
    if ours is None and theirs is None:
        return None
    if ours is None:
        return f"we reject ({ours_err}), BuildKit accepts: {theirs!r}"
    if theirs is None:
        return f"we accept ({ours.dump()!r}), BuildKit rejects: {theirs_err}"
    a = [normalise(n) for n in ours.nodes]
    b = [reference_node(r) for r in theirs]
    if a != b:
        for x, y in zip(a, b):
            if x != y:
                return f"instructions differ:\n  ours:     {x!r}\n  BuildKit: {y!r}"
        return f"instruction count differs: {len(a)} vs {len(b)}"
    return None


def reference_parse(text: str):
    """(commands, None) or (None, error) from BuildKit v0.12.5; raises Incomparable."""
    try:
        return buildkit.parse_string(text), None
    except buildkit.GoParseError as exc:
        return None, exc
    except UnicodeDecodeError:
        raise Incomparable() from None


def compare(text: str) -> tuple[str | None, bool]:
    """(disagreement or None, whether a known v0.12.5 difference explained a mismatch).

    Both parsers must accept or both reject ``text``, and agree on every instruction. When they
    do not, the comparison is repeated with v0.12.5's lenient JSON arrays and older shell lexer; agreement then is the
    known version difference, not a bug. Raises :class:`Incomparable`."""
    reference = reference_parse(text)
    problem = _diff(text, reference)
    if problem is None:
        return None, False
    strict = parser._parse_json
    parser._parse_json = _lenient_parse_json
    parser._heredocs_from_line = _v0125_heredocs_from_line
    try:
        lenient_problem = _diff(text, reference)
    finally:
        parser._parse_json = strict
        parser._heredocs_from_line = _strict_heredocs
    if lenient_problem is None:
        return None, True
    return problem, False


def check_located(exc: LayerwiseError) -> None:
    """A parse error names the file and a line (the instruction layer may omit the column)."""
    assert exc.location is not None and exc.location.path, exc
    assert (exc.message and "\n" not in exc.message.strip()) or exc.message, exc
