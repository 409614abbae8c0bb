"""Test tables for the CI-cache rules (LW6xx): a project with a Dockerfile, CI files and
other files, checked with one rule; ``fixed()`` applies the findings' edits (one pass, as
the fix loop does) and returns the CI file's new text."""

from __future__ import annotations

import os
import tempfile
import textwrap
from pathlib import Path

from layerwise.analyses.check import check_dockerfile, selected_rules

DOCKERFILE = """\
FROM python:3.12-slim
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
"""

BUILDER = """\
FROM python:3.12-slim AS builder
WORKDIR /src
COPY requirements.txt .
RUN pip install --no-cache-dir --prefix=/install -r requirements.txt
COPY . .
RUN python -m compileall -q .
FROM python:3.12-slim
COPY --from=builder /install /usr/local
COPY --from=builder /src /app
"""


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(textwrap.dedent(text).lstrip("\n").encode())


def run(code: str, ci: dict[str, str], dockerfile: str = DOCKERFILE, files: dict[str, str] | None = None,
        dockerfile_path: str = "Dockerfile"):  # fmt: skip
    """(findings, {CI path: text}) for a project made of these files."""
    with tempfile.TemporaryDirectory() as d:
        root = Path(d)
        _write(root, {dockerfile_path: dockerfile, "requirements.txt": "flask==3.0.3\n", **(files or {}), **ci})
        cwd = os.getcwd()
        os.chdir(root)  # findings show CI paths relative to the current folder
        try:
            result = check_dockerfile(dockerfile_path, context=".", rules=selected_rules([code]))
        finally:
            os.chdir(cwd)
        assert not result.errors, result.errors
        texts = {rel: (root / rel).read_text() for rel in ci}
        return [f for f in result.findings if f.code == code], texts


def catches(code: str, ci: dict[str, str], **kw):
    found, _ = run(code, ci, **kw)
    assert found, f"{code} should report on {ci}"
    return found


def passes(code: str, ci: dict[str, str], **kw):
    found, _ = run(code, ci, **kw)
    assert not found, [(f.path, f.line, f.message) for f in found]


def fixed(code: str, ci: dict[str, str], path: str, *, unsafe: bool = False, **kw) -> str:
    """The CI file ``path`` after the edits of the findings' fixes (safe ones, or all)."""
    found, texts = run(code, ci, **kw)
    text = texts[path]
    edits = [e for f in found if f.fix is not None and (unsafe or f.fix.safety == "safe")
             for e in f.fix.edits if e.path == path]  # fmt: skip
    for e in sorted(edits, key=lambda e: (e.start_offset, e.end_offset), reverse=True):
        text = text[: e.start_offset] + e.replacement + text[e.end_offset :]
    return text


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")
