"""Where the shared test data lives: ``../shared`` beside the repository (env LAYERWISE_SHARED
overrides). Tests that read it skip only when it is absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def shared_dir() -> Path | None:
    env = os.environ.get("LAYERWISE_SHARED")
    path = Path(env) if env else REPO.parent / "shared"
    return path if path.is_dir() else None


def require_shared(*parts: str) -> Path:
    """The path under shared/, or skip the test when shared/ is not beside the repo."""
    base = shared_dir()
    if base is None:
        pytest.skip("../shared (conformance and corpus data) is not present")
    path = base.joinpath(*parts)
    if not path.exists():
        pytest.fail(f"shared data missing: {path}")
    return path
