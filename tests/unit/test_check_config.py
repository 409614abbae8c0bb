"""[tool.layerwise] in pyproject.toml, and how `layerwise check` finds the Dockerfile and context."""

from __future__ import annotations

import json
import os

import pytest

from layerwise.cli import main
from layerwise.config import load_config
from layerwise.errors import UsageError

BAD = "FROM python:3.12\nCOPY . .\nRUN pip install -r requirements.txt\n"


def run(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    out, err = capsys.readouterr()
    return exc.value.code, out, err


def test_defaults_without_table(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[project]\nname='x'\n")
    cfg = load_config(tmp_path)
    assert cfg.select is None and cfg.ignore == [] and cfg.severity == {}


def test_values(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.layerwise]\nselect=["lw1"]\nextend-ignore=["LW104"]\nseverity={lw101="warning"}\n'
        'dockerfile="docker/Dockerfile"\ncontext="."\nformat="json"\n'
    )
    (tmp_path / "sub").mkdir()
    (tmp_path / ".git").mkdir()  # one repository: its pyproject.toml configures sub/ too
    cfg = load_config(tmp_path / "sub")
    assert (cfg.select, cfg.ignore, cfg.severity, cfg.format) == (["LW1"], ["LW104"], {"LW101": "warning"}, "json")
    assert cfg.resolve(cfg.dockerfile) == os.path.normpath(tmp_path / "docker" / "Dockerfile")


@pytest.mark.parametrize("body", ['select="LW1"\nformat="xml"', 'severity={LW101="fatal"}', "bogus=1", "select=[1]"])
def test_invalid(tmp_path, body):
    (tmp_path / "pyproject.toml").write_text("[tool.layerwise]\n" + body + "\n")
    with pytest.raises(UsageError):
        load_config(tmp_path)


def test_configured_dockerfile_and_format(tmp_path, capsys, monkeypatch):
    (tmp_path / "docker").mkdir()
    (tmp_path / "docker" / "Dockerfile").write_text(BAD)
    (tmp_path / "requirements.txt").write_text("flask==3.0.3\n")
    (tmp_path / "pyproject.toml").write_text('[tool.layerwise]\ndockerfile="docker/Dockerfile"\nformat="json"\nselect=["LW101"]\n')
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(["check"], capsys)
    assert code == 1 and [f["code"] for f in json.loads(out)] == ["LW101"]


def test_named_dockerfile_gets_the_project_around_it_as_context(tmp_path, capsys, monkeypatch):
    (tmp_path / "docker").mkdir()
    (tmp_path / "docker" / "Dockerfile").write_text(BAD)
    (tmp_path / "requirements.txt").write_text("flask\n")  # unpinned: LW401 needs the context to see it
    (tmp_path / ".dockerignore").write_text(".git\n")
    monkeypatch.chdir(tmp_path)
    _, out, _ = run(["check", "docker/Dockerfile", "--format", "json", "--select", "LW401"], capsys)
    assert [f["filename"] for f in json.loads(out)] == ["requirements.txt"]
    _, out, _ = run(["check", "docker/Dockerfile", "--no-context", "--format", "json", "--select", "LW401"], capsys)
    assert json.loads(out) == []
