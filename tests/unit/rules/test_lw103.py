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


def test_includes_of_a_file_copied_to_an_absolute_path():
    """pip reads `-r base.txt` inside /etc/requirements.txt as /etc/base.txt (next to the
    including file), whatever the WORKDIR: missing there, the build fails."""
    files = {"requirements.txt": "-r base.txt\nflask==3.0.3\n", "base.txt": "six==1.17.0\n"}
    (f,) = catches(CODE, "FROM python:3.12\nWORKDIR /app\nCOPY requirements.txt /etc/requirements.txt\n"
                         "RUN pip install -r /etc/requirements.txt\n", files)  # fmt: skip
    assert "/etc/base.txt (included by /etc/requirements.txt)" in f.message
    passes(CODE, "FROM python:3.12\nWORKDIR /app\nCOPY requirements.txt base.txt /etc/\n"
                 "RUN pip install -r /etc/requirements.txt\n", files)  # fmt: skip
    # nested: a copied folder, includes two levels down, relative to each including file
    nested = {"req/prod.txt": "-r common/base.txt\n", "req/common/base.txt": "-c pins.txt\nsix\n",
              "req/common/pins.txt": "six==1.17.0\n"}  # fmt: skip
    passes(CODE, "FROM python:3.12\nCOPY req /opt/req\nRUN pip install -r /opt/req/prod.txt\n", nested)
    (f,) = catches(CODE, "FROM python:3.12\nCOPY req/prod.txt req/common/base.txt /opt/req/\n"
                         "RUN pip install -r /opt/req/prod.txt\n", nested)  # fmt: skip
    assert "/opt/req/common/base.txt" in f.message


def test_setuptools_builds_without_its_license_file_so_it_is_a_warning():
    """setuptools only warns (BuildBackendWarning) about a missing `license = {file}` or
    readme and builds: the finding says so, as a warning; other backends fail: an error."""
    setuptools = ('[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n'
                  '[project]\nname = "a"\nversion = "1"\nlicense = {file = "LICENSE"}\n')  # fmt: skip
    files = {"pyproject.toml": setuptools, "LICENSE": "MIT\n", "a/__init__.py": ""}
    df = "FROM python:3.12\nWORKDIR /app\nCOPY pyproject.toml ./\nCOPY a a\nRUN pip install .\n"
    (f,) = catches(CODE, df, files)
    assert f.severity == "warning" and "setuptools builds without it, with a warning" in f.message
    hatch = {**files, "pyproject.toml": setuptools.replace('requires = ["setuptools"]', 'requires = ["hatchling"]')
             .replace("setuptools.build_meta", "hatchling.build")}  # fmt: skip
    (f,) = catches(CODE, df, hatch)
    assert f.severity == "error" and "needs /app/LICENSE" in f.message
