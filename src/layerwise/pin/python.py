"""Which Python the image runs, so that ``pin`` resolves for it and not for the host's.

In order: the project's Dockerfile (the official ``python:X.Y...`` image, or an image whose tag
names ``pythonX.Y``, at the root of the final stage's lineage, ARGs expanded), then
``.python-version``. ``requires-python`` gives no single version; :func:`requires_python_note`
says when the resolving interpreter does not satisfy it.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

_OFFICIAL = re.compile(r"^(?:(?:docker\.io|index\.docker\.io)/)?(?:library/)?python:(\d+\.\d+)(?:[.\-]|$)")
_TAGGED = re.compile(r":(?:.*[^0-9.])?python-?(\d+\.\d+)(?:[.\-]|$)")
_VERSION = re.compile(r"^\s*(?:cpython-|python-?)?(\d+)\.(\d+)")


@dataclass(frozen=True)
class ImagePython:
    version: str  # "3.12"
    where: str  # "Dockerfile:1", ".python-version"
    musl: bool = False  # an Alpine image: its wheels are musllinux ones, not this host's manylinux


def version_of_image(ref: str) -> str | None:
    """``3.12`` for ``python:3.12-slim``, ``docker.io/library/python:3.12.4``, or a tag naming
    ``python3.12`` (``ghcr.io/astral-sh/uv:python3.12-bookworm-slim``); else None."""
    m = _OFFICIAL.match(ref.strip()) or _TAGGED.search(ref.strip())
    return m.group(1) if m else None


def _project_roots(folder: Path) -> list[Path]:
    """The folder and its parents up to the repository root (a .git), at most 4 levels."""
    out = []
    cur = folder.resolve()
    for _ in range(4):
        out.append(cur)
        if (cur / ".git").exists() or cur.parent == cur:
            break
        cur = cur.parent
    return out


def dockerfile_python(dockerfile: Path) -> ImagePython | None:
    from layerwise.errors import LayerwiseError
    from layerwise.parse import parse_file
    from layerwise.resolve.stages import resolve

    try:
        build = resolve(parse_file(dockerfile))
    except (LayerwiseError, OSError, UnicodeError):
        return None
    stage = build.stages[-1] if build.stages else None
    seen = set()
    while stage is not None and stage.base_stage is not None and stage.index not in seen:
        seen.add(stage.index)
        stage = build.stages[stage.base_stage]
    found = []
    if stage is not None:
        found.append(stage)
    found += [s for s in build.stages if s.base_stage is None and s is not stage]
    for s in found:  # the final stage's base first, then any other stage's
        v = version_of_image(s.base)
        if v:
            return ImagePython(v, f"{dockerfile.name}:{s.from_.line}", musl="alpine" in s.base.lower())
    return None


def image_python(folder: Path) -> ImagePython | None:
    """The Python of the project's image, or None when nothing says."""
    roots = _project_roots(folder)
    for root in roots:
        df = root / "Dockerfile"
        if df.is_file():
            got = dockerfile_python(df)
            if got:
                return got
            break
    for root in roots:
        pv = root / ".python-version"
        if pv.is_file():
            try:
                first = pv.read_text(encoding="utf-8", errors="replace").strip().splitlines()
            except OSError:
                return None
            m = _VERSION.match(first[0]) if first else None
            return ImagePython(f"{m.group(1)}.{m.group(2)}", ".python-version") if m else None
    return None


def interpreter_version(python: str) -> str | None:
    """``3.11`` for an interpreter path (None when it does not run)."""
    try:
        p = subprocess.run([python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                           capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return None
    return p.stdout.strip() or None if p.returncode == 0 else None


def requires_python_note(folder: Path, version: str) -> str | None:
    """A note when the project's ``requires-python`` excludes ``version``."""
    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    from layerwise import safefs
    from layerwise.errors import LayerwiseError

    if not (folder / "pyproject.toml").is_file():
        return None
    try:
        data = tomllib.loads(safefs.read_text("pyproject.toml", root=folder, errors="strict"))
        spec = data.get("project", {}).get("requires-python")
        if not isinstance(spec, str) or SpecifierSet(spec).contains(f"{version}.0", prereleases=True):
            return None
    except (OSError, UnicodeError, LayerwiseError, tomllib.TOMLDecodeError, InvalidSpecifier, AttributeError):
        return None
    return f"pyproject.toml requires-python {spec!r} excludes Python {version}, which the versions were resolved for"


def shebang_python(script: str) -> str | None:
    """The interpreter named on a script's ``#!`` line (pip-compile's own Python)."""
    try:
        with open(script, "rb") as fh:
            first = fh.readline(512).decode("utf-8", "replace").strip()
    except OSError:
        return None
    if not first.startswith("#!"):
        return None
    parts = first[2:].split()
    if not parts:
        return None
    if Path(parts[0]).name == "env" and len(parts) > 1:
        return parts[1]
    return parts[0]
