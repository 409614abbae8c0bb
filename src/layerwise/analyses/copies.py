"""Facts about COPY/ADD steps shared by the rules: which copy the build context, which copy
the whole of it, which files are dependency metadata, and what the image holds at a step.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable

from layerwise.parse.instructions import Add, Copy, Run
from layerwise.records import Record
from layerwise.resolve.stages import Stage, Step

REMOTE = re.compile(r"^(https?://|git@|git://|ssh://)", re.I)
ARCHIVE = re.compile(r"\.(tar|tgz|tbz2?|txz|tar\.(gz|bz2|xz|zst)|gz|bz2|xz|zst)$", re.I)

# Files that describe dependencies (or that packaging reads): copying them before an install
# is the cache-friendly layout, not a problem. (Compiled on first use: a check without a
# build context never asks. Flags inline: re.I | re.X would be an enum operation per call.)
_DEP_NAME = r"""(?ix)^(
      .*requirements.*\.(txt|in|lock)|requirements|reqs?|.*constraints.*\.txt|
      pyproject\.toml|poetry\.lock|uv\.lock|pdm\.lock|pylock\..*toml|Pipfile|Pipfile\.lock|
      setup\.py|setup\.cfg|MANIFEST\.in|environment\.ya?ml|env\.ya?ml|conda.*\.ya?ml|
      .*\.conda-lock\.ya?ml|conda-lock\.ya?ml|readme(\..*)?|licen[cs]e(\..*)?|copying(\..*)?|
      \.python-version|pip\.conf|\.?pypirc|poetry\.toml|pdm\.toml|uv\.toml|
      package(-lock)?\.json|yarn\.lock|pnpm-lock\.yaml|bun\.lockb?|
      pip_packages\.txt|.*\.whl|dist|wheels
    )$"""
WHOLE = {".", "./", "/", "*", "./*", "", ".\\"}


def is_dependency_file(path: str) -> bool:
    return bool(re.match(_DEP_NAME, posixpath.basename(path.rstrip("/")) or path))


def sources(step: Step) -> list[str]:
    return list(step.expanded.get("sources", getattr(step.instruction, "sources", [])))  # type: ignore[arg-type]


def from_context(step: Step) -> bool:
    """A COPY/ADD whose sources come from the build context (not ``--from``, not a URL)."""
    inst = step.instruction
    if not isinstance(inst, Copy) or inst.from_:
        return False
    expanded = step.expanded  # (a step builds this dict on each access: read it once)
    if expanded.get("from"):
        return False
    srcs = expanded.get("sources", inst.sources)
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


class _Adds:
    """How COPY/ADD, RUN text and bind mounts put files in an image, written once over three
    ways of keeping them (``_file``, ``_tree``, ``_mention``): a plain state
    (:class:`ImageFiles`) and the versioned history of a stage chain (:class:`FileHistory`)."""

    def _file(self, path: str, step: Step) -> None:
        raise NotImplementedError

    def _tree(self, path: str, step: Step | None) -> None:
        raise NotImplementedError

    def _mention(self, word: str) -> None:
        raise NotImplementedError

    def add_copy(self, step: Step) -> None:
        inst = step.instruction
        dest = dest_path(step)
        srcs = sources(step)
        if isinstance(inst, Copy) and inst.contents:  # COPY <<EOF file
            for c in inst.contents:
                target = dest if not dest.endswith("/") else posixpath.join(dest, c.path)
                self._file(_clean(target), step)
        if step.expanded.get("from") or inst.from_:  # type: ignore[union-attr]
            self._tree(_clean(dest), step)
            for s in srcs:
                self._tree(_clean(posixpath.join(dest, posixpath.basename(s.rstrip("/")))), step)
            return
        many = len(srcs) > 1 or dest.endswith("/")
        for s in srcs:
            n = _norm(s)
            if REMOTE.match(s):
                self._tree(_clean(dest), step)
                continue
            if n in WHOLE or re.search(r"[*?\[]", n):
                self._tree(_clean(dest), step)
                continue
            base = posixpath.basename(n)
            if isinstance(inst, Add) and ARCHIVE.search(n):
                self._tree(_clean(dest), step)
                continue
            if "." not in base or n.endswith("/"):  # looks like a folder: its content lands in dest
                self._tree(_clean(dest), step)
                self._file(_clean(posixpath.join(dest, base)), step)
                continue
            target = posixpath.join(dest, base) if many else dest
            self._file(_clean(target), step)
            if not many:  # ``COPY x.txt /app`` when /app is a folder: /app/x.txt
                self._file(_clean(posixpath.join(dest, base)), step)

    def add_run(self, step: Step, text: str) -> None:
        for word in re.findall(r"[A-Za-z0-9_./${}-]+\.(?:txt|in|toml|lock|ya?ml|cfg|py)\b", text):
            self._mention(word)
            self._mention(posixpath.basename(word))
        if re.search(r"\bgit\s+clone\b|\bcurl\b|\bwget\b|\btar\b|\bunzip\b|\bbench\s+init\b", text):
            self._tree(step.workdir or "/", step)

    def add_mounts(self, step: Step) -> None:
        """The bind mounts of a RUN (what only that RUN sees)."""
        for m in step.expanded.get("mounts") or getattr(step.instruction, "mounts", []):  # type: ignore[union-attr]
            if m.type != "bind":
                continue
            target = image_path(step, m.target or "/")
            src = (m.source or "").strip("/")
            if m.from_ or not src or src in (".",) or "." not in posixpath.basename(src):
                self._tree(target, step)
            else:
                self._file(target, step)


class ImageFiles(Record, _Adds):
    """What a stage's image holds at a point, as far as COPY/ADD/mounts/RUN text tell.

    (A record written out: a dataclass would be built at every start-up.)"""

    _fields = ("files", "trees", "mentioned")

    def __init__(self, files: dict[str, Step] | None = None, trees: list[tuple[str, Step | None]] | None = None,
                 mentioned: set[str] | None = None) -> None:  # fmt: skip
        self.files: dict[str, Step] = {} if files is None else files  # exact paths
        #: anything below may exist
        self.trees: list[tuple[str, Step | None]] = [] if trees is None else trees
        #: basenames/paths written in earlier RUNs
        self.mentioned: set[str] = set() if mentioned is None else mentioned

    def has(self, path: str) -> bool:
        path = _clean(path)
        if path in self.files:
            return True
        for t, _ in self.trees:
            if t == "/" or path == t or path.startswith(t.rstrip("/") + "/"):
                return True
        return path in self.mentioned or posixpath.basename(path) in self.mentioned

    def _file(self, path: str, step: Step) -> None:
        self.files[path] = step

    def _tree(self, path: str, step: Step | None) -> None:
        self.trees.append((path, step))

    def _mention(self, word: str) -> None:
        self.mentioned.add(word)

    def with_mounts(self, step: Step) -> ImageFiles:
        """This state plus the bind mounts of a RUN (visible during that RUN only)."""
        mounts = step.expanded.get("mounts") or getattr(step.instruction, "mounts", [])
        if not mounts:
            return self
        out = ImageFiles(dict(self.files), list(self.trees), set(self.mentioned))
        out.add_mounts(step)
        return out


class FileHistory(_Adds):
    """The files of a stage chain's image after each of its steps, from one pass over them.

    Each path, tree and word is kept with the first *version* that has it (the number of steps
    added before the one that put it there): the files only grow along a chain, so the state
    before any step is "what came before its version", answered without replaying the steps
    before it, as rebuilding an :class:`ImageFiles` for each install did (quadratic in the
    length of a stage). ``has(path, version)`` answers what ``ImageFiles.has`` answers for the
    state with the first ``version`` steps added.

    A history can sit on a ``parent`` seen up to ``cutoff``: a second stage built FROM the
    same stage gets a layer of its own, as the first one continues its base's history in place.
    """

    def __init__(self, parent: FileHistory | None = None, cutoff: int = 0) -> None:
        self.parent = parent
        self.cutoff = cutoff
        self.version = 0  # steps added so far
        self._files: dict[str, int] = {}
        self._exact: dict[str, int] = {}  # trees by their path
        self._prefixes: dict[str, int] = {}  # trees by what a path below them starts with
        self._root: int | None = None  # the first tree "/" (it holds every path)
        self._mentioned: dict[str, int] = {}

    def add_step(self, step: Step, run_text: Callable[[Step], str]) -> None:
        """Add one step of the chain (COPY/ADD and RUN change the files, others only count)."""
        inst = step.instruction
        if isinstance(inst, Copy):
            self.add_copy(step)
        elif isinstance(inst, Run):
            self.add_run(step, run_text(step))
        self.version += 1

    def has(self, path: str, version: int) -> bool:
        """Whether the image has ``path`` with the first ``version`` steps of the chain added."""
        path = _clean(path)
        layer: FileHistory | None = self
        while layer is not None:
            if layer._has(path, version):
                return True
            layer, version = layer.parent, layer.cutoff
        return False

    def _has(self, path: str, version: int) -> bool:
        def seen(first: int | None) -> bool:
            return first is not None and first < version

        if seen(self._files.get(path)) or seen(self._root) or seen(self._exact.get(path)):
            return True
        prefixes = self._prefixes
        if prefixes:
            at = path.find("/")
            while at >= 0:
                if seen(prefixes.get(path[: at + 1])):
                    return True
                at = path.find("/", at + 1)
        return seen(self._mentioned.get(path)) or seen(self._mentioned.get(posixpath.basename(path)))

    def _file(self, path: str, step: Step) -> None:
        self._files.setdefault(path, self.version)

    def _tree(self, path: str, step: Step | None) -> None:
        if path == "/":
            if self._root is None:
                self._root = self.version
            return
        self._exact.setdefault(path, self.version)
        self._prefixes.setdefault(path.rstrip("/") + "/", self.version)

    def _mention(self, word: str) -> None:
        self._mentioned.setdefault(word, self.version)


class ImageAt:
    """The files of an image before one step: a version of a :class:`FileHistory`, plus what
    that step alone sees (its bind mounts, files its own commands write) in a small
    :class:`ImageFiles` of its own, so the history is never copied."""

    def __init__(self, history: FileHistory, version: int, extra: ImageFiles | None = None) -> None:
        self.history = history
        self.version = version
        self.extra = extra if extra is not None else ImageFiles()

    def has(self, path: str) -> bool:
        return self.extra.has(path) or self.history.has(path, self.version)

    def with_mounts(self, step: Step) -> ImageAt:
        """This state plus the bind mounts of a RUN (visible during that RUN only)."""
        return ImageAt(self.history, self.version, self.extra.with_mounts(step))

    def add_run(self, step: Step, text: str) -> None:
        """What the commands of this very step write (for the installs later in it)."""
        self.extra.add_run(step, text)


class ImageHistories:
    """The image files before any step of a build, each stage chain's history built once.

    A stage continues the history of the stage it is built FROM in place (its steps get the
    versions after its base's), unless another stage already did: then it gets a layer on top
    of the base's final version. So a chain of stages costs its steps once, as one stage does.
    """

    def __init__(self, stages: list[Stage], run_text: Callable[[Step], str]) -> None:
        self.stages = stages
        self.run_text = run_text
        self._at: dict[int, tuple[FileHistory, int]] = {}  # stage -> its history, version of its first step

    def before(self, stage: Stage, index: int) -> ImageAt:
        """The files of ``stage``'s image before its step ``index`` (its FROM stages included)."""
        history, start = self._history(stage)
        return ImageAt(history, start + index)

    def _history(self, stage: Stage) -> tuple[FileHistory, int]:
        pending = []  # this stage and the stages it is built FROM with no history yet, nearest first
        st = stage
        while st.index not in self._at:
            pending.append(st)
            base = st.base_stage
            if base is None or base >= st.index:  # a resolved build's base is always earlier
                break
            st = self.stages[base]
        for st in reversed(pending):
            self._at[st.index] = self._build(st)
        return self._at[stage.index]

    def _build(self, stage: Stage) -> tuple[FileHistory, int]:
        base = stage.base_stage
        if base is None or base >= stage.index:
            history = FileHistory()
        else:
            parent, start = self._at[base]
            end = start + len(self.stages[base].steps)
            history = parent if parent.version == end else FileHistory(parent, end)
        start = history.version
        for step in stage.steps:
            history.add_step(step, self.run_text)
        return history, start
