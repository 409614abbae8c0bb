"""The scratch copy a project's own tool (poetry lock, pip-compile...) runs in: only what the
resolver reads, never the whole project (a 2 GB sparse file in it once became 1.7 GB on disk).

Copied: the project's configuration and lock files (``pyproject.toml``, ``setup.py``,
``poetry.lock``, ``Pipfile``, ``requirements*.in``...), the files the requirement files include
(``-r``/``-c``, recursively), and the local folders the dependencies name (``-e ./lib``, ``.``,
a ``path = "..."`` source or dependency in pyproject.toml or the Pipfile, uv workspace members,
PDM's ``file:///${PROJECT_ROOT}/...``), and the project itself when its own metadata must be
built (a ``setup.py``, or ``dynamic`` fields). In those folders, files larger than
:data:`FILE_LIMIT` (a model, a data dump, a disk image) and the usual heavy folders (.git,
virtual environments, node_modules) are left out, with a note. Paths outside the project are
not copied (an absolute one is read where it is)."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

FILE_LIMIT = 16 * 1024 * 1024
CONFIG_FILES = ("pyproject.toml", "setup.py", "setup.cfg", "MANIFEST.in", "poetry.lock", "poetry.toml", "pdm.lock",
                "pdm.toml", ".pdm-python", "uv.lock", "uv.toml", "Pipfile", "Pipfile.lock", ".python-version",
                "pip.conf")  # fmt: skip
REQUIREMENT_FILES = re.compile(r"^(requirements|constraints)[\w.-]*\.(txt|in)$|\.in$")
SKIP_DIRS = {".git", ".hg", ".svn", ".venv", "venv", "__pycache__", "node_modules", ".tox", ".nox", ".mypy_cache"}
_PDM_ROOT = re.compile(r"file:///?\$\{PROJECT_ROOT\}/?([^\s\"';#]*)")


def _inside(root: Path, rel: str) -> str | None:
    """``rel`` (relative to ``root``) as a clean relative path inside it, or None."""
    if not rel or os.path.isabs(rel):
        return None
    full = os.path.normpath(os.path.join(root, rel))
    r = os.path.relpath(full, root)
    return None if r == ".." or r.startswith("../") else r


def _requirement_refs(root: Path, rel: str, files: set[str], folders: set[str]) -> None:
    """The includes and local paths of one requirements file (``rel`` inside ``root``)."""
    from layerwise.pin.requirements import RequirementsFile

    if rel in files or not (root / rel).is_file():
        return
    files.add(rel)
    try:
        rf = RequirementsFile.parse(rel, (root / rel).read_text(encoding="utf-8", errors="replace"))
    except (OSError, ValueError):
        return
    base = os.path.dirname(rel)
    for ln in rf.lines:
        body = ln.body
        m = re.match(r"^(?:-r|--requirement|-c|--constraint)(?:\s*=\s*|\s+|(?=[^\s=]))(\S+)", body)
        if m:
            inc = _inside(root, os.path.join(base, m.group(1)))
            if inc:
                _requirement_refs(root, inc, files, folders)
            continue
        m = re.match(r"^(?:-e|--editable)(?:\s*=\s*|\s+)(\S+)", body)
        target = m.group(1) if m else (body.split()[0] if body and ln.requirement is None and not body.startswith("-") else "")
        target = target.split("#", 1)[0].removeprefix("file:").split("[", 1)[0]
        if target.startswith((".", "/")) or (target and os.sep in target):
            folder = _inside(root, os.path.join(base, target))
            if folder is not None:
                folders.add(folder)


def _toml_paths(data, out: set[str]) -> None:
    """Every ``path = "..."`` value and PDM ``${PROJECT_ROOT}`` URL in a TOML document."""
    if isinstance(data, dict):
        for k, v in data.items():
            if k == "path" and isinstance(v, str):
                out.add(v)
            else:
                _toml_paths(v, out)
    elif isinstance(data, list):
        for v in data:
            _toml_paths(v, out)
    elif isinstance(data, str):
        out.update(m.group(1) or "." for m in _PDM_ROOT.finditer(data))


def _toml(path: Path) -> dict:
    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeError, tomllib.TOMLDecodeError):
        return {}


def needed(root: Path, source: Path) -> tuple[set[str], set[str]]:
    """(files, folders) relative to ``root`` that the tool resolving ``source`` reads."""
    files: set[str] = set()
    folders: set[str] = set()
    for name in CONFIG_FILES:
        if (root / name).is_file():
            files.add(name)
    for entry in os.scandir(root):
        if entry.is_file() and REQUIREMENT_FILES.search(entry.name):
            _requirement_refs(root, entry.name, files, folders)
    rel = _inside(root, os.path.relpath(source, root))
    if rel and source.suffix in (".in", ".txt"):
        _requirement_refs(root, rel, files, folders)
    paths: set[str] = set()
    py = _toml(root / "pyproject.toml") if (root / "pyproject.toml").is_file() else {}
    tool = py.get("tool", {}) if isinstance(py.get("tool"), dict) else {}
    for section in ("poetry", "uv", "pdm"):
        _toml_paths(tool.get(section, {}), paths)
    _toml_paths(py.get("project", {}).get("dependencies", []) if isinstance(py.get("project"), dict) else [], paths)
    _toml_paths(py.get("project", {}).get("optional-dependencies", {}) if isinstance(py.get("project"), dict) else {},
                paths)  # fmt: skip
    if (root / "Pipfile").is_file():
        _toml_paths(_toml(root / "Pipfile"), paths)
    members = tool.get("uv", {}).get("workspace", {}).get("members", []) if isinstance(tool.get("uv"), dict) else []
    for pattern in members if isinstance(members, list) else []:
        if isinstance(pattern, str):
            paths.update(os.path.relpath(p, root) for p in root.glob(pattern) if p.is_dir())
    project = py.get("project") if isinstance(py.get("project"), dict) else {}
    if (root / "setup.py").is_file() or project.get("dynamic"):
        paths.add(".")  # the project's own metadata is built
    for p in paths:
        inside = _inside(root, p)
        if inside is not None and (root / inside).is_dir():
            folders.add(inside)
    return files, folders


def copy_for_resolver(root: Path, work: Path, source: Path) -> list[str]:
    """Copy what resolving ``source`` reads from ``root`` into ``work``; notes on what was left out."""
    files, folders = needed(root, source)
    notes: list[str] = []
    work.mkdir(parents=True, exist_ok=True)
    for rel in sorted(files):
        _copy_one(root / rel, work / rel)
    for rel in sorted(folders, key=len):
        src = root / rel
        for dirpath, dirnames, filenames in os.walk(src):
            dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS and not os.path.islink(os.path.join(dirpath, d))]
            for n in filenames:
                path = Path(dirpath) / n
                dst = work / path.relative_to(root)
                if dst.exists() or dst.is_symlink():
                    continue
                try:
                    st = path.lstat()
                except OSError:
                    continue
                if st.st_size > FILE_LIMIT and not path.is_symlink():
                    notes.append(f"{path.relative_to(root)} ({st.st_size // (1024 * 1024)} MB) was not copied for "
                                 "the resolver: files over 16 MB are left out")  # fmt: skip
                    continue
                _copy_one(path, dst)
            for d in [d for d in os.listdir(dirpath) if os.path.islink(os.path.join(dirpath, d))
                      and os.path.isdir(os.path.join(dirpath, d))]:  # fmt: skip
                _copy_one(Path(dirpath) / d, work / Path(dirpath, d).relative_to(root))
    return notes


def _copy_one(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    if src.is_symlink():
        if not dst.is_symlink():
            os.symlink(os.readlink(src), dst)
    elif src.is_file():
        shutil.copy2(src, dst)
