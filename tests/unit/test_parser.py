"""The parser beyond BuildKit's own test files: spans, directives, heredocs, errors."""

from __future__ import annotations

import pytest

from layerwise.parse import ParseError, parse, parse_bytes, parse_file


def test_spans_cover_the_instruction_exactly():
    text = "FROM python:3.12\n\n  RUN pip install \\\n      flask # not a comment\nCOPY . /app\n"
    df = parse(text)
    run = df.nodes[1]
    assert (run.span.start_line, run.span.start_column) == (3, 3)
    assert (run.span.end_line, run.span.end_column) == (4, 28)
    assert df.source(run) == "RUN pip install \\\n      flask # not a comment"
    assert run.original == "RUN pip install       flask # not a comment"
    # Replacing every span by itself gives the file back byte for byte.
    out, pos = [], 0
    for n in df.nodes:
        out.append(text[pos : n.span.start])
        out.append(df.source(n))
        pos = n.span.end
    assert "".join(out) + text[pos:] == text


def test_comment_and_blank_lines_inside_continuation_are_dropped():
    df = parse("RUN a \\\n# inside\n\n  b\n")
    assert df.nodes[0].args == ["a   b"]
    assert df.nodes[0].end_line == 4
    assert df.warnings  # BuildKit warns about the empty continuation line


@pytest.mark.parametrize(
    ("text", "escape", "args"),
    [
        ("# escape=`\nFROM x\nRUN a `\n b\n", "`", ["a  b"]),
        ("# escape=\\\nFROM x\nRUN a \\\n b\n", "\\", ["a  b"]),
        # a directive after an instruction or comment is just a comment
        ("FROM x\n# escape=`\nRUN a `\n", "\\", ["a `"]),
        ("# hello\n# escape=`\nFROM x\nRUN a \\\n", "\\", ["a"]),
        # whitespace after the escape character still continues the line
        ("FROM x\nRUN a \\  \n b\n", "\\", ["a  b"]),
    ],
)
def test_escape_directive(text, escape, args):
    df = parse(text)
    assert df.escape == escape
    assert df.nodes[-1].args == args


def test_directives_recorded_with_lines():
    df = parse("# syntax=docker/dockerfile:1.7\n# check=skip=all\nFROM x\n")
    assert [(d.name, d.value, d.line) for d in df.directives] == [
        ("syntax", "docker/dockerfile:1.7", 1),
        ("check", "skip=all", 2),
    ]


def test_duplicate_directive_is_an_error():
    with pytest.raises(ParseError, match="only one escape parser directive"):
        parse("# escape=`\n# escape=\\\nFROM x\n", "Dockerfile")


def test_crlf_and_bom():
    df = parse_bytes(b"\xef\xbb\xbfFROM x\r\nRUN a \\\r\n  b\r\n")
    assert df.bom
    assert [n.original for n in df.nodes] == ["FROM x", "RUN a   b"]
    assert df.source(df.nodes[1]) == "RUN a \\\r\n  b"


def test_continuation_at_end_of_file():
    df = parse("FROM x\nRUN something \\")
    assert df.nodes[1].args == ["something"]


def test_keywords_in_any_case():
    df = parse("from x AS Build\nrUn echo hi\n")
    assert [n.cmd for n in df.nodes] == ["from", "run"]
    assert df.nodes[0].keyword == "from"


@pytest.mark.parametrize(
    ("data", "message", "line", "column"),
    [
        (b"", "file with no instructions", 1, None),
        (b"# only a comment\n", "file with no instructions", 1, None),
        (b"FROM x\nRUN a\x00b\n", "binary data", 2, 6),
        (b"FROM x\nRUN caf\xe9\n", "invalid UTF-8", 2, 8),
        (b"FROM x\nENV name\n", "ENV must have two arguments", 2, 1),
        (b'FROM x\nCMD ["a", ["b"]]\n', "arrays must be comprised of strings only", 2, 1),
        (b"# escape=x\nFROM x\n", "invalid escape token", 1, 1),
        (b"FROM x\nRUN " + b"a" * 70000 + b"\n", "greater than max allowed size", 2, None),
    ],
)
def test_errors_are_located(data, message, line, column):
    with pytest.raises(ParseError) as info:
        parse_bytes(data, "path/Dockerfile")
    err = info.value
    assert message in err.message
    assert err.location.path == "path/Dockerfile"
    assert err.location.line == line
    if column is not None:
        assert err.location.column == column


def test_parse_file_errors(tmp_path):
    with pytest.raises(ParseError, match="no such file"):
        parse_file(tmp_path / "missing")
    with pytest.raises(ParseError, match="is a directory"):
        parse_file(tmp_path)


@pytest.mark.parametrize("line", ['CMD ["python", "app.py"', "ENTRYPOINT ['python']", 'RUN ["a", "b"]]'])
def test_broken_json_form_is_kept_as_shell_form_with_a_warning(line):
    # BuildKit accepts these (its own conformance cases) and runs them through /bin/sh -c
    df = parse("FROM x\n" + line + "\n")
    assert not df.nodes[1].json
    assert any("not valid JSON" in w and w.startswith("line 2:") for w in df.warnings)


def test_valid_json_form_has_no_warning():
    assert parse('FROM x\nCMD ["a"]\n').warnings == []
