"""split_commands reads a shell text with regexes instead of shlex (#17: shlex reads a character
at a time in Python); the tokens, and where it fails (ValueError), must be exactly shlex's."""

from __future__ import annotations

import glob
import shlex
from pathlib import Path

from hypothesis import example, given
from hypothesis import strategies as st

from layerwise.analyses import installs
from layerwise.errors import LayerwiseError
from layerwise.parse import parse_file
from layerwise.parse.instructions import Run, parse_instructions
from tests.fuzz.strategies import fuzz_settings

ROOT = Path(__file__).resolve().parents[2]


def _shlex_tokens(text: str) -> list[str] | None:
    lexer = shlex.shlex(text, posix=True, punctuation_chars=";&|\n()")
    lexer.whitespace = " \t\r"
    lexer.whitespace_split = True
    lexer.commenters = "#"
    try:
        return list(lexer)
    except ValueError:
        return None


def _ours(text: str) -> list[str] | None:
    try:
        return list(installs._tokens(text))
    except ValueError:
        return None


# shell-ish pieces: words, every punctuation and whitespace character shlex treats apart,
# characters it treats as word characters (vertical tab, form feed, $, {, }, =, ~, *, unicode),
# quotes (closed, empty, unclosed, nested in the other kind), backslashes (before a quote, a
# backslash, a newline, a letter, at the end) and comments (mid-word, after punctuation, at the end)
PIECES = st.sampled_from([
    "pip", "install", "-r", "requirements.txt", "&&", "||", "|", ";", "&", "(", ")", "\n", " ", "\t",
    "\r", "\x0b", "\x0c", "$HOME", "${X:-y}", "{", "}", "a=b", "~", "*.py", "é", "--no-cache-dir", ";;",
    "|&", "2>&1", ">", "<", "'q'", '"d"', "\\", "#", "# c\n", "'", '"', "''", '""', "'a b'", '"a b"',
    '"it\'s"', "'say \"hi\"'", '"\\""', '"\\\\"', '"\\$x"', "\\\n", "\\'", '\\"', "\\ ", "\\a", "#x",
    '"a;b"', "'&&'", '"#"', "'\n'", '"\\\n"',
])  # fmt: skip


@fuzz_settings()
@given(st.lists(PIECES, max_size=30).map("".join))
@example("pip install -r requirements.txt && rm -rf /root/.cache\n")
@example("a\x0bb;c\n(d)|e")
@example("echo 'a b' \"c\\\"d\" e\\ f # g\nh;# i\nj")
@example('"\\x\\\\\\""')
@example("a'unclosed")
@example("a\\")
def test_tokens_are_shlex_tokens(text: str) -> None:
    assert _ours(text) == _shlex_tokens(text)


@fuzz_settings()
@given(st.text(alphabet=st.sampled_from("ab \t\r\n;&|()'\"\\#$é\x0b"), max_size=40))
def test_any_text_of_the_lexers_characters_tokenises_as_with_shlex(text: str) -> None:
    assert _ours(text) == _shlex_tokens(text)


def test_every_run_of_the_corpus_splits_as_with_shlex() -> None:
    """Over the real Dockerfiles of the corpus: the same commands, with either reader."""
    seen = 0
    for path in sorted(glob.glob(str(ROOT / "tests" / "data" / "corpus" / "files" / "*"))):
        try:
            instructions = parse_instructions(parse_file(path))
        except LayerwiseError:  # a corpus file that is a template, not a Dockerfile
            continue
        for ins in instructions:
            if isinstance(ins, Run):
                text = installs.run_text(ins)
                assert _ours(text) == _shlex_tokens(text), text
                seen += 1
    assert seen > 300
