"""carried_lenses: the lenses of an older text served on a newer one while its prediction runs."""

from __future__ import annotations

from lsprotocol import types

from layerwise.analyses.explain import StepReport
from layerwise.server.app import carried_lenses

OLD = "FROM python:3.12\nRUN apt-get update && \\\n    apt-get install -y git\nCOPY . .\nRUN make\n"


def _lens(line0: int, title: str) -> types.CodeLens:
    pos = types.Position(line=line0, character=0)
    return types.CodeLens(range=types.Range(start=pos, end=pos), command=types.Command(title=title, command=""))


def _step(line: int, end_line: int) -> StepReport:
    return StepReport(stage=0, line=line, instruction="", kind="run", status="cached", end_line=end_line)


LENSES = [_lens(0, "a"), _lens(1, "b"), _lens(3, "c"), _lens(4, "d")]
STEPS = {1: _step(1, 1), 2: _step(2, 3), 4: _step(4, 4), 5: _step(5, 5)}


def titles(lenses) -> dict[int, str]:
    return {x.range.start.line: x.command.title for x in lenses}


def test_unchanged_instructions_keep_their_lens_on_their_new_line():
    new = "# note\n\n" + OLD
    assert titles(carried_lenses(LENSES, STEPS, OLD, new)) == {2: "a", 3: "b", 5: "c", 6: "d"}
    assert titles(carried_lenses(LENSES, STEPS, OLD, OLD)) == {0: "a", 1: "b", 3: "c", 4: "d"}


def test_an_edited_instruction_loses_its_lens_even_on_a_continuation_line():
    new = OLD.replace("install -y git", "install -y git curl").replace("RUN make", "RUN make all")
    assert titles(carried_lenses(LENSES, STEPS, OLD, new)) == {0: "a", 3: "c"}


def test_cut_lines_take_their_lenses_with_them():
    new = "FROM python:3.12\nRUN make\n"
    assert titles(carried_lenses(LENSES, STEPS, OLD, new)) == {0: "a", 1: "d"}
