"""escape.py skips its character-class regexes for plain ASCII text (#17: start-up: a
check's report compiles none of them); the result is the same as the regexes' on any text."""

from __future__ import annotations

import re

from hypothesis import example, given
from hypothesis import strategies as st

from layerwise import escape
from tests.fuzz.strategies import fuzz_settings

_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_CONTROL_NO_CRLF = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_SURROGATE = re.compile("[\udc80-\udcff]")

# ASCII (controls included), the C1 controls, bidi marks, escaped bytes, other text
_TEXT = st.text(st.one_of(st.characters(max_codepoint=0x7F), st.sampled_from(
    ["\x85", "\x9f", "\xa0", "é", "\u061c", "\u200e", "\u202e", "\u2066", "\udc80", "\udcff", "\ud800", "€"])))


@fuzz_settings()
@given(_TEXT)
@example("plain ascii: Dockerfile:3:1")
@example("tab\tnew\nline\rcr\x7fdel\x1besc")
@example("\udcff\u202e")
def test_the_escapes_are_the_regexes(text):
    control = escape._control
    assert escape.terminal(text) == _CONTROL.sub(control, text)
    undecodable = _SURROGATE.sub(lambda m: f"\\{ord(m.group(0)) - 0xDC00:03o}", text)
    assert escape.undecodable(text) == undecodable
    assert escape.clean_keep_lines(text) == _CONTROL_NO_CRLF.sub(control, escape.undecodable(escape.redact(text)))
