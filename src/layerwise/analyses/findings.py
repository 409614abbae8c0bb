"""What the rules report: a :class:`Finding` at a place in a file, and optionally a :class:`Fix`
made of :class:`Edit` s (text replacements on offsets of a file: the Dockerfile, or the
``.dockerignore``) that ``layerwise fix`` applies back to front, as ruff's diagnostics carry
their fixes. A finding is *fixable* when its fix has edits and its applicability is allowed
(``safe``, or ``unsafe`` with ``--unsafe-fixes``); a :class:`Finding` given a fix without
edits keeps none (``fix`` None: a hint, not a fix)."""

from __future__ import annotations

from layerwise.records import Frozen

SEVERITIES = ("error", "warning", "info")
#: a fix's applicability: ``safe`` (``layerwise fix`` applies it) or ``unsafe`` (only with
#: ``--unsafe-fixes``). Each finding's fix carries its own: a rule whose cases differ (a
#: ``per-finding`` rule in the registry) says which is which in its doc's ``## Fix safety``.
APPLICABILITIES = ("safe", "unsafe")


class Edit(Frozen):
    """Replace ``text[start_offset:end_offset]`` of the file at ``path`` with ``replacement``.
    A file that does not exist yet reads as empty: an insertion at 0 creates it.

    (Immutable, hashable records written out: a dataclass would be built at every start-up.)"""

    __slots__ = _fields = ("path", "start_offset", "end_offset", "replacement")

    def __init__(self, path: str, start_offset: int, end_offset: int, replacement: str) -> None:
        self._init(path, start_offset, end_offset, replacement)


class Fix(Frozen):
    """A way to resolve a finding. ``safety`` (the applicability) is ``"safe"`` (the build's
    result is kept) or ``"unsafe"`` (applied only with ``--unsafe-fixes``). Without ``edits``
    nothing is applied: the finding is not fixable. Fixes with the same ``isolation`` key are
    applied one per pass of the fix loop (e.g. two inserts of the same ``ENV``: the first may
    serve both findings)."""

    __slots__ = _fields = ("safety", "description", "edits", "isolation")

    def __init__(self, safety: str, description: str, edits: tuple[Edit, ...] = (),
                 isolation: str | None = None) -> None:  # fmt: skip
        if safety not in APPLICABILITIES:  # a misspelt one would never be applied
            raise ValueError(f"fix safety must be one of {APPLICABILITIES}, not {safety!r}")
        self._init(safety, description, edits, isolation)

    def applicable(self, unsafe_fixes: bool = False) -> bool:
        """Whether ``layerwise fix`` (with or without ``--unsafe-fixes``) applies it."""
        return bool(self.edits) and (self.safety == "safe" or (unsafe_fixes and self.safety == "unsafe"))


class Finding(Frozen):
    __slots__ = _fields = ("code", "message", "path", "line", "column", "end_line", "end_column", "severity", "fix",
                           "hint", "related", "own_severity")  # fmt: skip

    def __init__(self, code: str, message: str, path: str, line: int, column: int = 1, end_line: int | None = None,
                 end_column: int | None = None, severity: str = "warning", fix: Fix | None = None, hint: str = "",
                 related: tuple[tuple[str, int], ...] = (), own_severity: bool = False) -> None:  # fmt: skip
        # hint: a one-line "how to fix" shown under the message; related: other (path, line)
        # involved; own_severity: the severity was chosen for this finding (a rule's milder
        # case: a build that warns rather than fails), not left to the rule's default.
        # A fix without edits is no fix (text, JSON, SARIF and `fix` agree): its description
        # stays as the hint when the rule gave none.
        if fix is not None and not fix.edits:
            hint = hint or fix.description
            fix = None
        self._init(code, message, path, line, column, end_line, end_column, severity, fix, hint, related, own_severity)

    def fixable(self, unsafe_fixes: bool = False) -> bool:
        return self.fix is not None and self.fix.applicable(unsafe_fixes)

    @property
    def sort_key(self) -> tuple:
        return (self.path, self.line, self.column, self.code, self.message)
