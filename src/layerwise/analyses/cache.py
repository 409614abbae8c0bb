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
    * WORKDIR (other than ``/``): parent, the absolute path and the USER that owns it.
    * Metadata instructions (ENV, ARG, LABEL, USER, CMD, ...) make no cache entry.
    * Only the stages the target needs are built.

Legacy builder (a chain of images)
    * Every instruction is a step keyed on its parent image and its own text after expansion
      (metadata instructions too), RUN with the build args in scope, COPY/ADD with a content
      hash of its sources. Every stage up to the target is built, needed or not.

A step of the *after* state is cached when its key was produced by the *before* build.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

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
from layerwise.resolve.stages import PROXY_ARGS, Build, Stage, Step

BUILDERS = ("buildkit", "legacy")


class FileEntry(Protocol):
    """What the simulation needs to know of one entry of the build context."""

    kind: str  # "file" | "dir" | "symlink" | "other"
    mode: int  # permission bits (and setuid/setgid/sticky)
    digest: str  # content digest for files, "" otherwise
    target: str  # link target for symlinks, "" otherwise


class Entry(NamedTuple):
    """One context entry as the simulation sees it (a tuple: a selection stores it as is,
    and a million of them stay small)."""

    kind: str
    mode: int = 0o644
    digest: str = ""
    target: str = ""


ContextFiles = Mapping[str, FileEntry]  # posix path relative to the context root -> entry


@dataclass
class FileChange:
    path: str
    change: str  # added | removed | modified | mode | type


@dataclass
class Cause:
    """Why a step rebuilt: the first of these that applies."""

    type: str  # parent | instruction | variables | files | new | stage | base | no-cache | unknown
    message: str
    detail: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"type": self.type, "message": self.message, **self.detail}


@dataclass
class StepKey:
    """One executed step of one simulated build."""

    stage: Stage
    step: Step | None  # None for the FROM of the stage
    instruction: Instruction
    kind: str  # from | run | copy | add | workdir | metadata
    key: str  # "" for metadata steps of BuildKit (no cache entry)
    parent: str
    op: dict  # the canonical operation (everything but parent and file contents)
    files: dict[str, tuple] | None = None  # selected context files, for COPY/ADD/bind mounts
    missing: list[str] = field(default_factory=list)  # sources not in the context
    assumptions: list[str] = field(default_factory=list)
    stage_refs: list[int] = field(default_factory=list)


def _h(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


_WILDCARD = re.compile(r"[*?\[]")


def _go_match(pattern: str, name: str) -> bool:
    """Go ``filepath.Match``: ``*`` and ``?`` never match ``/``; a bad pattern matches nothing."""
    from layerwise.context import gopath

    try:
        return gopath.match(pattern, name)
    except gopath.BadPattern:
        return False


def normalize_source(src: str) -> str:
    """A COPY source as BuildKit selects it: relative to the context root, cleaned."""
    p = posixpath.normpath("/" + src).lstrip("/")
    return "" if p == "." else p


def select(files: ContextFiles, src: str, excludes: Iterable[str] = ()) -> dict[str, tuple] | None:
    """The entries a ``COPY <src>`` reads, keyed by path relative to what is copied.

    Returns ``None`` when nothing matches (the build fails there).
    """
    p = normalize_source(src)
    roots: list[str]
    if _WILDCARD.search(p):
        roots = sorted(path for path in files if _go_match(p, path))
        if not roots:
            return None
    elif p == "":
        roots = [""]
    elif p in files:
        roots = [p]
    else:
        return None
    prefetch = getattr(files, "prefetch", None)
    if prefetch is not None:  # hash only what this COPY reads
        prefixes = tuple(r + "/" for r in roots if r)
        prefetch([p for p in files if "" in roots or p in roots or p.startswith(prefixes)])
    excluder = None
    if excludes:
        from layerwise.context.ignore import IgnoreFile

        excluder = IgnoreFile.from_patterns(list(excludes))
    out: dict[str, tuple] = {}
    for root in roots:
        prefix = root + "/" if root else ""
        base = posixpath.basename(root) if len(roots) > 1 or (root and files[root].kind != "dir") else ""
        for path in files:
            if root and path != root and not path.startswith(prefix):
                continue
            rel = path[len(prefix) :] if path != root else ""
            if excluder is not None and rel and excluder.excludes(rel):
                continue
            name = (posixpath.join(base, rel) if rel else base) if base else rel
            e = files[path]
            out[name] = e if type(e) is Entry else (e.kind, e.mode, e.digest, e.target)
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
    proxies = tuple(sorted(k for k in build.build_args if k in PROXY_ARGS))
    for stage in stages:
        keys = _simulate_stage(stage, files, builder, stage_key, link_effective, proxies)
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
) -> list[StepKey]:
    out: list[StepKey] = []
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
    out.append(StepKey(stage, None, inst, "from", key, parent, op, assumptions=assumptions))
    parent = key
    declared: set[str] = set()
    for step in stage.steps:
        inst = step.instruction
        if isinstance(inst, Arg):
            declared.update(a.key for a in inst.args)
        sk = _step_key(stage, step, parent, files, builder, stage_key, declared, link_effective, proxies)
        out.append(sk)
        if sk.key:
            parent = sk.key
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
            content: dict[str, tuple] = {}
            missing: list[str] = []
            refs: list[int] = list(ex.get("stage_refs", []))  # type: ignore[arg-type]
            for m in ex.get("mounts", []):  # type: ignore[union-attr]
                desc = {"type": m.type, "target": m.target, "source": m.source, "from": m.from_,
                        "readonly": m.readonly, "uid": m.uid, "gid": m.gid, "mode": m.mode}  # fmt: skip
                if m.type == "secret" or m.type == "ssh":
                    desc.update(id=m.id, required=m.required)
                mounts.append(desc)
                if m.type == "bind" and not m.from_:
                    sel = select(files, m.source or ".")
                    if sel is None:
                        missing.append(m.source)
                    else:
                        for name, v in sel.items():
                            content[f"{m.target}:{name}"] = v
            op["mounts"] = mounts
            refs_keys = [stage_key.get(r, "") for r in refs]
            key = _h(parent, op, _files_digest(content, builder) if content else "", refs_keys)
            return StepKey(stage, step, inst, "run", key, parent, op, content or None, missing,
                           stage_refs=refs)  # fmt: skip
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
        return StepKey(stage, step, inst, "run", _h(parent, op), parent, op)

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
        selected: dict[str, tuple] | None = None
        missing: list[str] = []  # type: ignore[no-redef]
        if refs:
            op["from"] = f"stage {refs[0]}"
            content_key = stage_key.get(refs[0], "")
        elif src_from:
            op["from"] = src_from
            assumptions.append(f"the image {src_from} is assumed unchanged since the last build")
        else:
            selected = {}
            for i, s in enumerate(sources):
                if kind == "add" and re.match(r"^(https?://|git@|[a-z]+://)", s):
                    assumptions.append(f"remote source {s} is assumed unchanged"
                                       + ("" if inst.checksum else " (no --checksum)"))  # fmt: skip
                    continue
                sel = select(files, s, op["excludes"])
                if sel is None:
                    missing.append(s)
                    continue
                for name, v in sel.items():
                    selected[f"{i}:{name}"] = v
            content_key = _files_digest(selected, builder)
        if builder == "legacy":
            op["config"] = _legacy_config(step)
        key = _h("" if (link and builder == "buildkit") else parent, op, content_key)
        return StepKey(stage, step, inst, kind, key, parent, op, selected, missing, assumptions,
                       stage_refs=refs)  # fmt: skip

    if isinstance(inst, Workdir):
        path = step.workdir
        new = posixpath.normpath(posixpath.join(path, str(ex.get("path", inst.path))))
        if builder == "buildkit":
            if new == "/":
                return StepKey(stage, step, inst, "metadata", "", parent, {"workdir": new})
            op = {"mkdir": new, "user": step.user}
            return StepKey(stage, step, inst, "workdir", _h(parent, op), parent, op)
        op = {"workdir": new, "config": _legacy_config(step)}
        return StepKey(stage, step, inst, "workdir", _h(parent, op), parent, op)

    # Metadata instructions: no cache entry in BuildKit; a commit in the legacy builder.
    op = {"metadata": _metadata_text(step)}
    if builder == "buildkit":
        return StepKey(stage, step, inst, "metadata", "", parent, op)
    op["config"] = _legacy_config(step)
    return StepKey(stage, step, inst, "metadata", _h(parent, op), parent, op)


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

