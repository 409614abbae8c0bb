"""The fixes edit a command in its own words (``fixtext.run_text_offsets`` / ``install_words``):
the analysed shell text of a RUN mapped back to the file character by character. Wherever the
mapping is given, every character it names must be that character of the file, and the commands
read from it must be the analysis' own; on the real Dockerfiles of the corpus every RUN in shell
form maps."""

from __future__ import annotations

import glob
import re
from pathlib import Path

from hypothesis import example, given
from hypothesis import strategies as st

from layerwise.analyses import fixtext
from layerwise.analyses.installs import analyse_run
from layerwise.errors import LayerwiseError
from layerwise.parse import parse, parse_file
from layerwise.parse.instructions import Run, parse_instructions
from tests.fuzz.strategies import dockerfile_texts, fuzz_settings

ROOT = Path(__file__).resolve().parents[2]

# shell pieces whose same text may be an install, a quoted word, a comment or another command
PIECES = st.sampled_from([
    "pip", "install", "pip install", "uv sync", " ", "  ", "\t", "&&", "||", ";", "|", "-U", "flask",
    "'pip install'", '"pip install x"', "# pip install\n", "\\\n", " \\\n  # c\n  ", " \\\n\n ", "echo",
    "bash -c \"pip install a\"", "sh -c 'uv sync'", "\\;", "''", "if", "then", "{", "A=1", "sudo",
    "python -m pip", "é", "\\\"", "$(pip install)", "`x`",
])  # fmt: skip


def _check(text: str) -> int | None:
    """Assert the mapping's properties on every RUN of a Dockerfile text; the RUNs mapped (None:
    not a Dockerfile)."""
    try:
        df = parse(text, "Dockerfile")
        runs = [i for i in parse_instructions(df) if isinstance(i, Run)]
    except LayerwiseError:
        return None
    mapped = 0
    for run in runs:
        m = fixtext.run_text_offsets(df, run)
        if m is None:
            continue
        mapped += 1
        shell, offsets = m
        assert len(offsets) == len(shell)
        assert all(o is None or df.text[o] == c for c, o in zip(shell, offsets)), (shell, offsets)
        assert all(o is None or run.node.span.start <= o < run.node.span.end for o in offsets)
        commands = fixtext._commands_of(shell, offsets)
        assert [[w for w, _, _ in c] for c in commands] == analyse_run(run).commands
        for c in commands:
            for _w, s, e in c:
                assert (s is None) == (e is None) and (s is None or s < e)
    return mapped


@fuzz_settings()
@given(st.lists(PIECES, min_size=1, max_size=16).map(lambda p: "FROM python:3.12\nRUN " + " ".join(p) + "\n"))
@example('FROM python:3.12\nRUN echo "step: pip install deps" > /x && pip install -U pip\n')
@example("FROM python:3.12\nRUN \\\n    # c\n    pip install \\\n  flask  \n")
def test_mapped_runs_are_the_files_own_characters(text: str) -> None:
    assert _check(text) in (None, 1)  # a shell-form RUN: always mapped


@fuzz_settings()
@given(dockerfile_texts())
def test_any_dockerfile_maps_only_its_own_characters(text: str) -> None:
    _check(text)


def test_every_shell_form_run_of_the_corpus_maps() -> None:
    runs = mapped = 0
    for path in sorted(glob.glob(str(ROOT / "tests" / "data" / "corpus" / "files" / "*"))):
        try:
            df = parse_file(path)
            instructions = parse_instructions(df)
        except LayerwiseError:
            continue
        runs += sum(1 for i in instructions if isinstance(i, Run) and (i.prepend_shell or (i.cmd_line and re.match(r"(?:.*/)?(?:ba)?sh$", i.cmd_line[0]))))
        mapped += _check(df.text) or 0
    assert runs > 300 and mapped == runs
