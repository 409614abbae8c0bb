"""The shared install recogniser (layerwise.analyses.installs): one table of shell texts."""

import pytest

from layerwise.analyses.installs import classify, split_commands


def installs(text):
    return [i for i in (classify(argv) for argv in split_commands(text)) if i is not None]


@pytest.mark.parametrize(
    "text,manager,reads,project,packages",
    [
        ("pip install -r requirements.txt", "pip", ["requirements.txt"], False, []),
        ("python -m pip install -rreq.txt -c c.txt", "pip", ["req.txt", "c.txt"], False, []),
        ("python3.12 -m pip install --no-cache-dir flask==3", "pip", [], False, ["flask==3"]),
        ("/venv/bin/pip3 install -e .[dev]", "pip", [], True, []),
        ("pip3 --no-cache-dir install --editable '.[server]'", "pip", [], True, []),
        ("pip install --index-url https://x/simple flask", "pip", [], False, ["flask"]),
        ("pip install --requirement=r.txt", "pip", ["r.txt"], False, []),
        ("uv pip install --system -r r.txt", "uv-pip", ["r.txt"], False, []),
        ("uv sync --locked --no-install-project", "uv", ["pyproject.toml", "uv.lock"], False, []),
        ("uv sync --frozen", "uv", ["pyproject.toml", "uv.lock"], True, []),
        ("poetry install --no-root --only main", "poetry", ["pyproject.toml", "poetry.lock"], False, []),
        ("pdm install --prod --no-self", "pdm", ["pyproject.toml", "pdm.lock"], False, []),
        ("pipenv install --deploy --system", "pipenv", ["Pipfile", "Pipfile.lock"], False, []),
        ("pip-sync requirements.txt dev.txt", "pip-sync", ["requirements.txt", "dev.txt"], False, []),
        ("micromamba install -y -n base -f /tmp/env.yaml", "conda", ["/tmp/env.yaml"], False, []),
        ("conda env create -f environment.yml", "conda", ["environment.yml"], False, []),
        ("python setup.py develop", "setuptools", ["setup.py"], True, []),
        ("sudo -E PIP_NO_CACHE_DIR=1 pip install x", "pip", [], False, ["x"]),
    ],
)
def test_recognised(text, manager, reads, project, packages):
    (x,) = installs(text)
    assert (x.manager, x.reads, x.project, x.packages) == (manager, reads, project, packages)


def test_chains_and_keywords():
    text = "apt-get update && apt-get install -y gcc; if [ -f r.txt ]; then pip install -r r.txt; fi || true"
    assert [x.manager for x in installs(text)] == ["pip"]


def test_options_before_subcommand_are_kept():
    (x,) = installs("pip3 --no-cache-dir install flask")
    assert x.has("--no-cache-dir")


def test_unparseable_shell_is_not_a_crash():
    assert split_commands("pip install 'unterminated") is None


@pytest.mark.parametrize("text", ["pip --version", "pip freeze", "python -m venv /venv", "uv venv", "echo pip install x"])
def test_not_installs(text):
    assert installs(text) == []


@pytest.mark.parametrize(
    "text,manager,reads,project,packages",
    [
        # a command run in the project's environment by a runner is that command's install
        ("pdm run pip install -r requirements.txt", "pip", ["requirements.txt"], False, []),
        ("pdm run -v python -m pip install --no-deps .", "pip", [], True, []),
        ("uv run --with setuptools -- pip install flask==3", "pip", [], False, ["flask==3"]),
        ("poetry run pip install six==1.17.0", "pip", [], False, ["six==1.17.0"]),
        ("PDM_NO_CACHE=1 pdm run pdm install --prod", "pdm", ["pyproject.toml", "pdm.lock"], True, []),
    ],
)
def test_runner_commands(text, manager, reads, project, packages):
    (x,) = installs(text)
    assert (x.manager, x.reads, x.project, x.packages) == (manager, reads, project, packages)


def test_runner_of_something_else_is_no_install():
    assert installs("pdm run python app.py && uv run pytest") == []
