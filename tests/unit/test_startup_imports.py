"""Start-up (#17): a one-Dockerfile ``check`` imports nothing it does not use.

Behavioural, not timed: the command runs in a fresh interpreter and the test reads which
modules it loaded. A module-level import of one of these in any module on check's path makes
this fail.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

DOCKERFILE = """\
FROM python:3.12-slim
WORKDIR /app
COPY . .
RUN pip install -r requirements.txt
CMD ["python", "app.py"]
"""

# the rich renderer, YAML (CI files), the language server, and what check never needs for a
# Dockerfile that it reads without writing or diffing
NEVER = ("rich", "ruamel", "pygls", "lsprotocol", "yaml", "secrets", "difflib", "packaging")

PROBE = """\
import json, sys
from layerwise.cli import main
try:
    main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}), file=sys.__stderr__)
"""


def _run(args: list[str]) -> dict:
    # .pyc files written and reused, as on users' machines: keeps the test fast
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, *args], check=False, capture_output=True, text=True, timeout=60, env=env
    )
    report = json.loads(proc.stderr.strip().splitlines()[-1])
    report["stderr"] = proc.stderr
    return report


def _modules(args: list[str]) -> set[str]:
    report = _run(args)
    assert report["code"] == 1, report["stderr"]  # findings were reported: the command really ran
    return {m.split(".")[0] for m in report["modules"]}


@pytest.mark.parametrize("fmt", ["json", "github", "sarif", "gitlab", "text"])
def test_check_one_dockerfile_imports_no_heavy_module(tmp_path, fmt):
    (tmp_path / "Dockerfile").write_text(DOCKERFILE)
    loaded = _modules(["check", "--no-context", "--format", fmt, str(tmp_path / "Dockerfile")])
    assert "layerwise" in loaded and "click" in loaded  # the probe sees real imports
    assert not loaded & set(NEVER), sorted(loaded & set(NEVER))


def test_probe_sees_a_forbidden_import(tmp_path):
    """The same probe does report such a module when the command uses it: the diff of ``fix``
    needs difflib."""
    (tmp_path / "Dockerfile").write_text(DOCKERFILE)
    report = _run(["fix", "--diff", "--no-context", str(tmp_path / "Dockerfile")])
    assert "difflib" in report["modules"], report["stderr"]
