import pytest

from tests.unit.rules.helpers import catches, passes

CODE = "LW103"

CATCHES = [
    ("FROM python:3.12\nCOPY requirements.txt .\nRUN pip install -r requirements-dev.txt\n", 3),
    ("FROM python:3.12\nWORKDIR /app\nRUN pip install -r requirements.txt\n", 3),
    ("FROM python:3.12\nCOPY requirements.txt .\nRUN pip install -e .\n", 3),
    ("FROM python:3.12\nCOPY pyproject.toml .\nRUN uv sync --locked\n", 3),
    ("FROM python:3.12\nCOPY poetry.lock .\nRUN poetry install --no-root\n", 3),
    ("FROM python:3.12\nRUN pip install -c constraints.txt flask\n", 2),
]
PASSES = [
    "FROM python:3.12\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\n",
    "FROM python:3.12\nWORKDIR /app\nCOPY requirements.txt /app/\nRUN pip install -r requirements.txt\n",
    "FROM python:3.12\nCOPY requirements.txt /tmp/\nRUN pip install -r /tmp/requirements.txt\n",
    "FROM python:3.12\nCOPY . .\nRUN pip install -e . -r requirements.txt\n",
    "FROM python:3.12\nRUN --mount=type=bind,source=uv.lock,target=uv.lock --mount=type=bind,source=pyproject.toml,target=pyproject.toml uv sync --locked --no-install-project\n",
    "FROM python:3.12\nCOPY pyproject.toml poetry.lock ./\nRUN poetry export -o requirements.txt && pip install -r requirements.txt\n",
    "FROM python:3.12\nRUN pip install -r $REQS\n",
    "FROM python:3.12 AS b\nCOPY requirements.txt /r/\nFROM b\nRUN pip install -r /r/requirements.txt\n",
    "FROM python:3.12\nCOPY --from=builder /app /app\nRUN pip install -r /app/requirements.txt\n",
    "FROM python:3.12\nCOPY requirements /requirements\nRUN pip install -r /requirements/prod.txt\n",
]


@pytest.mark.parametrize("dockerfile,line", CATCHES)
def test_catches(dockerfile, line):
    catches(CODE, dockerfile, line=line)


@pytest.mark.parametrize("dockerfile", PASSES)
def test_passes(dockerfile):
    passes(CODE, dockerfile)


def test_requirements_include_from_context():
    (f,) = catches(CODE, "FROM python:3.12\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\n",
                   {"requirements.txt": "-r base.txt\nflask==3\n", "base.txt": "click==8\n"})  # fmt: skip
    assert "base.txt" in f.message


def test_readme_named_by_pyproject():
    (f,) = catches(CODE, "FROM python:3.12\nCOPY pyproject.toml .\nCOPY src src\nRUN pip install .\n",
                   {"pyproject.toml": '[project]\nname="a"\nversion="1"\nreadme="README.md"\n', "README.md": "x"})  # fmt: skip
    assert "README.md" in f.message


def test_setup_py_of_the_project():
    (f,) = catches(CODE, "FROM python:3.12\nCOPY pyproject.toml .\nCOPY src src\nRUN pip install .\n",
                   {"pyproject.toml": "[build-system]\nrequires=['setuptools']\n", "setup.py": "import setuptools\n"})  # fmt: skip
    assert "setup.py" in f.message
    passes(CODE, "FROM python:3.12\nCOPY pyproject.toml setup.py ./\nCOPY src src\nRUN pip install .\n",
           {"pyproject.toml": "[build-system]\nrequires=['setuptools']\n", "setup.py": "import setuptools\n"})  # fmt: skip
