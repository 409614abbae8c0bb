"""``analyses.needed.keeps_needed`` compiles no matcher for a pattern whose last component
cannot match any name of the needed paths (#17: start-up: LW301's new .dockerignore proposes
~40 patterns); what it keeps is what matching each pattern alone keeps."""

from __future__ import annotations

import re

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from layerwise.analyses.needed import keeps_needed
from layerwise.context.ignore import IgnoreFile
from layerwise.errors import LayerwiseError
from tests.fuzz.strategies import fuzz_settings

_NAMES = st.sampled_from(["requirements.txt", "app.py", ".env", ".env.local", "id_rsa", "src", "a", "b.key",
                          "Dockerfile", "x^y", "..", "."])  # fmt: skip
_PIECES = st.sampled_from(["*", "**", "?", "/", ".", "!", "[", "]", "\\", "^", " ", "a", ".env", "key", "txt",
                           "req", "id_", "src", "Docker", "py"])  # fmt: skip


def _kept_one_by_one(patterns, needed):
    needed = [n for n in needed if n and n not in (".", "")]
    out = []
    for p in patterns:
        probe = IgnoreFile.from_patterns([p])
        if not any(probe.excludes(n) for n in needed):
            out.append(p)
    return out


@fuzz_settings()
@given(st.lists(st.lists(_PIECES, min_size=1, max_size=6).map("".join), max_size=6),
       st.lists(st.lists(_NAMES, min_size=1, max_size=3).map("/".join), max_size=3))  # fmt: skip
@example(["**/*.key", "**/.env", "**/.env.*", "**/id_rsa*", "src/**", "*.py"], ["requirements.txt", "src/app.py"])
@example(["a^b", "x^y", "**/x?y"], ["x^y"])
@example(["!"], ["a"])
@example(["^*", "a^"], ["b"])
@example(["a/[", "[x"], ["a/b"])
def test_keeps_what_each_pattern_alone_keeps(patterns, needed):
    try:
        expected = _kept_one_by_one(patterns, needed)
    except LayerwiseError as exc:  # a pattern that does not compile: the same error
        with pytest.raises(LayerwiseError, match=re.escape(exc.message)):
            keeps_needed(patterns, needed)
        return
    assert keeps_needed(patterns, needed) == expected
