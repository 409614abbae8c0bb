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
NEVER = ("rich", "ruamel", "pygls", "lsprotocol", "yaml", "secrets", "difflib", "packaging", "click")

# the standard library's costly modules that a check of one Dockerfile does not use (#17,
# session 6): dataclasses and what it imports (inspect: ast, dis, tokenize; copy), typing
# (records are written out: layerwise.records; TYPE_CHECKING is a constant of each module),
# hashlib and its OpenSSL (_hashlib: only what hashes file contents imports it; check's walk
# hashes nothing, and the GitLab report's fingerprints are its only use), threading (only a
# walk on threads), and what click brought (uuid, platform, datetime)
NEVER_STDLIB = ("dataclasses", "inspect", "ast", "dis", "tokenize", "copy", "typing", "hashlib", "_hashlib",
                "threading", "uuid", "platform", "datetime")  # fmt: skip
#: the GitLab report's fingerprints are SHA-256 digests
HASHES = ("hashlib", "_hashlib")

PROBE = """\
import sys
from layerwise.cli import main
try:
    main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
modules = sorted(sys.modules)  # (before the probe's own json)
import json
print(json.dumps({"code": code, "modules": modules}), file=sys.__stderr__)
"""


def _run(args: list[str], cwd=None) -> dict:
    # .pyc files written and reused, as on users' machines: keeps the test fast
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, *args], check=False, capture_output=True, text=True, timeout=60, env=env,
        cwd=cwd,
    )
    report = json.loads(proc.stderr.strip().splitlines()[-1])
    report["stderr"] = proc.stderr
    return report


def _all_modules(args: list[str], cwd=None) -> list[str]:
    report = _run(args, cwd)
    assert report["code"] == 1, report["stderr"]  # findings were reported: the command really ran
    return report["modules"]


def _modules(args: list[str], cwd=None) -> set[str]:
    return {m.split(".")[0] for m in _all_modules(args, cwd)}


@pytest.mark.parametrize("fmt", ["json", "github", "sarif", "gitlab", "text"])
def test_check_one_dockerfile_imports_no_heavy_module(tmp_path, fmt):
    (tmp_path / "Dockerfile").write_text(DOCKERFILE)
    loaded = _modules(["check", "--no-context", "--format", fmt, str(tmp_path / "Dockerfile")])
    assert "layerwise" in loaded and "argparse" in loaded  # the probe sees real imports
    assert not loaded & set(NEVER), sorted(loaded & set(NEVER))
    never = {m for m in NEVER_STDLIB if fmt != "gitlab" or m not in HASHES}
    assert not loaded & never, sorted(loaded & never)


def test_probe_sees_a_forbidden_import(tmp_path):
    """The same probe does report such a module when the command uses it: the diff of ``fix``
    needs difflib."""
    (tmp_path / "Dockerfile").write_text(DOCKERFILE)
    report = _run(["fix", "--diff", str(tmp_path)])
    assert "difflib" in report["modules"], report["stderr"]


@pytest.mark.parametrize("no_context", [True, False], ids=["no-context", "with-context"])
def test_check_one_dockerfile_imports_no_costly_stdlib_module(tmp_path, no_context):
    """As users run it: ``layerwise check Dockerfile`` in the project's folder (the build
    context is walked and its report built: LW106, LW301, LW303, LW305), and with --no-context."""
    (tmp_path / "Dockerfile").write_text(DOCKERFILE)
    (tmp_path / "requirements.txt").write_text("flask\n")
    loaded = _all_modules(["check", *(["--no-context"] if no_context else []), "Dockerfile"], cwd=tmp_path)
    assert "layerwise.analyses.rules.lw101_copy_before_install" in loaded  # the rules really ran
    assert ("layerwise.context.snapshot" in loaded) is not no_context  # the context was walked (or not)
    top = {m.split(".")[0] for m in loaded}
    assert not top & set(NEVER_STDLIB), sorted(top & set(NEVER_STDLIB))
    assert "json" not in top  # the text report: json only for the JSON reports and an escaped exec form


def test_check_without_context_imports_no_context_module(tmp_path):
    """``--no-context``: nothing of layerwise.context (snapshot, walk, ignore files, report),
    and no json: the exec form ``CMD ["python", "app.py"]`` is read without it (the JSON
    reports and the context report, which the context rules build, import it)."""
    (tmp_path / "Dockerfile").write_text(DOCKERFILE)
    loaded = _all_modules(["check", "--no-context", "Dockerfile"], cwd=tmp_path)
    assert not [m for m in loaded if m.startswith("layerwise.context")]
    assert "json" not in loaded


def test_probe_sees_a_costly_stdlib_module(tmp_path):
    """The probe reports hashlib when the command hashes: ``explain`` of two folders compares
    the digests of the files they copy."""
    for name, code in (("before", "1"), ("after", "2")):
        (tmp_path / name).mkdir()
        (tmp_path / name / "Dockerfile").write_text("FROM python:3.12-slim\nCOPY . /app\n")
        (tmp_path / name / "app.py").write_text(code + "\n")
    report = _run(["explain", "--before", "../before", "--after", "."], cwd=tmp_path / "after")
    assert "_hashlib" in report["modules"], report["stderr"]
