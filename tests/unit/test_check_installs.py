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


def test_pdm_run_script_of_the_pyproject_is_its_install():
    """`pdm run deps` runs `[tool.pdm.scripts] deps`: its install is the RUN's (with a check
    of the project: the rules see it through RuleContext.analysis)."""
    from layerwise.analyses.installs import analyse_run, pdm_scripts, with_scripts
    from layerwise.parse import parse
    from layerwise.parse.instructions import Run
    from tests.unit.rules.helpers import findings

    scripts = pdm_scripts({"tool": {"pdm": {"scripts": {
        "deps": "pdm install --prod", "web": {"cmd": ["pip", "install", "-r", "web.txt"]},
        "both": {"shell": "pdm sync && echo ok"}, "_": {"composite": ["deps", "web"]}}}}})  # fmt: skip
    assert scripts == {"deps": "pdm install --prod", "web": "pip install -r web.txt", "both": "pdm sync && echo ok"}
    (node,) = [n for n in parse("FROM x\nRUN PDM_NO_CACHE=1 pdm run web && pdm run both\n").nodes if n.cmd == "run"]
    from layerwise.parse.instructions import parse_instruction

    run = parse_instruction(node)
    assert isinstance(run, Run)
    a = with_scripts(analyse_run(run), scripts)
    assert [(x.manager, x.reads) for x in a.installs] == [("pip", ["web.txt"]), ("pdm", ["pyproject.toml", "pdm.lock"])]
    assert a.installs[0].env == {"PDM_NO_CACHE": "1"}
    files = {"pyproject.toml": '[project]\nname = "x"\nversion = "1"\n[tool.pdm.scripts]\ndeps = "pdm install --prod"\n'}
    (f,) = findings("LW201", "FROM python:3.12\nRUN pdm run deps\n", files)
    assert "/root/.cache/pdm" in f.message and f.fix is None  # the script is not the Dockerfile's to edit
    assert not findings("LW201", "FROM python:3.12\nRUN pdm run deps\n")  # without the project: unknown
