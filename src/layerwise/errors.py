"""Errors that layerwise reports to users as one located line (never a traceback)."""

from __future__ import annotations

from layerwise.records import Frozen


class Location(Frozen):
    """A place in a file: 1-based line and column (column counts characters). Immutable."""

    __slots__ = ("column", "line", "path")
    _fields = ("path", "line", "column")

    def __init__(self, path: str, line: int | None = None, column: int | None = None) -> None:
        self._init(path, line, column)

    def __str__(self) -> str:
        parts = [self.path]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)


class LayerwiseError(Exception):
    """An error the user can act on. ``str()`` gives ``file:line:col: message``."""

    exit_code = 2

    def __init__(self, message: str, location: Location | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.location = location

    def __str__(self) -> str:
        if self.location is None:
            return self.message
        return f"{self.location}: {self.message}"


class UsageError(LayerwiseError):
    """Bad command-line input (missing file, unknown option value, ...)."""
