"""Reporters for ``layerwise check``: thin functions from a list of findings to text.

* :func:`render_text` -- ruff-like: ``path:line:col: LW101 message``, a code frame, a help
  line; colours (via rich) only when writing to a terminal.
* :func:`render_json` -- one object per finding (stable keys, for scripts).
* :func:`render_github` -- GitHub Actions workflow commands (annotations on the PR diff).

SARIF lives in :mod:`layerwise.report.sarif`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from layerwise import escape
from layerwise.analyses.findings import Finding

_GITHUB_LEVEL = {"error": "error", "warning": "warning", "info": "notice"}
MAX_FRAME_LINES = 4


def _source_lines(path: str, sources: Mapping[str, str]) -> list[str] | None:
    text = sources.get(path)
    if text is None:
        from layerwise import safefs

        try:  # regular files only, never blocking, bounded
            text = safefs.read_text(path)
        except safefs.FileAccessError:
            return None
    return text.splitlines()


def frame(f: Finding, sources: Mapping[str, str], split: dict[str, list[str] | None] | None = None) -> list[str]:
    """The code frame lines under a finding (plain text). ``split`` keeps each file's lines
    between calls (a report splits each file once, not once per finding)."""
    if split is None:
        lines = _source_lines(f.path, sources)
    elif f.path in split:
        lines = split[f.path]
    else:
        lines = split[f.path] = _source_lines(f.path, sources)
    if not lines or not 1 <= f.line <= len(lines):
        return []
    last = min(f.end_line or f.line, len(lines), f.line + MAX_FRAME_LINES - 1)
    width = len(str(last))
    out = [" " * (width + 1) + "|"]
    for n in range(f.line, last + 1):
        out.append(f"{n:>{width}} | {lines[n - 1].expandtabs(4)}")
        if n == f.line:
            text = lines[n - 1].expandtabs(4)
            start = max(f.column - 1, 0)
            end = len(text) if (f.end_line or f.line) != f.line or not f.end_column else max(f.end_column - 1, start + 1)
            out.append(" " * (width + 1) + "| " + " " * start + "^" * max(1, min(end, len(text)) - start) + f" {f.code}")
    if (f.end_line or f.line) > last:
        out.append(" " * (width + 1) + "| ...")
    out.append(" " * (width + 1) + "|")
    return out


def render_text(
    findings: Sequence[Finding],
    sources: Mapping[str, str],
    *,
    color: bool = False,
    show_frames: bool = True,
    show_fixes: bool = True,
    unsafe_fixes: bool = False,
) -> str:
    """``[*]`` marks, and the summary counts, exactly the findings whose fix ``layerwise fix``
    applies with the same options (``unsafe_fixes``: ``--unsafe-fixes``)."""
    out: list[str] = []
    split: dict[str, list[str] | None] = {}
    for f in findings:
        fixable = " [*]" if f.fixable(unsafe_fixes) else ""
        head = f"{f.path}:{f.line}:{f.column}: {f.code}{fixable} {f.message}"
        out.append(head)
        if show_frames:
            out += frame(f, sources, split)
        if f.hint:
            out.append(f"  = help: {f.hint}")
        if show_fixes and f.fix is not None and f.fix.edits:
            out.append(f"  = fix ({f.fix.safety}): {f.fix.description}")
        if show_frames:
            out.append("")
    n = len(findings)
    if n:
        counts: dict[str, int] = {}
        for f in findings:
            counts[f.severity] = counts.get(f.severity, 0) + 1
        parts = ", ".join(f"{c} {s}{'s' if c != 1 and s != 'info' else ''}" for s, c in sorted(counts.items()))
        fixable = sum(1 for f in findings if f.fixable(unsafe_fixes))
        hidden = sum(1 for f in findings if f.fixable(True) and not f.fixable(unsafe_fixes))
        cmd = "`layerwise fix --unsafe-fixes`" if unsafe_fixes else "`layerwise fix`"
        out.append(f"Found {n} finding{'s' if n != 1 else ''} ({parts})."
                   + (f" {fixable} can be fixed with {cmd}." if fixable else "")
                   + (f" ({hidden} more with `--unsafe-fixes`.)" if hidden else ""))  # fmt: skip
    else:
        out.append("All checks passed!")
    # credentials masked, control characters shown, each line one line (a name with a newline
    # cannot start a line of its own, e.g. a ::error command in a CI log)
    text = "\n".join(escape.line(x) for x in out) + "\n"
    return _colorize(text) if color else text


def _colorize(text: str) -> str:
    """ANSI colours via rich (imported only here: terminals only)."""
    import io
    import re

    from rich.console import Console
    from rich.text import Text

    buf = io.StringIO()
    console = Console(file=buf, force_terminal=True, highlight=False, soft_wrap=True)
    for line in text.splitlines():
        t = Text(line)
        m = re.match(r"^(\S+?:\d+:\d+:) (LW\d+)( \[\*\])?", line)
        if m:
            t.stylize("bold", 0, len(m.group(1)))
            t.stylize("bold red", m.start(2), m.end(2))
            if m.group(3):
                t.stylize("cyan", m.start(3), m.end(3))
        elif line.startswith("  = help:"):
            t.stylize("bold cyan", 2, 9)
        elif line.startswith("  = fix"):
            t.stylize("green", 2)
        elif re.match(r"^\s*\d*\s*\|", line):
            bar = line.index("|")
            t.stylize("blue", 0, bar + 1)
            if "^" in line and set(line[bar + 1 :].split(" LW")[0].strip()) == {"^"}:
                t.stylize("bold red", bar + 1)
        elif line.startswith("Found "):
            t.stylize("bold")
        elif line.startswith("All checks passed"):
            t.stylize("bold green")
        console.print(t)
    return buf.getvalue()


def finding_dict(f: Finding) -> dict:
    from layerwise.analyses.rules import get_rule

    rule = get_rule(f.code)
    return {
        "code": f.code,
        "name": rule.name if rule else None,
        "message": escape.data(f.message),
        "severity": f.severity,
        "filename": escape.undecodable(f.path),
        "location": {"row": f.line, "column": f.column},
        "end_location": {"row": f.end_line or f.line, "column": f.end_column} if f.end_line or f.end_column else None,
        "help": escape.data(f.hint) if f.hint else None,
        "fix": None
        if f.fix is None
        else {
            "applicability": f.fix.safety,
            "message": escape.data(f.fix.description),
            "edits": [  # the file's own text: kept exactly (it is what the fix writes)
                {"path": escape.undecodable(e.path), "start_offset": e.start_offset, "end_offset": e.end_offset, "content": e.replacement}
                for e in f.fix.edits
            ],
        },
        "related": [{"filename": escape.undecodable(p), "row": r} for p, r in f.related],
    }


def render_json(findings: Sequence[Finding]) -> str:
    import json  # (here: the text report does not load json)

    return json.dumps([finding_dict(f) for f in findings], indent=2) + "\n"


_escape_data = escape.github_data
_escape_prop = escape.github_property


def render_github(findings: Sequence[Finding]) -> str:
    out = []
    for f in findings:
        props = [f"file={_escape_prop(f.path)}", f"line={f.line}", f"col={f.column}"]
        if f.end_line:
            props.append(f"endLine={f.end_line}")
        if f.end_column and (f.end_line or f.line) == f.line:
            props.append(f"endColumn={f.end_column}")
        props.append(f"title={_escape_prop(f.code)}")
        msg = f"{f.code} {f.message}" + (f" (help: {f.hint})" if f.hint else "")
        out.append(f"::{_GITHUB_LEVEL.get(f.severity, 'warning')} {','.join(props)}::{_escape_data(msg)}")
    return "\n".join(out) + ("\n" if out else "")
