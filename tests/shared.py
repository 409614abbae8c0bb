"""Where the test data of the conformance and corpus tests lives: ``tests/data/`` in the
repository (``conformance/``: BuildKit's and moby/patternmatcher's own tables; ``corpus/``: real
Dockerfiles), so that a fresh clone runs the same suite as CI. Each folder's README records the
origin and license of every source.

The environment variable LAYERWISE_SHARED names another folder with the same layout (e.g. the
project's ``shared/`` reference folder, whose corpus also holds the files without a license that
are not redistributed here); the tests then read that one instead."""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Hashable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data"


def shared_dir() -> Path:
    """The folder holding ``conformance/`` and ``corpus/``: LAYERWISE_SHARED, else tests/data."""
    env = os.environ.get("LAYERWISE_SHARED")
    if env:
        path = Path(env)
        if not (path / "conformance").is_dir() or not (path / "corpus").is_dir():
            raise RuntimeError(f"LAYERWISE_SHARED={env}: no conformance/ and corpus/ folders there")
        return path
    return DATA


def shared_path(*parts: str) -> Path:
    """A path under the test data folder; a missing one is an error, never a skip."""
    path = shared_dir().joinpath(*parts)
    if not path.exists():
        raise FileNotFoundError(f"test data missing: {path}")
    return path


def corpus_files() -> list[Path]:
    """The corpus Dockerfiles, sorted by name."""
    return sorted(shared_path("corpus", "files").iterdir())


def corpus_has(name: str) -> bool:
    """Whether the corpus in use holds the file (the in-repo copy leaves out the files without a
    license: see tests/data/corpus/README.md)."""
    return (shared_dir() / "corpus" / "files" / name).is_file()


def git(cwd: Path, *args: str) -> str:
    """Run git in ``cwd`` as a test author (no user configuration needed); its stdout."""
    return subprocess.run(["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
                          cwd=cwd, check=True, capture_output=True, text=True).stdout  # fmt: skip


_REPOS: dict[Hashable, Path] = {}


def committed_repo(dest: Path, write: Callable[[Path], object], key: Hashable = None) -> Path:
    """``dest`` as a git repository holding what ``write(folder)`` writes, committed once ("init").

    The repository is made once per ``key`` (default: ``write`` itself) in the session, with
    ``git init``/``add``/``commit``, and copied to ``dest`` for each test (``dest`` may exist):
    three git child processes per test cost more than the tests themselves. A copy is a
    repository like any other (its index's stat data differ from the files', which git
    refreshes by their contents)."""
    key = write if key is None else key
    template = _REPOS.get(key)
    if template is None:
        top = tempfile.mkdtemp(prefix="layerwise-test-repo-")
        atexit.register(shutil.rmtree, top, ignore_errors=True)
        template = Path(top) / "repo"
        template.mkdir()
        write(template)
        git(template, "init", "-q")
        git(template, "add", "-A")
        git(template, "commit", "-qm", "init")
        _REPOS[key] = template
    shutil.copytree(template, dest, symlinks=True, dirs_exist_ok=True)
    return dest
