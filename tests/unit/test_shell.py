"""Unit table for layerwise.shell.lex beyond BuildKit's envVarTest/wordsTest files.

Expected values marked "Go" were produced by BuildKit's lex.go (73ed6825c4b7) itself; the
rest are ported from BuildKit's lex_test.go (TestProcessWithMatches and friends).
"""

from __future__ import annotations

import pytest

from layerwise.shell.lex import (
    ShellExpansionError,
    ShellLexer,
    _convert_shell_pattern_to_regex,
    _reverse_pattern,
)

LEX = ShellLexer()

# --- lex_test.go TestProcessWithMatches: (input, env, expected, matches); None = error
PROCESS_WITH_MATCHES = [
    ("x", {"DUMMY": "dummy"}, "x", set()),
    ("x ${UNUSED}", {"DUMMY": "dummy"}, "x ", set()),
    ("x ${FOO}", {"FOO": "y"}, "x y", {"FOO"}),
    ("${FOO-aaa} ${BAR-bbb} ${BAZ-ccc}", {"FOO": "xxx", "BAR": ""}, "xxx  ccc", {"FOO", "BAR"}),
    ("${FOO:-aaa} ${BAR:-bbb} ${BAZ:-ccc}", {"FOO": "xxx", "BAR": ""}, "xxx bbb ccc", {"FOO", "BAR"}),
    ("${FOO:-}", {"FOO": "xxx", "BAR": ""}, "xxx", {"FOO"}),
    ("${FOO:-}", {}, "", set()),
    ("${FOO+aaa} ${BAR+bbb} ${BAZ+ccc}", {"FOO": "xxx", "BAR": ""}, "aaa bbb ", {"FOO", "BAR"}),
    ("${FOO:+aaa} ${BAR:+bbb} ${BAZ:+ccc}", {"FOO": "xxx", "BAR": ""}, "aaa  ", {"FOO", "BAR"}),
    ("${FOO?aaa}", {"FOO": "xxx", "BAR": ""}, "xxx", {"FOO"}),
    ("${BAR?bbb}", {"FOO": "xxx", "BAR": ""}, "", {"BAR"}),
    ("${BAZ?ccc}", {"FOO": "xxx", "BAR": ""}, None, None),
    ("${FOO:?aaa}", {"FOO": "xxx", "BAR": ""}, "xxx", {"FOO"}),
    ("${BAR:?bbb}", {"FOO": "xxx", "BAR": ""}, None, None),
    ("${BAZ:?ccc}", {"FOO": "xxx", "BAR": ""}, None, None),
    ("${BAZ:?}", {"FOO": "xxx", "BAR": ""}, None, None),
    ("${FOO=aaa}", {"FOO": "xxx", "BAR": ""}, None, None),
    ("${FOO=:aaa}", {"FOO": "xxx", "BAR": ""}, None, None),
    ("${FOO=}", {}, None, None),
    ("${FOO#()[]{\\}^$.\\*\\?|\\\\}", {"FOO": "()[]{}^$.*?|\\x"}, "x", {"FOO"}),
    ("${FOO%%\\**}", {"FOO": "xx**"}, "xx", {"FOO"}),
    ("${FOO#*x*y}", {"FOO": "xxyy"}, "y", {"FOO"}),
    ("${FOO#*}", {"FOO": "xxyy"}, "xxyy", {"FOO"}),
    ("${FOO#$BAR}", {"FOO": "xxyy", "BAR": "x"}, "xyy", {"FOO", "BAR"}),
    ("${FOO#$BAR}", {"FOO": "xxyy", "BAR": ""}, "xxyy", {"FOO", "BAR"}),
    ("${FOO#}", {"FOO": "xxyy"}, "xxyy", {"FOO"}),
    ("${FOO##*x}", {"FOO": "xxyy"}, "yy", {"FOO"}),
    ("${FOO##}", {"FOO": "xxyy"}, "xxyy", {"FOO"}),
    ("${FOO#?\\?}", {"FOO": "???y"}, "?y", {"FOO"}),
    ("${ABC:-.}${FOO%x}${ABC:-.}", {"FOO": "xxyy"}, ".xxyy.", {"FOO"}),
    ("${FOO%%\\**\\*}", {"FOO": "a***yy*"}, "a", {"FOO"}),
    ("${FOO%}", {"FOO": "xxyy"}, "xxyy", {"FOO"}),
    ("${FOO%%$BAR}", {"FOO": "xxyy", "BAR": ""}, "xxyy", {"FOO", "BAR"}),
    ("${FOO:#}", {}, None, None),
    ("${FOO:##}", {}, None, None),
    ("${FOO:%}", {}, None, None),
    ("${FOO:%%}", {}, None, None),
    (
        "${FOO/$NEEDLE/.} - ${FOO//$NEEDLE/.}",
        {"FOO": "/foo*/*/*.txt", "NEEDLE": "\\*/"},
        "/foo.*/*.txt - /foo..*.txt",
        {"FOO", "NEEDLE"},
    ),
    (
        "${FOO/$NEEDLE/} - ${FOO//$NEEDLE/}",
        {"FOO": "/tmp/tmp/bar.txt", "NEEDLE": "/tmp"},
        "/tmp/bar.txt - /bar.txt",
        {"FOO", "NEEDLE"},
    ),
    (
        "${FOO/$NEEDLE/$REPLACEMENT} - ${FOO//$NEEDLE/$REPLACEMENT}",
        {"FOO": "/a/foo/b/c.txt", "NEEDLE": "/?/", "REPLACEMENT": "/"},
        "/foo/b/c.txt - /foo/c.txt",
        {"FOO", "NEEDLE", "REPLACEMENT"},
    ),
    (
        "${FOO/$NEEDLE/$REPLACEMENT}",
        {"FOO": "http://google.de", "NEEDLE": "http://", "REPLACEMENT": "https://"},
        "https://google.de",
        {"FOO", "NEEDLE", "REPLACEMENT"},
    ),
    ("${FOO//\\//\\/}", {"FOO": "/tmp/foo.txt"}, "\\/tmp\\/foo.txt", {"FOO"}),
    ("${FOO/$BAR/ww}", {"FOO": "xxyy", "BAR": ""}, "wwxxyy", {"FOO", "BAR"}),
    ("${FOO//ww}", {"FOO": "xxyy"}, None, None),
    ("${FOO//}", {"FOO": "xxyy"}, None, None),
    ("${FOO///}", {"FOO": "xxyy"}, "xxyy", {"FOO"}),
    ("${FOO///}", {}, "", set()),
    # TestProcessWithMatchesPlatform
    (
        "something-${VERSION}.${TARGETOS}-${TARGETARCH}${TARGETVARIANT:+-${TARGETVARIANT}}.tar.gz",
        {"VERSION": "v1.2.3", "TARGETOS": "linux", "TARGETARCH": "arm", "TARGETVARIANT": "v7"},
        "something-v1.2.3.linux-arm-v7.tar.gz",
        {"VERSION", "TARGETOS", "TARGETARCH", "TARGETVARIANT"},
    ),
    (
        "something-${VERSION}.${TARGETOS}-${TARGETARCH}${TARGETVARIANT:+-${TARGETVARIANT}}.tar.gz",
        {"VERSION": "v1.2.3", "TARGETOS": "linux", "TARGETARCH": "arm64"},
        "something-v1.2.3.linux-arm64.tar.gz",
        {"VERSION", "TARGETOS", "TARGETARCH"},
    ),
    # Go: words of a branch not taken are still expanded, so their variables count.
    ("${A:-$B} ${C:+$D} $E ${F}", {"A": "a", "B": "b", "D": "d", "F": ""}, "a   ", {"A", "B", "D", "F"}),
    # Go: lookups are case-sensitive (unix).
    ("${x} ${X} $Home", {"X": "up", "x": "low"}, "low up ", {"X", "x"}),
]


@pytest.mark.parametrize(("word", "env", "expected", "matches"), PROCESS_WITH_MATCHES)
def test_process_word_with_matches(word, env, expected, matches):
    if expected is None:
        with pytest.raises(ShellExpansionError):
            LEX.process_word_with_matches(word, env)
        return
    assert LEX.process_word_with_matches(word, env) == (expected, matches)
    assert LEX.process_word(word, env) == expected


# --- TestShellParserMandatoryEnvVars
@pytest.mark.parametrize(
    ("word", "env", "expected"),
    [
        ("${VAR:?message here$ARG}", {"VAR": "plain", "ARG": "x"}, "plain"),
        ("${VAR:?message here$ARG}", {"VAR": "", "ARG": "x"}, None),
        ("${VAR:?message here$ARG}", {"ARG": "x"}, None),
        ("${VAR?message here$ARG}", {"VAR": "plain", "ARG": "x"}, "plain"),
        ("${VAR?message here$ARG}", {"VAR": "", "ARG": "x"}, ""),
        ("${VAR?message here$ARG}", {"ARG": "x"}, None),
    ],
)
def test_mandatory_env_vars(word, env, expected):
    if expected is None:
        with pytest.raises(ShellExpansionError) as info:
            LEX.process_word(word, env)
        assert info.value.reason == "VAR: message herex"
    else:
        assert LEX.process_word(word, env) == expected


# --- Error messages (Go): the full text, prefix included.
@pytest.mark.parametrize(
    ("word", "env", "reason"),
    [
        ("${X:?must be set}", {}, "X: must be set"),
        ("${X:?}", {"X": ""}, "X: is not allowed to be empty"),
        ("${X?}", {}, "X: is not allowed to be unset"),
        ("${X:#a}", {"X": "abc"}, "unsupported modifier (:#) in substitution"),
        ("${X=a}", {"X": "abc"}, "unsupported modifier (=) in substitution"),
        ("${X", {}, "unsupported modifier (\ufffd) in substitution"),
        ("${X:", {}, "syntax error: missing '}'"),
        ("${X#a\\}", {"X": "abc"}, "syntax error: missing '}'"),
        ("${X/a", {}, "syntax error: missing '/' in ${}"),
        ("${X/a/b", {}, "syntax error: missing '}'"),
        ("${}", {}, "syntax error: bad substitution"),
        ("${#X}", {"X": "abc"}, "unsupported modifier (X) in substitution"),
        ("${X#\\x}", {"X": "abc"}, "invalid pattern (\\x) in substitution: invalid escape '\\x'"),
        ("'abc", {}, "unexpected end of statement while looking for matching single-quote"),
        ('"abc', {}, "unexpected end of statement while looking for matching double-quote"),
    ],
)
def test_error_messages(word, env, reason):
    with pytest.raises(ShellExpansionError) as info:
        LEX.process_word(word, env)
    assert info.value.reason == reason
    assert info.value.word == word
    assert isinstance(info.value, ValueError)
    with pytest.raises(ShellExpansionError):
        LEX.process_words(word, env)


def test_error_message_quotes_the_word_like_go():
    with pytest.raises(ShellExpansionError) as info:
        LEX.process_word('a\nb\t"${#X}', {})
    assert (
        str(info.value)
        == 'failed to process "a\\nb\\t\\"${#X}": unsupported modifier (X) in substitution'
    )


# --- Escape character, raw modes and odd corners (expected values from Go).
@pytest.mark.parametrize(
    ("lexer", "word", "env", "result", "words"),
    [
        # `# escape=``: the backtick escapes, a backslash is an ordinary character.
        (
            ShellLexer("`"),
            'he`$PWD `` `" \\x',
            {"PWD": "/home"},
            'he$PWD ` " \\x',
            ["he$PWD", "`", '"', "\\x"],
        ),
        (ShellLexer("`"), '"a`"b`$c``d\\e"', {}, 'a"b$c`d\\e', ['a"b$c`d\\e']),
        (ShellLexer("`"), "C:\\path\\$D", {"D": "dir"}, "C:\\path\\dir", ["C:\\path\\dir"]),
        (ShellLexer("`"), "a` b c", {}, "a b c", ["a b", "c"]),
        # raw_quotes keeps the quotes; raw_escapes keeps escapes (doubling an
        # unescapable one inside double quotes, as upstream does).
        (
            ShellLexer(raw_quotes=True),
            "'a b' \"c $X\" \\e",
            {"X": "1 2"},
            "'a b' \"c 1 2\" e",
            ["'a b'", '"c 1 2"', "e"],
        ),
        (
            ShellLexer(raw_escapes=True),
            "'a b' \"c\\$X\\t\" \\e",
            {"X": "1 2"},
            "a b c\\$X\\\\t \\e",
            ["a b", "c\\$X\\\\t", "\\e"],
        ),
        # ReplaceAllString semantics: $0 is the match, $$ a dollar, other names empty;
        # no replacement of an empty match right after a match.
        (
            LEX,
            "${X//?/[$0]}|${X/?/[$0]}|${X//b/$$}|${X//a/${0}$1x$}",
            {"X": "abc"},
            "[][][]|[]bc|ac|x$bc",
            ["x$bc"],
        ),
        (LEX, "${X//*/-}|${X//x*/-}|${X/#/-}", {"X": "abc"}, "-|abc|abc", ["abc"]),
        # text/scanner drops a leading byte-order mark (of the word and of a pattern).
        (LEX, "\ufeff$X", {"X": "v"}, "v", ["v"]),
        (LEX, "${X#\ufeffa}", {"X": "abc"}, "bc", ["bc"]),
        # Word splitting uses Go's unicode.IsSpace (NBSP, EM SPACE yes; U+001C no).
        (
            LEX,
            "a\u00a0b\u2003c\x1cd $X",
            {"X": "1\u30002\x1c3"},
            "a\u00a0b\u2003c\x1cd 1\u30002\x1c3",
            ["a", "b", "c\x1cd", "1", "2\x1c3"],
        ),
        # "<<" and the blanks after it stay one word (heredoc marker).
        (LEX, "cat <<  EOF x<y", {}, "cat <<  EOF x<y", ["cat", "<<  EOF", "x<y"]),
        # Upstream quirk: a nested ${...} with a modifier resets the shared word buffer,
        # dropping what came before it in the same word.
        (LEX, 'ab${X:-c} d"${Y:-e}"', {}, "abc de", ["c", "e"]),
        # Positional and special parameters are never set; None counts as unset.
        # (The words show the buffer quirk again: only what follows ${#:-n} is left.)
        (LEX, "$1x|${10:-ten}|$@@|${#:-n}|$N", {"N": None}, "x|ten|@|n|", ["n|"]),
    ],
)
def test_table(lexer, word, env, result, words):
    assert lexer.process_word(word, env) == result
    assert lexer.process_words(word, env) == words


def test_plain_words_fast_path_matches_full_path():
    for word in ["", "  a  b\t c ", "x\u00a0y", "a\x1cb", "/usr/bin"]:
        full = ShellLexer()._process(word, {}, False, True)[1]
        assert LEX.process_words(word, {}) == full
        assert LEX.process_word(word, {}) == ShellLexer()._process(word, {}, True, False)[0]


def test_env_may_be_any_mapping():
    import types

    env = types.MappingProxyType({"A": "1"})
    assert LEX.process_word_with_matches("$A$B", env) == ("1", {"A"})


def test_escape_must_be_one_character():
    with pytest.raises(ValueError):
        ShellLexer("")
    with pytest.raises(ValueError):
        ShellLexer("ab")


# --- Deep nesting: handled without Python recursion.
def test_deep_nesting_does_not_recurse():
    depth = 10_000
    word = "${a:-" * depth + "x" + "}" * depth
    assert LEX.process_word(word, {}) == "x"
    assert LEX.process_words(word, {}) == ["x"]
    deep_quotes = '"${a:-' * depth + "y" + '}"' * depth
    assert LEX.process_word(deep_quotes, {}) == "y"


def test_deep_nesting_errors_propagate():
    depth = 10_000
    with pytest.raises(ShellExpansionError) as info:
        LEX.process_word("${a:-" * depth + "${z:?boom}" + "}" * depth, {})
    assert info.value.reason == "z: boom"
    with pytest.raises(ShellExpansionError) as info:
        LEX.process_word("${a:-" * depth + "x", {})
    assert info.value.reason == "syntax error: missing '}'"


# --- Helpers (lex_test.go TestConvertShellPatternToRegex, TestReversePattern)
@pytest.mark.parametrize(
    ("pattern", "regex"),
    [
        ("*", "^.*"),
        ("?", "^."),
        ("\\*", "^\\*"),
        ("(()[]{\\}^$.\\*\\?|\\\\", "^\\(\\(\\)\\[\\]\\{\\}\\^\\$\\.\\*\\?\\|\\\\"),
    ],
)
def test_convert_shell_pattern_to_regex(pattern, regex):
    compiled, err = _convert_shell_pattern_to_regex(pattern, True, True)
    assert err is None
    assert compiled.pattern == regex


@pytest.mark.parametrize("pattern", ["\\", "\\x", "\\\\\\"])
def test_convert_shell_pattern_to_regex_invalid(pattern):
    compiled, err = _convert_shell_pattern_to_regex(pattern, True, True)
    assert compiled is None and err.startswith("invalid escape")


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("a\\*c", "c\\*a"),
        ("\\\\\\ab", "b\\a\\\\"),
        ("ab\\", "\\ba"),
        ("👽\\🚀🖖", "🖖\\🚀👽"),
        ("\\\\b", "b\\\\"),
    ],
)
def test_reverse_pattern(pattern, expected):
    assert _reverse_pattern(pattern) == expected


# SkipUnsetEnv (used by the parser to find heredoc words): unset variables stay as written.
@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("$X", "$X"),
        ("${X}", "${X}"),
        ("${X:-a}", "${X:-a}"),
        ("${X/a/b}", "${X/a/b}"),
        ("$SET-${X}", "v-${X}"),
    ],
)
def test_skip_unset_env(word, expected):
    lexer = ShellLexer(skip_unset_env=True)
    assert lexer.process_word(word, {"SET": "v"}) == expected
