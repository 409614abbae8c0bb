"""One name looked up in a step's ENV/ARGs without building their lists: ``_Pairs.get`` and
``Step.env_get``/``arg_get`` answer what the lists would."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from layerwise.parse import parse
from layerwise.resolve.stages import _Pairs, resolve
from tests.fuzz.strategies import fuzz_settings

NAMES = ["A", "B", "C", "D", "E"]
_MISSING = object()

_pairs = st.lists(st.tuples(st.sampled_from(NAMES), st.sampled_from([None, "", "1", "2"])), max_size=6)


def _assert_answers_as_items(p: _Pairs) -> None:
    want = dict(p.items())
    for name in [*NAMES, "Z"]:
        assert p.get(name) == want.get(name), name
        assert p.get(name, _MISSING) == want.get(name, _MISSING), name


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


@fuzz_settings()
@given(_branching_dockerfiles())
def test_step_lookups_answer_as_the_lists_do(text):
    names = [*NAMES, "HOME", "PIP_NO_CACHE_DIR", "PIP_CACHE_DIR", "Z"]
    for stage in resolve(parse(text)).stages:
        for step in stage.steps:
            env, args = dict(step.env), dict(step.args)
            for name in names:
                assert step.env_get(name) == env.get(name)
                assert step.arg_get(name, "?") == args.get(name, "?")
