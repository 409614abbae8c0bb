"""Properties of the parser, the instruction layer and stage resolution on generated Dockerfiles.

* any text or bytes: a model, or a ParseError with a location; never another exception;
* a model prints back to the exact input (``str(parse(x)) == x``, ``to_bytes()`` for bytes);
* spans are ordered, inside the text, and their line numbers match their offsets;
* instructions/resolve raise only LayerwiseError (with a location);
* BuildKit's own parser (v0.12.5, the ``dockerfile`` wheel) accepts exactly what we accept and
  reads the same instructions (modulo tests/fuzz/reference.py's known version differences).
"""

from __future__ import annotations

import pytest
from hypothesis import example, given, note
from hypothesis import strategies as st

from layerwise.errors import LayerwiseError
from layerwise.parse import ParseError, parse, parse_bytes
from layerwise.parse.instructions import parse_instructions
from layerwise.resolve.stages import resolve
from tests.fuzz.reference import Incomparable, buildkit, comparable, compare
from tests.fuzz.strategies import dockerfile_bytes, dockerfile_texts, fuzz_settings


def _assert_located(exc: LayerwiseError) -> None:
    assert exc.location is not None, repr(exc)
    assert exc.location.path == "Dockerfile"
    assert exc.message
    assert str(exc).startswith("Dockerfile")


def _check_model(df, text: str) -> None:
    assert str(df) == text
    previous_end = 0
    for node in df.nodes:
        span = node.span
        assert previous_end <= span.start <= span.end <= len(df.text), span
        assert 1 <= span.start_line <= span.end_line
        assert df.text.count("\n", 0, span.start) + 1 == span.start_line
        assert df.text.count("\n", 0, span.end) + 1 == span.end_line
        previous_end = span.end


@pytest.mark.slow
@fuzz_settings()
@given(dockerfile_texts())
@example("")
@example("\ufeff")
@example("FROM a\nRUN <<EOF\n")
@example("# escape=`\nFROM a\nRUN a `\n b\n")
@example("FROM a\nCMD [\"a\", 1]\n")
def test_text_parses_or_fails_with_location(text):
    try:
        df = parse(text, "Dockerfile")
    except ParseError as exc:
        _assert_located(exc)
        assert exc.location.line is not None
        return
    _check_model(df, text)


@pytest.mark.slow
@fuzz_settings()
@given(dockerfile_bytes())
@example(b"\x00")
@example(b"FROM a\n\xff\n")
@example(b"\xef\xbb\xbf\xef\xbb\xbfFROM a\n")
def test_bytes_parse_or_fail_with_location_and_round_trip(data):
    try:
        df = parse_bytes(data, "Dockerfile")
    except ParseError as exc:
        _assert_located(exc)
        assert exc.location.line is not None
        return
    assert df.to_bytes() == data


@pytest.mark.slow
@fuzz_settings()
@given(dockerfile_texts(), st.dictionaries(st.sampled_from(["X", "V", "BUILDPLATFORM"]), st.text(max_size=5), max_size=2))
def test_instructions_and_resolve_raise_only_located_errors(text, build_args):
    try:
        df = parse(text, "Dockerfile")
    except ParseError:
        return
    try:
        parse_instructions(df)
    except LayerwiseError as exc:
        _assert_located(exc)
    try:
        build = resolve(df, build_args)
    except LayerwiseError as exc:
        _assert_located(exc)
        return
    assert build.stages


@pytest.mark.slow
@pytest.mark.skipif(buildkit is None, reason="the dockerfile wheel (BuildKit's parser) is not installed")
@fuzz_settings()
@given(dockerfile_texts(differential=True))
@example("FROM a\nHEALTHCHECK CMD\u3000echo\n")
@example("# escape=`\nRUN --mount=type=tmpfs,target=/t\\\n")
@example("#\u00a0escape=`\nRUN a `\nb\n")
@example("COPY --chown=jos\u00e9 a b\n")
def test_parser_agrees_with_buildkit(text):
    if not comparable(text):
        return
    try:
        problem, known = compare(text)
    except Incomparable:
        return
    note(f"known v0.12.5 difference: {known}")
    assert problem is None, problem
