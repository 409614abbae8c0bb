"""Go's ``path/filepath`` functions that Docker's context handling depends on (Unix flavour).

Ported from the Go standard library (``filepath.Clean`` and ``filepath.Match``) because
.dockerignore patterns and ``COPY <src>`` wildcards are defined by them, quirks included:
``Match`` works on UTF-8 bytes, ``[...]`` negates with ``^`` only, ``\\`` escapes, ``*`` and
``?`` never match ``/``, and a malformed pattern is an error even when the name already failed
to match.
"""

from __future__ import annotations


class BadPattern(ValueError):
    """Go's ``filepath.ErrBadPattern``: ``syntax error in pattern``."""

    def __init__(self, message: str = "syntax error in pattern") -> None:
        super().__init__(message)


def clean(path: str) -> str:
    """``filepath.Clean`` for ``/``-separated paths: shortest equivalent path, ``.`` if empty."""
    if path == "":
        return "."
    rooted = path.startswith("/")
    parts: list[str] = []
    for comp in path.split("/"):
        if comp == "" or comp == ".":
            continue
        if comp == "..":
            if parts and parts[-1] != "..":
                parts.pop()
            elif not rooted:
                parts.append("..")
            continue
        parts.append(comp)
    out = "/".join(parts)
    if rooted:
        return "/" + out
    return out or "."


_RUNE_ERROR = 0xFFFD


def _decode_rune(b: bytes, i: int) -> tuple[int, int]:
    """``utf8.DecodeRune(b[i:])``: (rune, width); invalid encodings give (U+FFFD, 1)."""
    c = b[i]
    if c < 0x80:
        return c, 1
    if 0xC2 <= c <= 0xDF:
        n = 2
    elif 0xE0 <= c <= 0xEF:
        n = 3
    elif 0xF0 <= c <= 0xF4:
        n = 4
    else:
        return _RUNE_ERROR, 1
    try:
        s = b[i : i + n].decode("utf-8")
    except UnicodeDecodeError:
        return _RUNE_ERROR, 1
    return ord(s), n


def _to_bytes(s: str | bytes) -> bytes:
    if isinstance(s, bytes):
        return s
    return s.encode("utf-8", "surrogateescape")


def _scan_chunk(pattern: bytes) -> tuple[bool, bytes, bytes]:
    star = False
    while pattern[:1] == b"*":
        pattern = pattern[1:]
        star = True
    inrange = False
    i = 0
    n = len(pattern)
    while i < n:
        c = pattern[i]
        if c == 0x5C:  # backslash
            if i + 1 < n:
                i += 1
        elif c == 0x5B:  # [
            inrange = True
        elif c == 0x5D:  # ]
            inrange = False
        elif c == 0x2A and not inrange:  # *
            break
        i += 1
    return star, pattern[:i], pattern[i:]


def _get_esc(chunk: bytes) -> tuple[int, bytes]:
    if not chunk or chunk[0] in (0x2D, 0x5D):  # '-' or ']'
        raise BadPattern()
    if chunk[0] == 0x5C:
        chunk = chunk[1:]
        if not chunk:
            raise BadPattern()
    r, n = _decode_rune(chunk, 0)
    if r == _RUNE_ERROR and n == 1:
        raise BadPattern()
    chunk = chunk[n:]
    if not chunk:
        raise BadPattern()
    return r, chunk


def _match_chunk(chunk: bytes, s: bytes) -> tuple[bytes, bool]:
    """Match ``chunk`` (no ``*``) at the start of ``s``; raises BadPattern when malformed."""
    failed = False
    while chunk:
        if not failed and not s:
            failed = True
        c = chunk[0]
        if c == 0x5B:  # [
            r = 0
            if not failed:
                r, n = _decode_rune(s, 0)
                s = s[n:]
            chunk = chunk[1:]
            negated = False
            if chunk[:1] == b"^":
                negated = True
                chunk = chunk[1:]
            matched = False
            nrange = 0
            while True:
                if chunk[:1] == b"]" and nrange > 0:
                    chunk = chunk[1:]
                    break
                lo, chunk = _get_esc(chunk)
                hi = lo
                if chunk[0] == 0x2D:  # '-'
                    hi, chunk = _get_esc(chunk[1:])
                if lo <= r <= hi:
                    matched = True
                nrange += 1
            if matched == negated:
                failed = True
        elif c == 0x3F:  # ?
            if not failed:
                if s[0] == 0x2F:
                    failed = True
                _, n = _decode_rune(s, 0)
                s = s[n:]
            chunk = chunk[1:]
        else:
            if c == 0x5C:
                chunk = chunk[1:]
                if not chunk:
                    raise BadPattern()
            if not failed:
                if chunk[0] != s[0]:
                    failed = True
                s = s[1:]
            chunk = chunk[1:]
    if failed:
        return b"", False
    return s, True


def match(pattern: str | bytes, name: str | bytes) -> bool:
    """``filepath.Match(pattern, name)``; raises :class:`BadPattern` for a malformed pattern."""
    pat = _to_bytes(pattern)
    nm = _to_bytes(name)
    while pat:
        star, chunk, pat = _scan_chunk(pat)
        if star and not chunk:
            # Trailing * matches the rest of the string unless it has a /.
            return b"/" not in nm
        try:
            t, ok = _match_chunk(chunk, nm)
            err: BadPattern | None = None
        except BadPattern as exc:
            t, ok, err = b"", False, exc
        if ok and (not t or pat):
            nm = t
            continue
        if err is not None:
            raise err
        if star:
            matched_here = False
            i = 0
            while i < len(nm) and nm[i] != 0x2F:
                t, ok = _match_chunk(chunk, nm[i + 1 :])
                if ok:
                    if not pat and t:
                        i += 1
                        continue
                    nm = t
                    matched_here = True
                    break
                i += 1
            if matched_here:
                continue
        # Before returning false, check that the rest of the pattern is well formed.
        while pat:
            _, chunk, pat = _scan_chunk(pat)
            _match_chunk(chunk, b"")
        return False
    return not nm


def check_pattern(pattern: str | bytes) -> None:
    """Raise :class:`BadPattern` if Go's ``filepath.Match(pattern, ".")`` would."""
    match(pattern, ".")
