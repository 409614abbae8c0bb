"""One build-context rule for every command, as ``docker build -f DOCKERFILE PATH``: the
context is PATH when a folder is given, else the current folder; a Dockerfile elsewhere
(``docker/Dockerfile``) does not move it, and the output says which context was used."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from layerwise.cli import main

DOCKERFILE = 'FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN pip install --no-cache-dir -r requirements.txt\nUSER nobody\nCMD ["python", "app.py"]\n'


def run(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    out, err = capsys.readouterr()
    return exc.value.code, out, err


@pytest.fixture
def proj(tmp_path: Path, monkeypatch) -> Path:
    """A project that keeps its Dockerfile in docker/ and is built from its root."""
    (tmp_path / "docker").mkdir()
    (tmp_path / "docker" / "Dockerfile").write_text(DOCKERFILE)
    (tmp_path / "requirements.txt").write_text("flask==3.0.3\n")
    (tmp_path / "app.py").write_text("print('hi')\n")
    (tmp_path / ".env").write_text("SECRET_KEY=abc\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def codes(out: str) -> set[str]:
    return {line.split()[1] for line in out.splitlines() if line.startswith("docker/Dockerfile:")}


@pytest.mark.parametrize("argv", [["-f", "docker/Dockerfile"], ["docker/Dockerfile"], ["-f", "docker/Dockerfile", "."]])
def test_check_uses_the_current_folder_as_context(proj, capsys, argv):
    code, out, _ = run(["check", *argv], capsys)
    assert code == 1
    assert out.splitlines()[0] == "context: . (Dockerfile: docker/Dockerfile)"
    # the .env that COPY . . bakes in is found, and the missing .dockerignore is the project's
    assert {"LW305", "LW301"} <= codes(out), out
    (proj / ".dockerignore").write_text(".env\n.git\n")
    _, out, _ = run(["check", *argv], capsys)
    assert not {"LW305", "LW301"} & codes(out), out  # no false "no .dockerignore"


def test_check_json_names_the_context_of_every_finding(proj, capsys):
    _, out, _ = run(["check", "-f", "docker/Dockerfile", "--format", "json"], capsys)
    data = json.loads(out)
    assert data and {f["context"] for f in data} == {"."}
    _, out, _ = run(["check", "-f", "docker/Dockerfile", "--no-context", "--format", "json"], capsys)
    assert {f["context"] for f in json.loads(out)} == {None}


def test_check_path_is_the_context(proj, capsys):
    (proj / "docker" / "requirements.txt").write_text("flask==3.0.3\n")
    _, out, _ = run(["check", "docker", "-f", "docker/Dockerfile"], capsys)
    assert not out.startswith("context:")  # the Dockerfile is in its context folder: nothing to say
    assert "LW305" not in codes(out)  # docker/ holds no .env
    _, out, _ = run(["check", "--context", "docker", "docker/Dockerfile"], capsys)
    assert "LW305" not in codes(out)


def test_a_dockerfile_in_its_context_folder_stays_silent(proj, capsys, monkeypatch):
    monkeypatch.chdir(proj / "docker")
    (proj / "docker" / ".dockerignore").write_text(".git\n")
    (proj / "docker" / "requirements.txt").write_text("flask==3.0.3\n")
    _, out, _ = run(["check"], capsys)
    assert "context:" not in out


def test_a_dockerfile_outside_the_current_folder_is_checked_alone(proj, capsys, tmp_path_factory):
    other = tmp_path_factory.mktemp("elsewhere") / "Dockerfile"
    other.write_text(DOCKERFILE)
    _, out, _ = run(["check", str(other)], capsys)
    assert out.splitlines()[0].startswith("context: none (Dockerfile: ")
    assert "outside the current folder" in out.splitlines()[0]


def test_configured_dockerfile_uses_the_project_folder(proj, capsys):
    (proj / "pyproject.toml").write_text('[tool.layerwise]\ndockerfile = "docker/Dockerfile"\n')
    _, out, _ = run(["check"], capsys)
    assert out.splitlines()[0] == "context: . (Dockerfile: docker/Dockerfile)"
    assert "LW305" in codes(out)


def test_fix_uses_the_same_context(proj, capsys):
    _, out, err = run(["fix", "-f", "docker/Dockerfile", "--diff"], capsys)
    assert err.splitlines()[0] == "context: . (Dockerfile: docker/Dockerfile)"
    assert "+++ b/.dockerignore" in out and "docker/.dockerignore" not in out
    (proj / "pyproject.toml").write_text('[tool.layerwise]\ndockerfile = "docker/Dockerfile"\n')
    _, out, err = run(["fix", "--diff"], capsys)
    assert err.splitlines()[0] == "context: . (Dockerfile: docker/Dockerfile)"
    assert "+++ b/.dockerignore" in out


def test_explain_says_which_context(proj, capsys):
    _, out, _ = run(["explain", "-f", "docker/Dockerfile", "--before", ".", "--format", "json"], capsys)
    data = json.loads(out)
    assert (data["context"], data["dockerfile"]) == (".", "docker/Dockerfile")
    _, out, _ = run(["explain", "-f", "docker/Dockerfile", "--before", "."], capsys)
    assert out.splitlines()[1] == "context: . (Dockerfile: docker/Dockerfile)"


def test_bench_says_which_context_before_it_looks_for_an_engine(proj, capsys, monkeypatch):
    monkeypatch.setenv("LAYERWISE_ENGINE_DIR", str(proj / "no-engine"))
    monkeypatch.setenv("PATH", str(proj / "no-bin"))  # no docker command: it stops before building
    code, _, err = run(["bench", "-f", "docker/Dockerfile"], capsys)
    assert code == 2
    assert err.splitlines()[0] == "context: . (Dockerfile: docker/Dockerfile)"
