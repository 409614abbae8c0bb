"""Excluded folders are not walked (#17): ``check`` and ``context`` list no folder the ignore
file excludes unless the counts are asked for (``context --count-excluded``), and ``context``
then says a figure is not counted rather than printing a wrong one.

Counting tests, not timed ones: every directory listing of Python code goes through
``os.scandir``, which the tests record.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from layerwise.context.ignore import IgnoreFile
from layerwise.context.report import build_report
from layerwise.context.snapshot import Snapshot
from tests.shared import run_cli

VENV_DIRS = 30
FILES_PER_DIR = 4


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))


@pytest.fixture
def project(tmp_path) -> Path:
    root = tmp_path / "proj"
    (root / "app").mkdir(parents=True)
    (root / "app" / "main.py").write_text("print('hi')\n")
    (root / "requirements.txt").write_text("flask==3.0.0\n")
    (root / "Dockerfile").write_text(
        "FROM python:3.12-slim\nWORKDIR /app\nCOPY requirements.txt .\n"
        "RUN pip install --no-cache-dir -r requirements.txt\nCOPY . .\nCMD [\"python\", \"app/main.py\"]\n"
    )
    (root / ".dockerignore").write_text(".venv\n*.log\n")
    (root / "debug.log").write_text("x" * 10)
    for d in range(VENV_DIRS):
        sub = root / ".venv" / "lib" / f"pkg{d}"
        sub.mkdir(parents=True)
        for f in range(FILES_PER_DIR):
            (sub / f"m{f}.py").write_text("y" * 7)
    return root


@pytest.fixture
def listings(monkeypatch) -> list[str]:
    seen: list[str] = []
    real = os.scandir

    def counting(path=".", *args, **kwargs):
        seen.append(os.fsdecode(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(os, "scandir", counting)
    return seen


def _under_venv(seen: list[str], root: Path) -> list[str]:
    venv = str(root / ".venv")
    return [p for p in seen if p == venv or p.startswith(venv + os.sep)]


def test_report_walks_no_excluded_folder_by_default(project, listings) -> None:
    snap = Snapshot.take(project, IgnoreFile.read(project / ".dockerignore"), use_cache=False)
    report = build_report(snap)
    assert _under_venv(listings, project) == []
    # honest: no figure that leaves the folder out
    assert (report.excluded_count, report.excluded_files, report.excluded_size) == (None, None, None)
    assert report.excluded_not_counted == 1
    by = {e.pattern: (e.count, e.size, e.not_counted) for e in report.excluded_by_pattern}
    assert by == {".venv": (None, None, 1), "*.log": (1, 10, 0)}


def test_report_counts_excluded_folders_when_asked(project, listings) -> None:
    snap = Snapshot.take(project, IgnoreFile.read(project / ".dockerignore"), use_cache=False)
    report = build_report(snap, count_excluded=True)
    listed = _under_venv(listings, project)
    assert len(listed) == 2 + VENV_DIRS  # .venv, .venv/lib and every package folder, once each
    entries = 2 + VENV_DIRS * (1 + FILES_PER_DIR)  # .venv itself, lib, folders, files
    files = VENV_DIRS * FILES_PER_DIR
    assert (report.excluded_count, report.excluded_files) == (entries + 1, files + 1)  # + debug.log
    assert report.excluded_size == files * 7 + 10
    assert report.excluded_not_counted == 0
    by = {e.pattern: (e.count, e.size) for e in report.excluded_by_pattern}
    assert by == {".venv": (entries, files * 7), "*.log": (1, 10)}


def test_check_lists_no_excluded_folder(project, listings) -> None:
    result = run_cli(["check", str(project / "Dockerfile"), "--format", "json"])
    assert result.exit_code in (0, 1), result.output
    json.loads(result.output)  # it ran and reported
    # check reads the context report (LW303/LW305), which counted the excluded .venv before #17
    assert _under_venv(listings, project) == []


def test_context_command_says_not_counted(project, listings) -> None:
    text = run_cli(["context", str(project)]).output
    assert "not counted" in text and "--count-excluded" in text
    assert _under_venv(listings, project) == []
    data = json.loads(run_cli(["context", str(project), "--format", "json"]).output)
    assert data["excluded"]["entries"] is None and data["excluded"]["folders_not_counted"] == 1
    assert _under_venv(listings, project) == []


def test_context_command_counts_when_asked(project, listings) -> None:
    out = run_cli(["context", str(project), "--count-excluded", "--format", "json"]).output
    data = json.loads(out)
    files = VENV_DIRS * FILES_PER_DIR
    assert data["excluded"]["files"] == files + 1 and data["excluded"]["folders_not_counted"] == 0
    assert len(_under_venv(listings, project)) == 2 + VENV_DIRS
    text = run_cli(["context", str(project), "--count-excluded"]).output
    assert f"({files + 1:,} files" in text and "not counted" not in text
