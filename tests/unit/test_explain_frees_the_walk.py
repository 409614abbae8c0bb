"""explain frees the walk's entries as soon as the prediction is made (#17): the simulated
steps and their writers form cycles that held the states' files, and through them 100,000
entries, until the cyclic collector ran (a ~45 ms collection in a warm 100k explain)."""

from __future__ import annotations

import gc

from layerwise.api import explain_project
from layerwise.context.snapshot import Snapshot
from tests.shared import committed_repo


def _project(root) -> None:
    (root / "Dockerfile").write_text(
        "FROM python:3.12-slim AS build\nWORKDIR /src\nCOPY requirements.txt .\nRUN pip wheel -r requirements.txt\n"
        "COPY . .\nFROM python:3.12-slim\nCOPY --from=build /src/app.py /app/\nCOPY --from=build /src /srv\n"
    )
    (root / "requirements.txt").write_text("flask==3.0.3\n")
    (root / "app.py").write_text("print('hi')\n")


def test_no_walk_outlives_the_prediction(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    repo = committed_repo(tmp_path / "repo", _project)
    (repo / "app.py").write_text("print('edited')\n")
    was = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        got = explain_project(str(repo), timings=False)
        alive = [o for o in gc.get_objects() if isinstance(o, Snapshot) and o.root == repo.resolve()]
    finally:
        if was:
            gc.enable()
    assert any(s.status == "rebuilt" for s in got.explanation.steps)
    assert alive == []
