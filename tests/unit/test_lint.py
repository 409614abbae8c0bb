"""The code passes ``ruff check`` with the project's own settings (``[tool.ruff]`` in
pyproject.toml), so a lint regression fails the suite like any other."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def test_ruff_check_is_clean() -> None:
    if importlib.util.find_spec("ruff") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("ruff is not installed (it is in the [test] extra)")
        pytest.skip("ruff is not installed (pip install -e '.[test]')")
    r = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "concise", "."],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert r.returncode == 0, r.stdout + r.stderr
