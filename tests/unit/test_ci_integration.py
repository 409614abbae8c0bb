"""layerwise inside CI: the GitHub Action (action.yml) and the GitLab job (docs/ci/gitlab-ci.yml)
run their real scripts on a project, and GitLab's code-quality report is what GitLab reads."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from layerwise.analyses.findings import Finding
from layerwise.report.gitlab import render_gitlab

REPO = Path(__file__).resolve().parents[2]
BAD = "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n"


def _project(tmp_path: Path) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "Dockerfile").write_text(BAD)
    (tmp_path / "requirements.txt").write_text("flask==3.0.3\n")
    return tmp_path


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env.update(GITHUB_OUTPUT=str(tmp_path / "out.txt"), RUNNER_TEMP=str(tmp_path), **extra)
    return env


def test_gitlab_report_fields_and_stable_fingerprints():
    a = Finding("LW101", "COPY before install", "Dockerfile", 3, severity="error")
    moved = Finding("LW101", "COPY before install", "Dockerfile", 9, severity="error")
    (issue,) = json.loads(render_gitlab([a]))
    assert issue["check_name"] == "LW101" and issue["severity"] == "major"
    assert issue["location"] == {"path": "Dockerfile", "lines": {"begin": 3}}
    assert issue["description"].startswith("LW101 ")
    assert json.loads(render_gitlab([moved]))[0]["fingerprint"] == issue["fingerprint"]
    other = Finding("LW201", "COPY before install", "Dockerfile", 3)
    assert json.loads(render_gitlab([other]))[0]["fingerprint"] != issue["fingerprint"]


def _action_step(name: str) -> dict:
    action = YAML(typ="safe").load((REPO / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    return next(s for s in action["runs"]["steps"] if s.get("name") == name)


@pytest.mark.slow
@pytest.mark.parametrize("fail,code", [("true", 1), ("false", 0)])
def test_action_annotates_and_fails_on_findings(tmp_path, fail, code):
    step = _action_step("layerwise check")
    proj = _project(tmp_path / "p")
    env = _env(tmp_path, LW_ARGS="", LW_SARIF="false", LW_FAIL=fail)
    r = subprocess.run(["bash", "-e", "-c", step["run"]], cwd=proj, env=env, capture_output=True, text=True,
                       check=False)  # fmt: skip
    assert r.returncode == code, r.stderr
    assert "::error file=Dockerfile,line=3" in r.stdout
    assert (tmp_path / "out.txt").read_text() == "exit-code=1\n"


@pytest.mark.slow
def test_action_writes_sarif_for_upload(tmp_path):
    step = _action_step("layerwise check")
    proj = _project(tmp_path / "p")
    env = _env(tmp_path, LW_ARGS="--select LW101", LW_SARIF="true", LW_FAIL="true")
    r = subprocess.run(["bash", "-e", "-c", step["run"]], cwd=proj, env=env, capture_output=True, text=True,
                       check=False)  # fmt: skip
    assert r.returncode == 0, r.stderr  # the upload step runs; a later step fails the job
    sarif = json.loads((tmp_path / "layerwise.sarif").read_text())
    assert {res["ruleId"] for res in sarif["runs"][0]["results"]} == {"LW101"}


@pytest.mark.slow
def test_gitlab_job_script_writes_the_code_quality_report(tmp_path):
    job = YAML(typ="safe").load((REPO / "docs/ci/gitlab-ci.yml").read_text())["layerwise"]
    assert job["artifacts"]["reports"]["codequality"] == "gl-code-quality-report.json"
    proj = _project(tmp_path / "p")
    for line in job["script"]:
        if "pip install" in line:
            continue  # layerwise is installed here already
        r = subprocess.run(["bash", "-e", "-c", line], cwd=proj, env=_env(tmp_path), capture_output=True, text=True,
                           check=False)  # fmt: skip
        assert r.returncode == 0, (line, r.stdout, r.stderr)
    report = json.loads((proj / "gl-code-quality-report.json").read_text())
    assert "LW101" in {i["check_name"] for i in report}
