"""The .dockerignore fixes add only what findings ask for, and never exclude a file the build
reads (issue #18): a bind-mounted .git, a copied key, a folder named venv that is code."""

from __future__ import annotations

from pathlib import Path

from layerwise.context.ignore import IgnoreFile
from layerwise.fixes import fix_project


def project(tmp_path: Path, dockerfile: str, files: dict[str, str]) -> Path:
    (tmp_path / "Dockerfile").write_text(dockerfile)
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    return tmp_path


def test_new_file_keeps_a_bind_mounted_git_and_a_copied_key(tmp_path):
    root = project(tmp_path, "FROM python:3.12-slim\nWORKDIR /app\nCOPY certs/server.key /etc/ssl/\n"
                             "COPY requirements.txt .\nRUN pip install --no-cache-dir -r requirements.txt\n"
                             "COPY . .\nRUN --mount=type=bind,source=.git,target=/app/.git python -m setuptools_scm\n",
                   {"requirements.txt": "flask==3.0.3\n", "certs/server.key": "k\n", ".git/HEAD": "ref\n",
                    "app.py": "print(1)\n"})  # fmt: skip
    result = fix_project(root, root / "Dockerfile")
    assert [a.code for a in result.applied] == ["LW301"]
    ignore = IgnoreFile.from_text(result.dockerignore)
    assert not ignore.excludes(".git") and not ignore.excludes(".git/HEAD")
    assert not ignore.excludes("certs/server.key")
    assert ignore.excludes("app/__pycache__") and ignore.excludes(".venv")  # the rest of the list is there
    assert "**/.git" not in result.dockerignore and "**/*.key" not in result.dockerignore


def test_an_existing_file_gets_only_what_the_findings_ask_for(tmp_path):
    """The snapshot shows .venv and a nested __pycache__ sent, and a .env copied: those are added
    (LW303, LW305), and nothing of the canonical list no finding asked for."""
    root = project(tmp_path, "FROM python:3.12-slim\nCOPY requirements.txt .\n"
                             "RUN pip install --no-cache-dir -r requirements.txt\nCOPY . .\n",
                   {".dockerignore": "Dockerfile\n.dockerignore\n", "requirements.txt": "flask==3.0.3\n",
                    ".venv/pyvenv.cfg": "home = /usr\n", "app/__pycache__/m.cpython-312.pyc": "x",
                    ".env": "PASSWORD=hunter2\n", "app/m.py": ""})  # fmt: skip
    result = fix_project(root, root / "Dockerfile")
    added = result.dockerignore.splitlines()[2:]
    assert {a.code for a in result.applied} == {"LW303", "LW305"}
    assert ".env" in added and any("__pycache__" in p for p in added) and any("venv" in p for p in added)
    assert not any(p in added for p in ("**/.git", "**/*.key", "**/venv", "**/.tox", "**/.idea"))
    result.write()
    assert not fix_project(root, root / "Dockerfile").changed  # nothing left to ask for


def test_nothing_reported_nothing_written(tmp_path):
    root = project(tmp_path, "FROM python:3.12-slim\nCOPY requirements.txt .\n"
                             "RUN pip install --no-cache-dir -r requirements.txt\nCOPY app.py .\n",
                   {".dockerignore": "*.md\n", "requirements.txt": "flask==3.0.3\n", "app.py": ""})  # fmt: skip
    result = fix_project(root, root / "Dockerfile")
    assert result.dockerignore is None
