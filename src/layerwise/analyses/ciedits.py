"""Text edits of CI files (GitHub Actions workflows, GitLab CI) for the CI-cache rules: every
other byte, comment and key order is kept; inserted lines take the file's line ending and the
indentation of their neighbours."""

from __future__ import annotations

import re

from layerwise.analyses.findings import Edit, Fix
from layerwise.ci.model import CacheSpec, CiBuild

SETUP_BUILDX = "docker/setup-buildx-action@v3"


def _newline(text: str) -> str:
    first = text.find("\n")
    return "\r\n" if first > 0 and text[first - 1] == "\r" else "\n"


def _line_end(text: str, offset: int) -> int:
    end = text.find("\n", offset)
    return len(text) if end < 0 else end + 1


def add_inputs(build: CiBuild, text: str, inputs: list[tuple[str, str]]) -> Edit | None:
    """Add ``key: value`` inputs to an action step's ``with:`` (creating it when absent).
    None when the step's layout is one we do not edit (a flow mapping, ``with:`` on one line)."""
    nl = _newline(text)
    if build.with_pos is not None:
        if build.with_indent is None:
            return None
        at = _line_end(text, build.with_pos.offset)
        body = "".join(f"{' ' * build.with_indent}{k}: {v}{nl}" for k, v in inputs)
        return Edit(build.path, at, at, body)
    if build.uses_line_end is None or build.with_indent is None:
        return None
    at = build.uses_line_end
    pad = " " * build.with_indent
    prefix = "" if text[at - 1 : at] == "\n" else nl
    body = prefix + f"{pad}with:{nl}" + "".join(f"{pad}  {k}: {v}{nl}" for k, v in inputs)
    return Edit(build.path, at, at, body)


def step_before(build: CiBuild, text: str, uses: str = SETUP_BUILDX) -> Edit | None:
    """Insert ``- uses: ...`` as a step of its own just before the build's step."""
    if build.step_line_offset is None or build.step_indent is None:
        return None
    nl = _newline(text)
    at = build.step_line_offset
    return Edit(build.path, at, at, f"{' ' * build.step_indent}- uses: {uses}{nl}")


def buildx_fix(build: CiBuild, text: str, description: str, *edits: Edit) -> Fix | None:
    """A fix that adds a ``docker/setup-buildx-action`` step before the build (and ``edits``).
    Its safety: the ``docker-container`` driver the step sets up keeps the image in the builder,
    so the image reaches the runner's Docker only when the step pushes or loads it (``push:``,
    ``load:``, ``outputs:``): safe then, unsafe otherwise. One such fix per job and pass of the
    fix loop (``isolation``): after it, the job's later builds have their builder. None when the
    step cannot be inserted."""
    step = step_before(build, text)
    if step is None:
        return None
    loads = any(k in build.inputs for k in ("push", "load", "outputs"))
    return Fix("safe" if loads else "unsafe", description, (step, *edits),
               isolation=f"setup-buildx {build.path} {build.job}")  # fmt: skip


def set_attr(build: CiBuild, text: str, spec: CacheSpec, key: str, value: str) -> Edit | None:
    """Set ``key=value`` in a cache spec as written in the file (replace it, or append it)."""
    if spec.pos is None or text[spec.pos.offset : spec.pos.offset + len(spec.raw)] != spec.raw:
        return None
    start, end = spec.pos.offset, spec.pos.offset + len(spec.raw)
    m = re.search(rf"(^|,)\s*{re.escape(key)}\s*=([^,]*)", spec.raw)
    if m is not None:
        s = start + m.start(2)
        return Edit(build.path, s, start + m.end(2), value)
    if not spec.raw or "=" not in spec.raw.split(",", 1)[0]:
        return None  # the legacy ``--cache-from IMAGE`` form has no attributes
    return Edit(build.path, end, end, f",{key}={value}")


def insert_option(build: CiBuild, option: str) -> Edit | None:
    """Insert `` OPTION`` right after the command's ``build`` word."""
    if build.command_insert is None:
        return None
    return Edit(build.path, build.command_insert, build.command_insert, f" {option}")


def remove_input_line(build: CiBuild, text: str, key: str) -> Edit | None:
    """Remove a one-line ``key: value`` input of an action step (with its line ending)."""
    pos = build.inputs.get(key)
    if pos is None:
        return None
    start = text.rfind("\n", 0, pos.offset) + 1
    if text[start : pos.offset].strip():
        return None
    end = _line_end(text, pos.offset)
    line = text[pos.offset : end].rstrip("\r\n")
    if line.rstrip().endswith(("|", ">", "|-", ">-")) or "#" in line:
        return None
    return Edit(build.path, start, end, "")


def remove_flag(build: CiBuild, text: str, flag: str) -> Edit | None:
    """Remove `` --flag`` from a command line (the first one after the command's start)."""
    m = re.compile(rf"[ \t]+{re.escape(flag)}(?=[\s\\]|$)").search(text, build.pos.offset)
    if m is None or text.count("\n", build.pos.offset, m.start()) > 20:
        return None
    return Edit(build.path, m.start(), m.end(), "")


def scope_name(build: CiBuild) -> str:
    """A cache scope of its own for a build: the job (and the target), per matrix entry."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", build.job).strip("-") or "image"
    if build.target:
        name += "-" + re.sub(r"[^A-Za-z0-9_.-]+", "-", build.target)
    if build.matrix:
        name += "-${{ strategy.job-index }}"
    return name
