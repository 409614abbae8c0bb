"""The library entry points (layerwise.api): what the CLI commands call and print."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import layerwise
from layerwise.errors import LayerwiseError, UsageError
from tests.shared import run_cli

BAD = 'FROM python:3.12-slim\nWORKDIR /app\nADD . /app\nRUN pip install -r requirements.txt\nCMD ["python", "app.py"]\n'


def project(root: Path, dockerfile: str = BAD, **files: str) -> Path:
    (root / "Dockerfile").write_text(dockerfile)
    (root / "requirements.txt").write_text("flask==3.0.3\n")
    (root / "app.py").write_text("print('hi')\n")
    for name, text in files.items():
        (root / name).write_text(text)
    return root


def test_check_project_is_what_the_cli_prints(tmp_path):
    p = project(tmp_path)
    result = layerwise.check_project(p)
    cli_out = run_cli(["check", str(p), "--format", "json"])
    assert cli_out.exit_code == 1
    assert [(f.code, f.line) for f in result.findings] == [(f["code"], f["location"]["row"]) for f in json.loads(cli_out.output)]
    assert {"LW101", "LW301", "LW502"} <= {f.code for f in result.findings}  # LW301: the context was used


def test_check_project_selection_config_and_no_context(tmp_path):
    p = project(tmp_path, **{"pyproject.toml": '[tool.layerwise]\nignore = ["LW502"]\nseverity = {LW101 = "info"}\n'})
    result = layerwise.check_project(p)
    codes = {f.code: f.severity for f in result.findings}
    assert "LW502" not in codes and codes["LW101"] == "info"
    assert "LW502" in {f.code for f in layerwise.check_project(p, config=False).findings}
    only = layerwise.check_project(p, select="LW5", ignore=["LW503", "LW504"], config=False)
    assert {f.code for f in only.findings} == {"LW502"}
    # a Dockerfile named alone: the project folder around it is the context
    assert "LW301" in {f.code for f in layerwise.check_project(p / "Dockerfile").findings}
    assert "LW301" not in {f.code for f in layerwise.check_project(p, no_context=True).findings}


def test_check_project_errors(tmp_path):
    with pytest.raises(UsageError, match="no Dockerfile here"):
        layerwise.check_project(tmp_path)
    with pytest.raises(UsageError, match="unknown rule code"):
        layerwise.check_project(project(tmp_path), select=["LW1O1"])
    (tmp_path / "Dockerfile").write_text("FROM python:3.12\nRUN [\"x\"\n")
    (tmp_path / "Broken").write_text("FROM\n")
    with pytest.raises(LayerwiseError) as exc:
        layerwise.check_project(tmp_path / "Broken")
    assert str(exc.value).startswith(f"{tmp_path / 'Broken'}:1")


def test_explain_project(tmp_path):
    p = project(tmp_path)

    def git(*args):
        subprocess.run(["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args], cwd=p, check=True,
                       capture_output=True)  # fmt: skip

    git("init", "-q")
    git("add", "-A")
    git("commit", "-qm", "init")
    (p / "app.py").write_text("print('changed')\n")
    got = layerwise.explain_project(str(p))
    assert got.before.startswith("HEAD") and got.after
    status = {s.line: s.status for s in got.explanation.steps}
    assert status[2] == "cached" and status[3] == "rebuilt" and status[4] == "rebuilt"
    cli_out = run_cli(["explain", str(p), "--format", "json"])
    assert {s["line"]: s["status"] for s in json.loads(cli_out.output)["steps"]} == status


def _committed(p: Path) -> Path:
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "init"]):
        subprocess.run(["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args], cwd=p, check=True,
                       capture_output=True)  # fmt: skip
    return p


def test_explain_project_of_unsaved_dockerfile_text(tmp_path):
    """An editor's unsaved text: its lines are the steps' lines, and the context sends it
    (``ADD . /app`` copies the Dockerfile as it will be saved)."""
    p = _committed(project(tmp_path, **{".dockerignore": "**/.git\n"}))

    def status(**kw):
        return {s.line: s.status for s in layerwise.explain_project(str(p), timings=False, **kw).explanation.steps}

    on_disk = status()
    assert on_disk[3] == on_disk[4] == "cached"
    text = BAD.replace("WORKDIR /app\n", "WORKDIR /app\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\n")
    moved = status(dockerfile_text=text)
    assert moved[2] == "cached" and moved[3] == moved[4] == moved[5] == "rebuilt" and 7 in moved
    commented = layerwise.explain_project(str(p), dockerfile_text=BAD + "# a comment\n", timings=False)
    add = next(s for s in commented.explanation.steps if s.line == 3)
    assert add.status == "rebuilt" and add.cause.type == "files"
    assert "Dockerfile" in [x["path"] for x in add.cause.detail["paths"]]
    assert (p / "Dockerfile").read_text() == BAD  # nothing written
    # the Dockerfile left out of the context: a comment in it no longer changes what ADD copies
    (p / ".dockerignore").write_text("**/.git\nDockerfile\n")
    _committed(p)
    assert status(dockerfile_text=BAD + "# a comment\n") == on_disk


def test_explain_project_keeps_its_walks_in_the_dict_given(tmp_path):
    p = _committed(project(tmp_path))
    walks: dict = {}
    first = layerwise.explain_project(str(p), walks=walks, timings=False)
    assert walks and {s.line: s.status for s in first.explanation.steps}[3] == "cached"
    (p / "app.py").write_text("print('changed')\n")
    kept = layerwise.explain_project(str(p), walks=walks, timings=False)
    assert {s.line: s.status for s in kept.explanation.steps}[3] == "cached"  # the kept walk: app.py as it was
    walks.clear()  # what a caller does when a file changes
    fresh = layerwise.explain_project(str(p), walks=walks, timings=False)
    assert {s.line: s.status for s in fresh.explanation.steps}[3] == "rebuilt"
    assert {s.line: s.status for s in layerwise.explain_project(str(p), timings=False).explanation.steps}[3] == "rebuilt"


def test_import_layerwise_stays_cheap():
    out = subprocess.run([sys.executable, "-c", "import sys, layerwise; print(sorted(m for m in sys.modules if m.startswith('layerwise')))"],
                         capture_output=True, text=True, check=True)  # fmt: skip
    assert out.stdout.strip() == "['layerwise']"
    with pytest.raises(AttributeError):
        layerwise.no_such_thing  # noqa: B018


def test_check_text_without_and_with_context(tmp_path):
    result = layerwise.check_text(BAD, select=["LW5"], ignore="LW503")
    assert [(f.code, f.line, f.path) for f in result.findings] == [("LW502", 3, "Dockerfile")]
    assert not layerwise.check_text(BAD, select="LW301").findings  # needs the context: skipped
    p = project(tmp_path)
    with_ctx = layerwise.check_text(BAD, context=p, select="LW301")
    assert [f.code for f in with_ctx.findings] == ["LW301"]
    # in memory: the text is checked, not the file on disk
    (p / "Dockerfile").write_text("FROM scratch\n")
    assert [f.code for f in layerwise.check_text(BAD, context=p, select="LW101").findings] == ["LW101"]


def test_check_text_directives_and_severities():
    text = BAD.replace("ADD . /app", "# layerwise: ignore[LW502] -- kept\nADD . /app")
    assert "LW502" not in {f.code for f in layerwise.check_text(text).findings}
    (f,) = layerwise.check_text(BAD, select="LW502", severities={"LW502": "error"}).findings
    assert f.severity == "error"
    with pytest.raises(LayerwiseError) as exc:
        layerwise.check_text("FROM python\nRUN [\"x\"\nFROM\n", path="svc/Dockerfile")
    assert str(exc.value).startswith("svc/Dockerfile:")
