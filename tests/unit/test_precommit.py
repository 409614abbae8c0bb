"""The pre-commit hook (.pre-commit-hooks.yaml): it runs when a Dockerfile or only what the rules
read changes, and then checks the project (``check --changed-files``), never reading a
requirements or lock file as a Dockerfile. The last test runs the real ``pre-commit``."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from layerwise.cli import main

ROOT = Path(__file__).resolve().parents[2]
HOOKS = (ROOT / ".pre-commit-hooks.yaml").read_text()


def hook_field(name: str) -> str:
    (value,) = re.findall(rf"^  {name}: (.*)$", HOOKS, re.M)
    return value


FILES = re.compile(hook_field("files"))

BAD = "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\nCMD python app.py\n"


@pytest.mark.parametrize("path", [
    "Dockerfile", "docker/Dockerfile.prod", "Containerfile", "app.dockerfile", "dockerfile",
    ".dockerignore", "svc/.dockerignore", "Dockerfile.dockerignore", "app.Dockerfile.dockerignore",
    "requirements.txt", "requirements-dev.txt", "requirements.in", "requirements/base.txt", "api/constraints.txt",
    "pyproject.toml", "svc/pyproject.toml", "uv.lock", "poetry.lock", "pdm.lock", "Pipfile", "Pipfile.lock",
    "setup.py", "setup.cfg", ".github/workflows/ci.yml", ".github/workflows/build.yaml", ".gitlab-ci.yml",
])  # fmt: skip
def test_hook_runs_for(path):
    assert FILES.search(path), path


@pytest.mark.parametrize("path", ["app.py", "README.md", "src/pyproject.toml.bak", "docs/requirements.md",
                                  "package-lock.json", "Cargo.lock", "my_dockerfile_notes.txt",
                                  ".github/dependabot.yml", "ci/workflows/x.yml"])  # fmt: skip
def test_hook_skips(path):
    assert not FILES.search(path), path


def test_the_hook_checks_the_project(capsys):
    assert hook_field("entry") == "layerwise check --changed-files"
    assert "exclude" not in re.findall(r"^  (\w+):", HOOKS, re.M)


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)


def run_changed(root: Path, files: list[str], capsys) -> tuple[int, list[dict], str]:
    cwd = os.getcwd()
    os.chdir(root)
    try:
        with pytest.raises(SystemExit) as exc:
            main(["check", "--changed-files", "--format", "json", *files])
    finally:
        os.chdir(cwd)
    out, err = capsys.readouterr()
    return exc.value.code, json.loads(out), err


def test_a_changed_requirements_file_checks_the_dockerfile_above_it(tmp_path, capsys):
    write(tmp_path, {"Dockerfile": BAD, "requirements.txt": "flask==3.0.0\n", "app.py": "",
                     "svc/api/Dockerfile": BAD, "svc/api/requirements/base.txt": "flask==3.0.0\n",
                     "svc/api/Dockerfile.prod": BAD, "svc/api/notes.dockerignore": "",
                     "svc/api/uv.lock": "version = 1\n", "docs/notes/requirements.txt": "x==1\n"})  # fmt: skip
    code, found, err = run_changed(tmp_path, ["requirements.txt"], capsys)
    assert code == 1 and not err, err
    assert {f["filename"] for f in found} == {"Dockerfile"}
    assert "LW101" in {f["code"] for f in found}  # the project's rule, with its context
    code, found, err = run_changed(tmp_path, ["svc/api/requirements/base.txt", "svc/api/uv.lock"], capsys)
    assert {f["filename"] for f in found} == {os.path.join("svc", "api", n) for n in ("Dockerfile", "Dockerfile.prod")}
    assert not err
    # a file of a folder without a Dockerfile belongs to the project around it (the root here)
    code, found, err = run_changed(tmp_path, ["docs/notes/requirements.txt"], capsys)
    assert {f["filename"] for f in found} == {"Dockerfile"} and not err
    # a CI workflow: the root project, whose builds it runs
    code, found, err = run_changed(tmp_path, [".github/workflows/ci.yml"], capsys)
    assert {f["filename"] for f in found} == {"Dockerfile"} and not err
    # both Dockerfiles, each once
    code, found, err = run_changed(tmp_path, ["Dockerfile", "pyproject.toml", ".dockerignore", "svc/api/Dockerfile",
                                              "svc/api/uv.lock"], capsys)  # fmt: skip
    files = [f["filename"] for f in found if f["code"] == "LW101"]
    assert sorted(files) == sorted(["Dockerfile", os.path.join("svc", "api", "Dockerfile"),
                                    os.path.join("svc", "api", "Dockerfile.prod")])  # fmt: skip


def test_a_file_of_no_project_is_skipped(tmp_path, capsys):
    write(tmp_path, {"requirements.txt": "flask\n", "pyproject.toml": "[project]\nname = 'x'\n"})
    code, found, err = run_changed(tmp_path, ["requirements.txt", "pyproject.toml"], capsys)
    assert (code, found, err) == (0, [], "")


def test_a_per_dockerfile_ignore_file_checks_its_dockerfile(tmp_path, capsys):
    write(tmp_path, {"docker/app.Dockerfile": BAD, "docker/app.Dockerfile.dockerignore": ".git\n",
                     "requirements.txt": "flask==3.0.0\n"})  # fmt: skip
    _, found, err = run_changed(tmp_path, ["docker/app.Dockerfile.dockerignore"], capsys)
    assert {f["filename"] for f in found} == {os.path.join("docker", "app.Dockerfile")} and not err


def _pre_commit() -> str | None:
    here = Path(sys.executable).parent / "pre-commit"
    return str(here) if here.exists() else shutil.which("pre-commit")


@pytest.mark.slow
@pytest.mark.skipif(_pre_commit() is None, reason="pre-commit is not installed (pip install pre-commit)")
def test_real_pre_commit_runs_the_hook_on_a_requirements_change(tmp_path):
    """The real pre-commit, offline: a local hook made of this repository's hook definition
    (its files pattern and entry; `language: system` so that nothing is installed)."""
    repo = tmp_path / "repo"
    write(repo, {"Dockerfile": BAD, "requirements.txt": "flask==3.0.0\n", "app.py": "print(1)\n",
                 ".pre-commit-config.yaml": (
                     "repos:\n- repo: local\n  hooks:\n  - id: layerwise-check\n    name: layerwise check\n"
                     f"    entry: {sys.executable} -m layerwise check --changed-files\n    language: system\n"
                     f"    files: '{hook_field('files')}'\n    types: [file]\n    require_serial: true\n")})  # fmt: skip
    env = dict(os.environ, PRE_COMMIT_HOME=str(tmp_path / "pc-home"), GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@t", GIT_CONFIG_GLOBAL=os.devnull)  # fmt: skip

    def git(*args):
        return subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True)

    def pre_commit(*files):
        return subprocess.run([_pre_commit(), "run", "--files", *files], cwd=repo, env=env, check=False,
                              capture_output=True, text=True, timeout=120)  # fmt: skip

    git("init", "-q")
    git("add", ".")
    r = pre_commit("requirements.txt")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "Dockerfile:3:1: LW101" in r.stdout, r.stdout
    assert "requirements.txt:1:1: error" not in r.stdout  # not parsed as a Dockerfile
    r = pre_commit("app.py")
    assert r.returncode == 0 and "(no files to check)Skipped" in r.stdout.replace(".", ""), r.stdout
