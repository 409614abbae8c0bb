"""A folder that `.dockerignore` excludes by a broad pattern (`*`) but whose files it re-includes
(`!searx/**`, `!container/entrypoint.sh`, searxng's layout) is in the context: `COPY searx/`
copies the re-included files, on both builders. LW304 must not say the build cannot see it;
a folder with nothing re-included is still reported, and that build fails."""

from __future__ import annotations

import pytest

from layerwise.api import check_project

pytestmark = pytest.mark.engine

IGNORE = "*\n!src/**\n!conf/entrypoint.sh\n"
FILES = {"src/app.py": "print(1)\n", "src/pkg/mod.py": "", "conf/entrypoint.sh": "#!/bin/sh\n", "conf/notes.txt": "x\n"}


def _project(tmp_path, dockerfile: str):
    (tmp_path / "Dockerfile").write_text(dockerfile)
    (tmp_path / ".dockerignore").write_text(IGNORE)
    for rel, text in FILES.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    return [f for f in check_project(tmp_path).findings if f.code == "LW304"]


@pytest.mark.parametrize("builder", ["buildkit", "legacy"])
def test_reincluded_files_make_the_folder_copyable(engine, tmp_path, builder):
    dockerfile = (
        "FROM busybox\nCOPY src/ /app/src/\nCOPY ./conf/ /app/\n"
        "RUN test -f /app/src/pkg/mod.py && test -f /app/entrypoint.sh && test ! -e /app/notes.txt\n"
    )
    assert _project(tmp_path, dockerfile) == []
    result = engine.build(tmp_path, builder=builder)
    assert result.ok, result.log


def test_a_folder_with_nothing_reincluded_is_still_reported(engine, tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.md").write_text("# docs\n")
    found = _project(tmp_path, "FROM busybox\nCOPY docs/ /docs/\n")
    assert [f.line for f in found] == [2], found
    result = engine.build(tmp_path, builder="buildkit")
    assert not result.ok
