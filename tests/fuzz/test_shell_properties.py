"""Properties of the shell lexer (variable expansion) on generated words: a result or a
ShellExpansionError, never another exception, for every lexer mode and both escape characters;
deep nesting does not hit Python's recursion limit."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from layerwise.shell.lex import ShellExpansionError, ShellLexer
from tests.fuzz.strategies import fuzz_settings, shell_envs, shell_words

lexers = st.builds(
    ShellLexer,
    st.sampled_from(["\\", "`"]),
    raw_quotes=st.booleans(),
    raw_escapes=st.booleans(),
    skip_unset_env=st.booleans(),
)


@pytest.mark.slow
@fuzz_settings()
@given(lexers, shell_words(), shell_envs)
@example(ShellLexer(), "${X:-${Y:-${Z:-" * 50 + "}" * 150, {})
@example(ShellLexer(), "${X:-" * 3000, {})
@example(ShellLexer(), "'" * 1001, {})
@example(ShellLexer(), '"$X', {"X": "a b"})
@example(ShellLexer(), "${X/", {})
def test_lexer_returns_or_raises_expansion_error(lexer, word, env):
    try:
        value = lexer.process_word(word, env)
    except ShellExpansionError as exc:
        assert str(exc)
    else:
        assert isinstance(value, str)
    try:
        words = lexer.process_words(word, env)
    except ShellExpansionError as exc:
        assert str(exc)
    else:
        assert all(isinstance(w, str) for w in words)
    try:
        value, matches = lexer.process_word_with_matches(word, env)
    except ShellExpansionError:
        pass
    else:
        assert matches <= set(env)


@pytest.mark.slow
@fuzz_settings()
@given(shell_words())
def test_plain_word_without_specials_is_unchanged(word):
    plain = "".join(c for c in word if c not in "$<'\"\\`")
    if plain.startswith("\ufeff"):
        return
    assert ShellLexer().process_word(plain, {}) == plain
