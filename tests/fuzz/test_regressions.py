"""Bugs the fuzzers found, each pinned by the smallest input that showed it."""

from __future__ import annotations

import json

import pytest

from layerwise.cli import main
from layerwise.parse import parse
from layerwise.parse.instructions import parse_instructions


def test_json_lone_surrogate_escape_becomes_replacement_char(tmp_path, capsys):
    # Go's JSON decoder turns "\ud800" into U+FFFD; a lone surrogate in an argument made
    # `inspect --format json` die with "internal error: UnicodeEncodeError".
    df = parse('CMD ["\\ud800", "\\ud83d\\udc33", "\\udc00x"]\n')
    assert df.nodes[0].args == ["\ufffd", "\U0001f433", "\ufffdx"]
    path = tmp_path / "Dockerfile"
    path.write_text('FROM a\nCMD ["\\ud800"]\n', encoding="utf-8")
    with pytest.raises(SystemExit) as exit_info:
        main(["inspect", str(path), "--format", "json"])
    assert exit_info.value.code == 0
    json.loads(capsys.readouterr().out)


@pytest.mark.parametrize(
    ("line", "args"),
    [
        # BuildKit scans bytes: U+3000 does not separate the type from the command ...
        ("HEALTHCHECK CMD\u3000echo", ["CMD\u3000echo"]),
        # ... a 0x85/0xA0 byte inside a character does (the cut character is U+FFFD here).
        ("HEALTHCHECK CMD\u00a0echo", ["CMD\ufffd", "echo"]),
        ("HEALTHCHECK CMD \t echo hi", ["CMD", "echo hi"]),
        ("HEALTHCHECK NONE", ["NONE"]),
    ],
)
def test_healthcheck_type_is_split_on_bytes_like_buildkit(line, args):
    assert parse(line).nodes[0].args == args


def test_healthcheck_with_unicode_space_is_rejected_like_buildkit():
    df = parse("FROM a\nHEALTHCHECK CMD\u3000echo\n")
    with pytest.raises(Exception) as info:
        parse_instructions(df)
    assert "Unknown type" in str(info.value)


def test_flags_are_read_bytewise_like_buildkit():
    # extractBuilderFlags appends rune(byte): non-ASCII flag values become Latin-1 mojibake
    # in BuildKit, and a 0x85 byte (here inside U+00C5) ends the flag word.
    node = parse("COPY --chown=jos\u00e9 a b\n").nodes[0]
    assert node.flags == ["--chown=jos\u00c3\u00a9"]
    assert node.args == ["a", "b"]
    node = parse("COPY --x=L\u00c5\U0001f433 a\n").nodes[0]
    assert node.flags == ["--x=L\u00c3"]
    assert node.args == ["\U0001f433", "a"]


def test_flags_escape_is_always_backslash():
    # splitCommand does not know `# escape=`: a trailing backslash in a flag is dropped and a
    # backtick is an ordinary character.
    node = parse("# escape=`\nRUN --mount=type=tmpfs,target=/t\\\n").nodes[0]
    assert node.flags == ["--mount=type=tmpfs,target=/t"]
    node = parse("# escape=`\nRUN --mount=a`b x\n").nodes[0]
    assert node.flags == ["--mount=a`b"]


def test_only_one_bom_is_stripped():
    # A second BOM is text (BuildKit trims one); it was dropped and the file lost 3 bytes.
    from layerwise.parse import parse_bytes

    for data in (b"\xef\xbb\xbfFROM a\n", b"\xef\xbb\xbf\xef\xbb\xbfFROM a\n"):
        assert parse_bytes(data).to_bytes() == data
    assert parse_bytes(b"\xef\xbb\xbf\xef\xbb\xbfFROM a\n").nodes[0].keyword == "\ufeffFROM"


@pytest.mark.parametrize("space", ["\v", "\x85", "\xa0", "\u3000", "\x1c"])
def test_directive_whitespace_is_go_regexp_whitespace(space):
    # Go's \s is [\t\n\f\r ]: with any other space the line is a comment, not a directive.
    for line in (f"#{space}escape=`", f"# escape{space}=`"):
        df = parse(line + "\nRUN a `\nb\n")
        assert df.escape == "\\" and len(df.nodes) == 2
    with pytest.raises(Exception, match="invalid escape token"):
        parse(f"# escape={space}`\nRUN a\n")


def test_heredoc_file_descriptor_is_ascii_digits():
    df = parse("RUN \u0663<<EOF\nx\nEOF\n")
    assert [n.heredocs for n in df.nodes] == [[], [], []]
