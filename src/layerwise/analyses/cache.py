"""The cache simulation: which build steps Docker takes from cache, and why the others rebuild.

For each step that the builder executes we compute a :class:`CacheKey` from exactly the inputs
that the builder puts into its own cache key (see ``../shared/research/buildkit-cache-
semantics.md``; sources in moby/buildkit ``dockerfile2llb/convert*.go``, ``solver/llbsolver/ops``,
``cache/contenthash`` and moby ``builder/dockerfile``):

BuildKit (content-addressed, global)
    * FROM: the base reference and platform (a moved tag cannot be seen offline: assumption).
    * RUN: parent, shell + command, ENV then ARGs-with-values in scope (proxy args excluded),
      WORKDIR, USER, network, security, mounts, heredoc bodies, and the content of read-only
      bind mounts from the context.
    * COPY/ADD: parent (not with ``--link``), sources, destination (resolved against WORKDIR),
      ``--chown``/``--chmod``/``--exclude``/``--parents``, and the content checksum of the
      selected files (path, type, mode, content, link target; never mtime or owner).
      ``--link`` would drop the parent from the key, but Docker's own engine (the "docker"
      driver) has no MergeOp (moby/moby#45153) and falls back to a plain copy: confirmed on
      Docker 26.1, the COPY --link after a changed RUN rebuilds. Only a ``docker-container``
      buildx builder honours it (``link_effective=True``).
    * COPY --from=<stage>: the content of the copied paths in that stage's result, not the
      stage's chain: when the stage rebuilt but those paths hold the same bytes, the COPY is
      cached. Offline, each step of a stage is a :class:`Writer`: a COPY/ADD writes its
      destination paths with known files, a WORKDIR its folder, while a RUN (and the base
      image) may write anything, so a RUN that re-runs makes every path "may differ" (it
      often writes the same bytes, and the engine then keeps the COPY cached: a documented
      limit, scenarios 51a/51b, which explain states: such a step "may come from the cache"),
      unless it is only ``rm``/``mkdir``/``chmod``/``chown``/``touch``
      on literal paths and ``echo`` of literal words (:func:`confined_writes`, scenario 51). A read-only ``RUN --mount=type=bind,
      from=<stage>`` is keyed the same way on what it mounts. Confirmed on Docker 26.1 for
      both builders (scenarios 49-56, 51a, 54a).
    * WORKDIR (other than ``/``): parent, the absolute path and the USER that owns it.
    * Metadata instructions (ENV, ARG, LABEL, USER, CMD, ...) make no cache entry.
    * Only the stages the target needs are built.

Legacy builder (a chain of images)
    * Every instruction is a step keyed on its parent image and its own text after expansion
      (metadata instructions too), RUN with the build args in scope, COPY/ADD with a content
      hash of its sources. Every stage up to the target is built, needed or not.
    * COPY --from=<stage> is content-based here too (moby ``builder/dockerfile/copy.go``: a
      tarsum of the copied tree in the stage's image, headers without mtime, paths from the
      image root). The same :class:`Writer` model applies; what differs is which steps re-run:
      after any changed instruction (a LABEL too) every later step of the stage re-runs, and a
      re-run COPY of unchanged files still leaves ``COPY --from`` cached (scenario 56).

A step of the *after* state is cached when its key was produced by the *before* build.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import re
from collections.abc import Callable, Iterable, Mapping

from layerwise.context.files import WILDCARD as _WILDCARD
from layerwise.context.files import Entry as Entry  # (re-exported: the simulation's entry)
from layerwise.context.files import Selection, items_digest, normalize_source, selection
from layerwise.parse.instructions import (
    Add,
    Arg,
    Copy,
    Env,
    Instruction,
    Label,
    Onbuild,
    Run,
    Workdir,
)
from layerwise.records import Record
from layerwise.resolve.stages import PROXY_ARGS, Build, Stage, Step

BUILDERS = ("buildkit", "legacy")


class FileEntry:
    """What the simulation needs to know of one entry of the build context."""

    kind: str  # "file" | "dir" | "symlink" | "other"
    mode: int  # permission bits (and setuid/setgid/sticky)
    digest: str  # content digest for files, "" otherwise
    target: str  # link target for symlinks, "" otherwise


ContextFiles = Mapping[str, FileEntry]  # posix path relative to the context root -> entry


class FileChange(Record):
    _fields = ("path", "change")

    def __init__(self, path: str, change: str) -> None:
        self.path = path
        self.change = change  # added | removed | modified | mode | type


class Cause(Record):
    """Why a step rebuilt: the first of these that applies (a record written out: a dataclass
    would be built at every start-up)."""

    _fields = ("type", "message", "detail")

    def __init__(self, type: str, message: str, detail: dict | None = None) -> None:
        self.type = type  # parent | instruction | variables | files | new | stage | base | no-cache | unknown | ci-*
        self.message = message
        self.detail = {} if detail is None else detail

    def to_json(self) -> dict:
        return {"type": self.type, "message": self.message, **self.detail}


class StepKey(Record):
    """One executed step of one simulated build."""

    _fields = ("stage", "step", "instruction", "kind", "key", "parent", "op", "files", "missing", "assumptions",
               "stage_refs", "failure", "writes", "reads")  # fmt: skip

    def __init__(self, stage: Stage, step: Step | None, instruction: Instruction, kind: str, key: str, parent: str,
                 op: dict, files: SelectedFiles | None = None, missing: list[str] | None = None,
                 assumptions: list[str] | None = None, stage_refs: list[int] | None = None, failure: str = "",
                 writes: Writer | None = None, reads: list[tuple[str, list[tuple[Writer, str]]]] | None = None) -> None:  # fmt: skip
        self.stage = stage
        self.step = step  # None for the FROM of the stage
        self.instruction = instruction
        self.kind = kind  # from | run | copy | add | workdir | metadata
        self.key = key  # "" for metadata steps of BuildKit (no cache entry)
        self.parent = parent
        self.op = op  # the canonical operation (everything but parent and file contents)
        self.files = files  # selected context files, for COPY/ADD/bind mounts
        self.missing: list[str] = [] if missing is None else missing  # sources not in the context
        self.assumptions: list[str] = [] if assumptions is None else assumptions
        self.stage_refs: list[int] = [] if stage_refs is None else stage_refs
        self.failure = failure  # why the builder fails at this step, when it does (else "")
        self.writes = writes  # what the step writes into its stage's filesystem
        # COPY --from <stage>: for each source path, the writers of that stage that touch it
        self.reads: list[tuple[str, list[tuple[Writer, str]]]] = [] if reads is None else reads


def _overlaps(a: str, b: str) -> bool:
    """Whether two absolute paths are the same, or one is inside the other."""
    if a == b or a == "/" or b == "/":
        return True
    return a.startswith(b + "/") or b.startswith(a + "/")


def _abs(path: str) -> str:
    return posixpath.normpath("/" + path.lstrip("/"))


class Writer(Record):
    """What one step writes into its stage's filesystem, for ``COPY --from`` (whose cache key is
    the content of the paths it copies, not the stage's chain): ``ident(path)`` is equal in two
    builds exactly when this writer puts the same bytes at and under ``path`` (when it can be
    known offline; otherwise the step's own cache key, which changes whenever it re-runs).

    - ``prefix`` None: it may write anything (FROM an image, RUN), and ``ident`` is its key.
    - ``files``: the exact files it writes (COPY/ADD from the context): destination path ->
      entry tuple; ``ident`` hashes the ones at or under the path (or above it).
    - otherwise everything it writes is at or under ``prefix``, and ``ident`` is ``key``.
    """

    _fields = ("step", "key", "prefix", "files", "builder")

    def __init__(self, step: StepKey, key: str, prefix: str | None = None,
                 files: dict[str, tuple] | Callable[[], dict[str, tuple]] | None = None,
                 builder: str = "buildkit") -> None:  # fmt: skip
        self.step = step
        self.key = key
        self.prefix = prefix
        self.files = files  # (a callable: listed when asked)
        self.builder = builder

    def written(self) -> dict[str, tuple]:
        if callable(self.files):
            self.files = self.files()
        return self.files or {}

    def touches(self, path: str) -> bool:
        if self.files is not None:
            return any(_overlaps(d, path) for d in self.written())
        return self.prefix is None or _overlaps(self.prefix, path)

    def ident(self, path: str) -> str:
        if self.files is None:
            return self.key
        sub = {d: e for d, e in self.written().items() if _overlaps(d, path)}
        return _h(self.key, _files_digest(sub, self.builder))

    @property
    def reruns_unknown(self) -> bool:
        """A step whose output cannot be known offline (RUN, a base image)."""
        return self.prefix is None and self.files is None


def content_id(writers: list[Writer], path: str) -> tuple[str, list[tuple[Writer, str]]]:
    """An identifier of the content at and under ``path`` after ``writers`` ran, equal in two
    builds when the content provably is; and the writers that touch it with their idents."""
    touching = [(w, w.ident(path)) for w in writers if w.touches(path)]
    return _h([i for _, i in touching]), touching


def _h(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


# ADD unpacks a local tar archive (recognized by its content; here by its name)
_ARCHIVE = re.compile(r"\.(tar|tgz|tbz2?|txz|tzst|gz|bz2|xz|zst|lz4)$", re.IGNORECASE)


def select(files: ContextFiles, src: str, excludes: Iterable[str] = ()) -> dict[str, tuple] | None:
    """The entries a ``COPY <src>`` reads, keyed by path relative to what is copied (a listed
    :func:`~layerwise.context.files.selection`).

    Returns ``None`` when a plain path is not there (the build fails there), and an empty
    selection when a wildcard matches nothing (BuildKit's ``AllowEmptyWildcard``: no error).
    """
    sel = selection(files, src, list(excludes))
    return None if sel is None else sel.items()


class SelectedFiles:
    """The context files one step reads: its selections, each under a label (a COPY's source
    index, a bind mount's target), as views of the state. ``as_dict()`` lists them
    (``"label:name" -> entry``); :meth:`digest` keys them without listing them when the
    state's folder digests can (``COPY .`` of an unchanged tree: one lookup)."""

    __slots__ = ("_dict", "parts")

    def __init__(self, parts: list[tuple[str, Selection]]) -> None:
        self.parts = parts
        self._dict: dict[str, tuple] | None = None

    def __bool__(self) -> bool:
        return any(s.roots for _, s in self.parts)

    def as_dict(self) -> dict[str, tuple]:
        if self._dict is None:
            out: dict[str, tuple] = {}
            for label, sel in self.parts:
                for name, v in sel.items().items():
                    out[f"{label}:{name}"] = v
            self._dict = out
        return self._dict

    def context_path(self, key: str) -> str | None:
        """The context path of a ``"label:name"`` key of :meth:`as_dict` (None: not known)."""
        label, _, name = key.partition(":")
        return next((p for lab, sel in self.parts if lab == label and (p := sel.context_path(name)) is not None), None)

    def digest(self, builder: str) -> str:
        labels = [label for label, _ in self.parts]
        if len(set(labels)) != len(labels):  # two mounts at one target: one merged listing
            merged: dict[str, dict[str, tuple]] = {}
            for label, sel in self.parts:
                merged.setdefault(label, {}).update(sel.items())
            return _h([[label, items_digest(items, builder).hex()] for label, items in merged.items()])
        return _h([[label, sel.digest(builder).hex()] for label, sel in self.parts])

    def changes_from(self, before: SelectedFiles) -> dict[str, tuple[tuple | None, tuple | None]] | None:
        """``"label:name" -> (before's entry, this one's)`` for every name whose entry may differ,
        read from the paths the two states have otherwise than their shared snapshot (a
        revision against the working tree): None when they share none (then list both)."""
        if [label for label, _ in before.parts] != [label for label, _ in self.parts]:
            return None
        out: dict[str, tuple[tuple | None, tuple | None]] = {}
        for (label, new), (_, old) in zip(self.parts, before.parts):
            a, b = old.files, new.files
            same_base = getattr(a, "same_base", None)
            if (same_base is None or not same_base(b) or old.roots != new.roots or old.bases != new.bases
                    or old.excludes or new.excludes or len(set(new.bases)) != len(new.bases)):  # fmt: skip
                return None
            for path in sorted(set(a.overlaid) | set(b.overlaid)):  # type: ignore[attr-defined]
                for root, base in zip(new.roots, new.bases):
                    if root and path != root and not path.startswith(root + "/"):
                        continue
                    rel = path[len(root) + 1 :] if root and path != root else ("" if root else path)
                    name = (posixpath.join(base, rel) if rel else base) if base else rel
                    out[f"{label}:{name}"] = (a.get(path), b.get(path))
        return out


def _files_digest(files: dict[str, tuple], builder: str) -> str:
    """``_h`` of the list of (name, kind, mode, digest, target) in name order (digests in
    hex), hashed as it is written, a few thousand items per JSON call (a million files never
    sit in memory as one JSON text)."""
    h = hashlib.sha256(b"[[")
    encode = json.JSONEncoder(sort_keys=True, default=str).encode
    chunk: list[tuple] = []
    first = True
    for name in sorted(files):
        kind, mode, digest, target = files[name]
        if kind == "dir" and (builder == "buildkit" or name == ""):
            # BuildKit's incremental context sync does not see a directory's mode change
            # (research §3); the context root's mode never counts.
            mode = 0
        if type(digest) is bytes:
            digest = digest.hex()
        chunk.append((name, kind, mode & 0o7777, digest, target))
        if len(chunk) == 4096:
            h.update((b"" if first else b", ") + encode(chunk)[1:-1].encode())
            first = False
            chunk.clear()
    if chunk:
        h.update((b"" if first else b", ") + encode(chunk)[1:-1].encode())
    h.update(b"]]")
    return h.hexdigest()


def _chown(value: str) -> str:
    """``root`` and ``0`` are the same owner for BuildKit (client/llb/fileop.go parseUID)."""
    if not value:
        return ""
    parts = value.split(":")
    return ":".join("0" if p == "root" else p for p in parts)


# A RUN made only of these commands, on literal paths, writes only those paths, and the same
# bytes each time it runs on the same input (``rm -rf .git``, ``mkdir -p /data``, ``chown``...).
_CONFINED = {"rm": "-rfRdv", "mkdir": "-pv", "chmod": "-Rv", "chown": "-Rvh", "chgrp": "-Rvh", "touch": "-c"}
_PRINT = ("echo", "printf")
_SHELL_SPECIAL = re.compile(r"[$`*?\[\]{}~<>|&;()\\'\"!#=%]")


def confined_writes(step: Step, inst: Run) -> list[str] | None:
    """The absolute paths a shell-form RUN writes when it provably writes only them, the same
    way each time: a list of ``rm``/``mkdir``/``chmod``/``chown``/``chgrp``/``touch`` commands
    on literal paths, and ``echo``/``printf`` of literal words (to stdout, or ``>`` a literal
    path), joined by ``&&`` or ``;``. None for anything else (its output may differ)."""
    import shlex

    if not inst.prepend_shell or inst.files or inst.mount_specs or len(inst.cmd_line) != 1:
        return None
    if not step.shell or posixpath.basename(step.shell[0]) not in ("sh", "bash", "ash", "dash"):
        return None
    lexer = shlex.shlex(inst.cmd_line[0].replace("\\\n", " "), posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    try:
        words = list(lexer)
    except ValueError:
        return None
    paths: list[str] = []
    command: list[str] = []
    for w in [*words, "&&"]:
        if w in ("&&", ";"):
            if not command:
                return None
            if ">" in command:  # echo/printf of literal words into one literal path
                if command.count(">") != 1 or command.index(">") != len(command) - 2 or command[0] not in _PRINT:
                    return None
                paths.append(_abs(posixpath.join(step.workdir or "/", command[-1])))
                command = []
                continue
            name, args = command[0], command[1:]
            if name in _PRINT:
                command = []
                continue
            if name not in _CONFINED:
                return None
            operands = [a for a in args if not a.startswith("-")]
            for a in args:
                if a.startswith("-") and not set(a[1:]) <= set(_CONFINED[name][1:]):
                    return None
            if name in ("chmod", "chown", "chgrp"):
                operands = operands[1:]  # the mode or owner
            if not operands:
                return None
            paths.extend(_abs(posixpath.join(step.workdir or "/", o)) for o in operands)
            command = []
        elif w == ">" or not _SHELL_SPECIAL.search(w):
            command.append(w)
        else:
            return None
    return paths


def _run_args(step: Step, inst: Run) -> list[str]:
    if inst.prepend_shell:
        return [*step.shell, *inst.cmd_line]
    return list(inst.cmd_line)


def _run_env(step: Step, declared: set[str]) -> list[str]:
    env = [f"{k}={v}" for k, v in step.env]
    names = {k for k, _ in step.env}
    for k, v in step.args:
        if k in names:
            continue
        if k in PROXY_ARGS and k not in declared:
            continue
        env.append(f"{k}={v}")
    return env


def simulate(
    build: Build,
    files: ContextFiles,
    *,
    builder: str = "buildkit",
    target: str | int | None = None,
    link_effective: bool = False,
) -> list[StepKey]:
    """The steps the builder executes for ``target``, in build order, with their cache keys."""
    if builder not in BUILDERS:
        raise ValueError(f"unknown builder {builder!r}")
    final = build.stage(target) if target is not None else build.stages[-1]
    if builder == "buildkit":
        stages = build.needed_stages(target)
    else:
        stages = [s for s in build.stages if s.index <= final.index]
    out: list[StepKey] = []
    stage_key: dict[int, str] = {}
    stage_writers: dict[int, list[Writer]] = {}
    proxies = tuple(sorted(k for k in build.build_args if k in PROXY_ARGS))
    for stage in stages:
        keys = _simulate_stage(stage, files, builder, stage_key, link_effective, proxies, stage_writers,
                               {s.name: s.index for s in build.stages if s.name})  # fmt: skip
        if keys:
            stage_key[stage.index] = next((k.key for k in reversed(keys) if k.key), "")
        out.extend(keys)
    return out


def _simulate_stage(
    stage: Stage,
    files: ContextFiles,
    builder: str,
    stage_key: dict[int, str],
    link_effective: bool,
    proxies: tuple[str, ...] = (),
    stage_writers: dict[int, list[Writer]] | None = None,
    stage_names: dict[str, int] | None = None,
) -> list[StepKey]:
    out: list[StepKey] = []
    stage_writers = {} if stage_writers is None else stage_writers
    inst = stage.from_
    assumptions = []
    if stage.base_stage is not None:
        parent = stage_key.get(stage.base_stage, "")
        op = {"from": f"stage {stage.base_stage}"}
        key = parent
    else:
        op = {"from": stage.base, "platform": stage.platform}
        key = _h("from", stage.base, stage.platform)
        if stage.base.lower() != "scratch" and "@sha256:" not in stage.base:
            assumptions.append(
                f"the tag {stage.base} is assumed not to have moved since the last build"
                " (pin it with @sha256:... to be sure)"
            )
        parent = ""
    first = StepKey(stage, None, inst, "from", key, parent, op, assumptions=assumptions)
    out.append(first)
    if stage.base_stage is not None:
        writers = list(stage_writers.get(stage.base_stage, []))
    else:  # an image: anything may differ when the base does
        writers = [Writer(first, key, builder=builder)]
    parent = key
    declared: set[str] = set()
    for step in stage.steps:
        inst = step.instruction
        if isinstance(inst, Arg):
            declared.update(a.key for a in inst.args)
        sk = _step_key(stage, step, parent, files, builder, stage_key, declared, link_effective, proxies,
                       stage_writers, stage_names)  # fmt: skip
        out.append(sk)
        if sk.writes is not None:
            writers.append(sk.writes)
        if sk.key:
            parent = sk.key
    stage_writers[stage.index] = writers
    return out


def _step_key(
    stage: Stage,
    step: Step,
    parent: str,
    files: ContextFiles,
    builder: str,
    stage_key: dict[int, str],
    declared: set[str],
    link_effective: bool = False,
    proxies: tuple[str, ...] = (),
    stage_writers: dict[int, list[Writer]] | None = None,
    stage_names: dict[str, int] | None = None,
) -> StepKey:
    inst = step.instruction
    ex = step.expanded
    if isinstance(inst, Run):
        op: dict = {
            "run": _run_args(step, inst),
            "cwd": step.workdir,
            "user": step.user,
            "network": inst.network,
            "security": inst.security,
            "heredocs": [(h.name, h.content, h.expand, h.chomp) for h in inst.files],
        }
        if builder == "buildkit":
            op["env"] = _run_env(step, declared)
            mounts = []
            content_parts: list[tuple[str, Selection]] = []
            missing: list[str] = []
            refs: list[int] = list(ex.get("stage_refs", []))  # type: ignore[arg-type]
            for m in ex.get("mounts", []):  # type: ignore[union-attr]
                desc = {"type": m.type, "target": m.target, "source": m.source, "from": m.from_,
                        "readonly": m.readonly, "uid": m.uid, "gid": m.gid, "mode": m.mode}  # fmt: skip
                if m.type == "secret" or m.type == "ssh":
                    desc.update(id=m.id, required=m.required)
                mounts.append(desc)
                if m.type == "bind" and not m.from_:
                    sel = selection(files, m.source or ".")
                    if sel is None:
                        missing.append(m.source)
                    else:
                        content_parts.append((m.target, sel))
            op["mounts"] = mounts
            # a bind mount from a stage is keyed on the content of what it selects there (as
            # COPY --from); other mounts from a stage (a cache seeded from it) on its chain
            refs_keys = []
            reads: list[tuple[str, list[tuple[Writer, str]]]] = []
            for m in ex.get("mounts", []):  # type: ignore[union-attr]
                ref = (stage_names or {}).get(m.from_.lower()) if m.from_ else None
                if ref is None:
                    continue
                if m.type == "bind":
                    cid, touching = content_id((stage_writers or {}).get(ref, []), _abs(m.source or "/"))
                    refs_keys.append(cid)
                    reads.append((_abs(m.source or "/"), touching))
                else:
                    refs_keys.append(stage_key.get(ref, ""))
            content = SelectedFiles(content_parts) if content_parts else None
            key = _h(parent, op, content.digest(builder) if content else "", refs_keys)
            sk = StepKey(stage, step, inst, "run", key, parent, op, content, missing,
                         stage_refs=refs, reads=reads)  # fmt: skip
            sk.writes = _run_writer(sk, step, inst, builder)
            return sk
        # legacy: build args in scope prefix the command; mounts are not supported there
        args = sorted(
            f"{k}={v}" for k, v in step.args
            if k not in {e for e, _ in step.env} and (k not in PROXY_ARGS or k in declared)
        )  # fmt: skip
        op["buildargs"] = args
        # The legacy builder keys on which builtin proxy args are *present* (not their
        # values): from no HTTP_PROXY to one rebuilds (seen on 20.10 and 26.1; DEVELOPERS.md).
        op["proxies"] = sorted(k for k in proxies if k not in declared)
        op["config"] = _legacy_config(step)
        sk = StepKey(stage, step, inst, "run", _h(parent, op), parent, op)
        sk.writes = _run_writer(sk, step, inst, builder)
        return sk

    if isinstance(inst, Copy):
        kind = "add" if isinstance(inst, Add) else "copy"
        sources = list(ex.get("sources", inst.sources))  # type: ignore[arg-type]
        dest = str(ex.get("dest", inst.dest))
        dest_abs = posixpath.join(step.workdir, dest) if not dest.startswith("/") else dest
        if dest.endswith("/") and not dest_abs.endswith("/"):
            dest_abs += "/"
        link = inst.link and not inst.chmod and link_effective
        op = {
            kind: [normalize_source(s) for s in sources],
            "inline": [(c.path, c.data, c.expand) for c in inst.contents],
            "dest": dest_abs,
            "chown": _chown(str(ex.get("chown", ""))),
            "chmod": str(ex.get("chmod", "")),
            "link": link,
            "parents": inst.parents,
            "excludes": list(ex.get("excludes", [])),  # type: ignore[arg-type]
        }
        assumptions: list[str] = []
        src_from = str(ex.get("from", ""))
        refs: list[int] = list(ex.get("stage_refs", []))  # type: ignore[no-redef, arg-type]
        content_key = ""
        selected: SelectedFiles | None = None
        missing: list[str] = []  # type: ignore[no-redef]
        failure = ""
        reads: list[tuple[str, list[tuple[Writer, str]]]] = []
        dest_dir = posixpath.normpath(dest_abs)
        into_dir = dest.endswith(("/", "/.")) or dest == "."  # a folder either way
        # where each copied entry lands (None: somewhere under dest_dir, names not known)
        written: dict[str, tuple] | Callable[[], dict[str, tuple]] | None = None if (inst.contents or inst.parents) else {}
        if refs:
            op["from"] = f"stage {refs[0]}"
            # BuildKit and the legacy builder both key COPY --from on the content of the
            # copied paths in the source stage's result, not on that stage's chain.
            ids = []
            for s in sources:
                path = _abs(s)
                if _WILDCARD.search(path):  # the folder above the first wildcard
                    parts = path.split("/")
                    path = _abs("/".join(parts[: next(i for i, c in enumerate(parts) if _WILDCARD.search(c))]))
                cid, touching = content_id((stage_writers or {}).get(refs[0], []), path)
                ids.append(cid)
                reads.append((path, touching))
            content_key = _h(ids)
            written = None
        elif src_from:
            op["from"] = src_from
            content_key = _h(src_from)
            written = None
            assumptions.append(f"the image {src_from} is assumed unchanged since the last build")
        else:
            parts: list[tuple[str, Selection]] = []
            plan: list[tuple[bool, Selection]] = []  # what lands where: (one file, selection)
            for i, s in enumerate(sources):
                if kind == "add" and re.match(r"^(https?://|git@|[a-z]+://)", s):
                    assumptions.append(f"remote source {s} is assumed unchanged"
                                       + ("" if inst.checksum else " (no --checksum)"))  # fmt: skip
                    written = None
                    continue
                sel = selection(files, s, op["excludes"])
                if sel is None:
                    missing.append(s)
                    continue
                parts.append((str(i), sel))
                p = normalize_source(s)
                one_file = len(sources) == 1 and not _WILDCARD.search(p) and p != "" and files[p].kind != "dir"
                if written is not None and kind == "add" and any(_ARCHIVE.search(n) for n in sel.items()):
                    written = None  # ADD unpacks a local archive: names not known
                plan.append((one_file, sel))
            selected = SelectedFiles(parts)
            content_key = selected.digest(builder)
            if written is not None:
                written = _destinations(plan, dest_dir, into_dir)
            wildcards = [s for s in sources if _WILDCARD.search(normalize_source(s))]
            if (builder == "legacy" and sources and not missing and len(wildcards) == len(sources)
                    and not selected.as_dict()):  # fmt: skip
                # BuildKit copies nothing and goes on; the legacy builder needs one file
                # (moby builder/dockerfile/copy.go: "no source files were specified")
                missing = list(wildcards)
                failure = ("no file matches " + ", ".join(wildcards) + ": the legacy builder fails"
                           " here (no source files were specified)")  # fmt: skip
        op_id = _h(op)  # what it writes, whatever its parent
        if builder == "legacy":
            op["config"] = _legacy_config(step)
        key = _h("" if (link and builder == "buildkit") else parent, op, content_key)
        sk = StepKey(stage, step, inst, kind, key, parent, op, selected, missing, assumptions,
                     stage_refs=refs, reads=reads, failure=failure)  # fmt: skip
        if written is not None:
            sk.writes = Writer(sk, op_id, files=written, builder=builder)
        else:
            sk.writes = Writer(sk, _h(op_id, content_key), prefix=dest_dir, builder=builder)
        return sk

    if isinstance(inst, Workdir):
        path = step.workdir
        new = posixpath.normpath(posixpath.join(path, str(ex.get("path", inst.path))))
        if builder == "buildkit":
            if new == "/":
                return StepKey(stage, step, inst, "metadata", "", parent, {"workdir": new})
            op = {"mkdir": new, "user": step.user}
            sk = StepKey(stage, step, inst, "workdir", _h(parent, op), parent, op)
            sk.writes = Writer(sk, _h(op), prefix=new, builder=builder)
            return sk
        op = {"workdir": new, "config": _legacy_config(step)}
        sk = StepKey(stage, step, inst, "workdir", _h(parent, op), parent, op)
        sk.writes = Writer(sk, _h({"mkdir": new}), prefix=new, builder=builder)  # a root-owned folder
        return sk

    # Metadata instructions: no cache entry in BuildKit; a commit in the legacy builder.
    op = {"metadata": _metadata_text(step)}
    if builder == "buildkit":
        return StepKey(stage, step, inst, "metadata", "", parent, op)
    op["config"] = _legacy_config(step)
    return StepKey(stage, step, inst, "metadata", _h(parent, op), parent, op)


def _destinations(plan: list[tuple[bool, Selection]], dest_dir: str, into_dir: bool) -> Callable[[], dict[str, tuple]]:
    """Where a COPY puts what it selects (destination path -> entry), listed when first asked
    (only ``COPY --from`` of this stage reads it)."""

    def listing() -> dict[str, tuple]:
        out: dict[str, tuple] = {}
        for one_file, sel in plan:
            for name, v in sel.items().items():
                if one_file and not into_dir:
                    out[dest_dir] = v  # (inside it when it is an existing folder)
                else:
                    out[posixpath.join(dest_dir, name) if name else dest_dir] = v
        return out

    return listing


def _run_writer(sk: StepKey, step: Step, inst: Run, builder: str) -> Writer:
    """A RUN that re-runs may write anything (its key stands for what it wrote), unless it
    provably writes only some paths, the same way each time (:func:`confined_writes`)."""
    paths = confined_writes(step, inst)
    if paths is None:
        return Writer(sk, sk.key, builder=builder)
    what = _h("confined run", inst.cmd_line, step.workdir, step.user)
    return Writer(sk, what, files=dict.fromkeys(paths, ("run", 0, what, "")), builder=builder)


def _metadata_text(step: Step) -> str:
    """The text a metadata instruction commits (legacy ``#(nop) ...``), after expansion."""
    inst = step.instruction
    ex = step.expanded
    if isinstance(inst, (Env, Label)) and "pairs" in ex:
        return inst.name.upper() + " " + " ".join(f"{k}={v}" for k, v in ex["pairs"])  # type: ignore[union-attr]
    if isinstance(inst, Arg):
        # the legacy builder commits the ARG as written; build-arg values reach RUN only
        return "ARG " + " ".join(a.key if a.value is None else f"{a.key}={a.value}" for a in inst.args)
    if isinstance(inst, Onbuild):
        return "ONBUILD " + inst.expression
    for key in ("user", "signal", "path"):
        if key in ex:
            return f"{inst.name.upper()} {ex[key]}"
    for key in ("ports", "volumes"):
        if key in ex:
            return f"{inst.name.upper()} " + " ".join(ex[key])  # type: ignore[call-overload]
    node = inst.node
    return json.dumps([node.cmd, node.flags, node.args, node.json])


def _legacy_config(step: Step) -> dict:
    return {"env": list(step.env), "workdir": step.workdir, "user": step.user, "shell": step.shell}



# What the legacy builder of Docker 26.1 cannot build (tests/engine/test_legacy_refusal.py):
# flags its Dockerfile parser does not know fail the whole file before any step...
_LEGACY_UNKNOWN = {"run": ("security", "device"), "copy": ("exclude", "parents"), "add": ("exclude", "parents", "unpack")}
# ...and flags it knows but refuses stop the build when a stage it builds reaches them.
_LEGACY_NEEDS_BUILDKIT = {"run": ("mount", "network"), "copy": ("chmod",), "add": ("chmod",)}
_PLATFORM_ARG = re.compile(r"\$\{?((?:BUILD|TARGET)(?:PLATFORM|OS|ARCH|VARIANT))\b")


def _flag_names(inst: Instruction) -> list[str]:
    return [f[2:].split("=", 1)[0].lower() for f in inst.node.flags if f.startswith("--")]


def _legacy_later_stage(ref: str) -> str:
    """Why the legacy builder fails on ``COPY --from=<a later stage>``: it knows only the
    stages built before (checked on Docker 26.1: a name is pulled as an image, an index is
    "out of bounds"); BuildKit finds the later stage."""
    if ref.isdigit():
        return (f"COPY --from={ref} names a later stage, and it knows only the stages before"
                f' ("invalid from flag value {ref}: index out of bounds")')  # fmt: skip
    return (f"COPY --from={ref} names a later stage, and it knows only the stages before: it"
            f' pulls "{ref}" as an image ("invalid from flag value {ref}: ...")')  # fmt: skip


def legacy_unsupported(build: Build, target: str | int | None = None) -> list[tuple[Instruction, str]]:
    """Instructions the legacy builder (``DOCKER_BUILDKIT=0``, Docker 26.1) cannot build as
    BuildKit does, with why: in file order; empty when it can build the file."""
    final = build.stage(target) if target is not None else build.stages[-1]
    out: list[tuple[Instruction, str]] = []
    # parse errors: every stage, built or not
    for stage in build.stages:
        for inst in [stage.from_, *(s.instruction for s in stage.steps if not s.onbuild)]:
            for name in _flag_names(inst):
                if name in _LEGACY_UNKNOWN.get(inst.name, ()):
                    out.append((inst, f"{inst.name.upper()} --{name} is a flag it does not know"
                                      " (dockerfile parse error)"))  # fmt: skip
    given = set(build.build_args) | {k for k, v in build.meta_args if v is not None}
    for stage in build.stages:
        if stage.index > final.index:
            break
        m = _PLATFORM_ARG.search(" ".join(stage.from_.node.flags))
        if m and m.group(1) not in given:
            out.append((stage.from_, f"FROM --platform=${m.group(1)}: it does not set"
                                     f" {m.group(1)} (\"failed to parse platform\")"))  # fmt: skip
        for step in stage.steps:
            inst = step.instruction
            for name in _flag_names(inst):
                if name in _LEGACY_NEEDS_BUILDKIT.get(inst.name, ()):
                    out.append((inst, f"{inst.name.upper()} --{name} needs BuildKit"
                                      " (\"the --" + name + " option requires BuildKit\")"))  # fmt: skip
            later = [r for r in step.expanded.get("stage_refs", ()) if r > stage.index]  # type: ignore[union-attr]
            if isinstance(inst, Copy) and later and not inst.contents:
                out.append((inst, _legacy_later_stage(str(step.expanded.get("from") or inst.from_ or ""))))
            if isinstance(inst, Copy) and inst.contents:
                out.append((inst, f"{inst.name.upper()} <<{inst.contents[0].path} (a heredoc) needs BuildKit:"
                                  " it copies no inline file"
                                  " (\"no source files were specified\")"))  # fmt: skip
            elif isinstance(inst, Run) and inst.files:
                out.append((inst, "RUN <<" + inst.files[0].name + " (a heredoc) needs BuildKit: it"
                                  " drops the heredoc's body and runs only the RUN line"))  # fmt: skip
    out.sort(key=lambda p: (p[0].line, p[0].span.start_column))
    return out
