"""The check <-> fix invariants (``tests/fix_invariants.py``, issue #18) everywhere: on every
corpus Dockerfile (alone), on every test project (the engine-proven ``fix_projects``, the
bundled examples, the correct projects, each rule's fixture with its CI files), with and
without ``--unsafe-fixes`` and with rule selections. Random projects:
``tests/fuzz/test_fix_properties.py``."""

from __future__ import annotations

from pathlib import Path

import pytest

import layerwise
from layerwise.errors import LayerwiseError
from tests.fix_invariants import check_dockerfile_text, check_project
from tests.shared import corpus_files

REPO = Path(__file__).resolve().parents[2]
PROJECTS = (
    [Path(layerwise.__file__).parent / "examples" / name for name in ("flask-demo", "data-api")]
    + sorted(p / "project" for p in (REPO / "tests" / "engine" / "fix_projects").iterdir() if (p / "project").is_dir())
    + sorted((REPO / "tests" / "data" / "correct_projects").iterdir())
    + sorted(p for p in (REPO / "tests" / "unit" / "rules" / "fixtures").iterdir() if (p / "Dockerfile").is_file())
)
SELECTIONS = [(None, ()), (["LW1"], ()), (["LW3"], ()), (None, ["LW101"]), (None, ["LW3"])]


def _id(p: Path) -> str:
    return p.parent.name if p.name == "project" else p.name


@pytest.mark.parametrize("root", PROJECTS, ids=_id)
@pytest.mark.parametrize("unsafe", [False, pytest.param(True, marks=pytest.mark.slow)], ids=["safe", "unsafe"])
def test_projects(root, unsafe):
    assert check_project(root, unsafe_fixes=unsafe) == []


@pytest.mark.slow
@pytest.mark.parametrize(("select", "ignore"), SELECTIONS[1:])
def test_projects_with_rule_selections(select, ignore):
    problems = [p for root in PROJECTS for p in check_project(root, select=select, ignore=ignore)]
    assert problems == []


@pytest.mark.slow
@pytest.mark.parametrize(("select", "ignore"), SELECTIONS)
@pytest.mark.parametrize("unsafe", [False, True], ids=["safe", "unsafe"])
def test_corpus(select, ignore, unsafe):
    problems: list[str] = []
    before = after = 0
    for path in corpus_files():
        text = path.read_bytes().decode("utf-8", "surrogateescape")
        try:
            found, b, a = check_dockerfile_text(text, path.name, select=select, ignore=ignore, unsafe_fixes=unsafe)
        except LayerwiseError:
            continue  # a file check rejects is not fixed either
        problems += found
        before, after = before + b, after + a
    assert problems == []
    assert after == 0
    if select is None and not ignore:
        assert before > 50  # the corpus has plenty to fix
