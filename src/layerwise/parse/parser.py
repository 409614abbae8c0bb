"""Text -> syntax tree, ported from BuildKit's ``frontend/dockerfile/parser`` (parser.go,
line_parsers.go, split_command.go, directives.go at moby/buildkit 73ed6825c4b7).

The port keeps BuildKit's behaviour line for line (its quirks included: a continuation line's
leading whitespace is kept, comment and blank lines inside a continuation are dropped, a
shebang ends the directive block, ...) and adds exact source spans to every instruction.
Function names follow upstream so the two can be read side by side.
"""

from __future__ import annotations

import functools
import gc
import os
import re
import sys
from array import array
from collections.abc import Iterator

from layerwise.errors import LayerwiseError, Location
from layerwise.parse.nodes import (
    EMPTY,
    Directive,
    Dockerfile,
    Heredoc,
    Node,
    SourceText,
)

# Go's unicode.IsSpace (Python's str.isspace also accepts U+001C..U+001F).
GO_SPACE = frozenset(
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
_GO_SPACE_STR = "".join(sorted(GO_SPACE))

RE_WHITESPACE = re.compile(r"[\t\v\f\r ]+")
# (the heredoc and directive patterns are compiled on first use: a Dockerfile without
# heredocs or parser directives never compiles them)
RE_HEREDOC = r"^([0-9]*)<<(-?)[" + re.escape(_GO_SPACE_STR) + r"]*([^<]*)$"
# Go's \s is ASCII [\t\n\f\r ] (no \v, no Unicode spaces), unlike Python's.
_GO_RE_S = r"[\t\n\f\r ]"
RE_DIRECTIVE = r"^#" + _GO_RE_S + r"*([a-zA-Z][a-zA-Z0-9]*)" + _GO_RE_S + r"*=" + _GO_RE_S + r"*(.+?)" + _GO_RE_S + r"*$"
VALID_DIRECTIVES = ("syntax", "escape", "check")

# bufio.Scanner's default limit: BuildKit rejects longer lines.
MAX_LINE_BYTES = 64 * 1024

HEREDOC_INSTRUCTIONS = frozenset({"add", "copy", "run"})


class ParseError(LayerwiseError):
    """The Dockerfile cannot be parsed (BuildKit would reject it too)."""


def go_trim_space(s: str) -> str:
    return s.strip(_GO_SPACE_STR)


def go_trim_left_space(s: str) -> str:
    return s.lstrip(_GO_SPACE_STR)


# --------------------------------------------------------------------------------------------
# directives.go


class DirectiveParser:
    """Recognises ``# key=value`` directives until the first line that is not one."""

    def __init__(self) -> None:
        self.line = 0
        self.seen: set[str] = set()
        self.done = False

    def parse_line(self, line: str) -> Directive | None:
        self.line += 1
        if self.done:
            return None
        if not line.startswith("#"):
            self.done = True
            return None
        m = re.match(RE_DIRECTIVE, line)
        if m is None:
            self.done = True
            return None
        key = m.group(1).lower()
        if key not in VALID_DIRECTIVES:
            self.done = True
            return None
        if key in self.seen:
            raise ValueError(f"only one {key} parser directive can be used")
        self.seen.add(key)
        return Directive(key, m.group(2), self.line)


# --------------------------------------------------------------------------------------------
# parser.go


class _State:
    def __init__(self, escape: str, continuation: re.Pattern[str]) -> None:
        self.escape = escape
        self.continuation = continuation
        # How recent short lines split: a big Dockerfile repeats its lines, and equal lines then
        # share one keyword, flag list and argument list (never changed in place), split once.
        self.seen: dict[str, tuple[str, list[str], tuple[list[str], bool] | None]] = {}


SEEN_MAX = 4096  # lines remembered (then forgotten all at once)
SEEN_LINE_MAX = 512  # longer lines are not remembered


def _continuation_regex(escape: str) -> re.Pattern[str]:
    e = re.escape(escape)
    return re.compile(r"([^" + e + r"])" + e + r"[ \t]*$|^" + e + r"[ \t]*$")


def _trim_newline(line: str) -> str:
    return line.rstrip("\r\n")


def _trim_continuation(line: str, state: _State) -> tuple[str, bool]:
    """Strip a trailing escape character; return (line, is_end_of_line)."""
    if not line.rstrip(" \t\n").endswith(state.escape):
        return line, True  # (what the search finds ends so: most lines need no search)
    m = state.continuation.search(line)
    if m is None:
        return line, True
    # what ``continuation.sub(r"\1", line, count=1)`` returns, without a second search
    return line[: m.start()] + (m.group(1) or "") + line[m.end() :], False


def decode(data: bytes, path: str) -> tuple[str, bool]:
    """Bytes -> text, rejecting what is not a UTF-8 text file with a located error."""
    bom = data.startswith(b"\xef\xbb\xbf")
    if bom:
        data = data[3:]
    nul = data.find(b"\0")
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        col = nul - (data.rfind(b"\n", 0, nul) + 1) + 1
        raise ParseError("binary data (NUL byte): not a Dockerfile", Location(path, line, col))
    try:
        return data.decode("utf-8"), bom
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = len(data[data.rfind(b"\n", 0, exc.start) + 1 : exc.start].decode("utf-8", "replace")) + 1
        raise ParseError(
            f"invalid UTF-8 (byte 0x{data[exc.start]:02x}): Dockerfiles must be UTF-8 text",
            Location(path, line, col),
        ) from None


def gc_paused(fn):
    """Run ``fn`` with the cyclic garbage collector paused. Parsing allocates millions of
    objects for a big file and makes no cycles; the collector's passes over them were more than
    half of the time (a 10 MB Dockerfile: 3.0 s -> 1.5 s)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if not gc.isenabled():
            return fn(*args, **kwargs)
        gc.disable()
        try:
            return fn(*args, **kwargs)
        finally:
            gc.enable()

    return wrapper


def parse_file(path: str | os.PathLike[str]) -> Dockerfile:
    """Read and parse a Dockerfile, with clear errors for anything that is not one."""
    name = os.fspath(path)
    text, bom = decode(read_dockerfile(name), name)  # the bytes are freed before parsing
    return parse(text, name, bom=bom)


def read_dockerfile(path: str | os.PathLike[str]) -> bytes:
    """A Dockerfile's bytes; a located error (never a hang) for a folder, FIFO, missing file,
    a file over :data:`~layerwise.safefs.DOCKERFILE_LIMIT`, or a symlink that leaves the project
    the Dockerfile's name is in (its repository, else its folder)."""
    from layerwise import safefs

    name = os.fspath(path)
    root = safefs.project_root(os.path.dirname(os.path.abspath(name)))
    rel = os.path.relpath(os.path.abspath(name), root)
    try:
        return safefs.read_bytes(rel, root=root, limit=safefs.DOCKERFILE_LIMIT, display=name)
    except safefs.OutsideProject:
        raise ParseError("is a symlink to a file outside the project (not read)", Location(name)) from None
    except safefs.FileAccessError as exc:
        message = "is a directory, not a Dockerfile" if exc.message.startswith("is a directory") else exc.message
        raise ParseError(message, Location(name)) from None


def parse_bytes(data: bytes, path: str = "Dockerfile") -> Dockerfile:
    text, bom = decode(data, path)
    return parse(text, path, bom=bom)


@gc_paused
def parse(text: str, path: str = "Dockerfile", *, bom: bool = False) -> Dockerfile:
    """Parse Dockerfile text (already decoded) the way BuildKit's ``parser.Parse`` does."""
    if not bom and text.startswith("\ufeff"):  # one BOM only (BuildKit trims one)
        text = text[1:]
        bom = True
    state = _State("\\", _continuation_regex("\\"))
    directive_parser = DirectiveParser()
    directives: list[Directive] = []
    warnings: list[str] = []
    nodes: list[Node] = []
    comments: list[str] = []
    line_starts = array("q")
    source = SourceText(text, line_starts)
    lines = _iter_lines(text, line_starts)  # read once, line by line: no list of all lines
    current_line = 0  # lines read so far (the number of the last one read)

    def fail(message: str, line: int, column: int | None = None) -> ParseError:
        return ParseError(message, Location(path, line, column))

    def check_length(raw: str) -> None:
        # at most 4 bytes a character: only a long line needs encoding to be measured
        if len(raw) > MAX_LINE_BYTES // 4 and len(raw.encode("utf-8", "surrogatepass")) > MAX_LINE_BYTES:
            raise fail(
                f"dockerfile line greater than max allowed size of {MAX_LINE_BYTES - 1}", current_line + 1
            )

    def process_line(token: str) -> None:
        """Reads a line (newline trimmed; the first of an instruction also left-trimmed) as a
        parser directive. (BuildKit's processLine also blanks a comment line: the callers test
        that on the trimmed forms they compute once.)"""
        try:
            directive = directive_parser.parse_line(token)
        except ValueError as exc:
            raise fail(str(exc), current_line + 1, 1) from None
        if directive is not None:
            directives.append(directive)
            if directive.name == "escape":
                if directive.value not in ("`", "\\"):
                    raise fail(
                        f"invalid escape token '{directive.value}' does not match ` or \\",
                        current_line + 1,
                        1,
                    )
                state.escape = directive.value
                state.continuation = _continuation_regex(directive.value)
                state.seen.clear()

    for first_offset, raw in lines:
        check_length(raw)
        # the line without its line ending, and without its leading white space: a line is a
        # comment when the latter starts with "#" (as ``raw`` with its white space does)
        token = _trim_newline(raw)
        stripped = go_trim_left_space(token)
        is_comment = stripped.startswith("#")
        if is_comment:
            comment = go_trim_space(stripped[1:])
            if comment:
                comments.append(comment)
            else:
                comments = []
        n_directives = len(directives)
        process_line(stripped)
        line = "" if is_comment else stripped
        if len(directives) > n_directives and comments:
            comments = comments[:-1]
        current_line += 1
        start_line = current_line
        leading = len(token) - len(stripped)
        start_offset = first_offset + leading
        line, is_end = _trim_continuation(line, state)
        if is_end and not line:
            continue
        one_line = is_end  # the instruction is this line's text, nothing more
        buf = [line]
        last_offset, last_raw = first_offset, raw
        has_empty_continuation = False
        while not is_end:
            nxt = next(lines, None)
            if nxt is None:
                break
            off, raw2 = nxt
            check_length(raw2)
            token = _trim_newline(raw2)
            process_line(token)
            current_line += 1
            last_offset, last_raw = off, raw2
            stripped = go_trim_left_space(token)
            if stripped.startswith("#"):  # a comment line: dropped
                continue
            if not stripped:  # an empty continuation line
                has_empty_continuation = True
                continue
            processed, is_end = _trim_continuation(token, state)
            buf.append(processed)
        joined = buf[0] if len(buf) == 1 else "".join(buf)
        if has_empty_continuation:
            warnings.append(
                f"line {current_line}: empty continuation line found in: {joined}"
                " (empty continuation lines will become errors in a future release)"
            )
        try:
            node = _new_node_from_line(joined, state, comments)
        except ValueError as exc:
            raise fail(str(exc), start_line, leading + 1) from None
        if _looks_like_broken_json(node):
            warnings.append(
                f"line {start_line}: {node.keyword.upper()} looks like a JSON array but is not"
                " valid JSON: BuildKit runs it as a shell command"
            )

        if _can_contain_heredoc(node) and "<<" in joined:
            try:
                heredocs = _heredocs_from_line(joined)
            except ValueError as exc:
                raise fail(str(exc), start_line, leading + 1) from None
            found = []
            for doc in heredocs:
                one_line = False
                content = []
                terminated = False
                for off, raw3 in lines:
                    check_length(raw3)
                    current_line += 1
                    last_offset, last_raw = off, raw3
                    candidate = _trim_newline(raw3)
                    if doc.chomp:
                        candidate = candidate.lstrip("\t")
                    if candidate == doc.name:
                        terminated = True
                        break
                    content.append(raw3)
                if not terminated:
                    raise fail(
                        f"unterminated heredoc: no line {doc.name!r} closes the heredoc"
                        f" started on line {start_line}",
                        current_line,
                    )
                found.append(Heredoc(doc.name, "".join(content), doc.expand, doc.chomp, doc.file_descriptor))
            node.heredocs = found

        end_offset = last_offset + len(_trim_newline(last_raw))
        node._place(source, start_offset, end_offset, one_line)
        if node.trigger is not None:
            node.trigger._place(source, start_offset, end_offset, False)
        nodes.append(node)
        comments = []

    if not nodes:
        raise fail("file with no instructions", max(current_line, 1))
    return Dockerfile(
        path=path,
        text=text,
        nodes=nodes,
        directives=directives,
        escape=state.escape,
        bom=bom,
        warnings=warnings,
    )


def _iter_lines(text: str, line_starts: array) -> Iterator[tuple[int, str]]:
    """Each line with its line ending (split on ``\\n`` only) and its start offset; records
    the offsets in ``line_starts``."""
    pos = 0
    n = len(text)
    find = text.find
    record = line_starts.append
    while pos < n:
        i = find("\n", pos)
        end = n if i < 0 else i + 1
        record(pos)
        yield pos, text[pos:end]
        pos = end


def _new_node_from_line(line: str, state: _State, comments: list[str]) -> Node:
    hit = state.seen.get(line)
    if hit is None:
        cmd, flags, args = _split_command(line, state)
        fn = DISPATCH.get(cmd.lower(), _parse_ignore)
        result = fn(args, state)
        if isinstance(result, Node):  # ONBUILD: its trigger is a node of its own
            node = Node._new(sys.intern(cmd), flags, EMPTY, line, list(comments) if comments else EMPTY)
            node.trigger = result
            return node
        hit = (sys.intern(cmd), flags or EMPTY, result)
        if len(line) <= SEEN_LINE_MAX:
            if len(state.seen) >= SEEN_MAX:
                state.seen.clear()
            state.seen[line] = hit
    cmd, flags, result = hit
    node = Node._new(cmd, flags, EMPTY, line, list(comments) if comments else EMPTY)
    if result is not None:
        node.args, node.json = result
    return node


_JSON_FORM = frozenset({"run", "cmd", "entrypoint", "shell", "add", "copy", "volume"})


def _looks_like_broken_json(node: Node) -> bool:
    """``CMD ["python", "app.py"`` and the like: BuildKit silently falls back to shell form."""
    if node.json or node.cmd not in _JSON_FORM or not node.args:
        return False
    rest = node.args[0] if node.cmd in ("run", "cmd", "entrypoint", "shell") else " ".join(node.args)
    return go_trim_left_space(rest).startswith("[")


def _can_contain_heredoc(node: Node) -> bool:
    if node.cmd == "onbuild" and node.trigger is not None:
        node = node.trigger
    return node.cmd in HEREDOC_INSTRUCTIONS and not node.json


def _heredocs_from_line(line: str) -> list[Heredoc]:
    from layerwise.shell import ShellExpansionError, ShellLexer

    lexer = ShellLexer("\\", raw_quotes=True, raw_escapes=True, skip_unset_env=True)
    try:
        words = lexer.process_words(line, {})
    except ShellExpansionError:
        words = []
    docs = []
    for word in words:
        doc = parse_heredoc(word)
        if doc is not None:
            docs.append(doc)
    return docs


def parse_heredoc(word: str) -> Heredoc | None:
    """``ParseHeredoc``: a word like ``<<EOF``, ``<<-"EOF"`` or ``3<<EOF`` -> its heredoc."""
    if "<<" not in word:  # (what the pattern starts with: most words are not heredocs)
        return None
    from layerwise.shell import ShellExpansionError, ShellLexer

    m = re.match(RE_HEREDOC, word)
    if m is None:
        return None
    fd = int(m.group(1)) if m.group(1) else 0
    chomp = m.group(2) == "-"
    rest = m.group(3)
    if not rest:
        return None
    try:
        words = ShellLexer("\\", skip_unset_env=True).process_words(rest, {})
        if len(words) != 1:
            return None
        raw = ShellLexer("\\", raw_quotes=True, skip_unset_env=True).process_words(rest, {})
    except ShellExpansionError as exc:
        raise ValueError(str(exc)) from None
    if len(raw) != len(words):
        raise ValueError(f"internal lexing of heredoc produced inconsistent results: {rest}")
    name = words[0]

    def quotes(s: str) -> int:
        return s.count("'") + s.count('"')

    return Heredoc(name, "", quotes(name) == quotes(raw[0]), chomp, fd)


# --------------------------------------------------------------------------------------------
# split_command.go


def _split_command(line: str, state: _State) -> tuple[str, list[str], str]:
    parts = RE_WHITESPACE.split(go_trim_space(line), maxsplit=1)
    args = ""
    flags: list[str] = []
    if len(parts) == 2:
        args, flags = _extract_builder_flags(parts[1], state)
    return parts[0], flags, go_trim_space(args)


def _extract_builder_flags(line: str, state: _State) -> tuple[str, list[str]]:
    if line.isascii():
        return _extract_builder_flags_bytes(line, state)
    # BuildKit walks the line's bytes and appends rune(byte): a non-ASCII character in a flag
    # becomes one Latin-1 character per UTF-8 byte (``--chown=josé`` -> ``--chown=josÃ©``) and
    # a 0x85/0xA0 byte inside a character ends the word. Latin-1 text has one char per byte.
    rest, words = _extract_builder_flags_bytes(
        line.encode("utf-8", "surrogatepass").decode("latin-1"), state
    )
    return rest.encode("latin-1").decode("utf-8", "replace"), words


def _extract_builder_flags_bytes(line: str, state: _State) -> tuple[str, list[str]]:
    rest = go_trim_left_space(line)
    if not rest.startswith("--"):  # no flags (most instructions): where the walk below stops
        return rest, []
    IN_SPACES, IN_WORD, IN_QUOTE = 0, 1, 2
    words: list[str] = []
    phase = IN_SPACES
    buf: list[str] = []
    quote = ""
    blank_ok = False
    n = len(line)
    pos = 0
    esc = "\\"  # splitCommand does not know the escape directive: always a backslash
    while pos <= n:
        ch = line[pos] if pos != n else ""
        if phase == IN_SPACES:
            if pos == n:
                break
            if ch in GO_SPACE:
                pos += 1
                continue
            if ch != "-" or pos + 1 == n or line[pos + 1] != "-":
                return line[pos:], words
            phase = IN_WORD
        if phase in (IN_WORD, IN_QUOTE) and pos == n:
            word = "".join(buf)
            if word != "--" and (blank_ok or word):
                words.append(word)
            break
        if phase == IN_WORD:
            if ch in GO_SPACE:
                word = "".join(buf)
                phase = IN_SPACES
                if word == "--":
                    return line[pos:], words
                if blank_ok or word:
                    words.append(word)
                buf = []
                blank_ok = False
                pos += 1
                continue
            if ch in ("'", '"'):
                quote = ch
                blank_ok = True
                phase = IN_QUOTE
                pos += 1
                continue
            if ch == esc:
                if pos + 1 == n:
                    pos += 1
                    continue
                pos += 1
                ch = line[pos]
            buf.append(ch)
            pos += 1
            continue
        if phase == IN_QUOTE:
            if ch == quote:
                phase = IN_WORD
                pos += 1
                continue
            if ch == esc:
                if pos + 1 == n:
                    phase = IN_WORD
                    pos += 1
                    continue
                pos += 1
                ch = line[pos]
            buf.append(ch)
        pos += 1
    return "", words


# --------------------------------------------------------------------------------------------
# line_parsers.go: each returns (args, is_json), a trigger Node (ONBUILD), or None.

_Args = tuple[list[str], bool]


def _parse_ignore(rest: str, state: _State) -> _Args | None:
    # BuildKit keeps unknown instructions with one empty argument; the instruction layer
    # rejects them with "unknown instruction".
    return [""], False


def _parse_sub_command(rest: str, state: _State) -> Node | None:
    if rest == "":
        return None
    return _new_node_from_line(rest, state, [])


#: a run of anything but Go's white space (compiled on first use)
_GO_WORD = "[^" + re.escape(_GO_SPACE_STR) + "]+"


def parse_words(rest: str, escape: str = "\\") -> list[str]:
    """Split on whitespace, keeping quotes and escapes (they are removed later by the lexer)."""
    if escape not in rest and "'" not in rest and '"' not in rest:
        # without quotes or escapes the walk below only splits on white space (ENV a=b c=d, the
        # common case): one regex instead of a loop over each character
        return re.findall(_GO_WORD, rest)
    return _parse_words_walk(rest, escape)


def _parse_words_walk(rest: str, escape: str) -> list[str]:
    """:func:`parse_words` character by character (BuildKit's parseWords)."""
    IN_SPACES, IN_WORD, IN_QUOTE = 0, 1, 2
    words: list[str] = []
    phase = IN_SPACES
    quote = ""
    blank_ok = False
    buf: list[str] = []
    n = len(rest)
    pos = 0
    while pos <= n:
        ch = rest[pos] if pos != n else ""
        if phase == IN_SPACES:
            if pos == n:
                break
            if ch in GO_SPACE:
                pos += 1
                continue
            phase = IN_WORD
        if phase in (IN_WORD, IN_QUOTE) and pos == n:
            if blank_ok or buf:
                words.append("".join(buf))
            break
        if phase == IN_WORD:
            if ch in GO_SPACE:
                phase = IN_SPACES
                if blank_ok or buf:
                    words.append("".join(buf))
                buf = []
                blank_ok = False
                pos += 1
                continue
            if ch in ("'", '"'):
                quote = ch
                blank_ok = True
                phase = IN_QUOTE
            if ch == escape:
                if pos + 1 == n:
                    pos += 1
                    continue
                buf.append(ch)
                pos += 1
                ch = rest[pos]
            buf.append(ch)
            pos += 1
            continue
        if phase == IN_QUOTE:
            if ch == quote:
                phase = IN_WORD
            if ch == escape and quote != "'":
                if pos + 1 == n:
                    phase = IN_WORD
                    pos += 1
                    continue
                pos += 1
                buf.append(ch)
                ch = rest[pos]
            buf.append(ch)
        pos += 1
    return words


def _parse_name_val(rest: str, key: str, state: _State) -> _Args | None:
    words = parse_words(rest, state.escape)
    if not words:
        return None
    if "=" not in words[0]:
        parts = RE_WHITESPACE.split(rest, maxsplit=1)
        if len(parts) < 2:
            raise ValueError(f"{key} must have two arguments")
        return [parts[0], parts[1], ""], False
    args: list[str] = []
    for word in words:
        if "=" not in word:
            raise ValueError(
                f'Syntax error - can\'t find = in "{word}". Must be of the form: name=value'
            )
        k, _, v = word.partition("=")
        args += [k, v, "="]
    return args, False


def _parse_env(rest: str, state: _State) -> _Args | None:
    return _parse_name_val(rest, "ENV", state)


def _parse_label(rest: str, state: _State) -> _Args | None:
    return _parse_name_val(rest, "LABEL", state)


def _parse_name_or_name_val(rest: str, state: _State) -> _Args | None:
    words = parse_words(rest, state.escape)
    return (words, False) if words else None


def _parse_strings_whitespace_delimited(rest: str, state: _State) -> _Args | None:
    if rest == "":
        return None
    return RE_WHITESPACE.split(rest), False


def _parse_string(rest: str, state: _State) -> _Args | None:
    if rest == "":
        return None
    return [rest], False


class _NotStringArray(ValueError):
    def __init__(self) -> None:
        super().__init__(
            "when using JSON array syntax, arrays must be comprised of strings only"
        )


def _reject_constant(name: str) -> None:
    raise ValueError(f"invalid JSON constant {name}")


_JSON_SPACE = " \t\n\r"


def _string_array(text: str) -> list[str] | None:
    """``json.loads(text)`` when ``text`` (which starts with ``[``) is an array of strings
    without escapes, as exec forms are written; None otherwise, and ``json`` decides (escapes,
    other values, errors). json itself is then not imported: most Dockerfiles need no more.
    Its grammar: JSON's whitespace (space, tab, CR, LF: no other), no trailing comma, no
    control character inside a string, nothing after the array but whitespace."""
    if "\\" in text:
        return None
    n = len(text)
    out: list[str] = []
    i = 1
    while i < n and text[i] in _JSON_SPACE:
        i += 1
    if i < n and text[i] == "]":
        i += 1
    else:
        while True:
            if i >= n or text[i] != '"':
                return None
            j = text.find('"', i + 1)
            if j < 0:
                return None
            value = text[i + 1 : j]
            if value and min(value) < " ":
                return None
            out.append(value)
            i = j + 1
            while i < n and text[i] in _JSON_SPACE:
                i += 1
            if i < n and text[i] == ",":
                i += 1
                while i < n and text[i] in _JSON_SPACE:
                    i += 1
                continue
            if i < n and text[i] == "]":
                i += 1
                break
            return None
    while i < n and text[i] in _JSON_SPACE:
        i += 1
    return out if i == n else None


def _parse_json(rest: str) -> _Args | None:
    rest = go_trim_left_space(rest)
    if not rest.startswith("["):
        return None
    value = _string_array(rest)
    if value is None:
        import json

        try:
            value = json.loads(rest, parse_constant=_reject_constant)
        except (ValueError, RecursionError):
            return None
    if not isinstance(value, list):
        return None
    if not all(isinstance(v, str) for v in value):
        raise _NotStringArray()
    # Go's JSON decoder turns an unpaired surrogate escape ("\\ud800") into U+FFFD; Python's
    # keeps the lone surrogate, which is not encodable text.
    return [v if v.isascii() else _lone_surrogate().sub("\ufffd", v) for v in value], True


@functools.cache
def _lone_surrogate() -> re.Pattern[str]:
    """(Compiled on first use: an exec form of ASCII words never needs it.)"""
    return re.compile("[\ud800-\udfff]")


def __getattr__(name: str):
    if name == "_LONE_SURROGATE":  # (the fuzz tests' reference parser reads it)
        return _lone_surrogate()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _parse_maybe_json(rest: str, state: _State) -> _Args | None:
    if rest == "":
        return None
    parsed = _parse_json(rest)
    if parsed is not None:
        return parsed
    return [rest], False


def _parse_maybe_json_to_list(rest: str, state: _State) -> _Args | None:
    parsed = _parse_json(rest)
    if parsed is not None:
        return parsed
    return _parse_strings_whitespace_delimited(rest, state)


# parseHealthConfig tests single bytes with unicode.IsSpace(rune(b)): these bytes.
_HEALTH_SPACE_BYTES = frozenset(b"\t\n\v\f\r \x85\xa0")


def _parse_health_config(rest: str, state: _State) -> _Args | None:
    # BuildKit scans bytes, not characters: U+3000 and friends do not separate the type from
    # the command, and a 0x85/0xA0 byte inside a multi-byte character does (the cut character
    # becomes U+FFFD here, so such a type is never CMD/NONE, as in BuildKit).
    if rest.isascii():
        data = rest.encode("ascii")
    else:
        data = rest.encode("utf-8", "surrogatepass")
    sep = 0
    while sep < len(data) and data[sep] not in _HEALTH_SPACE_BYTES:
        sep += 1
    nxt = sep
    while nxt < len(data) and data[nxt] in _HEALTH_SPACE_BYTES:
        nxt += 1
    if sep == 0:
        return None
    typ = data[:sep].decode("utf-8", "replace")
    cmd = _parse_maybe_json(data[nxt:].decode("utf-8", "replace"), state)
    if cmd is None:
        return [typ], False
    return [typ, *cmd[0]], cmd[1]


DISPATCH = {
    "add": _parse_maybe_json_to_list,
    "arg": _parse_name_or_name_val,
    "cmd": _parse_maybe_json,
    "copy": _parse_maybe_json_to_list,
    "entrypoint": _parse_maybe_json,
    "env": _parse_env,
    "expose": _parse_strings_whitespace_delimited,
    "from": _parse_strings_whitespace_delimited,
    "healthcheck": _parse_health_config,
    "label": _parse_label,
    "maintainer": _parse_string,
    "onbuild": _parse_sub_command,
    "run": _parse_maybe_json,
    "shell": _parse_maybe_json,
    "stopsignal": _parse_string,
    "user": _parse_string,
    "volume": _parse_maybe_json_to_list,
    "workdir": _parse_string,
}
