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
import tempfile
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from layerwise.analyses import copies
from layerwise.analyses.check import check_dockerfile, selected_rules
from layerwise.analyses.copies import ImageFiles
from layerwise.analyses.project import ProjectContext
from layerwise.analyses.rules import RuleContext
from layerwise.errors import LayerwiseError
from layerwise.parse import parse
from layerwise.parse.instructions import Copy, Run, parse_instructions
from layerwise.parse.nodes import EMPTY
from layerwise.resolve.stages import _as_written, _expand_words, _written, resolve
from tests.fuzz.strategies import dockerfile_texts, fuzz_settings
from tests.unit.huge_dockerfiles import distinct, realistic

pytestmark = pytest.mark.slow  # scale and memory measurements of huge Dockerfiles

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


# --- the image files before each step (LW103, LW402) -------------------------------------------

# Small vocabularies, so that paths meet: COPYs and mounts land where installs and probes look.
_SRC = ["requirements.txt", "req/base.txt", "src/", "app", ".", "*.py", "a.tar.gz", "http://h/x.whl",
        "pyproject.toml poetry.lock", "x.in y.txt"]  # fmt: skip
_DEST = ["/app/", "/app", ".", "./", "lib", "/srv/req.txt", "/", "/opt//deep/", "../up"]
_RUN = ["pip install -r requirements.txt", "curl -o x.txt http://h", "pip-compile req/x.in",
        "echo /app/made.toml > /tmp/y.cfg", "git clone http://h/r", "true"]  # fmt: skip
_MOUNT = ["--mount=type=bind,source=uv.lock,target=uv.lock", "--mount=type=bind,target=/src",
          "--mount=type=bind,from=s0,source=/w,target=/w", "--mount=type=cache,target=/c"]  # fmt: skip
_PROBES = ["/app/requirements.txt", "/app", "/app/src/m.py", "/", "/srv/req.txt", "/srv", "/app/x.txt",
           "/opt/deep/a", "/opt", "/lib/base.txt", "/app/lib/base.txt", "/up/x", "/app/made.toml",
           "/w/f", "/src/pyproject.toml", "/app/uv.lock", "uv.lock", "/r/y.cfg", "/app/pyproject.toml",
           "/app/poetry.lock", "/srv/app", "/tmp/y.cfg", "/app/a.tar.gz/x"]  # fmt: skip


@st.composite
def _stage_chains(draw) -> str:
    """Stages FROM an image or an earlier stage (branches too), with WORKDIR/COPY/ADD/RUN steps."""
    lines = []
    for k in range(draw(st.integers(1, 4))):
        base = draw(st.sampled_from(["python"] + [f"s{j}" for j in range(k)]))
        lines.append(f"FROM {base} AS s{k}")
        # s0 reads from itself only in a cycle, which BuildKit (and resolve) refuse
        kinds = ["workdir", "copy", "add", "heredoc", "run"] + (["from"] if k else [])
        mounts_ok = [m for m in _MOUNT if k or "from=s0" not in m]
        for _ in range(draw(st.integers(0, 8))):
            kind = draw(st.sampled_from(kinds))
            if kind == "workdir":
                lines.append("WORKDIR " + draw(st.sampled_from(["/app", "/srv/", "lib", "/"])))
            elif kind in ("copy", "add", "from"):
                what = {"copy": "COPY", "add": "ADD", "from": "COPY --from=s0"}[kind]
                lines.append(f"{what} {draw(st.sampled_from(_SRC))} {draw(st.sampled_from(_DEST))}")
            elif kind == "heredoc":
                lines += [f"COPY <<EOF {draw(st.sampled_from(_DEST))}", "x", "EOF"]
            else:
                mounts = " ".join(draw(st.lists(st.sampled_from(mounts_ok), max_size=2)))
                lines.append(f"RUN {mounts} {draw(st.sampled_from(_RUN))}")
    return "\n".join(lines) + "\n"


def _replayed(ctx: RuleContext, stage, index: int) -> ImageFiles:
    """The files before a step, as layerwise computed them before the histories: every COPY/RUN
    of the stage chain before the step replayed into a new ImageFiles (quadratic)."""
    fs = ImageFiles()
    for st_ in ctx.lineage(stage):
        for s in st_.steps if st_ is not stage else st_.steps[:index]:
            if isinstance(s.instruction, Copy):
                fs.add_copy(s)
            elif isinstance(s.instruction, Run):
                fs.add_run(s, ctx.analysis(s).text)
    return fs


@fuzz_settings()
@given(_stage_chains())
def test_image_files_before_each_step_answer_as_a_replay_does(text):
    df = parse(text)
    ctx = RuleContext("Dockerfile", df, resolve(df), ProjectContext(None))
    for stage in reversed(ctx.build.stages):  # the last first: branches get their layers in any order
        for step in stage.steps:
            want, got = _replayed(ctx, stage, step.index), ctx.image_files_before(stage, step.index)
            probes = _PROBES + list(want.files) + [t for t, _ in want.trees] + sorted(want.mentioned)
            probes += [p + "/below/x.txt" for p in probes]
            assert [got.has(p) for p in probes] == [want.has(p) for p in probes]
            mounted, got_mounted = want.with_mounts(step), got.with_mounts(step)
            assert [got_mounted.has(p) for p in probes] == [mounted.has(p) for p in probes]


def _counted_check(monkeypatch, text: str, codes: list[str], context=None, *counted) -> tuple[dict[str, int], list]:
    """The findings of some rules on a Dockerfile, and how often each of ``counted`` ((owner,
    name) pairs: what visits a step) was called."""
    calls = {name: 0 for _, name in counted}

    def counting(name: str, f):
        def counted_call(*args, **kwargs):
            calls[name] += 1
            return f(*args, **kwargs)

        return counted_call

    for owner, name in counted:
        monkeypatch.setattr(owner, name, counting(name, getattr(owner, name)))
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "Dockerfile"
        path.write_text(text)
        result = check_dockerfile(path, context=context, rules=selected_rules(codes))
    monkeypatch.undo()
    assert not result.errors, result.errors
    return calls, [(f.code, f.line, f.message) for f in result.findings]


def _grows_linearly(small: dict[str, int], big: dict[str, int]) -> None:
    # 10 times the instructions: a linear check visits about 10 times the steps, a quadratic one
    # (every install visiting the steps before it) about 100 times
    for name in small:
        assert 0 < big[name] <= 11 * small[name] + 50, (name, small[name], big[name])


def _linear_findings(monkeypatch, stage, codes: list[str], context, *counted, n: int = 40) -> list[tuple[int, list]]:
    """Check ``stage(n)`` and ``stage(10 * n)``, assert the ``counted`` calls grow linearly, and
    return ``[(n, findings), (10 * n, findings)]``."""
    (small, found_small), (big, found_big) = (
        _counted_check(monkeypatch, stage(k), codes, context, *counted) for k in (n, 10 * n)
    )
    _grows_linearly(small, big)
    return [(n, found_small), (10 * n, found_big)]


def _install_stage(n: int) -> str:
    lines = ["FROM python:3.12-slim", "WORKDIR /app"]
    for i in range(n):
        lines += [f"COPY requirements-{i}.txt ./",
                  f"RUN --mount=type=bind,source=c.txt,target=/c.txt pip install -r requirements-{i}.txt -c /c.txt",
                  f"RUN pip install -r requirements-{i}.in", "RUN poetry install"]  # fmt: skip
    return "\n".join(lines) + "\n"


def test_image_files_before_installs_grow_linearly(monkeypatch, tmp_path):
    # LW103 and LW402 used to replay every COPY and RUN before each install: n installs visited
    # n*n/2 steps (2,000 installs: 16 s)
    (tmp_path / "poetry.lock").write_text("")  # LW402 looks for poetry.lock in the image
    counted = ((copies, "dest_path"), (RuleContext, "analysis"))
    # the findings stay as they were: each .in next to its compiled .txt and not copied, each
    # poetry install without pyproject.toml and poetry.lock; c.txt is mounted for its RUN
    for count, found in _linear_findings(monkeypatch, _install_stage, ["LW103", "LW402"], tmp_path, *counted):
        want = {(code, line + 4 * i) for i in range(count) for code in ("LW103", "LW402") for line in (5, 6)}
        assert {(code, line) for code, line, _ in found} == want and len(found) == len(want)


def _monorepo_stage(n: int) -> str:
    lines = ["FROM python:3.12-slim", "WORKDIR /app", "COPY requirements.txt ./", "RUN pip install -r requirements.txt"]
    for i in range(n):
        lines += [f"COPY conf-{i}.json ./", f"COPY pkg{i}/ pkg{i}/", f"RUN pip install --no-deps ./pkg{i}"]
    return "\n".join(lines + ["RUN pip install -r more.txt"]) + "\n"


def test_copy_before_install_grows_linearly(monkeypatch):
    # LW101 looked at every earlier COPY at each install: those with nothing to report (a config
    # file) and those an install of the project alone skips (copied after the dependencies) stayed
    counted = ((copies, "volatile_sources"),)
    # each package copy is reported once, at the install of more.txt, and no config file
    for count, found in _linear_findings(monkeypatch, _monorepo_stage, ["LW101"], None, *counted):
        assert [line for _, line, _ in found] == [6 + 3 * i for i in range(count)]
        assert all(f"(line {5 + 3 * count})" in message for _, _, message in found)


def test_many_pyproject_copies_without_an_install_grow_linearly(monkeypatch, tmp_path):
    # LW102 looked for the install reading pyproject.toml from every COPY of it to the end of
    # the stage: n copies and no such install visited n*n/2 steps
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\nversion = "1.0"\n[tool.ruff]\nline-length = 99\n')
    counted = ((RuleContext, "analysis"),)

    def stage(n: int) -> str:
        lines = ["FROM python:3.12-slim", "WORKDIR /app"]
        for i in range(n):
            lines += ["COPY pyproject.toml ./", f"RUN echo {i}"]
        return "\n".join(lines + ["RUN pip install .", "COPY pyproject.toml ./"]) + "\n"

    # every copy before the install is reported, pointing at it; the one after it is not
    for count, found in _linear_findings(monkeypatch, stage, ["LW102"], tmp_path, *counted):
        assert [line for _, line, _ in found] == [3 + 2 * i for i in range(count)]
        assert all(f"(line {3 + 2 * count})" in message for _, _, message in found)
