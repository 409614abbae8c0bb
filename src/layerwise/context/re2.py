"""Translate the small RE2 (Go ``regexp``) dialect that moby/patternmatcher generates into an
equivalent Python regular expression.

patternmatcher builds regexes like ``^docs/[^/]*\\.md$`` and hands them to Go's regexp. Most
of that is valid Python too, but not all of it means the same thing: Go's ``$`` is the end of
the text (Python's also matches before a final newline), ``[[:alpha:]]`` is a POSIX class in
Go, ``\\s`` excludes ``\\v``, ``\\z`` is Go's end of text, octal and ``\\x{...}`` escapes differ,
and escaping an unknown letter is an error in Go. This module parses the Go syntax that can
occur and emits Python syntax with the same meaning; anything else raises :class:`RE2Error`
(which patternmatcher would report as ``syntax error in pattern``).
"""

from __future__ import annotations

import re

__all__ = ["RE2Error", "compile_re2", "translate"]


class RE2Error(ValueError):
    pass


_POSIX = {
    "alnum": "0-9A-Za-z",
    "alpha": "A-Za-z",
    "ascii": "\\x00-\\x7f",
    "blank": "\\t ",
    "cntrl": "\\x00-\\x1f\\x7f",
    "digit": "0-9",
    "graph": "!-~",
    "lower": "a-z",
    "print": " -~",
    "punct": "!-/:-@\\[-`{-~",
    "space": "\\t\\n\\v\\f\\r ",
    "upper": "A-Z",
    "word": "0-9A-Za-z_",
    "xdigit": "0-9A-Fa-f",
}

# Perl classes, ASCII-only in RE2: (positive set, negated?)
_PERL = {
    "d": ("0-9", False),
    "D": ("0-9", True),
    "s": ("\\t\\n\\f\\r ", False),
    "S": ("\\t\\n\\f\\r ", True),
    "w": ("0-9A-Za-z_", False),
    "W": ("0-9A-Za-z_", True),
}

_SIMPLE_ESC = {"a": "\x07", "f": "\f", "t": "\t", "n": "\n", "r": "\r", "v": "\v"}


def _lit(ch: str) -> str:
    """A literal character for use inside a Python character class."""
    if ch.isalnum() or ch == "_" or ord(ch) > 0x7F:
        return ch
    return f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else ch


def _parse_escape(s: str, i: int) -> tuple[str, str, int]:
    """Parse an escape starting at ``s[i] == '\\\\'``.

    Returns (kind, value, next_index) where kind is "char" (value = the character),
    "class" (value = Python class body, possibly starting with ^ for negation) or
    "assert" (value = Python assertion text).
    """
    if i + 1 >= len(s):
        raise RE2Error("trailing backslash")
    c = s[i + 1]
    j = i + 2
    if c in "1234567":
        if j < len(s) and "0" <= s[j] <= "7":
            pass  # octal, handled below
        else:
            raise RE2Error("backreferences are not supported")
    if c in "01234567":
        digits = c
        while j < len(s) and len(digits) < 3 and "0" <= s[j] <= "7":
            digits += s[j]
            j += 1
        return "char", chr(int(digits, 8)), j
    if c == "x":
        if j < len(s) and s[j] == "{":
            end = s.find("}", j)
            if end < 0 or end == j + 1:
                raise RE2Error("invalid escape")
            hexs = s[j + 1 : end]
            try:
                v = int(hexs, 16)
            except ValueError:
                raise RE2Error("invalid escape") from None
            if v > 0x10FFFF:
                raise RE2Error("invalid escape")
            return "char", chr(v), end + 1
        hexs = s[j : j + 2]
        if len(hexs) != 2 or not all(h in "0123456789abcdefABCDEF" for h in hexs):
            raise RE2Error("invalid escape")
        return "char", chr(int(hexs, 16)), j + 2
    if c in _SIMPLE_ESC:
        return "char", _SIMPLE_ESC[c], j
    if c in _PERL:
        body, neg = _PERL[c]
        return "class", ("^" if neg else "") + body, j
    if c in "bB":
        return "assert", "(?a:\\" + c + ")", j  # RE2's \b is an ASCII word boundary
    if c == "A":
        return "assert", "\\A", j
    if c == "z":
        return "assert", "\\Z", j
    if ord(c) < 0x80 and not c.isalnum():
        return "char", c, j
    raise RE2Error(f"invalid escape sequence \\{c}")


def _parse_class(s: str, i: int) -> tuple[str, int]:
    """Parse a Go character class starting at ``s[i] == '['``; return (python_class, next)."""
    j = i + 1
    negated = False
    if j < len(s) and s[j] == "^":
        negated = True
        j += 1
    items: list[str] = []
    first = True
    while True:
        if j >= len(s):
            raise RE2Error("missing closing ]")
        c = s[j]
        if c == "]" and not first:
            j += 1
            break
        first = False
        if c == "[" and s.startswith("[:", j):
            end = s.find(":]", j + 2)
            if end >= 0:
                name = s[j + 2 : end]
                neg = name.startswith("^")
                if neg:
                    name = name[1:]
                if name not in _POSIX:
                    raise RE2Error("invalid character class range")
                if neg:
                    raise RE2Error("negated POSIX classes are not supported")
                items.append(_POSIX[name])
                j = end + 2
                continue
        # a single character or a range lo-hi
        if c == "\\":
            kind, val, j = _parse_escape(s, j)
            if kind == "class":
                if val.startswith("^"):
                    raise RE2Error("negated Perl class inside a class is not supported")
                items.append(val)
                continue
            if kind != "char":
                raise RE2Error("invalid escape in class")
            lo = val
        else:
            lo = c
            j += 1
        if j + 1 < len(s) and s[j] == "-" and s[j + 1] != "]":
            j += 1
            if s[j] == "\\":
                kind, hi, j = _parse_escape(s, j)
                if kind != "char":
                    raise RE2Error("invalid character class range")
            else:
                hi = s[j]
                j += 1
            if ord(hi) < ord(lo):
                raise RE2Error("invalid character class range")
            items.append(_lit(lo) + "-" + _lit(hi))
        else:
            items.append(_lit(lo))
    body = "".join(items)
    return "[" + ("^" if negated else "") + body + "]", j


def translate(go_regex: str) -> str:
    """Python regex source equivalent to Go's ``go_regex`` (as patternmatcher builds them)."""
    out: list[str] = []
    i = 0
    n = len(go_regex)
    while i < n:
        c = go_regex[i]
        if c == "\\":
            kind, val, i = _parse_escape(go_regex, i)
            if kind == "char":
                out.append(re.escape(val))
            elif kind == "class":
                out.append("[" + val + "]")
            else:
                out.append(val)
        elif c == "[":
            cls, i = _parse_class(go_regex, i)
            out.append(cls)
        elif c == "$":
            out.append("\\Z")
            i += 1
        elif c == "^":
            out.append("\\A")
            i += 1
        elif c in "().*?|+{}":
            out.append(c)
            i += 1
        else:
            out.append(re.escape(c))
            i += 1
    return "".join(out)


def compile_re2(go_regex: str) -> re.Pattern[str]:
    try:
        return re.compile(translate(go_regex))
    except re.error as exc:
        raise RE2Error(str(exc)) from None
