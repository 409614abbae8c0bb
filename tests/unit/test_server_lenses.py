"""carried_lenses: the lenses of an older text served on a newer one while its prediction runs."""

from __future__ import annotations

import pytest
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


ARTICLE = 'FROM python:3.10-slim\nWORKDIR /app\nADD . /app\nRUN pip install -r requirements.txt\nCMD ["python", "app.py"]\n'


@pytest.mark.slow
def test_one_prediction_at_a_time_per_document_and_the_newest_text_next(tmp_path):
    """Five changes asked while the first prediction runs: the server's own scheduling runs
    them one at a time, drops the first's result (its text is gone), skips the three asks
    that never started and predicts the newest text next. The predictions are real (explain
    on a git project); each is held 0.3 s first so that the asks surely overlap it."""
    import asyncio
    import subprocess
    import threading
    import time

    from layerwise.server.app import DocState, LayerwiseServer

    (tmp_path / "Dockerfile").write_text(ARTICLE)
    (tmp_path / "requirements.txt").write_text("flask==3.0.3\n")
    (tmp_path / "app.py").write_text("print('hi')\n")
    for args in (["init", "-q"], ["add", "-A"], ["-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "i"]):
        subprocess.run(["git", "-C", str(tmp_path), *args], check=True, capture_output=True)
    uri = (tmp_path / "Dockerfile").as_uri()
    ls = LayerwiseServer()
    ls.context_of = lambda path: str(tmp_path)  # no client: the workspace folder is the project
    lock = threading.Lock()
    running, most, predicted, refreshes = [0], [0], [], []

    def predict(uri, text, token=None):
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        try:
            time.sleep(0.3)
            predicted.append(text)
            return LayerwiseServer.predict(ls, uri, text, token)
        finally:
            with lock:
                running[0] -= 1

    async def refresh():
        refreshes.append(ls.docs[uri].predicted_text)

    ls.predict = predict
    ls._refresh_lenses = refresh
    texts = [ARTICLE + "#" * n + "\n" for n in range(1, 6)]

    async def scenario():
        state = ls.docs[uri] = DocState()
        for generation, text in enumerate(texts, 1):
            state.generation = generation  # as a change does (schedule)
            ls.schedule_lenses(uri, text, generation)
            await asyncio.sleep(0.02)
        while ls.tasks:
            await asyncio.gather(*ls.tasks)
        return state

    state = asyncio.run(scenario())
    ls.pool.shutdown()
    ls.fast.shutdown()
    assert most[0] == 1
    assert predicted == [texts[0], texts[-1]]
    assert refreshes == [texts[-1]] and state.predicted_text == texts[-1]
    assert titles(state.lenses)[2].startswith("rebuilds: Dockerfile")
