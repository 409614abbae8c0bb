"""``layerwise pin``: turn loose requirements into exact pins.

With the project's own tool when it has one (research notes §7):

=========================  =========================================================
project                    command
=========================  =========================================================
``poetry.lock``/Poetry     ``poetry lock``
``pdm.lock``/PDM           ``pdm lock``
``uv.lock``/``[tool.uv]``  ``uv lock``
``Pipfile``                ``pipenv lock``
``requirements.in``        ``pip-compile`` (or ``uv pip compile`` in a uv project or
                           when only uv is installed) into ``requirements.txt``
=========================  =========================================================

Otherwise (a loose ``requirements.txt``, or ``--tool pip``) with pip's own resolver
(:mod:`layerwise.pin.resolver`): every loose requirement of the file and of its ``-r``
includes becomes ``==`` the version pip would install, markers, extras, comments and option
lines kept (:mod:`layerwise.pin.requirements`), and the dependencies they pull in are added
in one block at the end so that the file pins the whole install. ``hashes=True`` adds, for every requirement
(pip's hash-checking mode needs them all), the ``--hash`` of every file of the pinned version
(wheels for all platforms and the sdist, from the ``--find-links`` folders and the index's
PEP 691 JSON API, like pip-compile), so that an image on another platform still installs.

:func:`pin` writes nothing: call :meth:`PinResult.write` (atomic) or :meth:`PinResult.diff`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from layerwise import safefs
from layerwise.analyses.fixtext import newline_of
from layerwise.errors import LayerwiseError, Location

TOOLS = ("auto", "pip", "pip-compile", "uv", "poetry", "pdm", "pipenv")
LOCK_FILES = {"poetry": "poetry.lock", "pdm": "pdm.lock", "uv": "uv.lock", "pipenv": "Pipfile.lock"}
DEPENDENCIES_HEADER = "# dependencies of the requirements above, pinned by layerwise pin"


@dataclass
class PinResult:
    tool: str  # "pip" (pip's resolver) or the project's tool that was run
    files: dict[str, tuple[str | None, str]] = field(default_factory=dict)  # path -> (old, new)
    notes: list[str] = field(default_factory=list)
    command: list[str] | None = None  # the tool's command line, when a tool ran

    @property
    def changed(self) -> bool:
        return any(old != new for old, new in self.files.values())

    def diff(self, relative_to: str | os.PathLike[str] | None = None) -> str:
        from layerwise.fixes.edits import unified_diff

        out = ""
        for path, (old, new) in self.files.items():
            if old != new:
                rel = os.path.relpath(path, relative_to) if relative_to else path
                out += unified_diff(os.path.normpath(rel), old or "", new)
        return out

    def write(self) -> list[str]:
        """Write the changed files with ``fix``'s writer: all or nothing, owner, mode, links and
        attributes kept, and refused when a file changed since pin read it."""
        from layerwise.fixes.edits import FileWrite, write_all_atomic

        return write_all_atomic([FileWrite(path, new, original=old, check_original=True)
                                 for path, (old, new) in self.files.items() if old != new], command="pin")  # fmt: skip


def pin(
    path: str | os.PathLike[str] = ".",
    *,
    hashes: bool = False,
    tool: str = "auto",
    python: str | None = None,
    index_options: Sequence[str] = (),
    python_version: str | None = None,
) -> PinResult:
    """Pin the requirements at ``path`` (a project folder or a requirements file), for the
    image's Python: ``python_version``, else the one the project's Dockerfile or
    .python-version names (:mod:`layerwise.pin.python`), else the resolving interpreter's."""
    from layerwise.pin.python import ImagePython, image_python

    if tool not in TOOLS:
        raise LayerwiseError(f"unknown tool {tool!r} (one of {', '.join(TOOLS)})")
    p = Path(path)
    if not p.exists():
        raise LayerwiseError("no such file or folder", Location(str(p)))
    chosen, target = detect(p) if tool == "auto" else (tool, _target_for(p, tool))
    want = ImagePython(python_version, "--python-version") if python_version else image_python(target.parent)
    if chosen == "pip":
        return _pin_with_pip(target, hashes=hashes, python=python or _python_of(target.parent),
                             index_options=index_options, image=want, chosen_python=python is not None)  # fmt: skip
    return _pin_with_tool(chosen, target, hashes=hashes, index_options=index_options, image=want)


def _read_exactly(path: Path) -> str | None:
    """The file's text as its bytes are (line endings untouched, undecodable bytes kept), so
    that :meth:`PinResult.write` can tell whether it changed meanwhile; None when absent."""
    if not path.is_file():
        return None
    with open(path, encoding="utf-8", errors="surrogateescape", newline="") as f:
        return f.read()


# ----------------------------------------------------------------------- which tool


def _pyproject_tools(folder: Path) -> set[str]:
    text = (folder / "pyproject.toml").read_text(errors="replace") if (folder / "pyproject.toml").is_file() else ""
    return {t for t in ("poetry", "pdm", "uv") if f"[tool.{t}" in text}


def detect(path: Path) -> tuple[str, Path]:
    """(tool, the file it pins or compiles from) for a folder or a file."""
    if path.is_file():
        folder = path.parent
        name = path.name
        if name == "pyproject.toml":
            return detect(folder)
        if name.startswith("Pipfile"):
            return "pipenv", folder / "Pipfile"
        if name.endswith(".in"):
            return _compiler(folder), path
        source = path.with_suffix(".in")
        if name.endswith(".txt") and source.is_file():
            return _compiler(folder), source  # generated by pip-compile: compile it again
        return "pip", path
    folder = path
    declared = _pyproject_tools(folder)
    for t in ("poetry", "pdm", "uv"):
        if (folder / LOCK_FILES[t]).is_file() or t in declared:
            return t, folder / "pyproject.toml"
    if (folder / "Pipfile").is_file():
        return "pipenv", folder / "Pipfile"
    if (folder / "requirements.in").is_file():
        return _compiler(folder), folder / "requirements.in"
    if (folder / "requirements.txt").is_file():
        return "pip", folder / "requirements.txt"
    raise LayerwiseError("nothing to pin here: no requirements.txt, requirements.in, Pipfile or"
                         " Poetry/PDM/uv project", Location(str(folder)))  # fmt: skip


def _compiler(folder: Path) -> str:
    uv_project = (folder / "uv.lock").is_file() or "uv" in _pyproject_tools(folder)
    if uv_project and shutil.which("uv"):
        return "uv"
    if shutil.which("pip-compile"):
        return "pip-compile"
    if shutil.which("uv"):
        return "uv"
    return "pip"


def _target_for(path: Path, tool: str) -> Path:
    if path.is_file():
        return path
    if tool == "pip":
        for name in ("requirements.txt", "requirements.in"):
            if (path / name).is_file():
                return path / name
        raise LayerwiseError("no requirements.txt here", Location(str(path)))
    if tool in ("pip-compile",) or (tool == "uv" and (path / "requirements.in").is_file()
                                    and not (path / "pyproject.toml").is_file()):  # fmt: skip
        return path / "requirements.in"
    return path / ("Pipfile" if tool == "pipenv" else "pyproject.toml")


def _python_of(folder: Path) -> str:
    for venv in (".venv", "venv"):
        exe = folder / venv / "bin" / "python"
        if exe.exists():
            return str(exe)
    return sys.executable


# ----------------------------------------------------------------------- pip's resolver


def _pin_with_pip(top: Path, *, hashes: bool, python: str, index_options: Sequence[str], image=None,
                  chosen_python: bool = False) -> PinResult:  # fmt: skip
    from layerwise.pin.python import interpreter_version, requires_python_note
    from layerwise.pin.requirements import RequirementsFile, canonical, hashed, pinned_line
    from layerwise.pin.resolver import add_all_hashes, resolve

    result = PinResult("pip")
    files: list[RequirementsFile] = []
    root = safefs.project_root(os.path.dirname(os.path.abspath(top)))  # the repository, else the folder
    todo = [top]
    while todo:
        f = todo.pop(0)
        if any(Path(x.path) == f for x in files):
            continue
        rel = os.path.relpath(os.path.abspath(f), root)
        if safefs.contained(root, rel) is None:  # pin reads and rewrites: never outside the project
            raise LayerwiseError("include points outside the project: not read, not pinned", Location(str(f)))
        if not f.is_file():
            raise LayerwiseError("requirements file not found", Location(str(f)))
        try:  # regular files only, never blocking, bounded; bytes decoded as they are (CRLF kept)
            text = safefs.read_text(rel, root=root, display=str(f), errors="strict")
        except safefs.FileAccessError as exc:
            raise LayerwiseError(exc.message, Location(str(f))) from None
        except UnicodeDecodeError:
            raise LayerwiseError("is not UTF-8 text", Location(str(f))) from None
        rf = RequirementsFile.parse(str(f), text)
        files.append(rf)
        todo += [Path(i) for i in rf.includes()]
    host = interpreter_version(python)
    version = host  # the Python the versions are resolved for
    if image is not None and host is not None and image.version != host and chosen_python:
        result.notes.append(f"resolved for {python} (Python {host}), but the image runs Python {image.version}"
                            f" ({image.where}): versions and dependencies may differ there")  # fmt: skip
        resolved = resolve(top, python=python, index_options=index_options)
    elif image is not None and host is not None and image.version != host:
        try:
            resolved = resolve(top, python=python, index_options=index_options, python_version=image.version)
            version = image.version
            result.notes.append(f"resolved for the image's Python {image.version} ({image.where}), not this"
                                f" host's {host}: pip --python-version, wheels only")  # fmt: skip
        except LayerwiseError as exc:
            resolved = resolve(top, python=python, index_options=index_options)
            result.notes.append(f"resolved for this host's Python {host}, not the image's {image.version}"
                                f" ({image.where}): pip resolves for another Python from wheels only, and"
                                f" {exc.message}; pass --python with a Python {image.version} to resolve for it")  # fmt: skip
    else:
        resolved = resolve(top, python=python, index_options=index_options)
    if image is not None and image.musl:
        result.notes.append(f"the image is Alpine ({image.where}): pip resolved with this host's platform, whose"
                            " wheels (manylinux) an Alpine image cannot install; a package without a musllinux"
                            " wheel is built from source there")  # fmt: skip
    for_python = f"Python {version}" if version else python
    marker_env = {"python_version": version, "python_full_version": f"{version}.0"} if version else None
    note = requires_python_note(top.parent, version) if version else None
    if note:
        result.notes.append(note)
    if hashes:
        result.notes += add_all_hashes(resolved, index_options)
    block = _block_start(files[0])  # the dependency block a previous run wrote: rewritten whole
    mine = {ln.start for ln in files[0].lines if block is not None and ln.start > block}
    named = {canonical(ln.requirement.name) for rf in files for ln in rf.requirements()  # type: ignore[union-attr]
             if not (rf is files[0] and ln.start in mine)}  # fmt: skip
    pinned: dict[tuple[str, int], str] = {}  # (file, line) -> the pinned requirement
    for rf in files:
        for ln in rf.requirements():
            if rf is files[0] and ln.start in mine:
                continue
            req = ln.requirement
            assert req is not None
            got = resolved.get(canonical(req.name))
            if got is not None and req.marker is not None and not req.marker.evaluate(marker_env):
                got = None  # another line's version: this one is not installed on that Python
            if got is None or got.direct or req.url:
                if got is None and (req.marker is None or req.marker.evaluate(marker_env)):
                    result.notes.append(f"{rf.path}:{ln.start + 1}: {req.name} was not resolved; left as is")
                elif got is None:
                    result.notes.append(f"{rf.path}:{ln.start + 1}: {req.name}: its marker is false for"
                                        f" {for_python}; left as is")  # fmt: skip
                continue
            if ln.pinned and not hashes:
                continue
            new = pinned_line(ln, got.version, got.hashes if hashes else None)
            if hashes and not got.hashes:
                result.notes.append(f"{rf.path}:{ln.start + 1}: no hash known for {got.name}")
            if new.strip() != ln.raw.strip():
                pinned[(rf.path, ln.start)] = new
    extra = sorted((r for n, r in resolved.items() if n not in named and not r.direct), key=lambda r: canonical(r.name))
    dependencies = [hashed(f"{r.name}=={r.version}", r.hashes if hashes else []) for r in extra]
    if top.suffix == ".in":
        # requirements.in stays loose: the pins go to requirements.txt, flattened (pip-compile's way)
        out = top.with_suffix(".txt")
        lines = [f"# pinned from {top.name} by layerwise pin (pip's resolver): edit {top.name}, then run it again"]
        seen: dict[tuple[str, str], int] = {}  # (name, marker) -> its line in `lines`
        for rf in files:
            for ln in rf.lines:
                if ln.requirement is not None:
                    key = (canonical(ln.requirement.name), str(ln.requirement.marker or ""))
                    if key not in seen:
                        seen[key] = len(lines)
                        lines.append(pinned.get((rf.path, ln.start), ln.body + ln.comment))
                    elif ln.requirement.extras:  # the same package again, with extras: one line, all extras
                        lines[seen[key]] = _with_extras(lines[seen[key]], ln.requirement.extras)
                elif ln.body and not ln.include and rf is files[0]:
                    lines.append(ln.body + ln.comment)  # options, -c, -e ., paths of the top file
        if dependencies:
            lines += [DEPENDENCIES_HEADER, *dependencies]
        old = _read_exactly(out)
        nl = newline_of(old) if old else "\n"  # an existing file keeps its line endings
        result.files[str(out)] = (old, nl.join(lines) + nl)
    else:
        for rf in files:
            replacements = {start: text for (path, start), text in pinned.items() if path == rf.path}
            appended: list[str] = []
            kept = rf
            if rf is files[0]:
                if block is not None:  # the text above the old block; the block is written anew
                    kept = RequirementsFile.parse(rf.path, "".join(rf.text.splitlines(keepends=True)[:block]))
                appended = [DEPENDENCIES_HEADER, *dependencies] if dependencies else []
            result.files[rf.path] = (rf.text, kept.render(replacements, appended))
    if hashes and any(r.direct for r in resolved.values()):
        result.notes.append("paths and URLs (-e ., ./pkg) cannot be hash-checked: pip refuses the"
                            " file with --require-hashes; install the project in a separate step")  # fmt: skip
    return result


def _block_start(rf) -> int | None:
    """The physical line of the dependency block's header in a requirements file (None: none)."""
    return next((ln.start for ln in rf.lines if ln.raw.strip() == DEPENDENCIES_HEADER), None)


def _with_extras(line: str, extras: set[str]) -> str:
    """A requirement line with ``extras`` added to the ones it names (``x[a]==1`` -> ``x[a,b]==1``)."""
    import re

    m = re.match(r"^(\s*[A-Za-z0-9][A-Za-z0-9._-]*)(?:\[([^\]]*)\])?", line)
    if m is None:
        return line
    have = [e.strip() for e in (m.group(2) or "").split(",") if e.strip()]
    merged = have + sorted(e for e in extras if e not in have)
    return f"{m.group(1)}[{','.join(merged)}]" + line[m.end():]


# ----------------------------------------------------------------------- the project's tool


def _tool_command(tool: str, source: Path, *, hashes: bool, index_options: Sequence[str]) -> tuple[list[str], Path]:
    """The command line and the file it writes."""
    folder = source.parent
    if tool == "pip-compile":
        out = source.with_suffix(".txt")
        argv = ["pip-compile", "--quiet", "--no-emit-index-url", "--no-emit-find-links", "--strip-extras",
                *(["--generate-hashes"] if hashes else []), *index_options, "--output-file", out.name, source.name]  # fmt: skip
        return argv, out
    if tool == "uv" and source.suffix in (".in", ".txt"):
        out = source.with_suffix(".txt")
        argv = ["uv", "pip", "compile", "--quiet", *(["--generate-hashes"] if hashes else []),
                *index_options, source.name, "-o", out.name]  # fmt: skip
        return argv, out
    if tool in LOCK_FILES:
        if index_options and tool != "uv":
            raise LayerwiseError(f"{tool} takes its package index from the project's own configuration,"
                                 " not from --index-url/--find-links/--no-index", Location(str(source)))  # fmt: skip
        return [tool, "lock", *index_options], folder / LOCK_FILES[tool]
    raise LayerwiseError(f"{tool} cannot pin {source.name}", Location(str(source)))


def _pin_with_tool(tool: str, source: Path, *, hashes: bool, index_options: Sequence[str], image=None) -> PinResult:
    from layerwise.pin.python import interpreter_version, shebang_python

    argv, output = _tool_command(tool, source, hashes=hashes, index_options=index_options)
    exe = shutil.which(argv[0])
    if exe is None:
        raise LayerwiseError(f"this project pins with {argv[0]}, which is not installed"
                             " (install it, or pass --tool pip for a requirements file)",
                             Location(str(source)))  # fmt: skip
    notes = []
    if image is not None and argv[:3] == ["uv", "pip", "compile"]:
        argv[3:3] = ["--python-version", image.version]
        notes.append(f"resolved for the image's Python {image.version} ({image.where}): uv pip compile --python-version")
    elif image is not None and tool == "pip-compile":
        own = shebang_python(exe)
        host = interpreter_version(own) if own else None
        if host and host != image.version:
            notes.append(f"pip-compile resolves for the Python it runs on ({host}), but the image runs Python"
                         f" {image.version} ({image.where}): versions and dependencies may differ there; run"
                         " pip-compile installed in a Python of that version, or use uv pip compile")  # fmt: skip
    result = PinResult(tool, command=argv, notes=notes)
    if tool in LOCK_FILES and hashes:
        result.notes.append(f"{output.name} records hashes by itself")
    old = _read_exactly(output)
    # Run in a scratch copy of what the tool reads, so that nothing changes before write().
    with tempfile.TemporaryDirectory(prefix="layerwise-pin-") as tmp:
        work = Path(tmp) / source.parent.name
        from layerwise.pin.scratch import copy_for_resolver

        result.notes += copy_for_resolver(source.parent, work, source)
        try:
            p = subprocess.run([exe, *argv[1:]], cwd=work, capture_output=True, text=True, timeout=1200,
                               stdin=subprocess.DEVNULL, check=False)  # fmt: skip
        except subprocess.TimeoutExpired:
            raise LayerwiseError(f"{argv[0]} did not finish within 20 minutes", Location(str(source))) from None
        if p.returncode != 0:
            lines = [ln.strip() for ln in (p.stderr + "\n" + p.stdout).splitlines() if ln.strip()]
            raise LayerwiseError(f"{' '.join(argv)} failed: " + (lines[-1] if lines else f"exit {p.returncode}"),
                                 Location(str(source)))  # fmt: skip
        produced = work / output.name
        if not produced.is_file():
            raise LayerwiseError(f"{' '.join(argv)} wrote no {output.name}", Location(str(source)))
        result.files[str(output)] = (old, produced.read_text(encoding="utf-8"))
    return result
