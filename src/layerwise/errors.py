"""Errors that layerwise reports to users as one located line (never a traceback)."""

from __future__ import annotations


class Location:
    """A place in a file: 1-based line and column (column counts characters). Immutable.

    (Written out rather than a frozen dataclass: that one is built at every start-up.)"""

    __slots__ = ("column", "line", "path")

    def __init__(self, path: str, line: int | None = None, column: int | None = None) -> None:
        object.__setattr__(self, "path", path)
        object.__setattr__(self, "line", line)
        object.__setattr__(self, "column", column)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r}")

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return (self.path, self.line, self.column) == (
            other.path, other.line, other.column)  # type: ignore[attr-defined]  # fmt: skip

    def __hash__(self) -> int:
        return hash((self.path, self.line, self.column))

    def __repr__(self) -> str:
        return f"Location(path={self.path!r}, line={self.line!r}, column={self.column!r})"

    def __reduce__(self):
        return (Location, (self.path, self.line, self.column))

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
