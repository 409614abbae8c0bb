"""SARIF 2.1.0 output of ``layerwise check`` (what GitHub code scanning uploads).

One run, the tool's rules with their documentation and a ``helpUri`` (:func:`help_uri`: the
rule's page ``docs/rules/LWxxx.md`` in the repository, on its main branch: rule codes are
stable and never reused, so the address stays valid), one result per finding with a physical
location (URIs relative to the working directory, ``/``-separated, under ``%SRCROOT%``) and,
where a finding carries edits, SARIF ``fixes``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence

from layerwise import escape
from layerwise.analyses.findings import Finding

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
#: where the rule pages are published (``docs/rules/`` of the repository, generated from the
#: rule modules); one place to change if the repository moves
RULES_URL = "https://github.com/layerwise/layerwise/blob/main/docs/rules/"
_LEVEL = {"error": "error", "warning": "warning", "info": "note"}


def _uri(path: str) -> str:
    p = path
    if os.path.isabs(p):
        try:
            rel = os.path.relpath(p)
            if not rel.startswith(".."):
                p = rel
        except ValueError:
            pass
    p = p.replace(os.sep, "/")
    if os.path.isabs(path) and p.startswith("/"):
        from urllib.parse import quote

        return "file://" + quote(os.fsencode(p))
    from urllib.parse import quote

    return quote(os.fsencode(p))  # a non-UTF-8 name: its bytes percent-encoded (valid UTF-8 JSON)


def help_uri(code: str) -> str:
    """The address of a rule's documentation page: ``RULES_URL`` + ``LWxxx.md``."""
    return f"{RULES_URL}{code}.md"


def render_sarif(findings: Sequence[Finding], rules=None) -> str:
    from layerwise import __version__
    from layerwise.analyses.rules import all_rules

    rules = list(rules) if rules is not None else list(all_rules().values())
    index = {r.code: i for i, r in enumerate(rules)}
    driver = {
        "name": "layerwise",
        "semanticVersion": __version__,
        "version": __version__,
        "rules": [
            {
                "id": r.code,
                "name": "".join(w.capitalize() for w in r.name.split("-")),
                "shortDescription": {"text": r.summary},
                "fullDescription": {"text": r.summary},
                "help": {"text": r.doc, "markdown": r.doc},
                "helpUri": help_uri(r.code),
                "defaultConfiguration": {"level": _LEVEL.get(r.severity, "warning")},
                "properties": {"tags": [r.family] if r.family else [], "fix": r.fix or "none"},
            }
            for r in rules
        ],
    }
    results = []
    for f in findings:
        region = {"startLine": f.line, "startColumn": max(1, f.column)}
        if f.end_line and f.end_line >= f.line:
            region["endLine"] = f.end_line
        if f.end_column and (f.end_line or f.line) == f.line and f.end_column > region["startColumn"]:
            region["endColumn"] = f.end_column
        result = {
            "ruleId": f.code,
            "level": _LEVEL.get(f.severity, "warning"),
            "message": {"text": escape.data(f.message + (f" Help: {f.hint}" if f.hint else ""))},
            "locations": [
                {"physicalLocation": {"artifactLocation": {"uri": _uri(f.path), "uriBaseId": "%SRCROOT%"},
                                      "region": region}}  # fmt: skip
            ],
        }
        if f.code in index:
            result["ruleIndex"] = index[f.code]
        if f.related:
            result["relatedLocations"] = [
                {"id": i, "physicalLocation": {"artifactLocation": {"uri": _uri(p), "uriBaseId": "%SRCROOT%"},
                                               "region": {"startLine": line}}}  # fmt: skip
                for i, (p, line) in enumerate(f.related)
            ]
        if f.fix is not None and f.fix.edits:
            result["fixes"] = [_fix(f)]
        results.append(result)
    log = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{"tool": {"driver": driver}, "results": results, "columnKind": "unicodeCodePoints"}],
    }
    return json.dumps(log, indent=2) + "\n"


def _fix(f: Finding) -> dict:
    by_path: dict[str, list] = {}
    for e in f.fix.edits:  # type: ignore[union-attr]
        by_path.setdefault(e.path, []).append(e)
    return {
        "description": {"text": escape.data(f.fix.description)},  # type: ignore[union-attr]
        "artifactChanges": [
            {
                "artifactLocation": {"uri": _uri(p), "uriBaseId": "%SRCROOT%"},
                "replacements": [
                    {
                        "deletedRegion": {"charOffset": e.start_offset, "charLength": e.end_offset - e.start_offset},
                        "insertedContent": {"text": e.replacement},
                    }
                    for e in edits
                ],
            }
            for p, edits in by_path.items()
        ],
    }
