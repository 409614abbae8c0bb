"""`layerwise fix` on CI files: the LW6xx fixes are applied by the one fix loop, next to the
Dockerfile's, written with every other byte kept, idempotent, and check agrees afterwards."""

from __future__ import annotations

import os

import pytest

from layerwise.analyses.check import check_dockerfile, selected_rules
from layerwise.fixes import fix_project
from tests.unit.rules.ci_helpers import BUILDER

WORKFLOW = """\
name: image   # built on every push
on: push
jobs:
  image:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: docker/setup-buildx-action@v3
      # the app's image
      - uses: docker/build-push-action@v6
        with:
          push: true  # to ghcr
          tags: ghcr.io/acme/api:latest
  worker:
    runs-on: ubuntu-latest
    steps:
      - uses: docker/setup-buildx-action@v3
      - uses: docker/build-push-action@v6
        with:
          file: Dockerfile
          target: worker
          push: true
          cache-from: type=gha
          cache-to: type=gha
"""

GITLAB = """\
build:
  image: docker:27
  services: [docker:27-dind]
  script:
    - docker pull $CI_REGISTRY_IMAGE || true
    - docker build --cache-from $CI_REGISTRY_IMAGE -t $CI_REGISTRY_IMAGE .
"""


@pytest.fixture
def project(tmp_path, monkeypatch):
    (tmp_path / ".git").mkdir()
    (tmp_path / "Dockerfile").write_text(BUILDER + "FROM python:3.12-slim AS worker\nCOPY --from=builder /install /usr/local\n")
    (tmp_path / "requirements.txt").write_text("flask==3.0.3\n")
    (tmp_path / ".dockerignore").write_text("**/.git\n")
    wf = tmp_path / ".github/workflows"
    wf.mkdir(parents=True)
    (wf / "ci.yml").write_bytes(WORKFLOW.replace("\n", "\r\n").encode())
    (tmp_path / ".gitlab-ci.yml").write_text(GITLAB)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _fixable(select):
    result = check_dockerfile("Dockerfile", context=".", rules=selected_rules(select))
    return [(f.code, f.path, f.line) for f in result.findings if f.fix is not None and f.fix.safety == "safe"]


def test_fix_edits_the_ci_files_minimally_and_check_agrees(project):
    before = _fixable(["LW6"])
    assert {c for c, _, _ in before} == {"LW601", "LW602", "LW606"}
    result = fix_project(".", "Dockerfile", select={"LW6"})
    assert set(result.others) == {os.path.join(".github", "workflows", "ci.yml"), ".gitlab-ci.yml"}
    assert result.dockerfile == result.original and result.dockerignore is None
    written = result.write()
    assert sorted(written) == sorted(result.others)
    wf = (project / ".github/workflows/ci.yml").read_bytes().decode()
    # CRLF kept on every line, comments and key order kept, new inputs first in `with:`
    assert "\n" not in wf.replace("\r\n", "")
    assert wf == WORKFLOW.replace("\n", "\r\n").replace(
        "        with:\r\n          push: true  # to ghcr",
        "        with:\r\n          cache-from: type=gha,scope=image\r\n          cache-to: type=gha,mode=max,scope=image\r\n"
        "          push: true  # to ghcr",
    ).replace("cache-to: type=gha\r\n", "cache-to: type=gha,mode=max\r\n")
    assert "--build-arg BUILDKIT_INLINE_CACHE=1 --cache-from" in (project / ".gitlab-ci.yml").read_text()
    assert _fixable(["LW6"]) == []
    again = fix_project(".", "Dockerfile", select={"LW6"})
    assert not again.changed


def test_diff_names_every_file_and_writes_nothing(project):
    result = fix_project(".", "Dockerfile", select={"LW6"})
    diff = result.diff(relative_to=".")
    assert "+++ b/.github/workflows/ci.yml" in diff and "+++ b/.gitlab-ci.yml" in diff
    assert (project / ".gitlab-ci.yml").read_text() == GITLAB


def test_a_ci_file_edited_meanwhile_is_not_overwritten(project):
    from layerwise.errors import LayerwiseError

    result = fix_project(".", "Dockerfile", select={"LW6"})
    (project / ".gitlab-ci.yml").write_text(GITLAB + "# saved meanwhile\n")
    with pytest.raises(LayerwiseError):
        result.write()
    assert (project / ".gitlab-ci.yml").read_text().endswith("# saved meanwhile\n")
