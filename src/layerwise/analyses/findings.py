"""What the rules report: a :class:`Finding` at a place in a file, and optionally a :class:`Fix`
made of :class:`Edit` s (text replacements on offsets of a file: the Dockerfile, or the
``.dockerignore``) that ``layerwise fix`` applies back to front, as ruff's diagnostics carry
their fixes. A finding is *fixable* when its fix has edits and its applicability is allowed
(``safe``, or ``unsafe`` with ``--unsafe-fixes``)."""

from __future__ import annotations

from dataclasses import dataclass, field

SEVERITIES = ("error", "warning", "info")
#: a fix's applicability: ``safe`` (``layerwise fix`` applies it) or ``unsafe`` (only with
#: ``--unsafe-fixes``). Each finding's fix carries its own: a rule whose cases differ (a
#: ``per-finding`` rule in the registry) says which is which in its doc's ``## Fix safety``.
APPLICABILITIES = ("safe", "unsafe")


@dataclass(frozen=True)
class Edit:
    """Replace ``text[start_offset:end_offset]`` of the file at ``path`` with ``replacement``.
    A file that does not exist yet reads as empty: an insertion at 0 creates it."""

    path: str
    start_offset: int
    end_offset: int
    replacement: str


@dataclass(frozen=True)
class Fix:
    """A way to resolve a finding. ``safety`` (the applicability) is ``"safe"`` (the build's
    result is kept) or ``"unsafe"`` (applied only with ``--unsafe-fixes``). Without ``edits``
    nothing is applied: the finding is not fixable. Fixes with the same ``isolation`` key are
    applied one per pass of the fix loop (e.g. two inserts of the same ``ENV``: the first may
    serve both findings)."""

    safety: str
    description: str
    edits: tuple[Edit, ...] = ()
    isolation: str | None = None

    def __post_init__(self) -> None:
        if self.safety not in APPLICABILITIES:  # a misspelt one would never be applied
            raise ValueError(f"fix safety must be one of {APPLICABILITIES}, not {self.safety!r}")

    def applicable(self, unsafe_fixes: bool = False) -> bool:
        """Whether ``layerwise fix`` (with or without ``--unsafe-fixes``) applies it."""
        return bool(self.edits) and (self.safety == "safe" or (unsafe_fixes and self.safety == "unsafe"))


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
    #: the severity was chosen for this finding (a rule's milder case: a build that warns
    #: rather than fails), not left to the rule's default
    own_severity: bool = False

    def fixable(self, unsafe_fixes: bool = False) -> bool:
        return self.fix is not None and self.fix.applicable(unsafe_fixes)

    @property
    def sort_key(self) -> tuple:
        return (self.path, self.line, self.column, self.code, self.message)
