"""Reading, matching and choosing .dockerignore files (moby/patternmatcher port)."""

from __future__ import annotations

import pytest

from layerwise.context import gopath
from layerwise.context.ignore import IgnoreFile, load_ignore, read_patterns
from layerwise.errors import LayerwiseError

# -- ReadAll -------------------------------------------------------------------------------------

READ_CASES = [
    # (file text, [(pattern, line), ...])
    ("foo\nbar\n", [("foo", 1), ("bar", 2)]),
    ("\ufefffoo\n", [("foo", 1)]),  # BOM stripped
    ("# comment\n  # not a comment\n", [("# not a comment", 2)]),  # '#' only in column 1
    ("a\r\nb\r\n", [("a", 1), ("b", 2)]),  # CRLF
    ("\n\n  \nx", [("x", 4)]),  # blank lines dropped, lines still counted
    ("/foo/\n./bar\nbaz/../qux\n", [("foo", 1), ("bar", 2), ("qux", 3)]),  # Clean + one leading /
    ("! /inverted/abs\n", [("!inverted/abs", 1)]),  # '!' then trimmed again
    ("!\n", [("!", 1)]),  # kept by ReadAll, rejected by the matcher
    ("/\n", [("/", 1)]),  # a lone '/' is not stripped
    ("//a//b//\n", [("a/b", 1)]),
    ("\tspaced\t\n", [("spaced", 1)]),
]


@pytest.mark.parametrize("text,expected", READ_CASES)
def test_read_patterns(text: str, expected: list[tuple[str, int]]) -> None:
    assert [(p.text, p.line) for p in read_patterns(text)] == expected


# -- matching ---------------------------------------------------------------------------------------

MATCH_CASES = [
    # (patterns, path, excluded)
    (["*.md"], "README.md", True),
    (["*.md"], "docs/README.md", False),  # '*' does not cross '/'
    (["**/*.md"], "docs/deep/README.md", True),
    (["**/foo"], "foo", True),  # leading ** also matches at the root
    (["foo/**"], "foo/x/y", True),
    (["foo/**"], "foo", False),
    (["docs"], "docs/sub/file", True),  # parent directory match
    (["docs/"], "docs/file", True),  # trailing slash means nothing special
    (["docs", "!docs/keep.txt"], "docs/keep.txt", False),
    (["docs", "!docs/keep.txt"], "docs/other.txt", True),
    (["!keep", "*"], "keep", True),  # last match wins
    (["*", "!keep"], "keep", False),
    (["."], "anything", False),  # '.' matches nothing
    (["a?c"], "abc", True),
    (["a?c"], "a/c", False),
    (["[a-c]x"], "bx", True),
    (["[^a-c]x"], "dx", True),
    (["[^a-c]x"], "ax", False),
    (["a\\*b"], "a*b", True),
    (["a\\*b"], "axb", False),
    (["file.txt"], "fileXtxt", False),  # '.' is literal
    (["a+b(c)"], "a+b(c)", True),
    (["a$b"], "a$b", True),
    (["x"], "x\n", False),  # Go's $ is the end of the text
    (["*.pyc"], "x.pyc", True),
    (["__pycache__"], "pkg/__pycache__/m.pyc", False),  # root-only pattern
    (["**/__pycache__"], "pkg/__pycache__/m.pyc", True),
    (["[[:digit:]]*"], "1abc", True),  # POSIX class, as RE2 reads it
    (["[[:digit:]]*"], "abc", False),
]


@pytest.mark.parametrize("patterns,path,excluded", MATCH_CASES)
def test_matches_or_parent_matches(patterns: list[str], path: str, excluded: bool) -> None:
    assert IgnoreFile.from_patterns(patterns).excludes(path) is excluded


def test_walker_form_agrees_with_parent_form() -> None:
    ig = IgnoreFile.from_patterns(["docs", "!docs/keep", "**/*.tmp", "build/**"])
    m = ig.matcher
    for path in ["docs", "docs/keep", "docs/keep/x", "docs/z", "a/b.tmp", "build", "build/x"]:
        parent_info = None
        parts = path.split("/")
        for k in range(1, len(parts)):
            _, parent_info = m.matches_using_parent_results("/".join(parts[:k]), parent_info)
        got, _ = m.matches_using_parent_results(path, parent_info)
        assert got == m.matches_or_parent_matches(path), path


BAD_PATTERNS = [
    ("ok\n[\n", 2, 1),
    ("ok\n\n!\n", 3, 1),
    ("a[\\]\n", 1, 1),
    ("x\\\n", 1, 1),  # trailing backslash
    ("  [z-a]\n", 1, 3),
]


@pytest.mark.parametrize("text,line,column", BAD_PATTERNS)
def test_bad_pattern_reports_its_line(tmp_path, text: str, line: int, column: int) -> None:
    f = tmp_path / ".dockerignore"
    f.write_text(text)
    with pytest.raises(LayerwiseError) as info:
        IgnoreFile.read(f)
    assert info.value.location is not None
    assert (info.value.location.line, info.value.location.column) == (line, column)
    assert str(info.value).startswith(f"{f}:{line}:{column}: ")


def test_deciding_pattern_keeps_line() -> None:
    ig = IgnoreFile.from_text("# c\n*.log\n!keep.log\n")
    assert ig.deciding_pattern("a.log").source.line == 2
    assert ig.deciding_pattern("keep.log").source.line == 3
    assert ig.deciding_pattern("a.txt") is None


# -- Go filepath ----------------------------------------------------------------------------------

GO_MATCH = [  # from Go's path/filepath match_test.go
    ("abc", "abc", True),
    ("*", "abc", True),
    ("*c", "abc", True),
    ("a*", "a", True),
    ("a*", "ab/c", False),
    ("a*/b", "abc/b", True),
    ("a*b*c*d*e*/f", "axbxcxdxe/f", True),
    ("a*b?c*x", "abxbbxdbxebxczzx", True),
    ("a*b?c*x", "abxbbxdbxebxczzy", False),
    ("ab[c]", "abc", True),
    ("ab[b-d]", "abc", True),
    ("ab[e-g]", "abc", False),
    ("ab[^c]", "abc", False),
    ("ab[^e-g]", "abc", True),
    ("a\\*b", "a*b", True),
    ("a?b", "a☺b", True),
    ("a[^a]b", "a☺b", True),
    ("[\\-]", "-", True),
    ("[x\\-]", "z", False),
    ("*x", "xxx", True),
]
GO_BAD = ["[]a]", "[-]", "[x-]", "[a-b-c]", "[", "[^", "a[", "*x[", "\\", "[\\", "[a\\"]


@pytest.mark.parametrize("pattern,name,ok", GO_MATCH)
def test_go_filepath_match(pattern: str, name: str, ok: bool) -> None:
    assert gopath.match(pattern, name) is ok


@pytest.mark.parametrize("pattern", GO_BAD)
def test_go_filepath_match_bad(pattern: str) -> None:
    with pytest.raises(gopath.BadPattern):
        gopath.match(pattern, "x")


@pytest.mark.parametrize(
    "path,clean",
    [("", "."), ("a/../..", ".."), ("/..", "/"), ("a//b/./c/", "a/b/c"), ("/a/b/../c", "/a/c")],
)
def test_go_clean(path: str, clean: str) -> None:
    assert gopath.clean(path) == clean


# -- which file ---------------------------------------------------------------------------------------


def _ctx(tmp_path, files: dict[str, str]):
    for name, text in files.items():
        p = tmp_path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return tmp_path


CHOICE = [
    # (files, dockerfile (relative) or None, builder, expected ignore file or None)
    ({".dockerignore": "a"}, None, "buildkit", ".dockerignore"),
    ({".dockerignore": "a", "Dockerfile.dockerignore": "b"}, None, "buildkit", "Dockerfile.dockerignore"),
    ({".dockerignore": "a", "Dockerfile.dockerignore": "b"}, None, "legacy", ".dockerignore"),
    (
        {".dockerignore": "a", "docker/app.Dockerfile": "", "docker/app.Dockerfile.dockerignore": "c"},
        "docker/app.Dockerfile",
        "buildkit",
        "docker/app.Dockerfile.dockerignore",
    ),
    ({".dockerignore": "a", "docker/app.Dockerfile": ""}, "docker/app.Dockerfile", "buildkit", ".dockerignore"),
    # the per-Dockerfile file sits beside the Dockerfile, not in the context
    ({"app.Dockerfile.dockerignore": "c", "docker/app.Dockerfile": ""}, "docker/app.Dockerfile", "buildkit", None),
    ({}, None, "buildkit", None),
    # lowercase "dockerfile" is BuildKit's fallback name, and names its ignore file
    ({"dockerfile": "", "dockerfile.dockerignore": "x", ".dockerignore": "a"}, None, "buildkit", "dockerfile.dockerignore"),
]


@pytest.mark.parametrize("files,dockerfile,builder,expected", CHOICE)
def test_load_ignore_choice(tmp_path, files, dockerfile, builder, expected) -> None:
    ctx = _ctx(tmp_path, files)
    ig = load_ignore(ctx, ctx / dockerfile if dockerfile else None, builder)
    if expected is None:
        assert ig is None
    else:
        assert ig is not None and ig.path == ctx / expected


def test_per_dockerfile_ignore_replaces_not_merges(tmp_path) -> None:
    ctx = _ctx(tmp_path, {".dockerignore": "secret.txt\n", "Dockerfile.dockerignore": "*.log\n"})
    ig = load_ignore(ctx)
    assert ig is not None
    assert ig.excludes("x.log")
    assert not ig.excludes("secret.txt")


def test_load_ignore_missing_context(tmp_path) -> None:
    with pytest.raises(LayerwiseError):
        load_ignore(tmp_path / "nope")
