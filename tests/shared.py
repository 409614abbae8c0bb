"""Where the test data of the conformance and corpus tests lives: ``tests/data/`` in the
repository (``conformance/``: BuildKit's and moby/patternmatcher's own tables; ``corpus/``: real
Dockerfiles), so that a fresh clone runs the same suite as CI. Each folder's README records the
origin and license of every source.

The environment variable LAYERWISE_SHARED names another folder with the same layout (e.g. the
project's ``shared/`` reference folder, whose corpus also holds the files without a license that
are not redistributed here); the tests then read that one instead."""

from __future__ import annotations

import os
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
