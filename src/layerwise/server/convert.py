"""layerwise's findings and edits as LSP values (positions in the client's units)."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import unquote, urlparse

from lsprotocol import types

from layerwise.analyses.findings import Edit, Finding

SEVERITY = {
    "error": types.DiagnosticSeverity.Error,
    "warning": types.DiagnosticSeverity.Warning,
    "info": types.DiagnosticSeverity.Information,
}


def uri_to_path(uri: str) -> str:
    parsed = urlparse(uri)
    return unquote(parsed.path) if parsed.scheme == "file" else uri


def path_to_uri(path: str) -> str:
    return Path(os.path.abspath(path)).as_uri()


class Lines:
    """Offsets, (line, character) pairs and client positions of one text."""

    def __init__(self, text: str, codec=None) -> None:
        self.text = text
        self.lines = text.splitlines(keepends=True) or [""]
        self.starts = [0]
        for ln in self.lines:
            self.starts.append(self.starts[-1] + len(ln))
        self.codec = codec

    def position(self, line0: int, char: int) -> types.Position:
        line0 = max(0, min(line0, len(self.lines) - 1))
        content = self.lines[line0].rstrip("\r\n")
        char = max(0, min(char, len(content)))
        pos = types.Position(line=line0, character=char)
        if self.codec is not None:
            return self.codec.position_to_client_units(self.lines, pos)
        return pos

    def at_offset(self, offset: int) -> types.Position:
        import bisect

        offset = max(0, min(offset, len(self.text)))
        i = bisect.bisect_right(self.starts, offset) - 1
        i = min(i, len(self.lines) - 1)
        line0 = i
        char = offset - self.starts[i]
        if self.codec is not None:
            return self.codec.position_to_client_units(self.lines, types.Position(line=line0, character=char))
        return types.Position(line=line0, character=char)

    def line_end(self, line0: int) -> int:
        line0 = max(0, min(line0, len(self.lines) - 1))
        return len(self.lines[line0].rstrip("\r\n"))


def diagnostic(f: Finding, lines: Lines, help_uri: str | None, index: int) -> types.Diagnostic:
    start = lines.position(f.line - 1, f.column - 1)
    if f.end_line and f.end_column:
        end = lines.position(f.end_line - 1, f.end_column - 1)
    else:
        end_line = (f.end_line or f.line) - 1
        end = lines.position(end_line, lines.line_end(end_line))
    if (end.line, end.character) <= (start.line, start.character):
        end = lines.position(f.line - 1, lines.line_end(f.line - 1))
    message = f.message + (f"\nhelp: {f.hint}" if f.hint else "")
    return types.Diagnostic(
        range=types.Range(start=start, end=end),
        message=message,
        severity=SEVERITY.get(f.severity, types.DiagnosticSeverity.Warning),
        code=f.code,
        code_description=types.CodeDescription(href=help_uri) if help_uri else None,
        source="layerwise",
        data={"index": index, "fixable": f.fix is not None and bool(f.fix.edits)},
    )


def workspace_edit(edits: list[Edit], texts: dict[str, str], open_versions: dict[str, int | None]) -> types.WorkspaceEdit:
    """One workspace edit for edits on several files: ``texts`` holds the text each edit's file
    has now (the unsaved text of an open document, else the file's); a file that does not exist
    is created first."""
    changes: list = []
    by_path: dict[str, list[Edit]] = {}
    for e in edits:
        by_path.setdefault(os.path.abspath(e.path), []).append(e)
    for path, items in by_path.items():
        uri = path_to_uri(path)
        text = texts.get(path)
        if text is None:
            changes.append(types.CreateFile(uri=uri, kind="create"))
            text = ""
        lines = Lines(text)
        text_edits = [
            types.TextEdit(range=types.Range(start=lines.at_offset(e.start_offset), end=lines.at_offset(e.end_offset)),
                           new_text=e.replacement)  # fmt: skip
            for e in sorted(items, key=lambda e: (e.start_offset, e.end_offset))
        ]
        changes.append(types.TextDocumentEdit(
            text_document=types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=open_versions.get(uri)),
            edits=text_edits,
        ))  # fmt: skip
    return types.WorkspaceEdit(document_changes=changes)
