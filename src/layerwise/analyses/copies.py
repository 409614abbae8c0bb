"""Facts about COPY/ADD steps shared by the rules: which copy the build context, which copy
the whole of it, which files are dependency metadata, and what the image holds at a step.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field

from layerwise.parse.instructions import Add, Copy, Run
from layerwise.resolve.stages import Stage, Step

REMOTE = re.compile(r"^(https?://|git@|git://|ssh://)", re.I)
ARCHIVE = re.compile(r"\.(tar|tgz|tbz2?|txz|tar\.(gz|bz2|xz|zst)|gz|bz2|xz|zst)$", re.I)

# Files that describe dependencies (or that packaging reads): copying them before an install
# is the cache-friendly layout, not a problem.
_DEP_NAME = re.compile(
    r"""^(
      .*requirements.*\.(txt|in|lock)|requirements|reqs?|.*constraints.*\.txt|
      pyproject\.toml|poetry\.lock|uv\.lock|pdm\.lock|pylock\..*toml|Pipfile|Pipfile\.lock|
      setup\.py|setup\.cfg|MANIFEST\.in|environment\.ya?ml|env\.ya?ml|conda.*\.ya?ml|
      .*\.conda-lock\.ya?ml|conda-lock\.ya?ml|readme(\..*)?|licen[cs]e(\..*)?|copying(\..*)?|
      \.python-version|pip\.conf|\.?pypirc|poetry\.toml|pdm\.toml|uv\.toml|
      package(-lock)?\.json|yarn\.lock|pnpm-lock\.yaml|bun\.lockb?|
      pip_packages\.txt|.*\.whl|dist|wheels
    )$""",
    re.I | re.X,
)
WHOLE = {".", "./", "/", "*", "./*", "", ".\\"}


def is_dependency_file(path: str) -> bool:
    return bool(_DEP_NAME.match(posixpath.basename(path.rstrip("/")) or path))


def sources(step: Step) -> list[str]:
    return list(step.expanded.get("sources", getattr(step.instruction, "sources", [])))  # type: ignore[arg-type]


def from_context(step: Step) -> bool:
    """A COPY/ADD whose sources come from the build context (not ``--from``, not a URL)."""
    inst = step.instruction
    if not isinstance(inst, Copy) or step.expanded.get("from") or inst.from_:
        return False
    srcs = sources(step)
    return bool(srcs) and not all(REMOTE.match(s) for s in srcs)


def copy_sources(build, path: str) -> list:
    """Every context source of the build's COPY/ADD instructions (all stages; ``--from`` and
    URLs left out), each with the location of its instruction, for the context report."""
    from layerwise.context.report import CopySource
    from layerwise.errors import Location

    out = []
    for stage in build.stages:
        for step in stage.steps:
            if from_context(step):
                loc = Location(path, step.line, step.instruction.span.start_column)
                out += [CopySource(s, loc) for s in sources(step) if not REMOTE.match(s)]
    return out


def is_whole_context(step: Step) -> bool:
    return from_context(step) and any(_norm(s) in WHOLE for s in sources(step))


def _norm(src: str) -> str:
    s = src.strip()
    if s.startswith("./") and len(s) > 2:
        s = s[2:]
    return s.rstrip("/") if s not in ("/", "./") else s


def volatile_sources(step: Step, needed: set[str] = frozenset()) -> list[str]:  # type: ignore[assignment]
    """The context sources of a COPY/ADD that are not dependency metadata (nor ``needed``)."""
    if not from_context(step):
        return []
    out = []
    for s in sources(step):
        if REMOTE.match(s):
            continue
        n = _norm(s)
        if n in WHOLE:
            out.append(s)
            continue
        if is_dependency_file(n) or n in needed or posixpath.basename(n) in {posixpath.basename(x) for x in needed}:
            continue
        out.append(s)
    return out


def dest_path(step: Step) -> str:
    """The absolute destination of a COPY/ADD (relative ones are under the WORKDIR)."""
    dest = str(step.expanded.get("dest", getattr(step.instruction, "dest", "")))
    if dest.startswith("/"):
        return dest
    return posixpath.join(step.workdir or "/", dest)


def image_path(step: Step, path: str) -> str:
    """``path`` as the RUN of ``step`` sees it (relative to its WORKDIR), normalised."""
    if path.startswith("/"):
        return _clean(path)
    return _clean(posixpath.join(step.workdir or "/", path))


def _clean(path: str) -> str:
    p = posixpath.normpath(path)
    return "/" + p.lstrip("/") if p.startswith("//") else p


@dataclass
class ImageFiles:
    """What a stage's image holds at a point, as far as COPY/ADD/mounts/RUN text tell."""

    files: dict[str, Step] = field(default_factory=dict)  # exact paths
    trees: list[tuple[str, Step | None]] = field(default_factory=list)  # anything below may exist
    mentioned: set[str] = field(default_factory=set)  # basenames/paths written in earlier RUNs
    unknown: bool = False  # we cannot tell (e.g. a base image that is not a stage)

    def has(self, path: str) -> bool:
        path = _clean(path)
        if path in self.files:
            return True
        for t, _ in self.trees:
            if t == "/" or path == t or path.startswith(t.rstrip("/") + "/"):
                return True
        return path in self.mentioned or posixpath.basename(path) in self.mentioned

    def how(self, path: str) -> Step | None:
        path = _clean(path)
        if path in self.files:
            return self.files[path]
        for t, s in self.trees:
            if t == "/" or path == t or path.startswith(t.rstrip("/") + "/"):
                return s
        return None

    def add_copy(self, step: Step) -> None:
        inst = step.instruction
        dest = dest_path(step)
        srcs = sources(step)
        if isinstance(inst, Copy) and inst.contents:  # COPY <<EOF file
            for c in inst.contents:
                target = dest if not dest.endswith("/") else posixpath.join(dest, c.path)
                self.files[_clean(target)] = step
        if step.expanded.get("from") or inst.from_:  # type: ignore[union-attr]
            self.trees.append((_clean(dest), step))
            for s in srcs:
                self.trees.append((_clean(posixpath.join(dest, posixpath.basename(s.rstrip("/")))), step))
            return
        many = len(srcs) > 1 or dest.endswith("/")
        for s in srcs:
            n = _norm(s)
            if REMOTE.match(s):
                self.trees.append((_clean(dest), step))
                continue
            if n in WHOLE or re.search(r"[*?\[]", n):
                self.trees.append((_clean(dest), step))
                continue
            base = posixpath.basename(n)
            if isinstance(inst, Add) and ARCHIVE.search(n):
                self.trees.append((_clean(dest), step))
                continue
            if "." not in base or n.endswith("/"):  # looks like a folder: its content lands in dest
                self.trees.append((_clean(dest), step))
                self.files[_clean(posixpath.join(dest, base))] = step
                continue
            target = posixpath.join(dest, base) if many else dest
            self.files[_clean(target)] = step
            if not many:  # ``COPY x.txt /app`` when /app is a folder: /app/x.txt
                self.files[_clean(posixpath.join(dest, base))] = step

    def add_run(self, step: Step, text: str) -> None:
        for word in re.findall(r"[A-Za-z0-9_./${}-]+\.(?:txt|in|toml|lock|ya?ml|cfg|py)\b", text):
            self.mentioned.add(word)
            self.mentioned.add(posixpath.basename(word))
        if re.search(r"\bgit\s+clone\b|\bcurl\b|\bwget\b|\btar\b|\bunzip\b|\bbench\s+init\b", text):
            self.trees.append((step.workdir or "/", step))

    def with_mounts(self, step: Step) -> ImageFiles:
        """This state plus the bind mounts of a RUN (visible during that RUN only)."""
        mounts = step.expanded.get("mounts") or getattr(step.instruction, "mounts", [])
        if not mounts:
            return self
        out = ImageFiles(dict(self.files), list(self.trees), set(self.mentioned), self.unknown)
        for m in mounts:  # type: ignore[union-attr]
            if m.type != "bind":
                continue
            target = image_path(step, m.target or "/")
            src = (m.source or "").strip("/")
            if m.from_ or not src or src in (".",) or "." not in posixpath.basename(src):
                out.trees.append((target, step))
            else:
                out.files[target] = step
        return out


def image_files_before(stages: list[Stage], stage: Stage, index: int, ctx_analysis) -> ImageFiles:
    """The files of ``stage``'s image before its step ``index`` (its FROM stages included)."""
    chain = [stage]
    while chain[0].base_stage is not None and len(chain) < len(stages):
        chain.insert(0, stages[chain[0].base_stage])
    fs = ImageFiles()
    for st in chain:
        steps = st.steps if st is not stage else st.steps[:index]
        for s in steps:
            inst = s.instruction
            if isinstance(inst, Copy):
                fs.add_copy(s)
            elif isinstance(inst, Run):
                fs.add_run(s, ctx_analysis(s).text)
    return fs

