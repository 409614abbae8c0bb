import pytest

from tests.unit.rules.helpers import catches, findings, passes

CODE = "LW302"
DF = "FROM python:3.12\nCOPY . .\n"


@pytest.mark.parametrize("pattern", ["*.pyc", "__pycache__/", "__pycache__", "*.egg-info", ".pytest_cache"])
def test_known_deep_names(pattern):
    (f,) = catches(CODE, DF, {".dockerignore": f".git\n{pattern}\n"})
    assert f.path.endswith(".dockerignore") and f.line == 2
    assert "**/" in f.message


def test_venv_only_when_nested_one_exists():
    passes(CODE, DF, {".dockerignore": ".venv\n", ".venv/pyvenv.cfg": ""})
    (f,) = catches(CODE, DF, {".dockerignore": ".venv\n", "svc/.venv/pyvenv.cfg": ""})
    assert "svc/.venv" in f.message


@pytest.mark.parametrize("pattern", ["**/*.pyc", "**/__pycache__", "app/*.pyc", "!keep.pyc", ".git"])
def test_passes(pattern):
    passes(CODE, DF, {".dockerignore": pattern + "\n"})


def test_suppressed_inline():
    assert not findings(CODE, DF, {".dockerignore": "# layerwise: ignore[LW302]\n*.pyc\n"})
