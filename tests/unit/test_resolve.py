"""Stages, ARG/ENV scopes and expansion, as BuildKit resolves them."""

from __future__ import annotations

import pytest

from layerwise.parse import parse
from layerwise.parse.instructions import InstructionError
from layerwise.resolve.stages import resolve


def build(text: str, **args: str):
    return resolve(parse(text), args)


def test_global_args_reach_from_only():
    b = build("ARG PY=3.11\nARG IMG=python:${PY}-slim\nFROM $IMG AS base\nRUN echo $PY\nCOPY a /$PY\n")
    assert b.stages[0].base == "python:3.11-slim"
    copy = b.stages[0].steps[1]
    assert copy.expanded["dest"] == "/"  # PY is not redeclared in the stage
    assert copy.args == []


def test_redeclared_global_arg_and_build_arg_override():
    b = build("ARG PY=3.11\nFROM python:$PY\nARG PY\nCOPY a /$PY\n", PY="3.12")
    assert b.stages[0].base == "python:3.12"
    assert b.stages[0].steps[1].expanded["dest"] == "/3.12"
    assert b.stages[0].steps[1].args == [("PY", "3.12")]


def test_env_pairs_see_the_env_before_the_instruction():
    b = build("FROM x\nENV A=1\nENV A=2 B=$A\nRUN echo\n")
    assert b.stages[0].steps[-1].env == [("A", "2"), ("B", "1")]


def test_env_overrides_arg_in_scope():
    b = build("FROM x\nARG V=arg\nENV V=env\nWORKDIR /$V\n")
    assert b.stages[0].steps[-1].expanded["path"] == "/env"


def test_undeclared_build_arg_is_ignored():
    b = build("FROM x\nRUN echo\n", UNUSED="1")
    assert b.stages[0].steps[0].args == []


def test_workdir_user_shell_state():
    b = build('FROM x\nWORKDIR /app\nWORKDIR src\nUSER app\nSHELL ["/bin/bash", "-c"]\nRUN x\n')
    run = b.stages[0].steps[-1]
    assert (run.workdir, run.user, run.shell) == ("/app/src", "app", ["/bin/bash", "-c"])


def test_stage_inherits_the_end_state_of_its_base_stage():
    b = build("FROM x AS base\nENV A=1\nWORKDIR /w\nFROM base\nRUN echo\n")
    run = b.stages[1].steps[0]
    assert (run.env, run.workdir) == ([("A", "1")], "/w")
    assert b.stages[1].base_stage == 0


def test_needed_stages_follow_from_copy_from_and_mount_from():
    text = (
        "FROM x AS a\nRUN a\nFROM x AS b\nRUN b\nFROM x AS c\n"
        "RUN --mount=type=bind,from=b,target=/b c\nFROM a AS d\nCOPY --from=c /x /x\n"
    )
    b = build(text)
    assert [s.name for s in b.needed_stages()] == ["a", "b", "c", "d"]
    assert [s.name for s in b.needed_stages("c")] == ["b", "c"]
    with pytest.raises(InstructionError, match="target stage 'nope' could not be found"):
        b.needed_stages("nope")


def test_copy_from_numeric_stage():
    b = build("FROM x\nRUN a\nFROM y\nCOPY --from=0 /a /a\n")
    assert b.stages[1].dependencies() == {0}


def test_onbuild_triggers_run_in_the_child_stage():
    b = build("FROM x AS base\nONBUILD COPY a /a\nFROM base\nRUN echo\n")
    child = b.stages[1].steps
    assert [s.instruction.name for s in child] == ["copy", "run"]
    assert child[0].onbuild and child[0].line == 2


def test_expansion_errors_are_located():
    with pytest.raises(InstructionError) as info:
        build("FROM x\nWORKDIR ${NOPE:?must be set}\n")
    assert info.value.location.line == 2 and "must be set" in info.value.message


def test_instruction_before_from_is_rejected():
    with pytest.raises(InstructionError, match="only ARG may come first"):
        build("RUN x\nFROM y\n")


def test_escape_directive_used_for_expansion():
    b = build("# escape=`\nFROM x\nARG V=1\nWORKDIR /a`$V/$V\n")
    assert b.stages[0].steps[-1].expanded["path"] == "/a$V/1"


def test_values_that_double_each_line_stop_with_a_located_error():
    lines = ["FROM alpine", "ENV V0=abcdefgh"]
    lines += [f"ENV V{i}=${{V{i - 1}}}${{V{i - 1}}}" for i in range(1, 41)]
    with pytest.raises(InstructionError, match="more than 16,777,216") as info:
        build("\n".join(lines) + "\n")
    assert info.value.location.line == 24  # V22: 8 * 2**22 characters


def test_stage_refs_are_the_expanded_values_stage_refs():
    """Step.stage_refs() answers expanded's "stage_refs" without building the dict, for each
    form a step keeps: as written, a dict, a list (ARG values, ENV pairs, stage references)."""
    text = (
        "ARG B=x\nFROM $B AS a\nARG V=1\nENV E=$V\nLABEL l=$V\nRUN a\nFROM x AS b\nCOPY --from=a /a /a\n"
        "COPY --from=${V} /b /b\nCOPY --from=0 --chown=$V /c /c\nRUN --mount=type=bind,from=a,target=/m m\n"
        "RUN --mount=type=cache,target=/c c\nCOPY . .\nWORKDIR /$V\n"
    )
    steps = [step for stage in build(text).stages for step in stage.steps]
    assert sorted({type(step._expanded).__name__ for step in steps}) == ["NoneType", "dict", "list"]
    for step in steps:
        assert list(step.stage_refs()) == list(step.expanded.get("stage_refs", ())), step
    assert [list(step.stage_refs()) for step in steps if step.stage_refs()] == [[0], [0], [0]]
