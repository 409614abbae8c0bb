"""GitLab's code-quality report (``--format gitlab``): the CodeClimate subset that GitLab
shows in merge requests (``artifacts: reports: codequality:``).

Each finding is one issue: ``description``, ``check_name`` (the rule code), a stable
``fingerprint`` (rule, path, message: not the line, so an unrelated edit above does not make it
a new issue), ``severity`` and ``location.path``/``location.lines.begin``.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence

from layerwise.analyses.findings import Finding

_SEVERITY = {"error": "major", "warning": "minor", "info": "info"}


def _path(path: str) -> str:
    """A repository-relative path with ``/`` (GitLab links it to the file in the diff)."""
    rel = os.path.relpath(path) if os.path.isabs(path) else os.path.normpath(path)
    return rel.replace(os.sep, "/")


def render_gitlab(findings: Sequence[Finding]) -> str:
    from layerwise import escape

    issues = []
    for f in findings:
        path = escape.data(_path(f.path))
        message = escape.data(f.message)
        key = f"{f.code}\0{path}\0{message}".encode()
        issues.append({
            "description": f"{f.code} {message}",
            "check_name": f.code,
            "fingerprint": hashlib.sha256(key).hexdigest(),
            "severity": _SEVERITY.get(f.severity, "minor"),
            "location": {"path": path, "lines": {"begin": f.line}},
        })  # fmt: skip
    return json.dumps(issues, indent=2, ensure_ascii=True) + "\n"
