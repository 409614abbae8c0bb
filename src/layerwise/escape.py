"""What leaves layerwise is data from a possibly hostile project: it is masked and escaped for
the place it goes to.

* :func:`redact` masks credentials in URLs as pip does (``redact_auth_from_url``):
  ``https://user:TOKEN@host`` -> ``https://user:****@host``, ``https://TOKEN@host`` ->
  ``https://****@host``. Every message, hint, note and code frame goes through it, including
  ``explain``/``inspect`` output: a CI log is not the place for a token, and nobody needs
  layerwise to show their own password back (fix edits and ``--diff`` keep the file's bytes:
  they are the file).
* :func:`terminal` makes text safe for a terminal: C0/C1 control characters (ESC, CR, BEL,
  backspace...), DEL and the Unicode bidirectional overrides are shown as ``\\x1b``/``\\u202e``
  escapes instead of acting on the terminal; tabs and newlines stay.
* :func:`undecodable` turns the bytes a non-UTF-8 file name was decoded with (Python's
  ``surrogateescape``: ``\\udcff``) into Git's ``core.quotePath`` octal form (``\\377``), so
  JSON and SARIF stay valid UTF-8 and a name prints the same everywhere.
* :func:`clean`: all three, for text output; :func:`github_data`/:func:`github_property`
  for GitHub workflow commands (``%``, CR, LF, and in properties ``:`` and ``,``).
"""

from __future__ import annotations

import re

# scheme://userinfo@ : userinfo runs to the last '@' before the host's '/', whitespace or quote
# (compiled on first use, by re's cache: most text holds no URL with credentials)
_URL_AUTH = r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)(?P<auth>[^/\s'\"<>]*)@(?=[^/\s@'\"<>]*(?:[/\s'\"<>]|$))"
# The character classes below are compiled on first use: ASCII text holds none of their
# characters but the ASCII controls, which str.isprintable finds (the usual case: a check's
# report compiles none of them).
_CONTROL = "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
_SURROGATE = "[\udc80-\udcff]"


def _plain_ascii(text: str, keep: str) -> bool:
    """Whether ``text`` is ASCII with no control character but those of ``keep``."""
    if not text.isascii():
        return False
    if text.isprintable():
        return True
    for c in keep:
        text = text.replace(c, "")
    return text.isprintable()


def redact_url_auth(auth: str) -> str:
    """pip's ``redact_netloc`` for the ``user:password`` part of a URL."""
    user, sep, _password = auth.partition(":")
    if not sep:
        return "****"  # a token alone: https://TOKEN@host
    return f"{user}:****"


def redact(text: str) -> str:
    """``text`` with the credentials of every URL in it masked."""
    if "@" not in text or "://" not in text:
        return text
    return re.sub(_URL_AUTH, lambda m: m.group("scheme") + redact_url_auth(m.group("auth")) + "@", text)


def _control(m: re.Match[str]) -> str:
    c = m.group(0)
    return f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}"


def terminal(text: str) -> str:
    """Control characters (all but tab and newline) and bidi overrides as visible escapes."""
    if _plain_ascii(text, "\t\n"):
        return text
    return re.sub(_CONTROL, _control, text)


def undecodable(text: str) -> str:
    """Undecodable bytes (``surrogateescape``) as Git's octal escapes: valid UTF-8 everywhere."""
    if text.isascii():
        return text
    return re.sub(_SURROGATE, lambda m: f"\\{ord(m.group(0)) - 0xDC00:03o}", text)


def clean(text: str) -> str:
    """Masked, terminal-safe, valid UTF-8: for any text printed to a terminal or a log."""
    return terminal(undecodable(redact(text)))


def line(text: str) -> str:
    """:func:`clean` on one line: a newline in it is shown as ``\\n`` (a message of one line
    stays one line: a file name with a newline cannot start a ``::error`` workflow command in
    a CI log, nor fake a second message)."""
    return clean(text).replace("\n", "\\n")


def data(text: str) -> str:
    """Masked and valid UTF-8 (for JSON/SARIF strings: their encoder escapes the controls)."""
    return undecodable(redact(text))


def github_data(text: str) -> str:
    """A GitHub workflow command's message: ``%``, CR and LF escaped (no new command can start)."""
    return clean_keep_lines(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def github_property(text: str) -> str:
    """A workflow command property value: as data, and ``:`` and ``,`` too."""
    return github_data(text).replace(":", "%3A").replace(",", "%2C")


def clean_keep_lines(text: str) -> str:
    """:func:`clean`, but CR and LF kept for the caller to escape its own way."""
    text = undecodable(redact(text))
    if _plain_ascii(text, "\t\n\r"):
        return text
    return re.sub(_CONTROL_NO_CRLF, _control, text)


_CONTROL_NO_CRLF = "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"


def rich_text(text: str) -> str:
    """:func:`clean`, then escaped for rich markup (``[`` in a Dockerfile is text, not a style)."""
    from rich.markup import escape as markup

    return markup(clean(text))


def json_data(obj):
    """Every string in a JSON-ready value through :func:`data` (keys too)."""
    if isinstance(obj, str):
        return data(obj)
    if isinstance(obj, dict):
        return {json_data(k) if isinstance(k, str) else k: json_data(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_data(v) for v in obj]
    return obj
