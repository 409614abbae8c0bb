import pytest

from tests.unit.rules.helpers import catches, findings, passes

CODE = "LW502"

CATCHES = [
    ("FROM python:3.12\nADD . /app\n", 2),
    ("FROM python:3.12\nadd requirements.txt /app/\n", 2),
    ("FROM python:3.12\nADD <<EOF /app/hello.txt\nhi\nEOF\n", 2),  # COPY takes here-documents too
]
PASSES = [
    "FROM python:3.12\nCOPY . /app\n",
    "FROM python:3.12\nADD https://example.com/x.sh /x.sh\n",
    "FROM python:3.12\nADD rootfs.tar.gz /\n",
    "FROM python:3.12\nADD --checksum=sha256:" + "a" * 64 + " https://example.com/x /x\n",
    "FROM python:3.12\nADD git@github.com:x/y.git /y\n",
]


@pytest.mark.parametrize("dockerfile,line", CATCHES)
def test_catches(dockerfile, line):
    catches(CODE, dockerfile, line=line)


@pytest.mark.parametrize("dockerfile", PASSES)
def test_passes(dockerfile):
    passes(CODE, dockerfile)


@pytest.mark.parametrize("keyword,expected", [("ADD", "COPY"), ("add", "copy")])
def test_fix_keeps_case(keyword, expected):
    text = f"FROM python:3.12\n{keyword} . /app\n"
    (f,) = findings(CODE, text)
    (e,) = f.fix.edits
    assert text[: e.start_offset] + e.replacement + text[e.end_offset :] == f"FROM python:3.12\n{expected} . /app\n"
