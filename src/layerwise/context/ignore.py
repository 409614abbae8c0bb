""".dockerignore, read and matched exactly as BuildKit does.

Ports of moby/patternmatcher (commit 5a6d8429a19b): ``ignorefile.ReadAll`` (:func:`read_patterns`)
and ``patternmatcher.go`` (:class:`PatternMatcher`), plus the choice of file BuildKit makes
(:func:`load_ignore`): ``<Dockerfile name>.dockerignore`` beside the Dockerfile replaces the
context's ``.dockerignore``; the legacy builder only reads ``.dockerignore``.

Paths given to the matcher are relative to the context root, ``/``-separated, and already
clean (``pkg/__pycache__/x.pyc``). Every pattern keeps the line it came from so that findings
and errors can point at ``.dockerignore:LINE``.

One deliberate difference: patternmatcher compiles a pattern's regular expression lazily and
fails the build with ``syntax error in pattern`` when a path first reaches it; here every
pattern is compiled up front and a bad one raises :class:`~layerwise.errors.LayerwiseError`
at its line.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from layerwise.context import gopath
from layerwise.context.re2 import RE2Error, compile_re2
from layerwise.errors import LayerwiseError, Location
from layerwise.records import Frozen

__all__ = [
    "IgnoreFile",
    "IgnorePattern",
    "Pattern",
    "PatternMatcher",
    "ignore_file_candidates",
    "load_ignore",
    "read_patterns",
]

_BOM = b"\xef\xbb\xbf"
_MAX_LINE = 64 * 1024  # bufio.Scanner's default maximum token size


class IgnorePattern(Frozen):
    """One pattern as ``ReadAll`` returns it (``!`` kept for exceptions) and its 1-based line
    (0 when the pattern did not come from a file). (This module's records are written out: a
    dataclass would be built at every start-up.)"""

    __slots__ = _fields = ("text", "line", "column")

    def __init__(self, text: str, line: int = 0, column: int = 1) -> None:
        # column: 1-based column (in characters) where it starts on its line
        self._init(text, line, column)


def read_patterns(data: bytes | str, path: str | None = None) -> list[IgnorePattern]:
    """``ignorefile.ReadAll``: the patterns of a .dockerignore file, with their line numbers.

    BOM stripped from the first line, ``#`` in column 1 is a comment, lines TrimSpace'd,
    blank lines dropped, ``!`` marks an exception (trimmed again), then ``filepath.Clean`` and
    one leading ``/`` removed. A bare ``!`` is kept here; :class:`PatternMatcher` rejects it.
    ``path`` (the file's name) locates the "line too long" error.
    """
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogateescape")
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()  # bufio.ScanLines yields no empty token after a final newline
    out: list[IgnorePattern] = []
    for index, raw in enumerate(lines):
        lineno = index + 1
        if raw.endswith(b"\r"):
            raw = raw[:-1]
        if len(raw) > _MAX_LINE:
            raise _error("line too long (bufio.Scanner: token too long)", path, lineno)
        if index == 0 and raw.startswith(_BOM):
            raw = raw[len(_BOM) :]
        if raw.startswith(b"#"):
            continue
        decoded = raw.decode("utf-8", "surrogateescape")
        pattern = _go_trim_space(decoded)
        if not pattern:
            continue
        column = len(decoded) - len(decoded.lstrip(_GO_SPACE)) + 1
        invert = pattern[0] == "!"
        if invert:
            pattern = _go_trim_space(pattern[1:])
        if pattern:
            pattern = gopath.clean(pattern)
            if len(pattern) > 1 and pattern[0] == "/":
                pattern = pattern[1:]
        if invert:
            pattern = "!" + pattern
        out.append(IgnorePattern(pattern, lineno, column))
    return out


_GO_SPACE = "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"


def _go_trim_space(s: str) -> str:
    """``strings.TrimSpace``: Unicode White_Space (not Python's wider ``str.isspace``)."""
    return s.strip(_GO_SPACE)


# match types, as in patternmatcher
_EXACT, _PREFIX, _SUFFIX, _REGEXP = 1, 2, 3, 4
_SHOULD_ESCAPE = frozenset(".+()|{}$")


class Pattern:
    """A compiled pattern (patternmatcher's ``Pattern``)."""

    __slots__ = ("cleaned", "dirs", "exclusion", "match_type", "regex", "source")

    def __init__(self, cleaned: str, exclusion: bool, source: IgnorePattern) -> None:
        self.cleaned = cleaned
        self.exclusion = exclusion
        self.dirs = cleaned.split("/")
        self.source = source
        self.regex: re.Pattern[str] | None = None
        self.match_type, go_regex = _compile(cleaned)
        if self.match_type == _REGEXP:
            self.regex = compile_re2(go_regex)

    def __repr__(self) -> str:
        return f"Pattern({'!' if self.exclusion else ''}{self.cleaned!r}, line={self.source.line})"

    def __str__(self) -> str:
        return self.cleaned

    def match(self, path: str) -> bool:
        mt = self.match_type
        if mt == _EXACT:
            return path == self.cleaned
        if mt == _PREFIX:
            return path.startswith(self.cleaned[:-2])
        if mt == _SUFFIX:
            suffix = self.cleaned[2:]
            if path.endswith(suffix):
                return True
            return suffix[:1] == "/" and path == suffix[1:]
        return self.regex.match(path) is not None  # type: ignore[union-attr]


def _compile(pattern: str) -> tuple[int, str]:
    """``Pattern.compile``: (match type, Go regex source)."""
    reg = ["^"]
    detected = _EXACT
    n = len(pattern)
    pos = 0
    i = 0
    while pos < n:
        ch = pattern[pos]
        pos += 1
        peek = pattern[pos] if pos < n else None
        if ch == "*":
            if peek == "*":
                pos += 1
                if pos < n and pattern[pos] == "/":
                    pos += 1
                if pos >= n:
                    if detected == _EXACT:
                        detected = _PREFIX
                    else:
                        reg.append(".*")
                        detected = _REGEXP
                else:
                    reg.append("(.*/)?")
                    detected = _REGEXP
                if i == 0:
                    detected = _SUFFIX
            else:
                reg.append("[^/]*")
                detected = _REGEXP
        elif ch == "?":
            reg.append("[^/]")
            detected = _REGEXP
        elif ch in _SHOULD_ESCAPE:
            reg.append("\\" + ch)
        elif ch == "\\":
            if peek is not None:
                reg.append("\\" + peek)
                pos += 1
                detected = _REGEXP
            else:
                reg.append("\\")
        elif ch == "[" or ch == "]":
            reg.append(ch)
            detected = _REGEXP
        else:
            reg.append(ch)
        i += 1
    if detected == _REGEXP:
        reg.append("$")
    return detected, "".join(reg)


MatchInfo = tuple  # per-pattern "matched" flags of a directory (patternmatcher.MatchInfo)


class PatternMatcher:
    """``patternmatcher.PatternMatcher`` built from ReadAll output (``New``)."""

    __slots__ = ("_plan", "exclusions", "patterns", "source_path")

    def __init__(
        self, patterns: Iterable[str | IgnorePattern], source_path: str | None = None
    ) -> None:
        self.source_path = source_path
        self._plan = None  # its form for the snapshot walk (layerwise.context.matching.WalkMatcher)
        self.patterns: list[Pattern] = []
        self.exclusions = False
        for item in patterns:
            src = item if isinstance(item, IgnorePattern) else IgnorePattern(item, 0)
            p = _go_trim_space(src.text)
            if not p:
                continue
            p = gopath.clean(p)
            exclusion = False
            if p[0] == "!":
                if len(p) == 1:
                    raise _error('illegal exclusion pattern: "!"', source_path, src.line, src.column)
                exclusion = True
                p = p[1:]
                self.exclusions = True
            try:
                gopath.check_pattern(p)
            except gopath.BadPattern:
                raise _error(
                    f"syntax error in pattern {src.text!r}", source_path, src.line, src.column
                ) from None
            try:
                self.patterns.append(Pattern(p, exclusion, src))
            except RE2Error as exc:
                raise _error(
                    f"syntax error in pattern {src.text!r} ({exc})", source_path, src.line, src.column
                ) from None

    def matches_or_parent_matches(self, path: str) -> bool:
        """``MatchesOrParentMatches``: excluded if the last matching pattern (on the path or
        any parent directory) is not an exception."""
        return self._decide(path)[0]

    def deciding_pattern(self, path: str) -> Pattern | None:
        """The last pattern that changed the decision for ``path`` (None if none matched)."""
        return self._decide(path)[1]

    def _decide(self, path: str) -> tuple[bool, Pattern | None]:
        matched = False
        decider: Pattern | None = None
        parent = path.rpartition("/")[0]
        parent_dirs = parent.split("/") if parent else []
        for pattern in self.patterns:
            if pattern.exclusion != matched:
                continue
            match = pattern.match(path)
            if not match and parent_dirs:
                for k in range(1, len(parent_dirs) + 1):
                    if pattern.match("/".join(parent_dirs[:k])):
                        match = True
                        break
            if match:
                matched = not pattern.exclusion
                decider = pattern
        return matched, decider

    def matches_using_parent_results(
        self, path: str, parent_info: MatchInfo | None
    ) -> tuple[bool, MatchInfo]:
        """``MatchesUsingParentResults``: the walker's form, given the parent dir's MatchInfo
        (None for the zero value, e.g. at the context root)."""
        patterns = self.patterns
        info = [False] * len(patterns)
        matched = False
        for i, pattern in enumerate(patterns):
            match = parent_info[i] if parent_info else False
            if not match:
                if pattern.exclusion != matched:
                    continue
                match = pattern.match(path)
                if not match and not parent_info:
                    parent = path.rpartition("/")[0]
                    if parent:
                        dirs = parent.split("/")
                        for k in range(1, len(dirs) + 1):
                            if pattern.match("/".join(dirs[:k])):
                                match = True
                                break
            info[i] = match
            if match:
                matched = not pattern.exclusion
        return matched, tuple(info)

    # -- fsutil's walk pruning -------------------------------------------------------------

    def only_prefix_exceptions(self) -> bool:
        """fsutil ``onlyPrefixExcludeExceptions``: no exception pattern has a wildcard (after
        removing a trailing ``/**`` or ``/*``)."""
        for p in self.patterns:
            if p.exclusion and any(c in _without_trailing_glob(p.cleaned) for c in "*[]?^\\"):
                return False
        return True

    def may_reinclude_below(self, dir_path: str) -> bool:
        """Whether fsutil walks into the excluded directory ``dir_path``: only when an
        exception could re-include something inside it."""
        if not self.exclusions:
            return False
        if not self.only_prefix_exceptions():
            return True
        dir_slash = dir_path + "/"
        for p in self.patterns:
            if p.exclusion and (_without_trailing_glob(p.cleaned) + "/").startswith(dir_slash):
                return True
        return False


def _without_trailing_glob(p: str) -> str:
    if p.endswith("/**"):
        p = p[:-3]
    if p.endswith("/*"):
        p = p[:-2]
    return p


def _error(message: str, path: str | None, line: int, column: int | None = None) -> LayerwiseError:
    loc = Location(path, line or None, column if line else None) if path else None
    return LayerwiseError(message, loc)


class IgnoreFile(Frozen):
    """The ignore file a build uses: where it is (None when built from a list) and its
    patterns, compiled."""

    __slots__ = _fields = ("path", "patterns", "matcher")

    def __init__(self, path: Path | None, patterns: tuple[IgnorePattern, ...], matcher: PatternMatcher) -> None:
        self._init(path, patterns, matcher)

    @classmethod
    def from_patterns(
        cls, patterns: Sequence[str | IgnorePattern], path: Path | None = None
    ) -> IgnoreFile:
        items = tuple(p if isinstance(p, IgnorePattern) else IgnorePattern(p, 0) for p in patterns)
        return cls(path, items, PatternMatcher(items, str(path) if path else None))

    @classmethod
    def from_text(cls, text: bytes | str, path: Path | None = None) -> IgnoreFile:
        items = read_patterns(text, str(path) if path else None)
        return cls(path, tuple(items), PatternMatcher(items, str(path) if path else None))

    @classmethod
    def read(cls, path: Path) -> IgnoreFile:
        from layerwise import safefs

        name = os.fspath(path)
        root = safefs.project_root(os.path.dirname(os.path.abspath(name)))
        try:
            data = safefs.read_bytes(os.path.relpath(os.path.abspath(name), root), root=root, display=name)
        except safefs.OutsideProject:
            raise LayerwiseError("ignore file is a symlink to a file outside the project (not read)", Location(name)) from None
        except safefs.FileAccessError as exc:
            raise LayerwiseError(f"cannot read ignore file: {exc.message}", Location(name)) from None
        return cls.from_text(data, Path(path))

    def excludes(self, path: str) -> bool:
        """Whether BuildKit leaves the context path (relative, ``/``-separated) out of what it
        sends: fsutil's walk decides each entry with ``MatchesUsingParentResults`` from its
        parent folder's results, so an exception naming a folder only re-includes it if the
        folder itself was matched (``*/*`` + ``!b`` does not send ``b/a``; engine-confirmed)."""
        path = gopath.clean(path)
        if path == ".":
            return False
        info = None
        parts = path.split("/")
        excluded = False
        for k in range(1, len(parts) + 1):
            excluded, info = self.matcher.matches_using_parent_results("/".join(parts[:k]), info)
        return excluded

    def matches_or_parent_matches(self, path: str) -> bool:
        """patternmatcher's ``MatchesOrParentMatches`` (the semantics of its conformance cases,
        which differ from the walk's in rare exception cases; see :meth:`excludes`)."""
        path = gopath.clean(path)
        if path == ".":
            return False
        return self.matcher.matches_or_parent_matches(path)

    def deciding_pattern(self, path: str) -> Pattern | None:
        return self.matcher.deciding_pattern(gopath.clean(path))

    @property
    def name(self) -> str:
        return self.path.name if self.path else "<patterns>"


def ignore_file_candidates(
    context_dir: str | os.PathLike[str],
    dockerfile_path: str | os.PathLike[str] | None = None,
    builder: str = "buildkit",
) -> list[Path]:
    """The files the builder looks at, first existing one wins."""
    ctx = Path(context_dir)
    out: list[Path] = []
    if builder == "buildkit":
        if dockerfile_path is not None:
            df = Path(dockerfile_path)
        else:  # the default name, with BuildKit's lowercase fallback
            df = ctx / "Dockerfile"
            if not df.exists() and (ctx / "dockerfile").exists():
                df = ctx / "dockerfile"
        out.append(df.parent / (df.name + ".dockerignore"))
    elif builder != "legacy":
        raise LayerwiseError(f"unknown builder {builder!r} (expected buildkit or legacy)")
    out.append(ctx / ".dockerignore")
    return out


def load_ignore(
    context_dir: str | os.PathLike[str],
    dockerfile_path: str | os.PathLike[str] | None = None,
    builder: str = "buildkit",
) -> IgnoreFile | None:
    """The ignore file the build of ``context_dir`` uses, or None when there is none.

    BuildKit: ``<Dockerfile basename>.dockerignore`` in the Dockerfile's directory (the
    Dockerfile defaults to ``CONTEXT/Dockerfile``) when it exists, *instead of* the context's
    ``.dockerignore`` (never merged). Legacy builder: only ``CONTEXT/.dockerignore``.
    """
    ctx = Path(context_dir)
    if not ctx.is_dir():
        raise LayerwiseError("build context is not a directory", Location(str(ctx)))
    for cand in ignore_file_candidates(ctx, dockerfile_path, builder):
        if cand.is_file():
            return IgnoreFile.read(cand)
    return None
