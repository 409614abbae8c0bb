""".dockerignore matcher on random patterns and paths.

* Against an independent model of the conformance semantics (moby/patternmatcher as its own
  tests and the shared conformance cases define it), for patterns made of literal, ``*``, ``?``
  and whole-segment ``**`` parts: the last pattern that matches the path or one of its parent
  folders decides, ``!`` re-includes.
* Against moby/patternmatcher itself (Go, commit 5a6d842, the one the port follows) when a
  checkout is given: ``LAYERWISE_PATTERNMATCHER_SRC=/path/to/patternmatcher`` (and ``go`` on
  PATH); any pattern, including classes, escapes and malformed ones.
* Against the engine for a sample: tests/engine/test_ignore_sample.py (it needs the engine
  fixtures of tests/engine/conftest.py).
* ``read_patterns`` never raises on arbitrary bytes except for a located "line too long", and
  the matcher raises only LayerwiseError on arbitrary pattern text.
"""

from __future__ import annotations

import fnmatch
import itertools
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from layerwise.context import gopath
from layerwise.context.ignore import IgnoreFile, read_patterns
from layerwise.errors import LayerwiseError
from tests.fuzz.strategies import fuzz_settings

# --- an independent model of the semantics -----------------------------------------------------


def _segment_matches(pattern_seg: str, name: str) -> bool:
    # within one segment, * is any run and ? one character (no '/' can occur in a segment)
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern_seg)
    return re.fullmatch(regex, name, re.S) is not None


def _model_match(segs: list[str], parts: list[str]) -> bool:
    if not segs:
        return not parts
    head, rest = segs[0], segs[1:]
    if head == "**":
        if not rest:  # a trailing ** (or a lone one) takes one or more segments
            return len(parts) >= 1
        return any(_model_match(rest, parts[i:]) for i in range(len(parts) + 1))
    return bool(parts) and _segment_matches(head, parts[0]) and _model_match(rest, parts[1:])


def model_excludes(patterns: list[str], path: str) -> bool:
    parts = path.split("/")
    excluded = False
    for raw in patterns:
        exclusion = raw.startswith("!")
        p = gopath.clean(raw[1:] if exclusion else raw)
        segs = p.split("/")
        if any(_model_match(segs, parts[:k]) for k in range(1, len(parts) + 1)):
            excluded = not exclusion
    return excluded


# --- strategies -----------------------------------------------------------------------------

path_segment = st.text(alphabet="abx.-_é", min_size=1, max_size=4).filter(lambda s: s not in (".", ".."))
paths = st.lists(path_segment, min_size=1, max_size=4).map("/".join)

pattern_segment = st.one_of(
    path_segment,
    st.sampled_from(["*", "?", "**", "a*", "*.x", "?b", "*a*", "a?", "x*x"]),
)


@st.composite
def simple_patterns(draw) -> str:
    segs = draw(st.lists(pattern_segment, min_size=1, max_size=4))
    # "**" next to "**" and segments like "a**" are outside the model's subset
    for a, b in itertools.pairwise(segs):
        assume(not (a == "**" and b == "**"))
    text = "/".join(segs)
    assume("***" not in text)
    return ("!" if draw(st.integers(0, 3)) == 0 else "") + text


@pytest.mark.slow
@fuzz_settings()
@given(st.lists(simple_patterns(), min_size=1, max_size=5), st.lists(paths, min_size=1, max_size=8))
@example(["**"], ["a"])
@example(["a/**"], ["a", "a/b"])
@example(["**/b", "!a/b"], ["a/b", "c/b", "b"])
@example(["*", "!a*"], ["ab/c", "b/a"])
def test_matcher_agrees_with_model(patterns, sample_paths):
    ignore = IgnoreFile.from_patterns(patterns)
    for path in sample_paths:
        assert ignore.matches_or_parent_matches(path) is model_excludes(patterns, path), (patterns, path)


# Anything goes: the matcher builds or raises LayerwiseError, and matching never raises.
wild_patterns = st.text(alphabet="ab/*?[]^-!\\. é\t", max_size=10)


@pytest.mark.slow
@fuzz_settings()
@given(st.lists(wild_patterns, max_size=5), st.lists(paths, max_size=5))
@example(["["], ["a"])
@example(["!"], ["a"])
@example(["\\"], ["a"])
@example(["[a-"], ["a"])
def test_any_pattern_text_builds_or_raises_layerwise_error(patterns, sample_paths):
    try:
        ignore = IgnoreFile.from_patterns(patterns)
    except LayerwiseError as exc:
        assert exc.message
        return
    for path in sample_paths:
        assert ignore.excludes(path) in (True, False)


@fuzz_settings()
@given(st.binary(max_size=200))
@example(b"\xef\xbb\xbf# comment\n!\n")
@example(b"a" * (64 * 1024 + 1))
def test_read_patterns_on_any_bytes(data):
    try:
        patterns = read_patterns(data)
    except LayerwiseError as exc:
        assert "too long" in exc.message
        return
    for p in patterns:
        assert p.line >= 1 and p.column >= 1
    try:
        IgnoreFile.from_text(data, Path(".dockerignore"))
    except LayerwiseError as exc:
        assert exc.location is not None and exc.location.line is not None


# --- against moby/patternmatcher (Go) -------------------------------------------------------

ORACLE_GO = r"""
package main

import (
	"bufio"
	"encoding/json"
	"os"
	"strings"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

type req struct {
	Patterns []string `json:"patterns"`
	Paths    []string `json:"paths"`
	Content  *string  `json:"content"`
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<26)
	out := bufio.NewWriter(os.Stdout)
	for in.Scan() {
		var r req
		if err := json.Unmarshal(in.Bytes(), &r); err != nil {
			panic(err)
		}
		res := map[string]any{}
		if r.Content != nil {
			pats, err := ignorefile.ReadAll(strings.NewReader(*r.Content))
			if err != nil {
				res["error"] = err.Error()
			} else {
				res["patterns"] = pats
			}
		} else if pm, err := patternmatcher.New(r.Patterns); err != nil {
			res["error"] = err.Error()
		} else {
			results := []any{}
			for _, p := range r.Paths {
				m, err := pm.MatchesOrParentMatches(p)
				if err != nil {
					results = append(results, "error")
				} else {
					results = append(results, m)
				}
			}
			res["results"] = results
		}
		b, _ := json.Marshal(res)
		out.Write(b)
		out.WriteString("\n")
		out.Flush()
	}
}
"""


@pytest.fixture(scope="module")
def patternmatcher(tmp_path_factory):
    src = os.environ.get("LAYERWISE_PATTERNMATCHER_SRC")
    if not src or not Path(src, "patternmatcher.go").is_file():
        pytest.skip("set LAYERWISE_PATTERNMATCHER_SRC to a moby/patternmatcher checkout")
    go = shutil.which("go")
    if go is None:
        pytest.skip("go is not installed")
    work = tmp_path_factory.mktemp("pmoracle")
    (work / "main.go").write_text(ORACLE_GO)
    (work / "go.mod").write_text(
        "module pmoracle\n\ngo 1.19\n\nrequire github.com/moby/patternmatcher v0.0.0\n\n"
        f"replace github.com/moby/patternmatcher => {Path(src).resolve()}\n"
    )
    env = dict(os.environ, GOFLAGS="-mod=mod", GOPROXY="off", GOTOOLCHAIN="local")
    subprocess.run([go, "build", "-o", "oracle", "."], cwd=work, env=env, check=True, timeout=300)
    proc = subprocess.Popen([str(work / "oracle")], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def ask(request: dict) -> dict:
        proc.stdin.write(json.dumps(request) + "\n")
        proc.stdin.flush()
        return json.loads(proc.stdout.readline())

    yield ask
    proc.stdin.close()
    proc.wait(timeout=10)


oracle_patterns = st.one_of(simple_patterns(), st.text(alphabet="ab/*?[]^-!\\.é ", min_size=1, max_size=8))


@fuzz_settings()
@given(st.lists(oracle_patterns, min_size=1, max_size=5), st.lists(paths, min_size=1, max_size=8))
def test_matcher_agrees_with_patternmatcher(patternmatcher, patterns, sample_paths):
    theirs = patternmatcher({"patterns": patterns, "paths": sample_paths})
    try:
        ignore = IgnoreFile.from_patterns(patterns)
    except LayerwiseError:
        # Go rejects at New, or compiles lazily and fails when a path reaches the pattern.
        assert "error" in theirs or "error" in theirs["results"] or _lazy_error_only(patterns), theirs
        return
    assert "error" not in theirs, (patterns, theirs)
    ours = [ignore.matches_or_parent_matches(p) for p in sample_paths]
    expected = theirs["results"]
    if "error" in expected:  # Go failed lazily on some path; we reject such patterns up front
        pytest.fail(f"Go failed matching but we accepted {patterns!r}")
    assert ours == expected, (patterns, sample_paths)


def _lazy_error_only(patterns: list[str]) -> bool:
    """A pattern whose regexp does not compile: Go only notices when a path reaches it."""
    return any("[" in p or "\\" in p for p in patterns)


@fuzz_settings()
@given(st.text(alphabet="ab/*!# \t\r\n\\.é\ufeff", max_size=40))
def test_read_patterns_agrees_with_ignorefile_readall(patternmatcher, content):
    theirs = patternmatcher({"content": content})
    ours = [p.text for p in read_patterns(content.encode("utf-8"))]
    assert ours == (theirs.get("patterns") or []), content


def test_model_self_check():
    # the model itself against a few conformance-style facts
    assert model_excludes(["*.py"], "a.py") and not model_excludes(["*.py"], "d/a.py")
    assert model_excludes(["**/*.py"], "d/e/a.py") and model_excludes(["d"], "d/e/f")
    assert not model_excludes(["*", "!a"], "a") and model_excludes(["*", "!a"], "b/a")
    assert fnmatch.fnmatchcase("a", "?")


def test_excludes_agrees_with_what_the_walk_sends():
    ignore = IgnoreFile.from_patterns(["*/*", "!b"])
    # BuildKit does not send b/a: "!b" did not match the folder b (nothing excluded it yet)
    assert ignore.excludes("b/a") is True


def test_escaped_b_is_an_ascii_word_boundary_like_go():
    # patternmatcher turns "\b" into the regexp escape \b; Go: no boundary after "é"
    assert IgnoreFile.from_patterns(["?\\b"]).excludes("\u00e9") is False
