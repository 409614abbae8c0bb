"""Dockerfile variable expansion: a port of BuildKit's shell lexer.

This is a faithful port of ``frontend/dockerfile/shell/lex.go`` from moby/buildkit
(commit 73ed6825c4b7), the code BuildKit runs to expand ``$VAR`` / ``${VAR...}`` in
Dockerfile instructions and to split a word list. Function and method names below
follow the Go ones (``processStopOn`` -> :meth:`_ShellWord._process_stop_on`, ...), so
the two can be read side by side. Public API::

    lexer = ShellLexer()                        # escape "\\"; ShellLexer("`") for "# escape=`"
    lexer.process_word("${A:-x}/$B", env)       # -> str           (BuildKit ProcessWord)
    lexer.process_word_with_matches(word, env)  # -> (str, set)    (ProcessWordWithMatches)
    lexer.process_words("a ${B} 'c d'", env)    # -> list[str]     (ProcessWords)

Errors raise :class:`ShellExpansionError` whose ``str()`` is BuildKit's message, e.g.
``failed to process "${X:?}": X: is not allowed to be unset``.

Behaviour kept from upstream on purpose, so that layerwise predicts what BuildKit does:

* Unix semantics: environment lookups are case-sensitive (``NormalizeEnvKey`` is a
  no-op on unix). A value of ``None`` in ``env`` counts as *unset* (Python convenience;
  BuildKit's environments only hold strings).
* Nested words (``${A:-word}``) are expanded eagerly, before the modifier is applied,
  exactly as BuildKit does: variables in a branch not taken still count as matches and
  an error there (``${SET:-${X:?}}``) is still raised.
* Word splitting shares one buffer between nesting levels (``shellWord.wordsBuffer``),
  so in :meth:`ShellLexer.process_words` a ``${...}`` with a modifier, or a ``"..."``
  containing one, drops the characters of the current word that came before it:
  ``ab${X:-c}`` splits to ``["c"]`` in BuildKit and here too.
* Go's ``text/scanner`` skips a byte-order mark (U+FEFF) at the start of its input; so
  a word (or a ``#``/``%``/``/`` pattern) starting with one loses it.
* ``${VAR//pat/rep}`` uses Go's ``Regexp.ReplaceAllString``: ``$0``/``${0}`` in the
  replacement insert the match, other ``$name`` insert nothing, ``$$`` is ``$``.

Differences from upstream: no ``SkipProcessQuotes`` / ``SkipUnsetEnv`` options and no
``Unmatched`` set (not needed by layerwise); a :class:`ShellLexer` holds no per-call
state, so unlike ``Lex`` it is safe to share between threads. Nesting is unbounded but
handled without Python recursion (see :func:`_run`), so ``${a:-${a:-...}}`` thousands of
levels deep works like in Go instead of raising ``RecursionError``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Generator, Mapping

from layerwise.shell.quote import go_quote

__all__ = ["ShellExpansionError", "ShellLexer"]


class ShellExpansionError(ValueError):
    """Variable expansion failed; ``str()`` is BuildKit's error message.

    ``word`` is the word being processed and ``reason`` the message without BuildKit's
    ``failed to process "<word>": `` prefix (e.g. ``"syntax error: missing '}'"`` or
    ``"VAR: is not allowed to be unset"``).
    """

    def __init__(self, word: str, reason: str) -> None:
        super().__init__(f"failed to process {go_quote(word)}: {reason}")
        self.word = word
        self.reason = reason


# --------------------------------------------------------------------------------------
# Go runtime helpers: the bits of text/scanner and unicode that lex.go relies on.

_EOF = ""  # text/scanner.EOF; never equal to a real character

# unicode.IsSpace: Latin-1 list plus the White_Space table (not Python's str.isspace,
# which also counts U+001C..U+001F).
_GO_SPACE = frozenset(
    "\t\n\v\f\r \x85\xa0\u1680"
    + "".join(chr(c) for c in range(0x2000, 0x200B))
    + "\u2028\u2029\u202f\u205f\u3000"
)

# isSpecialParam
_SPECIAL_PARAMS = frozenset("@*#?-$!0")

# isWhitespace (used after "<<")
_HEREDOC_SPACE = frozenset("\t\r ")


def _is_letter(ch: str) -> bool:
    """unicode.IsLetter (categories L*)."""
    return ch.isalpha()


def _is_digit(ch: str) -> bool:
    """unicode.IsDigit (category Nd)."""
    return ch.isdecimal()


def _rune_str(ch: str) -> str:
    """Go's ``string(ch)``: EOF (-1) becomes U+FFFD."""
    return ch if ch != _EOF else "\ufffd"


class _Scanner:
    """The part of Go's ``text/scanner.Scanner`` that lex.go uses: Peek and Next over
    code points, returning :data:`_EOF` at the end. Like Go, a leading BOM is skipped."""

    __slots__ = ("_end", "_pos", "_src")

    def __init__(self, src: str) -> None:
        self._src = src
        self._end = len(src)
        self._pos = 1 if src.startswith("\ufeff") else 0

    def peek(self) -> str:
        pos = self._pos
        return self._src[pos] if pos < self._end else _EOF

    def next(self) -> str:
        pos = self._pos
        if pos < self._end:
            self._pos = pos + 1
            return self._src[pos]
        return _EOF


# --------------------------------------------------------------------------------------
# Shell patterns (${VAR#pat}, ${VAR%pat}, ${VAR/pat/rep})


@functools.lru_cache(maxsize=512)
def _convert_shell_pattern_to_regex(
    pattern: str, greedy: bool, anchored: bool
) -> tuple[re.Pattern[str] | None, str | None]:
    """convertShellPatternToRegex: ``?`` is one character, ``*`` the shortest (or, when
    ``greedy``, longest) string, ``\\`` escapes ``*``, ``?`` and ``\\``; no ``[...]``.

    Returns ``(regex, None)`` or ``(None, error message)``. The regex text is the same as
    the RE2 one upstream builds, which Python's ``re`` reads identically.
    """
    scanner = _Scanner(pattern)
    out = ["^"] if anchored else []
    star = ".*" if greedy else ".*?"
    tok = scanner.next()
    while tok != _EOF:
        if tok == "*":
            out.append(star)
        elif tok == "?":
            out.append(".")
        elif tok == "\\":
            # } and / as part of ${} need to be escaped, but the escape isn't part
            # of the pattern
            if scanner.peek() not in ("}", "/"):
                tok = scanner.next()
                if tok not in ("*", "?", "\\"):
                    return None, f"invalid escape '\\{_rune_str(tok)}'"
                out.append("\\" + tok)
        elif tok in "[]{}.+()|^$":
            out.append("\\" + tok)
        else:
            out.append(tok)
        tok = scanner.next()
    return re.compile("".join(out)), None


def _trim_prefix(word: str, value: str, greedy: bool) -> tuple[str, str | None]:
    """trimPrefix: remove the shortest/longest prefix of ``value`` matching ``word``."""
    regex, err = _convert_shell_pattern_to_regex(word, greedy, True)
    if regex is None:
        return "", f"invalid pattern ({word}) in substitution: {err}"
    m = regex.search(value)
    if m is not None:
        value = value[m.end() :]
    return value, None


def _reverse_pattern(pattern: str) -> str:
    """reversePattern: reverse a pattern but keep escapes in front, ``a\\*c`` -> ``c\\*a``."""
    out = [""] * len(pattern)
    last = len(pattern) - 1
    i = 0
    while i <= last:
        tok = pattern[i]
        out_idx = last - i
        if tok == "\\" and i != last:
            out[out_idx - 1] = tok
            # the pattern is taken from a ${var#pattern}, so the last
            # character can't be an escape character
            out[out_idx] = pattern[i + 1]
            i += 2
        else:
            out[out_idx] = tok
            i += 1
    return "".join(out)


def _trim_suffix(pattern: str, word: str, greedy: bool) -> tuple[str, str | None]:
    """trimSuffix: regexes can't find the shortest rightmost match, so reverse both the
    pattern and the value and trim a prefix instead."""
    result, err = _trim_prefix(_reverse_pattern(pattern), word[::-1], greedy)
    if err is not None:
        return "", err
    return result[::-1], None


def _go_expand(template: str, match: re.Match[str]) -> str:
    """Go's ``Regexp.expand`` for a regex without capture groups: ``$$`` is ``$``,
    ``$0``/``${0}`` the match, any other well-formed ``$name``/``${name}`` nothing, and a
    malformed one a literal ``$``."""
    if "$" not in template:
        return template
    out = []
    while True:
        before, dollar, after = template.partition("$")
        if not dollar:
            break
        out.append(before)
        template = after
        if template.startswith("$"):
            out.append("$")
            template = template[1:]
            continue
        # extract(): a name of letters, digits and "_", optionally in braces
        rest = template[1:] if template.startswith("{") else template
        i = 0
        while i < len(rest) and (_is_letter(rest[i]) or _is_digit(rest[i]) or rest[i] == "_"):
            i += 1
        name = rest[:i]
        if not name:
            out.append("$")
            continue
        if template.startswith("{"):
            if i >= len(rest) or rest[i] != "}":
                out.append("$")
                continue
            i += 1
        template = rest[i:]
        if name == "0":  # the only group a pattern from convertShellPatternToRegex has
            out.append(match.group(0))
    out.append(template)
    return "".join(out)


def _go_replace_all(regex: re.Pattern[str], src: str, repl: str) -> str:
    """Go's ``Regexp.ReplaceAllString`` (its ``replaceAll`` loop): unlike ``re.sub``, an
    empty match right after a previous match is not replaced."""
    out = []
    last_match_end = 0
    search_pos = 0
    end = len(src)
    while search_pos <= end:
        m = regex.search(src, search_pos)
        if m is None:
            break
        start, stop = m.span()
        out.append(src[last_match_end:start])
        if stop > last_match_end or start == 0:
            out.append(_go_expand(repl, m))
        last_match_end = stop
        # Advance past this match; always advance at least one character.
        search_pos = max(search_pos + 1, stop)
    out.append(src[last_match_end:])
    return "".join(out)


# --------------------------------------------------------------------------------------
# The lexer


class _Words:
    """wordsStruct: splits characters into words. ``buf`` is shared by all nesting
    levels of one run (upstream's ``shellWord.wordsBuffer``); it only ever holds
    non-empty strings, so ``bool(buf)`` is Go's ``buf.Len() != 0``."""

    __slots__ = ("buf", "in_word", "words")

    def __init__(self, buf: list) -> None:
        self.buf = buf
        self.words: list[str] = []
        self.in_word = False

    def add_char(self, ch: str) -> None:
        if ch in _GO_SPACE:
            if self.in_word and self.buf:
                self.words.append("".join(self.buf))
                self.buf.clear()
                self.in_word = False
        else:
            self.add_raw_char(ch)

    def add_raw_char(self, ch: str) -> None:
        self.buf.append(ch)
        self.in_word = True

    def add_string(self, s: str) -> None:
        for ch in s:
            self.add_char(ch)

    def add_raw_string(self, s: str) -> None:
        if s:
            self.buf.append(s)
        self.in_word = True

    def get_words(self) -> list[str]:
        if self.buf:
            self.words.append("".join(self.buf))
            self.buf.clear()
            self.in_word = False
        return self.words


# The methods of _ShellWord that can nest are generators run by _run(): instead of
# calling a sub-step they ``yield`` its generator and receive its return value. Like
# in Go, every step returns its error instead of raising it.
_Result = tuple[str, str | None]  # (value, error message)
TYPE_CHECKING = False  # (typing.TYPE_CHECKING without importing typing at start-up)
if TYPE_CHECKING:
    from typing import Any

    _Step = Generator[Any, Any, Any]  # sends/receives the tuples described above


def _run(step: _Step) -> Any:
    """Run a step and the sub-steps it yields with an explicit stack (no recursion)."""
    stack: list[_Step] = []
    value: Any = None
    while True:
        try:
            child = step.send(value)
        except StopIteration as stop:
            if not stack:
                return stop.value
            step = stack.pop()
            value = stop.value
        else:
            stack.append(step)
            step = child
            value = None


class _ShellWord:
    """shellWord: the state of processing one word."""

    __slots__ = (
        "capture",
        "env",
        "escape",
        "matches",
        "nonmatches",
        "raw_escapes",
        "raw_quotes",
        "scanner",
        "skip_unset_env",
        "words_buffer",
    )

    def __init__(self, lexer: ShellLexer, word: str, env: Mapping, capture: bool, want_words: bool):
        # initWord
        self.escape = lexer.escape
        self.raw_quotes = lexer.raw_quotes
        self.raw_escapes = lexer.raw_escapes
        self.skip_unset_env = lexer.skip_unset_env
        self.scanner = _Scanner(word)
        self.env = env
        self.capture = capture
        self.matches: set[str] = set()
        self.nonmatches: set[str] = set()
        # None when only the expanded string is wanted: then no words are built.
        self.words_buffer: list | None = [] if want_words else None

    def process(self) -> tuple[str, list | None, str | None]:
        """process (the part before the error is wrapped)."""
        return _run(self._process_stop_on(_EOF, self.raw_escapes))

    def _process_stop_on(self, stop_char: str, raw_escapes: bool) -> _Step:
        """processStopOn: process the word up to the end or ``stop_char`` (consumed).
        Returns ``(result, words, error)``."""
        result: list[str] = []
        words: _Words | None = None
        if self.words_buffer is not None:
            self.words_buffer.clear()
            words = _Words(self.words_buffer)

        # temporarily set sw.rawEscapes
        saved_raw_escapes = self.raw_escapes
        self.raw_escapes = raw_escapes
        try:
            scanner = self.scanner
            escape = self.escape
            while scanner.peek() != _EOF:
                ch = scanner.peek()
                if stop_char != _EOF and ch == stop_char:
                    scanner.next()
                    return "".join(result), (words.get_words() if words is not None else None), None

                # charFuncMapping: call special processing func for certain chars
                if ch == "$":
                    tmp, err = yield self._process_dollar()
                elif ch == "<":
                    tmp, err = self._process_possible_heredoc(), None
                elif ch == "'":
                    tmp, err = self._process_single_quote()
                elif ch == '"':
                    tmp, err = yield self._process_double_quote()
                else:
                    # Not special, just add it to the result
                    ch = scanner.next()
                    if ch == escape:
                        if self.raw_escapes:
                            if words is not None:
                                words.add_raw_char(ch)
                            result.append(ch)
                        # '\' (default escape token, but ` allowed) escapes, except end of line
                        ch = scanner.next()
                        if ch == _EOF:
                            break
                        if words is not None:
                            words.add_raw_char(ch)
                    elif words is not None:
                        words.add_char(ch)
                    result.append(ch)
                    continue

                if err is not None:
                    return "", [], err
                result.append(tmp)
                if words is not None:
                    if ch == "$":
                        words.add_string(tmp)
                    else:
                        words.add_raw_string(tmp)

            if stop_char != _EOF:
                return "", [], f"unexpected end of statement while looking for matching {stop_char}"
            return "".join(result), (words.get_words() if words is not None else None), None
        finally:
            self.raw_escapes = saved_raw_escapes

    def _process_single_quote(self) -> _Result:
        """processSingleQuote: everything up to the next ``'`` is literal (no escapes)."""
        scanner = self.scanner
        result = []
        ch = scanner.next()
        if self.raw_quotes:
            result.append(ch)
        while True:
            ch = scanner.next()
            if ch == _EOF:
                return "", "unexpected end of statement while looking for matching single-quote"
            if ch == "'":
                if self.raw_quotes:
                    result.append(ch)
                return "".join(result), None
            result.append(ch)

    def _process_double_quote(self) -> _Step:
        """processDoubleQuote: literal up to the next ``"`` except ``$`` expansions; the
        escape character only escapes ``"``, ``$`` and itself, otherwise it stays."""
        scanner = self.scanner
        escape = self.escape
        result = []
        ch = scanner.next()
        if self.raw_quotes:
            result.append(ch)
        while True:
            peek = scanner.peek()
            if peek == _EOF:
                return "", "unexpected end of statement while looking for matching double-quote"
            if peek == '"':
                ch = scanner.next()
                if self.raw_quotes:
                    result.append(ch)
                return "".join(result), None
            if peek == "$":
                value, err = yield self._process_dollar()
                if err is not None:
                    return "", err
                result.append(value)
                continue
            ch = scanner.next()
            if ch == escape:
                if self.raw_escapes:
                    result.append(ch)
                peek = scanner.peek()
                if peek == _EOF:
                    # Ignore \ at end of word
                    continue
                if peek in ('"', "$", escape):
                    # These chars can be escaped, all other \'s are left as-is
                    ch = scanner.next()
            result.append(ch)

    def _process_dollar(self) -> _Step:
        """processDollar: ``$name``, ``${name}`` and ``${name<modifier>word}``."""
        scanner = self.scanner
        scanner.next()

        # $xxx case
        if scanner.peek() != "{":
            name = self._process_name()
            if name == "":
                return "$", None
            value, found = self._get_env(name)
            if not found and self.skip_unset_env:
                return "$" + name, None
            return value, None

        scanner.next()
        peek = scanner.peek()
        if peek == _EOF:
            return "", "syntax error: missing '}'"
        if peek in ("{", "}", ":"):
            # Invalid ${{xx}, ${:xx}, ${:}. ${} case
            return "", "syntax error: bad substitution"
        name = self._process_name()
        ch = scanner.next()
        chs = _rune_str(ch)
        null_is_unset = False

        if ch == "}":
            # Normal ${xx} case
            value, is_set = self._get_env(name)
            if not is_set and self.skip_unset_env:
                return "${" + name + "}", None
            return value, None

        if ch in (":", "+", "-", "?", "#", "%"):
            if ch == ":":
                null_is_unset = True
                ch = scanner.next()
                chs += _rune_str(ch)
            raw_escapes = ch in ("#", "%")
            if null_is_unset and raw_escapes:
                return "", f"unsupported modifier ({chs}) in substitution"
            word, _, err = yield self._process_stop_on("}", raw_escapes)
            if err is not None:
                if scanner.peek() == _EOF:
                    return "", "syntax error: missing '}'"
                return "", err

            # Grab the current value of the variable in question so we
            # can use it to determine what to do based on the modifier
            value, is_set = self._get_env(name)
            if self.skip_unset_env and not is_set:
                return "${" + name + chs + word + "}", None

            if ch == "-":
                if not is_set or (null_is_unset and value == ""):
                    return word, None
                return value, None
            if ch == "+":
                if not is_set or (null_is_unset and value == ""):
                    return "", None
                return word, None
            if ch == "?":
                if not is_set:
                    return "", f"{name}: {word or 'is not allowed to be unset'}"
                if null_is_unset and value == "":
                    return "", f"{name}: {word or 'is not allowed to be empty'}"
                return value, None
            if ch in ("%", "#"):
                # %/# matches the shortest pattern expansion, %%/## the longest
                greedy = False
                if word and word[0] == ch:
                    greedy = True
                    word = word[1:]
                if ch == "%":
                    return _trim_suffix(word, value, greedy)
                return _trim_prefix(word, value, greedy)
            return "", f"unsupported modifier ({chs}) in substitution"

        if ch == "/":
            replace_all = scanner.peek() == "/"
            if replace_all:
                scanner.next()

            pattern, _, err = yield self._process_stop_on("/", True)
            if err is not None:
                if scanner.peek() == _EOF:
                    return "", "syntax error: missing '/' in ${}"
                return "", err

            replacement, _, err = yield self._process_stop_on("}", True)
            if err is not None:
                if scanner.peek() == _EOF:
                    return "", "syntax error: missing '}'"
                return "", err

            value, is_set = self._get_env(name)
            if self.skip_unset_env and not is_set:
                return "${" + name + "/" + pattern + "/" + replacement + "}", None
            regex, err = _convert_shell_pattern_to_regex(pattern, True, False)
            if regex is None:
                return "", f"invalid pattern ({pattern}) in substitution: {err}"
            if replace_all:
                value = _go_replace_all(regex, value, replacement)
            else:
                m = regex.search(value)
                if m is not None:
                    value = value[: m.start()] + replacement + value[m.end() :]
            return value, None

        return "", f"unsupported modifier ({chs}) in substitution"

    def _process_name(self) -> str:
        """processName: a name of letters, digits and ``_``; a positional parameter
        (all the leading digits) or one special parameter character."""
        scanner = self.scanner
        name: list[str] = []
        while scanner.peek() != _EOF:
            ch = scanner.peek()
            if not name and _is_digit(ch):
                # Keep reading until the first non-digit character, or EOF
                while scanner.peek() != _EOF and _is_digit(scanner.peek()):
                    name.append(scanner.next())
                return "".join(name)
            if not name and ch in _SPECIAL_PARAMS:
                return scanner.next()
            if not _is_letter(ch) and not _is_digit(ch) and ch != "_":
                break
            name.append(scanner.next())
        return "".join(name)

    def _process_possible_heredoc(self) -> str:
        """processPossibleHeredoc: ``<<`` and the blanks after it stay one raw piece."""
        scanner = self.scanner
        scanner.next()
        if scanner.peek() != "<":
            return "<"  # not a heredoc
        scanner.next()
        # heredoc might have whitespace between << and word terminator
        space = []
        while scanner.peek() in _HEREDOC_SPACE:
            space.append(scanner.next())
        return "<<" + "".join(space)

    def _get_env(self, name: str) -> tuple[str, bool]:
        """getEnv: look ``name`` up (case-sensitively) and record (non)matches."""
        value = self.env.get(name)
        if value is not None:
            if self.capture:
                self.matches.add(name)
            return value, True
        if self.capture:
            self.nonmatches.add(name)
        return "", False


class ShellLexer:
    """Expands Dockerfile variables the way BuildKit does (``shell.Lex``).

    ``escape`` is the Dockerfile escape character (``\\`` or, with ``# escape=```, a
    backtick). ``raw_quotes`` keeps the quote characters in the result and
    ``raw_escapes`` the escape characters (BuildKit's ``RawQuotes`` / ``RawEscapes``).
    Instances are immutable and can be shared.
    """

    __slots__ = ("_special", "escape", "raw_escapes", "raw_quotes", "skip_unset_env")

    def __init__(
        self,
        escape: str = "\\",
        *,
        raw_quotes: bool = False,
        raw_escapes: bool = False,
        skip_unset_env: bool = False,
    ):
        if not isinstance(escape, str) or len(escape) != 1:
            raise ValueError(f"escape must be a single character, not {escape!r}")
        self.escape = escape
        self.raw_quotes = raw_quotes
        self.raw_escapes = raw_escapes
        # SkipUnsetEnv: an unset variable stays as written (used to find heredoc words).
        self.skip_unset_env = skip_unset_env
        # A word without any of these (and without a leading BOM) expands to itself.
        self._special = re.compile("[" + re.escape("$<'\"" + escape) + "]")

    def __repr__(self) -> str:
        return (
            f"ShellLexer(escape={self.escape!r}, raw_quotes={self.raw_quotes}, "
            f"raw_escapes={self.raw_escapes})"
        )

    def _is_plain(self, word: str) -> bool:
        return self._special.search(word) is None and not word.startswith("\ufeff")

    def _process(self, word: str, env: Mapping[str, str], capture: bool, want_words: bool):
        sw = _ShellWord(self, word, env, capture, want_words)
        result, words, err = sw.process()
        if err is not None:
            raise ShellExpansionError(word, err)
        return result, words, sw.matches

    def process_word(self, word: str, env: Mapping[str, str]) -> str:
        """Expand the variables in ``word`` and remove its quotes and escapes
        (BuildKit's ``ProcessWord``). Raises :class:`ShellExpansionError`."""
        if self._is_plain(word):
            return word
        return self._process(word, env, True, False)[0]

    def process_word_with_matches(self, word: str, env: Mapping[str, str]) -> tuple[str, set[str]]:
        """Like :meth:`process_word`, also returning the names of the variables that
        were looked up and found in ``env`` (``ProcessWordWithMatches().Matched``),
        including ones in a modifier's word whose value ended up unused."""
        if self._is_plain(word):
            return word, set()
        result, _words, matches = self._process(word, env, True, False)
        return result, matches

    def process_words(self, word: str, env: Mapping[str, str]) -> list[str]:
        """Expand ``word`` and split it into words at unquoted, unescaped white space,
        including white space that came from a ``$VAR`` value (``ProcessWords``)."""
        if self._is_plain(word):
            return _split_go_space(word)
        return self._process(word, env, False, True)[1]


@functools.cache
def _non_space_run() -> re.Pattern[str]:
    """Runs of non-space characters (compiled on first use, not at every start-up)."""
    return re.compile("[^" + re.escape("".join(sorted(_GO_SPACE))) + "]+")


def _split_go_space(word: str) -> list[str]:
    """Word splitting of a word with nothing to expand: runs of non-space characters."""
    return _non_space_run().findall(word)
