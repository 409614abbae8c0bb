"""Typed instructions -> build stages with their ARG/ENV scope, expanded as BuildKit expands them.

Rules (moby/buildkit ``frontend/dockerfile/dockerfile2llb/convert.go``):

* ARGs before the first FROM are *global* ("meta args"). They are visible to FROM lines only,
  unless a stage re-declares them with ``ARG NAME`` (then it inherits the global value).
* ``--build-arg`` overrides the default of a declared ARG; an undeclared build arg is ignored.
* Each instruction is expanded with the environment as it was *before* it: ``ENV a=1 b=$a``
  gives ``b`` the old value of ``a``.
* Expanded instructions: ADD, COPY (sources, destination, ``--chown``, ``--chmod``,
  ``--from``, ``--exclude``), ENV, LABEL, ARG defaults, EXPOSE, USER, WORKDIR, VOLUME,
  STOPSIGNAL, ``RUN --mount`` options, and FROM (with global ARGs only). The commands of RUN,
  CMD and ENTRYPOINT are *not* expanded by BuildKit: the shell does it at run time.
* A base image's own ENV (``PATH``...) is unknown offline; it is treated as empty unless given.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from typing import Mapping

from layerwise.errors import Location
from layerwise.parse.instructions import (
    Add,
    Arg,
    Copy,
    Env,
    Expose,
    From,
    Instruction,
    InstructionError,
    Label,
    Onbuild,
    Run,
    Shell,
    StopSignal,
    User,
    Volume,
    Workdir,
    parse_instructions,
    parse_mount,
)
from layerwise.parse.nodes import Dockerfile

# Arguments BuildKit defines automatically in the global scope.
DEFAULT_PLATFORM_ARGS = {
    "BUILDPLATFORM": "linux/amd64",
    "BUILDOS": "linux",
    "BUILDARCH": "amd64",
    "BUILDVARIANT": "",
    "TARGETPLATFORM": "linux/amd64",
    "TARGETOS": "linux",
    "TARGETARCH": "amd64",
    "TARGETVARIANT": "",
}
# Proxy variables: predefined, usable without ARG, and never part of the cache key.
PROXY_ARGS = frozenset(
    k
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "FTP_PROXY", "NO_PROXY", "ALL_PROXY")
    for k in (name, name.lower())
)
DEFAULT_SHELL = ["/bin/sh", "-c"]


@dataclass
class Step:
    """One instruction of a stage, with the state it runs in and its expanded values."""

    instruction: Instruction
    stage_index: int
    index: int  # position among the stage's instructions, FROM excluded (0-based)
    env: list[tuple[str, str]]  # ENV visible to it, in order (base env unknown)
    args: list[tuple[str, str]]  # ARGs with a value in scope, in declaration order
    workdir: str
    user: str
    shell: list[str]
    expanded: dict[str, object] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.instruction.name

    @property
    def line(self) -> int:
        return self.instruction.line


@dataclass
class Stage:
    index: int
    name: str  # "" when unnamed
    from_: From
    base: str  # expanded base name
    platform: str
    base_stage: int | None  # index of the earlier stage it is built FROM
    steps: list[Step] = field(default_factory=list)
    args: dict[str, str | None] = field(default_factory=dict)  # ARGs declared in the stage

    @property
    def label(self) -> str | int:
        """What users call it: its name, or its index."""
        return self.name or self.index

    def dependencies(self) -> set[int]:
        """Indices of the stages this one reads: its base, ``COPY --from``, ``--mount from``."""
        deps: set[int] = set()
        if self.base_stage is not None:
            deps.add(self.base_stage)
        for step in self.steps:
            for ref in step.expanded.get("stage_refs", ()):  # type: ignore[union-attr]
                deps.add(ref)
        return deps


@dataclass
class Build:
    """A resolved Dockerfile: global ARGs, stages and the build args given."""

    dockerfile: Dockerfile
    instructions: list[Instruction]
    meta_args: list[tuple[str, str | None]]
    stages: list[Stage]
    build_args: dict[str, str]

    def stage(self, ref: str | int) -> Stage:
        if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit()):
            i = int(ref)
            if 0 <= i < len(self.stages):
                return self.stages[i]
        else:
            for s in self.stages:
                if s.name == ref.lower():
                    return s
        names = ", ".join(str(s.label) for s in self.stages)
        raise InstructionError(
            f"target stage {ref!r} could not be found (stages: {names})",
            Location(self.dockerfile.path),
        )

    def needed_stages(self, target: str | int | None = None) -> list[Stage]:
        """The stages BuildKit builds for ``target`` (default: the last stage), in order."""
        final = self.stage(target) if target is not None else self.stages[-1]
        needed: set[int] = set()
        todo = [final.index]
        while todo:
            i = todo.pop()
            if i in needed:
                continue
            needed.add(i)
            todo.extend(self.stages[i].dependencies())
        return [s for s in self.stages if s.index in needed]


class _Expander:
    def __init__(self, escape: str, path: str) -> None:
        from layerwise.resolve.shell import ShellLexer

        self.lexer = ShellLexer(escape)
        self.path = path

    def word(self, word: str, env: Mapping[str, str], inst: Instruction) -> str:
        from layerwise.resolve.shell import ShellExpansionError

        try:
            return self.lexer.process_word(word, env)
        except ShellExpansionError as exc:
            raise InstructionError(
                f"failed to process {word!r}: {exc}",
                Location(self.path, inst.span.start_line, inst.span.start_column),
            ) from None


def resolve(
    dockerfile: Dockerfile,
    build_args: Mapping[str, str] | None = None,
    *,
    base_env: Mapping[str, Mapping[str, str]] | None = None,
) -> Build:
    """Resolve stages, scopes and expansions. ``base_env`` maps an image name to its ENV."""
    build_args = dict(build_args or {})
    instructions = parse_instructions(dockerfile)
    ex = _Expander(dockerfile.escape, dockerfile.path)

    # Global ARGs, in order, with build-arg overrides.
    meta_args: list[tuple[str, str | None]] = []
    global_scope: dict[str, str] = dict(DEFAULT_PLATFORM_ARGS)
    i = 0
    while i < len(instructions) and not isinstance(instructions[i], From):
        inst = instructions[i]
        if not isinstance(inst, Arg):
            raise InstructionError(
                f"{inst.node.keyword.upper()} is not allowed before the first FROM"
                " (only ARG may come first)",
                Location(dockerfile.path, inst.line, inst.span.start_column),
            )
        for a in inst.args:
            value = build_args.get(a.key)
            if value is None and a.value is not None:
                value = ex.word(a.value, global_scope, inst)
            meta_args.append((a.key, value))
            if value is not None:
                global_scope[a.key] = value
        i += 1
    if i == len(instructions):
        raise InstructionError(
            "no build stage in the Dockerfile (no FROM instruction)", Location(dockerfile.path)
        )

    stages: list[Stage] = []
    names: dict[str, int] = {}
    stage: Stage | None = None
    env: list[tuple[str, str]] = []
    args: dict[str, str | None] = {}
    workdir, user, shell = "/", "", list(DEFAULT_SHELL)

    def scope() -> dict[str, str]:
        out = {k: v for k, v in env}
        for k, v in args.items():
            if v is not None and k not in out:
                out[k] = v
        return out

    for inst in instructions[i:]:
        if isinstance(inst, From):
            base = ex.word(inst.base, global_scope, inst)
            platform = ex.word(inst.platform, global_scope, inst) if inst.platform else ""
            base_stage = names.get(base.lower())
            stage = Stage(
                index=len(stages),
                name=inst.stage_name,
                from_=inst,
                base=base,
                platform=platform,
                base_stage=base_stage,
            )
            if base_stage is not None:
                parent = stages[base_stage]
                last = parent.steps[-1] if parent.steps else None
                env = list(last.env) if last else list(_base_env(parent, base_env))
                workdir = last.workdir if last else "/"
                user = last.user if last else ""
                shell = list(last.shell) if last else list(DEFAULT_SHELL)
            else:
                env = list((base_env or {}).get(base, {}).items())
                workdir, user, shell = "/", "", list(DEFAULT_SHELL)
            args = {}
            stages.append(stage)
            if inst.stage_name:
                names[inst.stage_name] = stage.index
            continue
        assert stage is not None
        sc = scope()
        expanded: dict[str, object] = {}
        cur = inst.trigger if isinstance(inst, Onbuild) and inst.trigger else inst
        if isinstance(inst, Onbuild):
            pass  # triggers run in child images; their text is not expanded here
        elif isinstance(cur, Copy):
            expanded["sources"] = [ex.word(s, sc, inst) for s in cur.sources]
            expanded["dest"] = ex.word(cur.dest, sc, inst)
            for key in ("chown", "chmod", "from_"):
                val = getattr(cur, key)
                if val:
                    expanded[key.rstrip("_")] = ex.word(val, sc, inst)
            if cur.excludes:
                expanded["excludes"] = [ex.word(e, sc, inst) for e in cur.excludes]
            src_stage = names.get(str(expanded.get("from", "")).lower())
            if src_stage is None and str(expanded.get("from", "")).isdigit():
                n = int(str(expanded["from"]))
                src_stage = n if n < len(stages) - 1 else None
            if src_stage is not None:
                expanded["stage_refs"] = [src_stage]
        elif isinstance(cur, Run):
            mounts = []
            refs = []
            for spec in cur.mount_specs:
                try:
                    m = parse_mount(spec, lambda v: ex.word(v, sc, inst))
                except ValueError as exc:
                    raise InstructionError(
                        str(exc), Location(dockerfile.path, inst.line, inst.span.start_column)
                    ) from None
                mounts.append(m)
                ref = names.get(m.from_.lower()) if m.from_ else None
                if ref is not None:
                    refs.append(ref)
            expanded["mounts"] = mounts
            if refs:
                expanded["stage_refs"] = refs
        elif isinstance(cur, Env):
            pairs = [(ex.word(p.key, sc, inst), ex.word(p.value, sc, inst)) for p in cur.pairs]
            expanded["pairs"] = pairs
        elif isinstance(cur, Label):
            expanded["pairs"] = [(ex.word(p.key, sc, inst), ex.word(p.value, sc, inst)) for p in cur.pairs]
        elif isinstance(cur, Workdir):
            p = ex.word(cur.path, sc, inst)
            expanded["path"] = p
        elif isinstance(cur, User):
            expanded["user"] = ex.word(cur.user, sc, inst)
        elif isinstance(cur, Expose):
            expanded["ports"] = [ex.word(p, sc, inst) for p in cur.ports]
        elif isinstance(cur, Volume):
            expanded["volumes"] = [ex.word(v, sc, inst) for v in cur.volumes]
        elif isinstance(cur, StopSignal):
            expanded["signal"] = ex.word(cur.signal, sc, inst)
        elif isinstance(cur, Arg):
            values = []
            for a in cur.args:
                key = a.key
                if key in build_args:
                    value: str | None = build_args[key]
                elif a.value is not None:
                    value = ex.word(a.value, sc, inst)
                elif key in global_scope and any(k == key for k, _ in meta_args):
                    value = global_scope[key]
                elif key in DEFAULT_PLATFORM_ARGS:
                    value = DEFAULT_PLATFORM_ARGS[key]
                else:
                    value = None
                values.append((key, value))
            expanded["args"] = values

        step = Step(
            instruction=inst,
            stage_index=stage.index,
            index=len(stage.steps),
            env=list(env),
            args=[(k, v) for k, v in args.items() if v is not None],
            workdir=workdir,
            user=user,
            shell=list(shell),
            expanded=expanded,
        )
        stage.steps.append(step)

        # State changes take effect for the instructions after this one.
        if isinstance(inst, Env):
            for k, v in expanded["pairs"]:  # type: ignore[union-attr]
                env = [(ek, ev) for ek, ev in env if ek != k] + [(k, v)]
        elif isinstance(inst, Arg):
            for k, v in expanded["args"]:  # type: ignore[union-attr]
                args.pop(k, None)
                args[k] = v
                stage.args[k] = v
        elif isinstance(inst, Workdir):
            workdir = posixpath.normpath(posixpath.join(workdir, str(expanded["path"])))
            if workdir.startswith("//"):
                workdir = "/" + workdir.lstrip("/")
        elif isinstance(inst, User):
            user = str(expanded["user"])
        elif isinstance(inst, Shell):
            shell = list(inst.shell)

    return Build(dockerfile, instructions, meta_args, stages, build_args)


def _base_env(stage: Stage, base_env: Mapping[str, Mapping[str, str]] | None):
    return list((base_env or {}).get(stage.base, {}).items())
