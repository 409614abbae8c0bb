"""BuildKit's own shell-lexer tables (envVarTest, wordsTest) run against ShellLexer.

The data is copied unchanged from moby/buildkit (frontend/dockerfile/shell/) into
tests/data/conformance/buildkit-shell; this module reads it the way BuildKit's lex_test.go
does (TestShellParser4EnvVars, TestShellParser4Words) and makes one case per line.
"""

from __future__ import annotations

import pytest

from layerwise.shell.lex import ShellExpansionError, ShellLexer
from tests.shared import shared_path

DATA = shared_path("conformance", "buildkit-shell")

# The environment of TestShellParser4EnvVars.
ENV_VAR_TEST_ENV = {"PWD": "/home", "SHELL": "bash", "KOREAN": "한국어", "NULL": ""}


def _go_lines(name: str) -> list[str]:
    """The lines bufio.Scanner yields: split at "\\n", one trailing "\\r" dropped, and no
    empty line after a final newline."""
    lines = (DATA / name).read_text(encoding="utf-8").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def _env_var_cases():
    """TestShellParser4EnvVars: `PLATFORM|input|expected`; run the A and U lines."""
    cases = []
    for num, line in enumerate(_go_lines("envVarTest"), 1):
        if line.startswith("#"):
            continue
        line = line.strip()
        if not line:
            continue
        parts = line.split("|")
        assert len(parts) == 3, f"envVarTest:{num}: {line!r}"
        platform, source, expected = (p.strip() for p in parts)
        assert platform in ("A", "U", "W"), f"envVarTest:{num}: bad platform {platform!r}"
        if platform in ("A", "U"):
            cases.append(pytest.param(source, expected, id=f"line{num}"))
    return cases


def _words_cases():
    """TestShellParser4Words: `input | w1,w2,...`; `ENV k=v` lines extend the env."""
    cases = []
    env: dict[str, str] = {}
    for num, line in enumerate(_go_lines("wordsTest"), 1):
        if line.startswith("#"):
            continue
        if line.startswith("ENV "):
            key, _, value = line[3:].lstrip(" ").partition("=")
            env[key] = value  # EnvsFromSlice: the last one wins
            continue
        parts = line.split("|")
        assert len(parts) == 2, f"wordsTest:{num}: should be exactly one | in {line!r}"
        source = parts[0].strip()
        expected = parts[1].lstrip(" ").split(",")
        cases.append(pytest.param(source, dict(env), expected, id=f"line{num}"))
    return cases


ENV_VAR_CASES = _env_var_cases()
WORDS_CASES = _words_cases()


def test_tables_were_read():
    # Guard against a silently empty parametrization.
    assert len(ENV_VAR_CASES) > 200
    assert len(WORDS_CASES) > 20


@pytest.mark.parametrize(("source", "expected"), ENV_VAR_CASES)
def test_env_var(source: str, expected: str) -> None:
    lexer = ShellLexer("\\")
    if expected == "error":
        with pytest.raises(ShellExpansionError):
            lexer.process_word(source, ENV_VAR_TEST_ENV)
    else:
        assert lexer.process_word(source, ENV_VAR_TEST_ENV) == expected


@pytest.mark.parametrize(("source", "env", "expected"), WORDS_CASES)
def test_words(source: str, env: dict[str, str], expected: list[str]) -> None:
    lexer = ShellLexer("\\")
    try:
        result = lexer.process_words(source, env)
    except ShellExpansionError:
        result = ["error"]
    assert result == expected
