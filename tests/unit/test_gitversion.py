"""Builds that read the project's git metadata for its version (analyses/gitversion.py): which
projects are VCS-versioned, which RUNs build them from the copied tree, and the git index
reader that says which files git tracks (compared with ``git ls-files``)."""

from __future__ import annotations

import pytest

import layerwise
from layerwise.analyses.gitversion import tracked_files, vcs_plugin
from layerwise.analyses.project import ProjectContext
from tests.shared import HATCH_VCS, committed_repo, git


def _write(files):
    def write(root):
        for rel, text in files.items():
            p = root / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(text)

    return write


@pytest.mark.parametrize(("files", "plugin"), [
    ({"pyproject.toml": HATCH_VCS}, "hatch-vcs"),
    ({"pyproject.toml": '[build-system]\nrequires = ["setuptools>=64", "setuptools_scm[toml]>=8"]\n'}, "setuptools-scm"),
    ({"pyproject.toml": "[project]\nname = 'a'\ndynamic = ['version']\n[tool.setuptools_scm]\n"}, "setuptools-scm"),
    ({"pyproject.toml": '[build-system]\nrequires = ["poetry-core", "poetry-dynamic-versioning"]\n'
                        'build-backend = "poetry_dynamic_versioning.backend"\n'}, "poetry-dynamic-versioning"),
    ({"pyproject.toml": "[tool.poetry-dynamic-versioning]\nenable = true\n"}, "poetry-dynamic-versioning"),
    ({"pyproject.toml": '[build-system]\nrequires = ["pdm-backend"]\n[tool.pdm.version]\nsource = "scm"\n'},
     "pdm-backend (scm)"),
    ({"pyproject.toml": '[build-system]\nrequires = ["hatchling", "versioningit"]\n'
                        '[tool.hatch.version]\nsource = "versioningit"\n'}, "versioningit"),
    ({"pyproject.toml": '[build-system]\nrequires = ["hatchling", "uv-dynamic-versioning"]\n'}, "uv-dynamic-versioning"),
    ({"setup.py": "import versioneer\nfrom setuptools import setup\nsetup(version=versioneer.get_version())\n"},
     "versioneer"),
    ({"setup.py": "from setuptools import setup\nsetup(use_scm_version=True)\n"}, "setuptools-scm"),
    ({"pyproject.toml": '[build-system]\nrequires = ["hatchling"]\n[project]\nname = "a"\nversion = "1.0"\n'}, None),
    ({"pyproject.toml": '[tool.hatch.version]\npath = "app/__about__.py"\n'}, None),
    ({}, None),
])  # fmt: skip
def test_vcs_plugin(tmp_path, files, plugin):
    _write(files)(tmp_path)
    assert vcs_plugin(ProjectContext(tmp_path), ".") == plugin


FILES = {"pyproject.toml": HATCH_VCS, "app/__init__.py": "", "Dockerfile": "", ".dockerignore": "build/\n",
         "dir with space/é.txt": "x", "a/b/c/d/e/f/long-name-" + "x" * 120 + ".py": ""}  # fmt: skip


@pytest.mark.parametrize("version", [2, 3, 4])
def test_tracked_files_are_what_git_ls_files_says(tmp_path, version):
    repo = committed_repo(tmp_path / "repo", _write(FILES), key="gitversion-files")
    git(repo, "update-index", "--index-version", str(version))
    want = git(repo, "ls-files", "-z").split("\0")[:-1]
    assert tracked_files(ProjectContext(repo), ".git") == want and len(want) == len(FILES)


def test_tracked_files_unreadable(tmp_path):
    repo = committed_repo(tmp_path / "repo", _write(FILES), key="gitversion-files")
    git(repo, "update-index", "--split-index")  # the paths are in another file
    assert tracked_files(ProjectContext(repo), ".git") is None
    (tmp_path / "plain").mkdir()
    assert tracked_files(ProjectContext(tmp_path / "plain"), ".git") is None


DOCKERFILE = """\
FROM python:3.12-slim
COPY . /build
WORKDIR /build
RUN {run}
"""


@pytest.mark.parametrize(("run", "reads"), [
    ("pip install --no-cache-dir .", True),
    ("pip install -e /build", True),
    ("uv build && pip install dist/*.whl", True),
    ("uv build --out-dir /tmp/out .", True),
    ("python -m build --wheel", True),
    ("poetry install", True),
    ("poetry install --no-root", False),
    ("uv sync --no-install-project", False),
    ("pip install -r requirements.txt", False),
    ("pip install dist/app-1.0-py3-none-any.whl", False),
    ("SETUPTOOLS_SCM_PRETEND_VERSION=1.0 pip install .", False),
])  # fmt: skip
def test_which_runs_read_git(tmp_path, run, reads):
    """LW304 reports the excluded .git exactly when the RUN builds the VCS-versioned project
    from the copied tree (the build would fail: no version)."""
    repo = committed_repo(tmp_path / "repo", _write(FILES), key="gitversion-files")
    (repo / ".dockerignore").write_text(".git\n")
    result = layerwise.check_text(DOCKERFILE.format(run=run), context=repo, select=["LW304"])
    assert [f.message.split(" ")[0] for f in result.findings] == ([".git"] if reads else []), result.findings
    if reads:
        assert "hatch-vcs" in result.findings[0].message and result.findings[0].hint == "add !.git to .dockerignore"


def test_a_version_given_by_an_arg_or_env_reads_no_git(tmp_path):
    repo = committed_repo(tmp_path / "repo", _write(FILES), key="gitversion-files")
    for head in ("ARG SETUPTOOLS_SCM_PRETEND_VERSION\n", "ENV SETUPTOOLS_SCM_PRETEND_VERSION_FOR_APP=1.0\n"):
        text = DOCKERFILE.format(run="pip install .").replace("COPY", head + "COPY")
        (repo / ".dockerignore").write_text(".git\n")
        assert not layerwise.check_text(text, context=repo, select=["LW304"]).findings
        assert layerwise.check_text(text.replace(head, ""), context=repo, select=["LW304"]).findings


def test_a_bind_mounted_git_the_build_reads_is_one_finding(tmp_path):
    repo = committed_repo(tmp_path / "repo", _write(FILES), key="gitversion-files")
    (repo / ".dockerignore").write_text(".git\n")
    text = DOCKERFILE.format(run="--mount=type=bind,source=.git,target=/build/.git pip install .")
    (f,) = layerwise.check_text(text, context=repo, select=["LW304"]).findings
    assert f.message.startswith(".git ") and f.hint == "add !.git to .dockerignore"
