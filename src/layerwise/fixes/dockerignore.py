"""Write or amend a ``.dockerignore`` for a Python project.

* Patterns that only match at the context root although they are meant for every folder
  (``__pycache__/``, ``*.pyc``, ``.venv``: moby/moby#27144) are rewritten in place to their
  ``**/`` form; nothing else of the file changes.
* Missing entries of the canonical Python list (research notes §5: secrets, VCS, virtual
  environments, bytecode, tool caches, build artefacts, the Dockerfile itself) are appended in
  one commented block.
* Never excludes a file the build needs: a pattern that would exclude a needed path (a COPY
  source, a requirements include, the README/LICENSE that pyproject names) is left out, and
  an existing pattern that excludes one gets an ``!path`` exception (LW304).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from layerwise.context.ignore import IgnoreFile, read_patterns

CANONICAL: list[tuple[str, list[str]]] = [
    ("secrets: never send them to the builder", [
        "**/.env", "**/.env.*", "**/.envrc", "**/*.key", "**/id_rsa*", "**/id_ed25519*", "**/.aws",
        "**/.ssh", "**/.pypirc", "**/.netrc", "**/.npmrc", "**/secrets.toml",
    ]),
    ("version control: large, and changes on every commit", ["**/.git", "**/.hg", "**/.svn"]),
    ("virtual environments: platform-specific, rebuilt in the image", [
        "**/.venv", "**/venv", "**/__pypackages__", "**/.pdm-python", "**/.conda",
    ]),
    ("bytecode and tool caches: churn on every local run", [
        "**/__pycache__", "**/*.py[cod]", "**/.pytest_cache", "**/.mypy_cache",
        "**/.ruff_cache", "**/.hypothesis", "**/.tox", "**/.nox", "**/.coverage", "**/htmlcov",
        "**/.ipynb_checkpoints",
    ]),
    ("packaging metadata left by local installs", ["**/*.egg-info", "**/.eggs"]),
    ("editors and OS noise", ["**/.idea", "**/.vscode", "**/.DS_Store"]),
    ("the build's own files: editing them should not bust COPY . .", [
        "**/Dockerfile*", "**/*.dockerfile", "**/docker-compose*", "**/compose.y*ml", ".dockerignore",
    ]),
]  # fmt: skip

# Root-only forms of names meant for every folder -> their ``**/`` form.
PER_FOLDER_NAMES = frozenset(
    {"__pycache__", "*.pyc", "*.pyo", "*.pyd", "*.py[cod]", "*.py[co]", ".venv", "venv", ".env",
     ".pytest_cache", ".mypy_cache", ".ruff_cache", ".tox", ".nox", "*.egg-info", ".eggs",
     ".ipynb_checkpoints", ".DS_Store", "node_modules", ".coverage", "htmlcov", ".hypothesis",
     "*.log", ".git"}
)  # fmt: skip

MARK = "# added by layerwise fix"


@dataclass
class IgnoreFix:
    text: str | None  # the new file text (None: nothing to change)
    rewritten: list[tuple[int, str, str]]  # (line, old pattern, new pattern)
    added: list[str]
    exceptions: list[str]  # "!path" lines added so that needed files stay in the context


def _root_only(pattern: str) -> str | None:
    """The ``**/`` form of a root-only pattern meant for every folder, else None."""
    if pattern.startswith(("!", "**/", "/")):
        return None
    name = pattern.rstrip("/")
    if "/" in name or name not in PER_FOLDER_NAMES:
        return None
    return "**/" + pattern


def _newline(text: str) -> str:
    i = text.find("\n")
    return "\r\n" if i > 0 and text[i - 1] == "\r" else "\n"


def fix_dockerignore(
    existing: str | None,
    *,
    needed: Iterable[str] = (),
    add_canonical: bool = True,
) -> IgnoreFix:
    """The fixed ``.dockerignore`` text for ``existing`` (None: there is none)."""
    needed = sorted({p.strip("/") for p in needed if p and p.strip("/") not in ("", ".")})
    nl = "\n" if existing is None else _newline(existing)
    lines = [] if existing is None else existing.splitlines(keepends=True)
    rewritten: list[tuple[int, str, str]] = []
    # 1. root-only patterns -> **/ form, in place (keep the line's own spacing and ending)
    for i, raw in enumerate(lines):
        body = raw.rstrip("\r\n")
        stripped = body.strip()
        if not stripped or body.lstrip().startswith("#"):
            continue
        new = _root_only(stripped)
        if new is not None:
            lines[i] = body.replace(stripped, new, 1) + raw[len(body) :]
            rewritten.append((i + 1, stripped, new))
    current = "".join(lines)
    present = {p.text for p in read_patterns(current)} if current else set()
    exception_paths = [p.text[1:] for p in read_patterns(current) if p.text.startswith("!")] if current else []

    def excludes_needed(patterns: list[str]) -> bool:
        """Whether these patterns by themselves would exclude a needed path or a path the
        file re-includes on purpose (what the file already excludes gets exceptions below)."""
        probe = IgnoreFile.from_patterns(patterns)
        return any(probe.excludes(p) for p in [*needed, *exception_paths])

    # 2. canonical entries that are missing and harmless
    added: list[str] = []
    if add_canonical:
        block: list[str] = []
        for title, patterns in CANONICAL:
            fresh = [p for p in patterns if p not in present and not excludes_needed([p])]
            if fresh:
                block.append(f"# {title}")
                block.extend(fresh)
                added.extend(fresh)
        if block:
            if current and not current.endswith(("\n", "\r")):
                current += nl
            sep = nl if current.strip() else ""
            current += sep + (MARK + nl if existing is not None else "") + nl.join(block) + nl
    # 3. needed files that an existing pattern still excludes get an exception
    exceptions: list[str] = []
    if needed and current:
        matcher = IgnoreFile.from_text(current)
        for p in needed:
            if matcher.excludes(p):
                exceptions.append("!" + p)
        if exceptions:
            if not current.endswith(("\n", "\r")):
                current += nl
            current += "# needed by the build (layerwise LW304)" + nl + nl.join(exceptions) + nl
    if existing is not None and current == existing:
        return IgnoreFix(None, [], [], [])
    return IgnoreFix(current, rewritten, added, exceptions)
