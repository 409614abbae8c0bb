"""BuildKit's heredoc parser cases (moby/buildkit frontend/dockerfile/parser/
parser_heredoc_test.go, TestParseExtractsHeredoc at 73ed6825c4b7, Apache-2.0), transcribed."""

from __future__ import annotations

import pytest

from layerwise.parse import parse

DOCKERFILE = '\nFROM alpine:3.6\n\nENV NAME=me\n\nRUN ls\n\nUSER <<INVALID\nINVALID\n\nRUN <<EMPTY\nEMPTY\n\nRUN 3<<EMPTY2\nEMPTY2\n\nRUN "<<NOHEREDOC"\n\nRUN <<INDENT\n\tfoo\n\tbar\nINDENT\n\nRUN <<-UNINDENT\n\tbaz\n\tquux\nUNINDENT\n\nRUN <<-UNINDENT2\n\tbaz\n\tquux\n\tUNINDENT2\n\nRUN <<-EXPAND\n\texpand $NAME\nEXPAND\n\nRUN <<-\'NOEXPAND\'\n\tdon\'t expand $NAME\nNOEXPAND\n\nRUN <<COPY\necho hello world\necho foo bar\nCOPY\n\nRUN <<COMMENT\n# internal comment\necho hello world\necho foo bar # trailing comment\nCOMMENT\n\nRUN --mount=type=cache,target=/foo <<MOUNT\necho hello\nMOUNT\n\nCOPY <<FILE1 <<FILE2 /dest\ncontent 1\nFILE1\ncontent 2\nFILE2\n\nCOPY <<EOF /quotes\n"foo"\n\'bar\'\nEOF\n\nCOPY <<X <<Y /dest\nY\nX\nX\nY\n\nRUN <<COMPLEX python3\nprint(\'hello world\')\nCOMPLEX\n\nCOPY <<file.txt /dest\nhello world\nfile.txt\n\nRUN <<eo\'f\'\necho foo\neof\n\nRUN <<eo\\\'f\necho foo\neo\'f\n\nRUN <<\'e\'o\\\'f\necho foo\neo\'f\n\nRUN <<\'one two\'\necho bar\none two\n\nRUN <<$EOF\n$EOF\n\nRUN <<  EOF\nEOF\n\nRUN <<  EOF  > foo\nEOF\n\t'

# One entry per instruction after FROM: (name, content, expand, chomp, file descriptor).
EXPECTED = [
    None,
    None,
    None,
    None,
    [
        [
            "EMPTY",
            "",
            True,
            False,
            0
        ]
    ],
    [
        [
            "EMPTY2",
            "",
            True,
            False,
            3
        ]
    ],
    None,
    [
        [
            "INDENT",
            "\tfoo\n\tbar\n",
            True,
            False,
            0
        ]
    ],
    [
        [
            "UNINDENT",
            "\tbaz\n\tquux\n",
            True,
            True,
            0
        ]
    ],
    [
        [
            "UNINDENT2",
            "\tbaz\n\tquux\n",
            True,
            True,
            0
        ]
    ],
    [
        [
            "EXPAND",
            "\texpand $NAME\n",
            True,
            True,
            0
        ]
    ],
    [
        [
            "NOEXPAND",
            "\tdon't expand $NAME\n",
            False,
            True,
            0
        ]
    ],
    [
        [
            "COPY",
            "echo hello world\necho foo bar\n",
            True,
            False,
            0
        ]
    ],
    [
        [
            "COMMENT",
            "# internal comment\necho hello world\necho foo bar # trailing comment\n",
            True,
            False,
            0
        ]
    ],
    [
        [
            "MOUNT",
            "echo hello\n",
            True,
            False,
            0
        ]
    ],
    [
        [
            "FILE1",
            "content 1\n",
            True,
            False,
            0
        ],
        [
            "FILE2",
            "content 2\n",
            True,
            False,
            0
        ]
    ],
    [
        [
            "EOF",
            "\"foo\"\n'bar'\n",
            True,
            False,
            0
        ]
    ],
    [
        [
            "X",
            "Y\n",
            True,
            False,
            0
        ],
        [
            "Y",
            "X\n",
            True,
            False,
            0
        ]
    ],
    [
        [
            "COMPLEX",
            "print('hello world')\n",
            True,
            False,
            0
        ]
    ],
    [
        [
            "file.txt",
            "hello world\n",
            True,
            False,
            0
        ]
    ],
    [
        [
            "eof",
            "echo foo\n",
            False,
            False,
            0
        ]
    ],
    [
        [
            "eo'f",
            "echo foo\n",
            True,
            False,
            0
        ]
    ],
    [
        [
            "eo'f",
            "echo foo\n",
            False,
            False,
            0
        ]
    ],
    [
        [
            "one two",
            "echo bar\n",
            False,
            False,
            0
        ]
    ],
    [
        [
            "$EOF",
            "",
            True,
            False,
            0
        ]
    ],
    [
        [
            "EOF",
            "",
            True,
            False,
            0
        ]
    ],
    [
        [
            "EOF",
            "",
            True,
            False,
            0
        ]
    ]
]


def test_case_count():
    assert len(parse(DOCKERFILE).nodes) == len(EXPECTED) + 1


@pytest.mark.parametrize("index", range(len(EXPECTED)))
def test_heredocs(index):
    node = parse(DOCKERFILE).nodes[index + 1]
    got = [[h.name, h.content, h.expand, h.chomp, h.file_descriptor] for h in node.heredocs]
    assert got == (EXPECTED[index] or [])


def test_unterminated_heredoc_is_a_located_error():
    from layerwise.parse import ParseError

    with pytest.raises(ParseError, match="unterminated heredoc") as info:
        parse("FROM x\nRUN <<EOF\necho hi\n", "Dockerfile")
    assert info.value.location.line == 3


def test_heredoc_span_includes_the_body_and_terminator():
    text = "FROM x\nRUN <<EOF\necho hi\nEOF\nCMD x\n"
    df = parse(text)
    assert df.source(df.nodes[1]) == "RUN <<EOF\necho hi\nEOF"
    assert (df.nodes[1].start_line, df.nodes[1].end_line) == (2, 4)
