"""Huge Dockerfiles (issue #8): the memory of parse + resolve per instruction stays small, and
the compact representation behind it answers exactly what a plain one would.

What keeps it small: a node computes its span (and, for a one-line instruction, its original
text) from the source text; what few nodes have lives in one optional part; empty lists are one
shared read-only list; equal lines share their split and their typed instruction's values; the
steps between two changes of the state share one record of it; a step keeps its expanded
values only when expansion changed them. The 100 MB runs are in test_hostile_inputs.py.
"""

from __future__ import annotations

import gc
import tracemalloc

import pytest
from hypothesis import given

from layerwise.analyses.check import check_dockerfile
from layerwise.analyses.project import ProjectContext
from layerwise.analyses.rules import RuleContext
from layerwise.errors import LayerwiseError
from layerwise.parse import parse
from layerwise.parse.instructions import parse_instructions
from layerwise.parse.nodes import EMPTY
from layerwise.resolve.stages import _as_written, _expand_words, _written, resolve
from tests.fuzz.strategies import dockerfile_texts, fuzz_settings
from tests.unit.huge_dockerfiles import distinct, realistic

# --- memory per instruction --------------------------------------------------------------------

# Peak traced memory of parse + resolve, per instruction, the text itself not counted. Measured
# (CPython 3.10-3.13): realistic 474-497 B, distinct 701-730 B; before the compaction 1,761 B
# and 1,895 B. The bounds leave ~30-40% headroom: one more dict, list or object per instruction
# or step goes over.
BOUNDS = {"realistic": 650, "distinct": 1000}
N = 20_000


def _peak_per_instruction(text: str) -> tuple[float, int]:
    gc.collect()
    tracemalloc.start()
    try:
        df = parse(text)
        build = resolve(df)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    n = len(df.nodes)
    assert sum(len(s.steps) for s in build.stages) + len(build.stages) + len(build.meta_args) >= n - 1
    return peak / n, n


@pytest.mark.parametrize("shape", ["realistic", "distinct"])
def test_memory_per_instruction_stays_small(shape):
    text = (realistic if shape == "realistic" else distinct)(instructions=N)
    per, n = _peak_per_instruction(text)
    print(f"{shape}: {n} instructions, peak {per:.0f} B per instruction (bound {BOUNDS[shape]})")
    assert n >= N
    assert per <= BOUNDS[shape], f"{per:.0f} B per instruction (bound {BOUNDS[shape]})"


def test_many_distinct_env_and_arg_names_stay_linear():
    # each ENV/ARG used to copy the whole list for the steps after it: 20,000 names kept
    # 2e8 pairs (1.6 GB for a 440 KB file)
    n = 5000
    text = "FROM a\n" + "".join(f"ENV K{i}=v{i}\nRUN x\n" for i in range(n))
    text += "".join(f"ARG B{i}=2\nRUN y\n" for i in range(n))
    per, _ = _peak_per_instruction(text)
    assert per <= 1000, f"{per:.0f} B per instruction"
    steps = resolve(parse(text)).stages[0].steps
    assert steps[1].env == [(f"K{i}", f"v{i}") for i in range(1)]
    assert len(steps[-1].env) == n and steps[-1].env[-1] == (f"K{n - 1}", f"v{n - 1}")
    assert steps[-1].args == [(f"B{i}", "2") for i in range(n)]


def test_env_and_args_set_again_move_to_the_end_and_branch_per_stage():
    text = ("FROM a AS base\nENV A=1 B=2\nENV C=3\nENV A=4\nRUN x\n"
            "FROM base AS one\nENV B=5\nARG X=1\nARG Y=2\nARG X\nRUN one\n"
            "FROM base AS two\nENV D=6\nRUN two\n")  # fmt: skip
    stages = resolve(parse(text)).stages
    assert stages[0].steps[-1].env == [("B", "2"), ("C", "3"), ("A", "4")]
    assert stages[1].steps[-1].env == [("C", "3"), ("A", "4"), ("B", "5")]
    assert stages[1].steps[-1].args == [("Y", "2")]  # ARG X again, without a value: no value
    assert stages[2].steps[-1].env == [("B", "2"), ("C", "3"), ("A", "4"), ("D", "6")]
    long = "FROM a\n" + "".join(f"ENV K{i % 7}={i}\n" for i in range(100)) + "RUN x\n"
    env = resolve(parse(long)).stages[0].steps[-1].env
    assert env == sorted(((f"K{i % 7}", str(i)) for i in range(93, 100)), key=lambda p: int(p[1]))


def test_memory_grows_linearly():
    small, _ = _peak_per_instruction(realistic(instructions=N // 4))
    big, _ = _peak_per_instruction(realistic(instructions=N))
    assert big <= small * 1.25, (small, big)


# --- the compact syntax tree -------------------------------------------------------------------


def _expected_span(text: str, start: int, end: int) -> tuple[int, int, int, int]:
    def line_col(offset: int) -> tuple[int, int]:
        return text.count("\n", 0, offset) + 1, offset - (text.rfind("\n", 0, offset) + 1) + 1

    return (*line_col(start), *line_col(end))


@fuzz_settings()
@given(dockerfile_texts())
def test_computed_spans_and_originals_match_the_text(text):
    try:
        df = parse(text)
    except LayerwiseError:
        return
    for node in df.nodes:
        sp = node.span
        assert (sp.start_line, sp.start_column, sp.end_line, sp.end_column) == _expected_span(df.text, sp.start, sp.end)
        assert (node.start_line, node.end_line) == (sp.start_line, sp.end_line)
        if node._original is None:  # not kept: the text of a whole, one-line instruction
            assert sp.start_line == sp.end_line and not node.heredocs
            assert node.original == df.text[sp.start : sp.end]
        if node.trigger is not None:
            assert node.trigger.span == sp


def test_spans_with_crlf_lone_cr_bom_continuations_and_heredocs():
    text = "\ufeffFROM a\r\n  RUN x \\\r\n  y\r\nRUN\ta\rb\nCOPY <<EOF /f\nbody\nEOF\nONBUILD RUN z\nCMD q"
    df = parse(text)
    got = [(n.keyword, (n.span.start_line, n.span.start_column, n.span.end_line, n.span.end_column), n.original)
           for n in df.nodes]  # fmt: skip
    assert got == [
        ("FROM", (1, 1, 1, 7), "FROM a"),
        ("RUN", (2, 3, 3, 4), "RUN x   y"),
        ("RUN", (4, 1, 4, 8), "RUN\ta\rb"),
        ("COPY", (5, 1, 7, 4), "COPY <<EOF /f"),
        ("ONBUILD", (8, 1, 8, 14), "ONBUILD RUN z"),
        ("CMD", (9, 1, 9, 6), "CMD q"),
    ]
    assert df.nodes[4].trigger.original == "RUN z" and df.nodes[4].trigger.span == df.nodes[4].span
    assert str(df) == text


def test_empty_lists_are_shared_and_read_only():
    df = parse("FROM a\nRUN x\n")
    node = df.nodes[1]
    assert node.flags is EMPTY and node.heredocs is EMPTY and node.comments is EMPTY
    assert node.flags == [] and not node.flags and list(node.flags) == []
    for change in (lambda: node.flags.append("--x"), lambda: node.comments.extend(["c"]),
                   lambda: EMPTY.__setitem__(slice(0, 0), [1]), lambda: EMPTY.clear()):  # fmt: skip
        with pytest.raises(TypeError):
            change()
    assert EMPTY == []
    node.flags = ["--mount=type=cache,target=/c"]  # assigning a new list is how to change one
    assert node.flags == ["--mount=type=cache,target=/c"] and df.nodes[0].flags is EMPTY


def test_equal_lines_share_their_split_not_their_nodes():
    df = parse("FROM a\nRUN pip install x\nRUN pip install x\n  RUN pip install x\n")
    a, b, c = df.nodes[1:]
    assert a.args is b.args is c.args and a.original == b.original and a != b  # other spans
    assert (a.start_line, b.start_line, c.start_line) == (2, 3, 4) and c.span.start_column == 3
    insts = parse_instructions(df)
    assert insts[1] is not insts[2] and insts[1].node is a and insts[2].node is b
    assert insts[1].cmd_line is insts[2].cmd_line and insts[1] == parse_instructions(df)[1]


# --- steps -------------------------------------------------------------------------------------


def test_steps_share_the_state_until_it_changes():
    build = resolve(parse("FROM a\nENV A=1\nRUN x\nRUN y\nENV B=2\nRUN z\n"))
    s = build.stages[0].steps
    assert s[1]._where is s[2]._where and s[2]._where is not s[4]._where
    assert s[2].env == [("A", "1")] and s[4].env == [("A", "1"), ("B", "2")]
    s[2].workdir = "/elsewhere"  # a step's own change does not leak into its neighbours
    assert s[2].workdir == "/elsewhere" and s[1].workdir == s[3].workdir == "/"


@fuzz_settings()
@given(dockerfile_texts())
def test_values_rebuilt_as_written_equal_the_expansion_as_written(text):
    try:
        instructions = parse_instructions(parse(text))
    except LayerwiseError:
        return
    for inst in instructions:
        assert _written(inst) == _expand_words(inst, _as_written)


def test_expanded_values_kept_or_rebuilt():
    text = "FROM a AS one\nFROM b\nARG V=1\nCOPY x /y\nCOPY --from=one /a /b\nENV E=$V F=2\nRUN x\n"
    steps = resolve(parse(text)).stages[1].steps
    assert [type(s._expanded).__name__ for s in steps] == ["list", "NoneType", "list", "list", "NoneType"]
    assert [s.expanded for s in steps] == [
        {"args": [("V", "1")]},
        {"sources": ["x"], "dest": "/y"},
        {"sources": ["/a"], "dest": "/b", "from": "one", "stage_refs": [0]},
        {"pairs": [("E", "1"), ("F", "2")]},
        {"mounts": []},
    ]
    assert steps[1].expanded == steps[1].expanded and steps[1].expanded is not steps[1].expanded


# --- check -------------------------------------------------------------------------------------


def test_equal_runs_share_one_analysis(tmp_path):
    df = parse("FROM a\nRUN pip install flask\nRUN pip install flask\nRUN pip install django\n")
    ctx = RuleContext("Dockerfile", df, resolve(df), ProjectContext(None))
    a, b, c = ctx.build.stages[0].steps
    assert ctx.analysis(a) is ctx.analysis(b) is not ctx.analysis(c)
    assert [x.packages for x in ctx.analysis(c).installs] == [["django"]]


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_suppression_in_the_comment_lines_above(tmp_path, newline):
    body = ["FROM python:3.12", "WORKDIR /app", "# why: the demo copies everything",
            "# layerwise: ignore[LW101]", "COPY . .", "RUN pip install -r requirements.txt",
            "COPY . /other", "RUN pip install -r requirements.txt"]  # fmt: skip
    path = tmp_path / "Dockerfile"
    path.write_bytes(newline.join(body).encode() + newline.encode())
    lw101 = [(f.line, f.code) for f in check_dockerfile(path).findings if f.code == "LW101"]
    assert lw101 == [(7, "LW101")]
