"""The snapshot walk's matcher (layerwise.context.matching) against patternmatcher's
``MatchesUsingParentResults`` as ported in layerwise.context.ignore, on random patterns and
paths: with its per-folder plans (small ignore files) and with its pattern index (big ones,
forced here on small inputs)."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from layerwise.context import matching
from layerwise.context.ignore import IgnoreFile
from layerwise.context.matching import WalkMatcher, _PatternIndex
from layerwise.context.snapshot import Snapshot
from layerwise.errors import LayerwiseError
from tests.fuzz.strategies import fuzz_settings
from tests.fuzz.test_ignore_properties import paths, simple_patterns

wild_patterns = st.text(alphabet="ab/*?[]^-!\\. é", min_size=1, max_size=8)
any_patterns = st.one_of(simple_patterns(), wild_patterns)


def walk_decisions(wm: WalkMatcher, path: str) -> list[tuple[bool, frozenset[int]]]:
    """The walk's decision and MatchInfo for each folder of ``path`` and for ``path``,
    computed the way Walker._scan does."""
    out = []
    info = None
    parts = path.split("/")
    for k in range(1, len(parts) + 1):
        rel = "/".join(parts[:k])
        screen = wm.folder(info, k - 1)
        if screen is None or 0 not in screen([rel]):
            excluded, info = False, ()
        else:
            excluded, info, _decider = wm.match(rel, info)
        out.append((excluded, frozenset(info)))
    return out


def parent_form_decisions(ignore: IgnoreFile, path: str) -> list[tuple[bool, frozenset[int]]]:
    out = []
    info = None
    parts = path.split("/")
    for k in range(1, len(parts) + 1):
        excluded, info = ignore.matcher.matches_using_parent_results("/".join(parts[:k]), info)
        out.append((excluded, frozenset(i for i, hit in enumerate(info) if hit)))
    return out


def _matchers(ignore: IgnoreFile) -> list[WalkMatcher]:
    plain = WalkMatcher(ignore.matcher)
    plain.index = None
    indexed = WalkMatcher(ignore.matcher)
    indexed.index = _PatternIndex(indexed.plan, ignore.matcher)
    return [plain, indexed]


@pytest.mark.slow
@fuzz_settings()
@given(st.lists(any_patterns, min_size=1, max_size=6), st.lists(paths, min_size=1, max_size=8))
@example(["**/b", "!a/b"], ["a/b", "c/b", "b"])
@example(["*", "!a*"], ["ab/c", "b/a"])
@example(["a**b/c"], ["ab/c", "ax/yb/c"])
@example(["*/*", "!b"], ["b/a", "b"])
@example(["a*/**", "!ab/x"], ["ab/x", "ab/y", "ac/x/y"])
@example(["[a-b]*", "!a"], ["a", "b/a"])
@example(["**/x*x", "a?"], ["b/xax", "ab/c"])
# "^" is left raw in a glob's regex (an anchor: "^?" matches any one-character name); the
# other regex syntax is escaped, so literal
@example(["^?"], ["_"])
@example(["a^*", "!*^b"], ["a", "ab", "b/a^x^b"])
@example(["a|b?/c"], ["a/x/y", "q/bb/c", "a|bb/c"])
@example(["*a+"], ["xaa", "b/xa+"])
@example(["ab{0}c?"], ["acx", "ab{0}cx"])
def test_walk_matcher_agrees_with_parent_results(patterns, sample_paths):
    try:
        ignore = IgnoreFile.from_patterns(patterns)
    except LayerwiseError:
        return
    if not ignore.matcher.patterns:
        return
    for wm in _matchers(ignore):
        for path in sample_paths:
            assert walk_decisions(wm, path) == parent_form_decisions(ignore, path), (
                patterns,
                path,
                "index" if wm.index else "plans",
            )


@pytest.mark.slow
@fuzz_settings()
@given(st.lists(any_patterns, min_size=1, max_size=6), st.lists(paths, min_size=1, max_size=6))
def test_reinclude_below_agrees(patterns, sample_paths):
    try:
        ignore = IgnoreFile.from_patterns(patterns)
    except LayerwiseError:
        return
    wm = WalkMatcher(ignore.matcher)
    for path in sample_paths:
        assert wm.may_reinclude_below(path) == ignore.matcher.may_reinclude_below(path), (patterns, path)


def _tree(root, n_dirs: int = 12, n_files: int = 8):
    for a in range(n_dirs):
        d = root / f"d{a}" / f"sub{a % 3}"
        d.mkdir(parents=True)
        for b in range(n_files):
            (d / f"f{b}.{'py' if b % 3 else 'txt'}").write_text(f"{a}.{b}")
        (root / f"d{a}" / "keep.md").write_text("k")
    return root


@pytest.mark.slow
def test_big_ignore_file_walk_equals_small_form(tmp_path):
    """Over INDEX_MIN patterns the walk uses the index: same snapshot as with per-folder plans."""
    root = _tree(tmp_path / "ctx")
    lines = []
    for i in range(400):
        lines += [f"d{i}/sub{i % 3}/f{i % 8}.py", f"**/f{i}*.txt", f"!d{i}/keep.md", f"d{i % 7}/**", f"!d{i % 7}/sub1"]
    lines += ["*.md", "!**/keep.md", "d1?/*/f?.py"]
    ignore = IgnoreFile.from_patterns(lines)
    assert len(ignore.matcher.patterns) > matching.INDEX_MIN
    big = Snapshot.take(root, ignore, use_cache=False, workers=1)
    assert ignore.matcher._plan.index is not None

    small_form = IgnoreFile.from_patterns(lines)
    wm = WalkMatcher(small_form.matcher)
    wm.index = None
    small_form.matcher._plan = wm
    small = Snapshot.take(root, small_form, use_cache=False, workers=1)
    assert [e.path for e in big.entries] == [e.path for e in small.entries]
    assert (big.excluded.count, big.excluded.files, big.excluded.by_line) == (
        small.excluded.count,
        small.excluded.files,
        small.excluded.by_line,
    )
    assert len(big.entries) > 20


@pytest.mark.slow
def test_patterns_tried_per_entry_do_not_grow_with_the_ignore_file(tmp_path, monkeypatch):
    """Hostile input (#8): the walk's work per entry must not grow with the number of
    patterns (it was quadratic: 30,000 patterns took 110 s on 2,200 entries). Counted, not
    timed: how many pattern tests the walk makes with 1,500 and with 15,000 patterns."""
    root = _tree(tmp_path / "ctx", n_dirs=30, n_files=20)
    calls = [0]
    real_test = matching._test

    def counting_test(*args):
        calls[0] += 1
        return real_test(*args)

    monkeypatch.setattr(matching, "_test", counting_test)

    def tests_made(n: int) -> int:
        text = "".join(f"dir{i}/file{i}.txt\n**/d{i}*/*.py\n!keep{i}\n" for i in range(n // 3))
        calls[0] = 0
        snap = Snapshot.take(root, IgnoreFile.from_text(text), use_cache=False, workers=1)
        assert len(snap.entries) > 600
        return calls[0]

    small, big = tests_made(1_500), tests_made(15_000)
    assert 0 < big <= 2 * small + 100, (small, big)
