"""Bugs of ``layerwise fix`` found while proving it on real projects (tests/engine/
test_fix_projects.py): (Dockerfile, project files, expected Dockerfile) and idempotence."""

from __future__ import annotations

import pytest

from layerwise.fixes import fix_dockerfile_text
from layerwise.fixes.layout import PYPROJECT_DEPS_EXTRAS

PYPROJECT = """\
[project]
name = "my_app"
version = "0"
dependencies = ["six"]

[project.optional-dependencies]
web = ["idna>=3"]
all = ["My-App[web]", "certifi"]
"""


def fixed(text: str, files: dict[str, str], tmp_path) -> str:
    for name, body in files.items():
        (tmp_path / name).write_text(body)
    out, _, _ = fix_dockerfile_text(text, "Dockerfile", tmp_path)
    again, _, _ = fix_dockerfile_text(out, "Dockerfile", tmp_path)
    assert again == out, "a second run changed the result"
    return out


def extract(extras: list[str], path: str = "./pyproject.toml") -> str:
    program = PYPROJECT_DEPS_EXTRAS.replace("EXTRAS", repr(extras)).replace("'pyproject.toml'", repr(path))
    return f'python3 -c "{program}" > /tmp/layerwise-requirements.txt'


CASES = [
    pytest.param(
        # was: "cannot derive a dependencies-only install" (the quotes hid the target)
        'FROM python:3.11-slim\nWORKDIR /app\nCOPY . .\nRUN pip install --no-cache-dir ".[web,all]"\n',
        'FROM python:3.11-slim\nWORKDIR /app\nCOPY pyproject.toml ./\n'
        f"RUN {extract(['web', 'all'])} && pip install --no-cache-dir -r /tmp/layerwise-requirements.txt\n"
        'COPY . .\nRUN pip install --no-deps --no-cache-dir ".[web,all]"\n',
        id="quoted-target-with-extras",
    ),
    pytest.param(
        # was: the extras' dependencies were installed after the code copy, on every change
        "FROM python:3.11-slim\nCOPY . /src\nRUN pip install --no-cache-dir -e '/src[web]'\n",
        "FROM python:3.11-slim\nCOPY pyproject.toml /src/\n"
        f"RUN {extract(['web'], '/src/pyproject.toml')} && pip install --no-cache-dir -r /tmp/layerwise-requirements.txt\n"
        "COPY . /src\nRUN pip install --no-deps --no-cache-dir -e '/src[web]'\n",
        id="editable-absolute-with-extra",
    ),
    pytest.param(
        # was: "cannot derive a dependencies-only install": uv has one, -r pyproject.toml
        "FROM python:3.11-slim\nRUN pip install --no-cache-dir uv==0.13.9\nWORKDIR /app\nCOPY . .\n"
        "RUN uv pip install --no-cache --system .[web]\n",
        "FROM python:3.11-slim\nRUN pip install --no-cache-dir uv==0.13.9\nWORKDIR /app\nCOPY pyproject.toml ./\n"
        "RUN uv pip install --no-cache --system -r pyproject.toml --extra web\nCOPY . .\n"
        "RUN uv pip install --no-deps --no-cache --system .[web]\n",
        id="uv-pip-install-project",
    ),
    pytest.param(
        "FROM python:3.11-slim\nCOPY . /app\nRUN uv pip install --no-cache --system /app\n",
        "FROM python:3.11-slim\nCOPY pyproject.toml /app/\nRUN uv pip install --no-cache --system -r /app/pyproject.toml\n"
        "COPY . /app\nRUN uv pip install --no-deps --no-cache --system /app\n",
        id="uv-pip-install-absolute",
    ),
    pytest.param(
        # the copy moves past the tool install to the install that uses the tool, in one go
        "FROM python:3.11-slim\nWORKDIR /app\nCOPY . .\nRUN pip install --no-cache-dir uv==0.5.0\n"
        "RUN uv pip install --no-cache --system -r pyproject.toml\n",
        "FROM python:3.11-slim\nWORKDIR /app\nRUN pip install --no-cache-dir uv==0.5.0\n"
        "COPY pyproject.toml ./\nRUN uv pip install --no-cache --system -r pyproject.toml\nCOPY . .\n",
        id="past-a-tool-install",
    ),
    pytest.param(
        # was: moved the copy below `pip install poetry` alone, a fix that fixed nothing: the
        # install it reported (pip wheel) comes after `poetry build`, which needs the code
        "FROM python:3.11\nWORKDIR /project\nCOPY . /project\nRUN pip install --no-cache-dir poetry==1.8.3\n"
        "RUN poetry build --format=wheel\nRUN poetry export -o /tmp/r.txt\nRUN pip wheel -r /tmp/r.txt -w /tmp\n",
        "FROM python:3.11\nWORKDIR /project\nCOPY . /project\nRUN pip install --no-cache-dir poetry==1.8.3\n"
        "RUN poetry build --format=wheel\nRUN poetry export -o /tmp/r.txt\nRUN pip wheel -r /tmp/r.txt -w /tmp\n",
        id="no-fix-past-a-build-that-needs-the-code",
    ),
]


@pytest.mark.parametrize("before, after", CASES)
def test_regression(before, after, tmp_path):
    assert fixed(before, {"pyproject.toml": PYPROJECT}, tmp_path) == after


@pytest.mark.parametrize("extras, deps", [
    (["web", "all"], ["six", "idna>=3", "certifi"]),
    (["all"], ["six", "certifi", "idna>=3"]),  # all = ["My-App[web]", ...]: web's too
    (["nope"], ["six"]),
])  # fmt: skip
def test_extras_program_follows_the_projects_own_extras(tmp_path, extras, deps):
    """The one-liner, run as the image would run it (``sh -c``)."""
    import subprocess
    import sys

    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    cmd = extract(extras).replace("python3", sys.executable, 1)
    subprocess.run(["sh", "-c", cmd.replace("/tmp/layerwise-requirements.txt", "out.txt")], cwd=tmp_path, check=True)
    assert (tmp_path / "out.txt").read_text().splitlines() == deps
