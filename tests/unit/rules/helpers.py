"""Rule test tables, hadolint-spec style: ``catches(CODE, dockerfile, files)`` and
``passes(CODE, dockerfile, files)``. With ``files`` (path -> text) a project folder is
written and used as the build context; without, the Dockerfile is checked alone."""

from __future__ import annotations

import tempfile
import textwrap
from pathlib import Path

from layerwise.analyses.check import check_dockerfile, selected_rules


def findings(code: str, dockerfile: str, files: dict[str, str] | None = None):
    with tempfile.TemporaryDirectory() as d:
        root = Path(d)
        df = root / "Dockerfile"
        df.write_text(textwrap.dedent(dockerfile).lstrip("\n"))
        for rel, text in (files or {}).items():
            p = root / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(textwrap.dedent(text).lstrip("\n"))
        result = check_dockerfile(df, context=root if files is not None else None,
                                  display_path="Dockerfile", rules=selected_rules([code]))  # fmt: skip
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
