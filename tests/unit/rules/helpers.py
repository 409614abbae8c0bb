"""Rule test tables, hadolint-spec style: ``catches(CODE, dockerfile, files)`` and
``passes(CODE, dockerfile, files)``. With ``files`` (path -> text) a project folder is
written and used as the build context; without, the Dockerfile is checked alone. Both go
through the library call ``layerwise.check_text``."""

from __future__ import annotations

import tempfile
import textwrap
from pathlib import Path

import layerwise


def findings(code: str, dockerfile: str, files: dict[str, str] | None = None):
    text = textwrap.dedent(dockerfile).lstrip("\n")
    if files is None:
        result = layerwise.check_text(text, select=[code])
        assert not result.errors, result.errors
        return [f for f in result.findings if f.code == code]
    with tempfile.TemporaryDirectory() as d:
        root = Path(d)
        (root / "Dockerfile").write_text(text)  # in the context, as the rules expect it
        for rel, body in files.items():
            p = root / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(textwrap.dedent(body).lstrip("\n"))
        result = layerwise.check_text(text, context=root, select=[code])
        assert not result.errors, result.errors
        return [f for f in result.findings if f.code == code]


def catches(code: str, dockerfile: str, files: dict[str, str] | None = None, line: int | None = None):
    found = findings(code, dockerfile, files)
    assert found, f"{code} should report on:\n{dockerfile}"
    if line is not None:
        assert line in [f.line for f in found], [(f.line, f.message) for f in found]
    return found


def passes(code: str, dockerfile: str, files: dict[str, str] | None = None):
    found = findings(code, dockerfile, files)
    assert not found, [(f.line, f.message) for f in found]
