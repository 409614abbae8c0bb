import pytest

from tests.unit.rules.helpers import catches, findings, passes

CODE = "LW302"
DF = "FROM python:3.12\nCOPY . .\n"


@pytest.mark.parametrize("pattern", ["*.pyc", "__pycache__/", "__pycache__", "*.egg-info"])
def test_known_deep_names_without_evidence_are_an_info(pattern):
    (f,) = catches(CODE, DF, {".dockerignore": f".git\n{pattern}\n"})
    assert f.path.endswith(".dockerignore") and f.line == 2
    assert "**/" in f.message and f.severity == "info" and "none below the root" in f.message


@pytest.mark.parametrize(("pattern", "deep"), [("*.pyc", "app/x.pyc"), ("__pycache__/", "app/__pycache__/x.pyc"),
                                               (".pytest_cache", "tests/.pytest_cache/v")])  # fmt: skip
def test_files_sent_from_a_sub_folder_are_a_warning(pattern, deep):
    (f,) = catches(CODE, DF, {".dockerignore": f"{pattern}\n", deep: ""})
    assert f.severity == "warning" and deep.split("/")[0] in f.message


@pytest.mark.parametrize("pattern", [".pytest_cache", ".mypy_cache", ".ruff_cache", ".tox"])
def test_root_tool_caches_with_none_below_the_root_are_silent(pattern):
    """What docs/rules/LW301.md used to recommend: the tools write these at the root."""
    passes(CODE, DF, {".dockerignore": f"{pattern}\n", f"{pattern}/v": "", "app/x.py": ""})


def test_the_fix_puts_globstar_before_the_pattern_in_place():
    (f,) = catches(CODE, DF, {".dockerignore": "# c\n  *.pyc  \n", "app/x.pyc": ""})
    (e,) = f.fix.edits
    text = "# c\n  *.pyc  \n"
    assert text[: e.start_offset] + e.replacement + text[e.end_offset :] == "# c\n  **/*.pyc  \n"


def test_venv_only_when_nested_one_exists():
    passes(CODE, DF, {".dockerignore": ".venv\n", ".venv/pyvenv.cfg": ""})
    (f,) = catches(CODE, DF, {".dockerignore": ".venv\n", "svc/.venv/pyvenv.cfg": ""})
    assert "svc/.venv" in f.message


@pytest.mark.parametrize("pattern", ["**/*.pyc", "**/__pycache__", "app/*.pyc", "!keep.pyc", ".git"])
def test_passes(pattern):
    passes(CODE, DF, {".dockerignore": pattern + "\n"})


def test_suppressed_inline():
    assert not findings(CODE, DF, {".dockerignore": "# layerwise: ignore[LW302]\n*.pyc\n"})


@pytest.mark.parametrize(("pattern", "deep"), [("README.md", "pkg/README.md"), ("./resources", "src/documents/resources/a.json"),
                                               ("export", "src/documents/export/x.py"), ("build", "frontend/build/index.js")])  # fmt: skip
def test_other_names_anchored_at_the_root_are_left_alone(pattern, deep):
    """paperless-ngx writes ./export and ./resources for its root folders while src/documents has its own
    (application code): excluding them everywhere would drop the app's files from the image."""
    passes(CODE, DF, {".dockerignore": f"{pattern}\n", deep: ""})
