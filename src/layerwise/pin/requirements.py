"""A requirements file as pip reads it, rewritten line by line.

Only the version part of a loose requirement changes (``flask>=2`` -> ``flask==3.0.3``);
its name and extras as written, its environment marker, its inline comment, every option
line (``-r``, ``-c``, ``--index-url``, ``-e ...``) and every other byte stay. With hashes the
requirement gets pip-compile's layout (one ``--hash`` per continuation line, the comment
after the last one: a comment before a ``\\`` would swallow the following lines).
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

_COMMENT = re.compile(r"(^|\s+)#.*$")
_LINE_OPTIONS = re.compile(r"\s+--?(hash|config-settings|global-option|install-option)\b")
_NAME_EXTRAS = re.compile(r"^\s*[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?\s*(?:\[[^\]]*\])?")
_INCLUDE = re.compile(r"^(?:-r|--requirement)(?:\s*=\s*|\s+|(?=[^\s=]))(\S+)")


@dataclass
class Line:
    """One logical line (continuations joined) of a requirements file."""

    start: int  # index of its first physical line
    end: int  # index after its last physical line
    raw: str  # the physical lines, joined as written
    body: str  # without the comment and the continuations
    comment: str  # "  # comment" as written (with its leading space), or ""
    requirement: Requirement | None = None
    include: str | None = None  # -r target, relative to the file's folder

    @property
    def pinned(self) -> bool:
        return self.requirement is not None and is_pinned(self.requirement)


@dataclass
class RequirementsFile:
    path: str
    text: str
    lines: list[Line] = field(default_factory=list)
    newline: str = "\n"

    @classmethod
    def parse(cls, path: str, text: str) -> RequirementsFile:
        physical = text.splitlines(keepends=True)
        nl = "\r\n" if physical and physical[0].endswith("\r\n") else "\n"
        out = cls(path, text, newline=nl)
        i = 0
        while i < len(physical):
            start = i
            parts = []
            while True:
                line = physical[i].rstrip("\r\n")
                i += 1
                if line.endswith("\\") and not _COMMENT.match(line.lstrip()) and i < len(physical):
                    parts.append(line[:-1])
                    continue
                parts.append(line)
                break
            joined = " ".join(p.strip() if k else p.rstrip() for k, p in enumerate(parts))
            m = _COMMENT.search(joined)
            body, comment = (joined[: m.start()], joined[m.start():]) if m else (joined, "")  # fmt: skip
            ln = Line(start, i, "".join(physical[start:i]), body.strip(), comment)
            if ln.body.startswith("-"):
                inc = _INCLUDE.match(ln.body)
                if inc:
                    ln.include = inc.group(1)
            elif ln.body:
                req_text = _LINE_OPTIONS.split(ln.body, maxsplit=1)[0]
                try:
                    ln.requirement = Requirement(req_text)
                except InvalidRequirement:
                    ln.requirement = None  # a path or URL: left as written
            out.lines.append(ln)
        return out

    def includes(self) -> list[str]:
        base = posixpath.dirname(self.path)
        return [posixpath.normpath(posixpath.join(base, ln.include)) for ln in self.lines if ln.include]

    def requirements(self) -> list[Line]:
        return [ln for ln in self.lines if ln.requirement is not None]

    def render(self, replacements: dict[int, str], appended: list[str] = ()) -> str:  # type: ignore[assignment]
        """The text with the logical lines at ``replacements`` (by start index) replaced."""
        physical = self.text.splitlines(keepends=True)
        out: list[str] = []
        by_start = {ln.start: ln for ln in self.lines}
        i = 0
        while i < len(physical):
            ln = by_start[i]
            if ln.start in replacements:
                ending = physical[ln.end - 1][len(physical[ln.end - 1].rstrip("\r\n")) :]
                out.append(replacements[ln.start].replace("\n", self.newline) + (ending or self.newline))
            else:
                out.append(ln.raw)
            i = ln.end
        text = "".join(out)
        if appended:
            if text and not text.endswith(("\n", "\r")):
                text += self.newline
            text += self.newline.join(appended) + self.newline
        return text


def is_pinned(req: Requirement) -> bool:
    """One exact version: a single ``==X`` (no ``.*``) or ``===X``; a URL is not a pin here."""
    if req.url:
        return False
    specs = list(req.specifier)
    return len(specs) == 1 and (
        specs[0].operator == "===" or (specs[0].operator == "==" and not specs[0].version.endswith(".*"))
    )


def pinned_line(line: Line, version: str, hashes: list[str] | None) -> str:
    """The requirement of ``line`` pinned to ``version`` (hashes: its ``--hash`` options
    replaced by these; None: options kept)."""
    assert line.requirement is not None
    req_text = _LINE_OPTIONS.split(line.body, maxsplit=1)[0]
    options = line.body[len(req_text) :].strip()
    head = _NAME_EXTRAS.match(req_text)
    assert head is not None
    name_extras = head.group(0).rstrip()
    marker = ""
    m = re.search(r"\s*;", req_text)
    if m and line.requirement.marker is not None:
        marker = req_text[m.start() :].rstrip()
    new = f"{name_extras}=={version}{marker}"
    if hashes is None:
        return new + (" " + options if options else "") + line.comment
    kept = " ".join(o for o in re.split(r"\s+(?=--)", options) if o and not o.startswith("--hash"))
    return hashed(new + (" " + kept if kept else ""), hashes, line.comment)


def hashed(requirement: str, hashes: list[str], comment: str = "") -> str:
    if not hashes:
        return requirement + comment
    lines = [requirement] + [f"    --hash={h}" for h in hashes]
    return " \\\n".join(lines) + comment


def canonical(name: str) -> str:
    return canonicalize_name(name)
