"""Correct projects are silent (issue #18): a textbook dependency-first project for each
packaging tool, with a good .dockerignore, gets no finding at all from ``check`` (exit 0) and
nothing to do from ``fix``. A rule that fires on one of them has a false positive.

The projects are in ``tests/data/correct_projects``: pip (requirements; its .dockerignore lists
``.pytest_cache``/``.mypy_cache`` root-only, as docs/rules/LW301.md used to recommend),
pip-tools, Poetry, uv with and without cache mounts, PDM, Pipenv. Each is checked as a
developer's checkout: with the caches a local test run leaves at the root and bytecode.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from layerwise.fixes import fix_project
from tests.shared import run_cli

PROJECTS = sorted((Path(__file__).parents[1] / "data" / "correct_projects").iterdir())


def test_every_packaging_tool_has_one():
    assert {p.name for p in PROJECTS} >= {"pip", "pip-tools", "poetry", "uv-cache-mount", "uv-no-cache", "pdm", "pipenv"}


def checkout(src: Path, tmp_path: Path) -> Path:
    root = tmp_path / src.name
    shutil.copytree(src, root)
    for junk in (".pytest_cache/v/cache/nodeids", ".mypy_cache/3.12/app.data.json", "__pycache__/app.cpython-312.pyc"):
        (root / junk).parent.mkdir(parents=True, exist_ok=True)
        (root / junk).write_text("local run\n")
    return root


@pytest.mark.parametrize("src", PROJECTS, ids=lambda p: p.name)
def test_check_is_silent(src, tmp_path):
    root = checkout(src, tmp_path)
    r = run_cli(["check", "--no-color", str(root)])
    assert (r.exit_code, r.output) == (0, "All checks passed!\n")


@pytest.mark.parametrize("src", PROJECTS, ids=lambda p: p.name)
def test_fix_has_nothing_to_do(src, tmp_path):
    root = checkout(src, tmp_path)
    result = fix_project(root, root / "Dockerfile", unsafe_fixes=True)
    assert not result.changed, result.diff()
    assert result.hints == []
