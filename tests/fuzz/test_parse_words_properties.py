"""parse_words splits a text without quotes or escape characters with one regex (#17: ENV and
LABEL lines were walked a character at a time); its words must be the walk's (BuildKit's
parseWords) for every text, Go's Unicode white space included."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from layerwise.parse import parser
from tests.fuzz.strategies import fuzz_settings

# Go's white space (and Python-only white space that is not Go's: \x1c-\x1f), quotes, both
# escape characters, word characters
ALPHABET = st.sampled_from(
    [" ", "\t", "\n", "\v", "\f", "\r", "\x85", "\xa0", "\u2000", "\u3000", "\x1c", "\x1f", "'", '"', "\\",
     "`", "a", "=", "b", "$", "é", "\u200b"]
)  # fmt: skip


@fuzz_settings()
@given(st.text(alphabet=ALPHABET, max_size=30), st.sampled_from(["\\", "`"]))
@example("a=b  c=\u3000d\x1ce", "\\")
@example("a\\ b", "`")
def test_words_are_the_walks_words(text: str, escape: str) -> None:
    assert parser.parse_words(text, escape) == parser._parse_words_walk(text, escape)


@fuzz_settings()
@given(st.text(alphabet=ALPHABET.filter(lambda c: c not in "'\"\\"), max_size=30))
def test_texts_without_quotes_or_escapes_split_as_the_walk_does(text: str) -> None:
    assert parser.parse_words(text) == parser._parse_words_walk(text, "\\")
