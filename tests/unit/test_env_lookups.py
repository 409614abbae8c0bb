"""One name looked up in a step's ENV/ARGs without building their lists: ``_Pairs.get``,
``Step.env_get``/``arg_get`` and ``pkgcache.env_of``. They answer what the lists would, and a
stage with an ENV before each install costs the LW2xx rules linear work (they rebuilt the list
at every install: 20,000 pairs took 37 s)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from layerwise.analyses import pkgcache
from layerwise.analyses.installs import Install
from layerwise.parse import parse
from layerwise.resolve import stages
from layerwise.resolve.stages import _Pairs, resolve
from tests.fuzz.strategies import fuzz_settings
from tests.unit.test_huge_dockerfiles import _counted_check, _grows_linearly

NAMES = ["A", "B", "C", "D", "E"]
_MISSING = object()

_pairs = st.lists(st.tuples(st.sampled_from(NAMES), st.sampled_from([None, "", "1", "2"])), max_size=6)


def _assert_answers_as_items(p: _Pairs) -> None:
    want = dict(p.items())
    for name in [*NAMES, "Z"]:
        assert p.get(name) == want.get(name), name
        assert p.get(name, _MISSING) == want.get(name, _MISSING), name


@pytest.mark.slow
@fuzz_settings()
@given(base=_pairs, ops=st.lists(st.tuples(st.integers(0, 1000), _pairs, st.integers(0, 1000)), max_size=40))
def test_get_answers_as_the_list_does(base, ops):
    # a base with None values and repeated names (a Step built by hand) is kept as it is until
    # something is set, then its None values are dropped; a None in the log drops the name (an
    # ARG without a value). Each op sets pairs on some earlier state (not the newest: a branch,
    # as two stages FROM one) and then looks up some state: an index built before the log grew
    # must see what was appended since.
    states = [_Pairs(list(base))]
    for parent, pairs, probe in ops:
        states.append(states[parent % len(states)].set_all(pairs))
        _assert_answers_as_items(states[probe % len(states)])
    for p in states:
        _assert_answers_as_items(p)


def test_get_after_many_settings_and_rebases():
    # past 16 settings the log becomes a new base (and its dict); branches off old states
    p = _Pairs()
    kept = []
    for i in range(200):
        p = p.set_all([(f"N{i % 37}", None if i % 11 == 0 else str(i))])
        kept.append(p)
        if i % 7 == 0:
            _assert_answers_as_items(kept[i // 2])
    branch = kept[50].set_all([("N3", "b")])
    for q in (*kept, branch):
        want = dict(q.items())
        for j in range(40):
            assert q.get(f"N{j}") == want.get(f"N{j}")


_STAGE_LINES = st.sampled_from(
    ["ENV A=e", "ENV B=", "ENV HOME=/h A=$A-x", "ARG A", "ARG A=a", "ARG C=c", "ARG C", "ARG HOME", "ARG D=d",
     "ENV PIP_NO_CACHE_DIR=1", "ARG PIP_CACHE_DIR=/c", "RUN A=i pip install x"]
)  # fmt: skip


@st.composite
def _branching_dockerfiles(draw) -> str:
    lines = ["ARG A=g", "ARG HOME"]
    for k in range(draw(st.integers(1, 4))):
        base = f"s{draw(st.integers(0, k - 1))}" if k and draw(st.booleans()) else "python:3.12-slim"
        lines.append(f"FROM {base} AS s{k}")
        lines += draw(st.lists(_STAGE_LINES, max_size=12))
    return "\n".join(lines) + "\n"


@pytest.mark.slow
@fuzz_settings()
@given(_branching_dockerfiles())
def test_step_lookups_and_env_of_answer_as_the_lists_do(text):
    names = [*NAMES, "HOME", "PIP_NO_CACHE_DIR", "PIP_CACHE_DIR", "Z"]
    for stage in resolve(parse(text)).stages:
        for step in stage.steps:
            env, args = dict(step.env), dict(step.args)
            for ins in (None, Install("pip", "install", ["pip", "install", "x"], {"A": "i", "E": ""})):
                want = dict(args)
                want.update(env)
                if ins is not None:
                    want.update(ins.env)
                view = pkgcache.env_of(step, ins)
                assert dict(view) == want and len(view) == len(want)
                for name in names:
                    assert step.env_get(name) == env.get(name)
                    assert step.arg_get(name, "?") == args.get(name, "?")
                    assert view.get(name) == want.get(name)
                    assert (name in view) == (name in want)
                    if name in want:
                        assert view[name] == want[name]
                    else:
                        with pytest.raises(KeyError):
                            view[name]


def _env_install_stage(n: int) -> str:
    # an ENV before each install, the installs cycling through what LW201-LW204 report
    kinds = ["RUN pip install pkg_{i}",
             "RUN --mount=type=cache,target=/root/.cache/pip pip install --no-cache-dir pkg_{i}",
             "RUN --mount=type=cache,target=/root/.cache/uv uv pip install pkg_{i}",
             "RUN --mount=type=cache,target=/root/.cache/pip pip install pkg_{i}"]  # fmt: skip
    lines = ["FROM python:3.12-slim", "USER app"]
    for i in range(n):
        lines += [f"ENV V_{i}={i}", kinds[i % 4].format(i=i)]
    return "\n".join(lines) + "\n"


def _pairs_built(monkeypatch, text: str) -> tuple[int, list]:
    """How many (name, value) pairs ENV/ARG lists were built of (``stages._set_all``: what
    reading ``step.env``/``step.args`` costs) while LW201-LW204 checked ``text``."""
    built = 0
    set_all = stages._set_all

    def counting(pairs, new):
        nonlocal built
        out = set_all(pairs, new)
        built += len(out)
        return out

    monkeypatch.setattr(stages, "_set_all", counting)
    _, found = _counted_check(monkeypatch, text, ["LW201", "LW202", "LW203", "LW204"])
    return built, found


@pytest.mark.slow
def test_env_before_each_install_grows_linearly(monkeypatch):
    # env_of built dict(step.args) + step.env at every install: n installs built n*n/2 pairs
    # each time it was called (2,000: 8.7 million; 20,000 pairs took 37 s). Now the pairs built
    # are those of the resolver's occasional new bases.
    n = 40
    small, found_small = _pairs_built(monkeypatch, _env_install_stage(n))
    big, found_big = _pairs_built(monkeypatch, _env_install_stage(10 * n))
    _grows_linearly({"pairs built": small}, {"pairs built": big})
    # the findings stay: per 4 installs LW201 (pip as app keeps its cache), LW202 (--no-cache-dir
    # with a cache mount), LW203 + LW204 (uv, mount under /root), LW203 (pip, mount under /root)
    for count, found in ((n, found_small), (10 * n, found_big)):
        want = []
        for i in range(count):
            line = 4 + 2 * i
            want += [[("LW201", line)], [("LW202", line)], [("LW203", line), ("LW204", line)], [("LW203", line)]][i % 4]
        assert sorted((code, line) for code, line, _ in found) == sorted(want)
