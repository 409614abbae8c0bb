"""What the rules can see of the project around a Dockerfile: the build context folder, its
``.dockerignore``, a snapshot of what is sent, and ``pyproject.toml``.

Everything is optional: with only a Dockerfile (``ProjectContext(None)``) every question
answers "unknown" (``None``/empty) and the context-aware rules stay silent rather than guess.
The snapshot is taken lazily, only by the rules that need it.
"""

from __future__ import annotations

import os
import re
from functools import cached_property
from pathlib import Path

from layerwise import safefs
from layerwise.errors import LayerwiseError, Location


class ProjectContext:
    def __init__(
        self,
        root: str | os.PathLike[str] | None,
        dockerfile_path: str | os.PathLike[str] | None = None,
        *,
        builder: str = "buildkit",
    ) -> None:
        self.root = Path(root) if root is not None else None
        self.dockerfile_path = Path(dockerfile_path) if dockerfile_path is not None else None
        self.builder = builder
        self.errors: list[LayerwiseError] = []  # context problems met (reported, not raised)
        #: texts that stand for files not written yet (the fix loop's CI files), by absolute path
        self.overlay: dict[str, str] = {}
        self._warned: set[str] = set()
        self._texts: dict[str, str | None] = {}
        self._lines: dict[str, list[tuple[int, str]] | None] = {}

    @property
    def known(self) -> bool:
        """Whether a build context is available at all."""
        return self.root is not None

    # -- files -------------------------------------------------------------------------------
    # Every read goes through layerwise.safefs: inside the context (links followed only while
    # they stay in it), regular files only, never blocking, bounded. A file that is refused is
    # reported once (a located warning naming it), never read.

    def _path(self, rel: str) -> Path | None:
        if self.root is None:
            return None
        rel = rel.lstrip("/")
        return self.root / rel if rel not in ("", ".") else self.root

    def inside(self, rel: str) -> bool | None:
        """Whether ``rel`` names a place inside the context once its symlinks are followed."""
        if self.root is None:
            return None
        return safefs.contained(self.root, rel) is not None

    def exists(self, rel: str) -> bool | None:
        p = self._path(rel)
        if p is None:
            return None
        if not self.inside(rel):  # '..' out of the context, or through a link that leaves it
            return os.path.islink(p) and self.inside(os.path.dirname(rel.lstrip("/")) or ".")
        return p.exists()

    def is_file(self, rel: str) -> bool | None:
        if self.root is None:
            return None
        return safefs.is_file(rel, root=self.root)

    def read_text(self, rel: str) -> str | None:
        if self.root is None:
            return None
        key = os.path.normpath(rel.lstrip("/") or ".")
        if key in self._texts:
            return self._texts[key]
        try:
            text: str | None = safefs.read_text(rel, root=self.root, display=self.display(rel))
        except safefs.FileAccessError as exc:
            text = None
            if exc.message not in ("no such file", "is a directory, not a file"):  # absent: not a problem
                self._warn(exc)
        self._texts[key] = text
        return text

    def _warn(self, exc: LayerwiseError) -> None:
        if str(exc) not in self._warned:
            self._warned.add(str(exc))
            self.errors.append(exc)

    def display(self, rel: str) -> str:
        """A path to show users for a context file."""
        p = self._path(rel)
        return os.path.normpath(os.fspath(p)) if p is not None else rel

    # -- .dockerignore -----------------------------------------------------------------------

    @cached_property
    def ignore(self):
        """The :class:`~layerwise.context.ignore.IgnoreFile` the build uses, or None."""
        if self.root is None:
            return None
        from layerwise.context.ignore import load_ignore

        try:
            return load_ignore(self.root, self.dockerfile_path, self.builder)
        except LayerwiseError as exc:
            self.errors.append(exc)
            return None

    def excluded(self, rel: str) -> bool | None:
        """Whether ``.dockerignore`` leaves ``rel`` out of the context (None: unknown)."""
        if self.root is None:
            return None
        ign = self.ignore
        if ign is None:
            return False
        rel = rel.strip("/")
        if rel in ("", "."):
            return False
        return ign.excludes(rel)

    def deciding_pattern(self, rel: str):
        ign = self.ignore
        return None if ign is None else ign.deciding_pattern(rel.strip("/"))

    @property
    def dockerfile_rel(self) -> str | None:
        """The Dockerfile's path relative to the context, when it is inside it."""
        if self.root is None or self.dockerfile_path is None:
            return None
        try:
            rel = os.path.relpath(os.path.realpath(self.dockerfile_path), os.path.realpath(self.root))
        except ValueError:
            return None
        return None if rel.startswith("..") else rel.replace(os.sep, "/")

    # -- snapshot ----------------------------------------------------------------------------

    @cached_property
    def snapshot(self):
        """The :class:`~layerwise.context.snapshot.Snapshot` of what is sent (no digests)."""
        if self.root is None:
            return None
        from layerwise.context.snapshot import Snapshot

        try:
            return Snapshot.take(self.root, self.ignore, use_cache=False, digests=False)
        except LayerwiseError as exc:
            self.errors.append(exc)
            return None

    def use_snapshot(self, snapshot, ignore) -> None:
        """Take this snapshot of the context (taken with the ignore file ``ignore``, as
        :attr:`ignore` would load it) instead of walking: a long-running caller (the language
        server) keeps one until a file changes."""
        self.__dict__["ignore"] = ignore
        self.__dict__["snapshot"] = snapshot

    def select(self, src: str) -> list[str] | None:
        """Context files (not folders) a COPY source selects (None: unknown)."""
        snap = self.snapshot
        if snap is None:
            return None
        try:
            return [e.path for e in snap.select(src) if e.kind == "file"]
        except (LayerwiseError, ValueError):
            return None

    # -- pyproject.toml ----------------------------------------------------------------------

    def toml(self, rel: str) -> dict | None:
        text = self.read_text(rel)
        if text is None:
            return None
        try:
            import tomllib
        except ImportError:  # pragma: no cover - Python 3.10
            import tomli as tomllib  # type: ignore[no-redef]
        try:
            return tomllib.loads(text)
        except (ValueError, RecursionError):  # invalid, or nested too deep: no usable pyproject
            return None

    @cached_property
    def pyproject(self) -> dict | None:
        return self._shaped(self.toml("pyproject.toml"), "pyproject.toml")

    def pyproject_at(self, rel: str) -> dict | None:
        """The pyproject.toml at ``rel`` in the context (``backend/pyproject.toml``): the file a
        COPY or a bind mount takes, which need not be the one at the root."""
        rel = os.path.normpath(rel.lstrip("/") or ".").replace(os.sep, "/")
        if rel == "pyproject.toml":
            return self.pyproject
        return self._shaped(self.toml(rel), rel)

    def _shaped(self, data: dict | None, rel: str) -> dict | None:
        """``data`` without keys of the wrong type (``project = 5``), each a located error."""
        if not data:
            return data
        from layerwise.analyses.pyproject import clean_pyproject

        path = os.path.join(os.fspath(self.root), rel) if self.root is not None else rel
        data, errors = clean_pyproject(data, self.read_text(rel) or "", path)
        for e in errors:
            if str(e) not in {str(x) for x in self.errors}:
                self.errors.append(e)
        return data

    def pyproject_files(self, rel_dir: str = ".") -> list[str]:
        """Files pyproject.toml (in ``rel_dir``) makes the build backend read: readme, license."""
        rel = _join(rel_dir, "pyproject.toml")
        data = self._shaped(self.toml(rel), rel)
        if not data:
            return []
        out: list[str] = []
        meta = data.get("project", {}) if isinstance(data.get("project"), dict) else {}
        poetry = data.get("tool", {}).get("poetry", {}) if isinstance(data.get("tool"), dict) else {}
        readme = meta.get("readme") or (poetry.get("readme") if isinstance(poetry, dict) else None)
        if isinstance(readme, dict):
            readme = readme.get("file")
        if isinstance(readme, str):
            out.append(readme)
        elif isinstance(readme, list):
            out += [r for r in readme if isinstance(r, str)]
        lic = meta.get("license")
        if isinstance(lic, dict) and isinstance(lic.get("file"), str):
            out.append(lic["file"])
        files = meta.get("license-files")
        if isinstance(files, list):
            out += [f for f in files if isinstance(f, str) and not re.search(r"[*?\[]", f)]
        return [_join(rel_dir, f) for f in out]

    def requirement_lines(self, rel: str) -> list[tuple[int, str]] | None:
        """(line number, text) of a requirements file, continuations joined, comments removed."""
        key = os.path.normpath(rel.lstrip("/") or ".")
        if key in self._lines:
            return self._lines[key]
        text = self.read_text(rel)
        if text is None:
            self._lines[key] = None
            return None
        out: list[tuple[int, str]] = []
        pending: list[str] = []
        start = 0
        for n, raw in enumerate(text.splitlines(), 1):
            if not pending:
                start = n
            stripped = raw.rstrip()
            if stripped.endswith("\\"):
                pending.append(stripped[:-1] + " ")
                continue
            line = "".join(pending) + raw if pending else raw
            pending = []
            line = _COMMENT.sub("", line).strip()
            if line:
                out.append((start, line))
        self._lines[key] = out
        return out

    def requirement_includes(self, rel: str) -> list[tuple[int, str, str]]:
        """``-r``/``-c`` includes of a requirements file: (line, option, path relative to the
        context). An include that leaves the context (``..`` or a symlink out) is not one: it is
        reported as a located warning and left out (never read)."""
        out = []
        for n, line in self.requirement_lines(rel) or []:
            m = _INCLUDE.match(line)
            if m:
                target = _join(os.path.dirname(rel) or ".", m.group(2))
                if not target.startswith("/") and (target == ".." or target.startswith("../") or not self.inside(target)):
                    self._warn(LayerwiseError(f"{m.group(1)} {m.group(2)}: include points outside the build context "
                                              "(not read)", Location(self.display(rel), n, 1)))  # fmt: skip
                    continue
                out.append((n, m.group(1), target))
        return out

    def requirements_closure(self, files: list[str]) -> list[str]:
        """The files and everything they include with -r/-c, transitively (existing ones)."""
        seen: list[str] = []
        done: set[str] = set()
        todo = list(files)
        while todo:
            f = os.path.normpath(todo.pop(0))
            if f in done:
                continue
            done.add(f)
            if not self.is_file(f):
                continue
            seen.append(f)
            todo += [p for _, _, p in self.requirement_includes(f)]
        return seen


_COMMENT = re.compile(r"(^|\s)#.*$")
_INCLUDE = re.compile(r"^(-r|--requirement|-c|--constraint)\s*=?\s*(\S+)")


def _join(base: str, rel: str) -> str:
    if rel.startswith("/"):
        return rel
    return os.path.normpath(os.path.join(base, rel)) if base not in ("", ".") else os.path.normpath(rel)
