"""What the rules report: a :class:`Finding` at a place in a file, and optionally a :class:`Fix`
made of :class:`Edit` s (text replacements on offsets of that file) that ``layerwise fix`` can
apply back to front."""

from __future__ import annotations

from dataclasses import dataclass, field

SEVERITIES = ("error", "warning", "info")


@dataclass(frozen=True)
class Edit:
    """Replace ``text[start_offset:end_offset]`` of the file at ``path`` with ``replacement``."""

    path: str
    start_offset: int
    end_offset: int
    replacement: str


@dataclass(frozen=True)
class Fix:
    """A way to resolve a finding. ``safety`` is ``"safe"`` (behaviour kept) or ``"unsafe"``.
    ``edits`` may be empty: the fix exists (``layerwise fix`` computes it) but is not given here."""

    safety: str
    description: str
    edits: tuple[Edit, ...] = ()


@dataclass(frozen=True)
class Finding:
    code: str
    message: str
    path: str
    line: int
    column: int = 1
    end_line: int | None = None
    end_column: int | None = None
    severity: str = "warning"
    fix: Fix | None = None
    hint: str = ""  # a one-line "how to fix" shown under the message
    related: tuple[tuple[str, int], ...] = field(default=())  # other (path, line) involved

    @property
    def sort_key(self) -> tuple:
        return (self.path, self.line, self.column, self.code, self.message)
