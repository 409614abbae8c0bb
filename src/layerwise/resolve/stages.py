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
from bisect import bisect_left
from collections.abc import Callable, Mapping

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
from layerwise.parse.parser import gc_paused
from layerwise.records import Record
from layerwise.shell.lex import ShellExpansionError, ShellLexer  # (every resolve expands words)

TYPE_CHECKING = False  # (typing.TYPE_CHECKING without importing typing at start-up)
if TYPE_CHECKING:
    from typing import Any, TypeVar

    T = TypeVar("T")

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
# No real Dockerfile expands a word beyond this; values that double per line would exhaust memory.
MAX_EXPANDED = 16 * 1024 * 1024


class _Pairs:
    """An ENV list, or the ARGs with a value in scope: (name, value) pairs in order, where
    setting a name again moves it to the end (and an ARG without a value drops it).

    Persistent: a setting makes a new ``_Pairs`` in O(1) amortized time and memory (the pairs
    set since a ``base`` list go to a log shared with the states before), never a copy of the
    whole list: a file of 100,000 distinct ENV names would otherwise keep 5e9 pairs. The list
    is built when it is read (O(its length)), and rebuilt as the base now and then.

    :meth:`get` looks one name up without building the list, in O(log n) amortized: the log
    through an index name -> positions (shared by the states of that log, extended when it has
    grown), then the base through a dict (shared by the states of that base). Both are built
    on the first lookup only.
    """

    __slots__ = ("_base_index", "_log_index", "base", "log", "n")

    def __init__(self, base: list[tuple[str, T]] | None = None, log: list | None = None, n: int = 0) -> None:
        self.base = base if base is not None else []  # never changed in place
        self.log = log  # append-only; this state's pairs are log[:n]
        self.n = n
        self._base_index = _BaseIndex()  # shared by the states set from this one
        self._log_index = _LogIndex() if log is not None else None  # shared by the states of this log

    def set_all(self, pairs: list[tuple[str, T]]) -> _Pairs:
        if not pairs:
            return self
        log = self.log
        log_index = self._log_index
        if log is None or len(log) != self.n:  # a branch (two stages built FROM one): its own log
            log = log[: self.n] if log else []
            log_index = _LogIndex()
        log.extend(pairs)
        if len(log) > max(16, len(self.base)):
            return _Pairs(self.items_from(log, len(log)))
        new = _Pairs.__new__(_Pairs)
        new.base, new.log, new.n = self.base, log, len(log)
        new._base_index, new._log_index = self._base_index, log_index
        return new

    def items_from(self, log: list, n: int) -> list[tuple[str, T]]:
        return [p for p in _set_all(self.base, log[:n]) if p[1] is not None]

    def items(self) -> list[tuple[str, T]]:
        """The pairs, as a list (the base itself when nothing was set since)."""
        if not self.n:
            return self.base
        return self.items_from(self.log, self.n)  # type: ignore[arg-type]

    def get(self, name: str, default: Any = None) -> Any:
        """``dict(self.items()).get(name, default)``, without building the list."""
        if self.n:
            i = self._log_index.last_before(self.log, name, self.n)  # type: ignore[arg-type]
            if i >= 0:
                value = self.log[i][1]  # type: ignore[index]
                return default if value is None else value  # None: dropped (an ARG without value)
            # items_from drops the base's None values too; items() keeps them when nothing was set
            return self._base_index.valued(self.base).get(name, default)
        return self._base_index.all(self.base).get(name, default)


class _BaseIndex:
    """A base list of :class:`_Pairs` as dicts, built on the first lookup."""

    __slots__ = ("_all", "_valued")

    def __init__(self) -> None:
        self._all: dict | None = None
        self._valued: dict | None = None

    def all(self, base: list) -> dict:
        if self._all is None:
            self._all = dict(base)
        return self._all

    def valued(self, base: list) -> dict:
        """The pairs whose value is not None (the same dict as :meth:`all` when all are)."""
        if self._valued is None:
            if any(p[1] is None for p in base):
                self._valued = dict(p for p in base if p[1] is not None)
            else:
                self._valued = self.all(base)
        return self._valued


class _LogIndex:
    """Where each name was set in a log of :class:`_Pairs`: name -> ascending positions (one
    int when it was set once), for the log entries seen so far (the log only grows)."""

    __slots__ = ("done", "positions")

    def __init__(self) -> None:
        self.positions: dict[str, int | list[int]] = {}
        self.done = 0

    def last_before(self, log: list, name: str, n: int) -> int:
        """The last position < ``n`` where ``name`` was set (-1: none)."""
        if self.done < len(log):
            positions = self.positions
            for i in range(self.done, len(log)):
                key = log[i][0]
                at = positions.get(key)
                if at is None:
                    positions[key] = i
                elif isinstance(at, int):
                    positions[key] = [at, i]
                else:
                    at.append(i)
            self.done = len(log)
        at = self.positions.get(name)
        if at is None:
            return -1
        if isinstance(at, int):
            return at if at < n else -1
        j = bisect_left(at, n)
        return at[j - 1] if j else -1


class _Where:
    """Where a step runs: its stage and the state the instructions before it left (one record
    for all the steps between two changes of the state)."""

    __slots__ = ("args", "env", "onbuild", "shell", "stage_index", "user", "workdir")

    def __init__(
        self,
        stage_index: int,
        env: _Pairs | list[tuple[str, str]],
        args: _Pairs | list[tuple[str, str]],
        workdir: str,
        user: str,
        shell: list[str],
        onbuild: bool,
    ) -> None:
        self.stage_index = stage_index
        self.env = env if isinstance(env, _Pairs) else _Pairs(list(env))
        self.args = args if isinstance(args, _Pairs) else _Pairs(list(args))
        self.workdir = workdir
        self.user = user
        self.shell = shell
        self.onbuild = onbuild

    def copy(self) -> _Where:
        return _Where(self.stage_index, self.env, self.args, self.workdir, self.user, self.shell, self.onbuild)


def _where_field(name: str) -> property:
    def get(step: Step):
        value = getattr(step._where, name)
        return value.items() if isinstance(value, _Pairs) else value

    def set_(step: Step, value) -> None:
        where = step._where.copy()  # the record is shared: this step gets its own
        setattr(where, name, _Pairs(list(value)) if name in ("env", "args") else value)
        step._where = where

    return property(get, set_)


class Step:
    """One instruction of a stage, with the state it runs in and its expanded values.

    Attributes: ``instruction``, ``stage_index``, ``index`` (position among the stage's
    instructions, FROM excluded, 0-based), ``env`` (ENV visible to it, in order; base env
    unknown), ``args`` (ARGs with a value in scope, in declaration order), ``workdir``,
    ``user``, ``shell``, ``expanded`` and ``onbuild`` (an ONBUILD trigger of the parent
    stage, run in this one). ``env``, ``args`` and ``shell`` are shared with the steps around
    it: never change them in place.

    A file can have millions of steps, so a step is small: the steps between two changes of
    the state (ENV, ARG, WORKDIR, USER, SHELL) share one record of it, and ``expanded`` is
    only stored when expansion changed something or found a stage reference: otherwise it is
    rebuilt from the instruction on each access (an equal dict, a new object each time).
    """

    __slots__ = ("_expanded", "_where", "index", "instruction")
    __hash__ = None  # type: ignore[assignment]

    def __init__(
        self,
        instruction: Instruction,
        stage_index: int,
        index: int,
        env: list[tuple[str, str]],
        args: list[tuple[str, str]],
        workdir: str,
        user: str,
        shell: list[str],
        expanded: dict[str, object] | list[int] | None = None,
        onbuild: bool = False,
    ) -> None:
        self.instruction = instruction
        self.index = index
        self._where = _Where(stage_index, env, args, workdir, user, shell, onbuild)
        self._expanded = expanded

    @classmethod
    def _at(cls, instruction: Instruction, index: int, where: _Where,
            expanded: dict[str, object] | list[int] | None) -> Step:  # fmt: skip
        """The resolver's constructor: ``where`` is shared with the steps around it."""
        step = cls.__new__(cls)
        step.instruction = instruction
        step.index = index
        step._where = where
        step._expanded = expanded
        return step

    stage_index = _where_field("stage_index")
    env = _where_field("env")
    args = _where_field("args")
    workdir = _where_field("workdir")
    user = _where_field("user")
    shell = _where_field("shell")
    onbuild = _where_field("onbuild")

    def env_get(self, name: str, default: Any = None) -> Any:
        """``dict(self.env).get(name, default)``, in O(log n) amortized: the list is not built."""
        return self._where.env.get(name, default)

    def arg_get(self, name: str, default: Any = None) -> Any:
        """``dict(self.args).get(name, default)``, in O(log n) amortized: the list is not built."""
        return self._where.args.get(name, default)

    @property
    def expanded(self) -> dict[str, object]:
        ex = self._expanded
        if ex is None:
            return _written(self.instruction)
        if isinstance(ex, list):  # what could not be rebuilt: ARG values, ENV/LABEL pairs, or stage references
            if isinstance(self.instruction, Arg):
                return {"args": ex}
            if isinstance(self.instruction, (Env, Label)):
                return {"pairs": ex}
            out = _written(self.instruction)
            out["stage_refs"] = ex
            return out
        return ex

    @expanded.setter
    def expanded(self, value: dict[str, object]) -> None:
        self._expanded = value

    def stage_refs(self) -> list[int] | tuple[()]:
        """``expanded.get("stage_refs", ())`` (the stages a ``COPY --from`` or ``RUN --mount
        from`` reads) without building the dict: the stage graph asks it of every step."""
        ex = self._expanded
        if ex is None:  # the values as written: no stage reference among them
            return ()
        if isinstance(ex, list):
            return () if isinstance(self.instruction, (Arg, Env, Label)) else ex
        return ex.get("stage_refs", ())  # type: ignore[return-value]

    def _fields(self) -> tuple:
        return (self.instruction, self.stage_index, self.index, self.env, self.args, self.workdir,
                self.user, self.shell, self.expanded, self.onbuild)  # fmt: skip

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._fields() == other._fields()  # type: ignore[attr-defined]

    def __repr__(self) -> str:
        names = ("instruction", "stage_index", "index", "env", "args", "workdir", "user", "shell", "expanded", "onbuild")
        return "Step(" + ", ".join(f"{n}={v!r}" for n, v in zip(names, self._fields())) + ")"

    @property
    def name(self) -> str:
        return self.instruction.name

    @property
    def line(self) -> int:
        return self.instruction.line


class Stage(Record):
    _fields = ("index", "name", "from_", "base", "platform", "base_stage", "steps", "args")

    def __init__(self, index: int, name: str, from_: From, base: str, platform: str, base_stage: int | None,
                 steps: list[Step] | None = None, args: dict[str, str | None] | None = None) -> None:  # fmt: skip
        self.index = index
        self.name = name  # "" when unnamed
        self.from_ = from_
        self.base = base  # expanded base name
        self.platform = platform
        self.base_stage = base_stage  # index of the earlier stage it is built FROM
        self.steps: list[Step] = [] if steps is None else steps
        self.args: dict[str, str | None] = {} if args is None else args  # ARGs declared in the stage

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
            deps.update(step.stage_refs())
        return deps


class Build(Record):
    """A resolved Dockerfile: global ARGs, stages and the build args given."""

    _fields = ("dockerfile", "instructions", "meta_args", "stages", "build_args", "forward_refs")

    def __init__(self, dockerfile: Dockerfile, instructions: list[Instruction],
                 meta_args: list[tuple[str, str | None]], stages: list[Stage], build_args: dict[str, str],
                 forward_refs: list[ForwardRef] | None = None) -> None:  # fmt: skip
        self.dockerfile = dockerfile
        self.instructions = instructions
        self.meta_args = meta_args
        self.stages = stages
        self.build_args = build_args
        self.forward_refs: list[ForwardRef] = [] if forward_refs is None else forward_refs


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
        """The stages BuildKit builds for ``target`` (default: the last stage), in order. A
        stage among them that reads one defined after it is BuildKit's error (located)."""
        final = self.stage(target) if target is not None else self.stages[-1]
        needed: set[int] = set()
        todo = [final.index]
        while todo:
            i = todo.pop()
            if i in needed:
                continue
            needed.add(i)
            todo.extend(self.stages[i].dependencies())
        for ref in self.forward_refs:
            if ref.stage in needed:
                raise InstructionError(ref.message, Location(self.dockerfile.path, ref.line, ref.column))
        return [s for s in self.stages if s.index in needed]


class ForwardRef(Record):
    """A ``COPY --from`` or ``RUN --mount from`` naming a stage defined after its own: BuildKit
    finds it, and refuses to build it (checked on the engine) when the stage is built."""

    __slots__ = _fields = ("stage", "message", "line", "column")

    def __init__(self, stage: int, message: str, line: int, column: int) -> None:
        self.stage = stage
        self.message = message
        self.line = line
        self.column = column

    def __hash__(self) -> int:
        return hash(self._values())


class _Expander:
    def __init__(self, escape: str, path: str) -> None:
        self.lexer = ShellLexer(escape)
        self.path = path

    def word(self, word: str, env: Mapping[str, str] | _State, inst: Instruction) -> str:
        """``word`` expanded with ``env`` (a mapping, or a state's scope, built only if needed)."""
        try:
            if self.lexer._is_plain(word):
                value = word  # nothing to expand: the scope is not even built
            else:
                value = self.lexer.process_word(word, env.scope() if isinstance(env, _State) else env)
        except ShellExpansionError as exc:
            shown = word if len(word) <= 80 else word[:77] + "..."
            raise InstructionError(
                f'failed to process "{shown}": {exc.reason}',
                Location(self.path, inst.span.start_line, inst.span.start_column),
            ) from None
        if len(value) > MAX_EXPANDED:
            # e.g. ENV values that each repeat the previous one twice: 2**N characters
            raise InstructionError(
                f"expands to {len(value):,} characters (more than {MAX_EXPANDED:,}): refusing to go on",
                Location(self.path, inst.span.start_line, inst.span.start_column),
            )
        return value


@gc_paused
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
    ctx = _Context(ex, dockerfile.path, build_args, global_scope, meta_args, names, stages,
                   frozenset(k for k, _ in meta_args))  # fmt: skip
    # BuildKit registers every stage before it reads a --from: a stage defined later counts
    for inst in instructions[i:]:
        if isinstance(inst, From):
            if inst.stage_name:
                ctx.all_names[inst.stage_name] = ctx.stage_count  # (a repeated name: the last one)
            ctx.stage_count += 1
    state = _State()
    end_state: dict[int, _State] = {}  # each stage's state after its last instruction

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
                state = end_state[base_stage].inherit()
            else:
                state = _State(env=_Pairs(list((base_env or {}).get(base, {}).items())))
            stages.append(stage)
            end_state[stage.index] = state
            if inst.stage_name:
                names[inst.stage_name] = stage.index
            if base_stage is not None:
                # ONBUILD triggers of the parent stage run first, in this stage (BuildKit and
                # the legacy builder both; confirmed on the engine).
                for parent_step in stages[base_stage].steps:
                    trig = parent_step.instruction
                    if isinstance(trig, Onbuild) and trig.trigger is not None and not parent_step.onbuild:
                        _add_step(ctx, stage, state, trig.trigger, onbuild=True)
            continue
        _add_step(ctx, stages[-1], state, inst)

    _check_cycles(stages, dockerfile.path)
    return Build(dockerfile, instructions, meta_args, stages, build_args, ctx.forward_refs)


def _check_cycles(stages: list[Stage], path: str) -> None:
    """BuildKit's refusal of stages that read each other through ``COPY --from`` or ``RUN
    --mount from`` (in any stage, built or not; checked on the engine): "circular dependency
    detected on stage: NAME", NAME the first stage (in file order) from which a cycle is
    reached, located at that stage's instruction that starts it. (FROM names earlier stages
    only: it closes no cycle; BuildKit does not follow it here either.)"""
    if not any(step._expanded is not None for st in stages for step in st.steps):
        return  # no stage reference at all (the common case): nothing to walk
    edges: list[list[tuple[int, Instruction]]] = []
    for st in stages:
        out: list[tuple[int, Instruction]] = []
        for step in st.steps:
            for ref in step.stage_refs():
                out.append((ref, step.instruction))
        edges.append(out)
    visited: set[int] = set()
    for start in stages:
        if start.index in visited:
            continue
        # iterative DFS: (stage, next edge to follow); on_path = the stages of the stack
        stack: list[tuple[int, int]] = [(start.index, 0)]
        on_path = {start.index}
        visited.add(start.index)
        first: Instruction | None = None
        while stack:
            node, k = stack[-1]
            if k == len(edges[node]):
                stack.pop()
                on_path.discard(node)
                continue
            stack[-1] = (node, k + 1)
            dep, inst = edges[node][k]
            if len(stack) == 1:
                first = inst
            if dep in on_path:
                where = first or inst
                name = start.name or f"stage-{start.index}"
                raise InstructionError(f"circular dependency detected on stage: {name}",
                                       Location(path, where.line, where.span.start_column))  # fmt: skip
            if dep not in visited:
                visited.add(dep)
                on_path.add(dep)
                stack.append((dep, 0))



class _Scope:
    """What a word is expanded with: ENV, then the ARGs with a value (a view of the state's
    two dicts, which are kept up to date: never rebuilt for each instruction)."""

    __slots__ = ("args", "env")

    def __init__(self, env: dict[str, str], args: dict[str, str | None]) -> None:
        self.env = env
        self.args = args

    def get(self, name: str, default: str | None = None) -> str | None:
        value = self.env.get(name)
        if value is None:
            value = self.args.get(name)
        return default if value is None else value


class _State:
    """What an instruction runs with: set by earlier ENV/ARG/WORKDIR/USER/SHELL."""

    _fields = ("env", "args", "workdir", "user", "shell", "arg_pairs")

    def __init__(self, env: _Pairs | None = None, args: dict[str, str | None] | None = None, workdir: str = "/",
                 user: str = "", shell: list[str] | None = None, arg_pairs: _Pairs | None = None) -> None:  # fmt: skip
        self.env = _Pairs() if env is None else env  # shared with the steps (persistent)
        self.args: dict[str, str | None] = {} if args is None else args  # ARGs declared in the stage so far
        self.workdir = workdir
        self.user = user
        self.shell = list(DEFAULT_SHELL) if shell is None else shell  # never changed in place
        self.arg_pairs = _Pairs() if arg_pairs is None else arg_pairs  # the ARGs with a value, for the steps
        self._env_map: dict[str, str] | None = None  # ENV as a dict: built when a word needs it, then kept
        self._scope: _Scope | None = None
        self._where: _Where | None = None  # shared by the steps until the state changes

    __repr__ = Record.__repr__

    def where(self, stage_index: int, onbuild: bool) -> _Where:
        if onbuild:  # a parent's ONBUILD trigger (rare): a record of its own
            return _Where(stage_index, self.env, self.arg_pairs, self.workdir, self.user, self.shell, True)
        w = self._where
        if w is None or w.stage_index != stage_index:
            w = self._where = _Where(stage_index, self.env, self.arg_pairs, self.workdir, self.user, self.shell, False)
        return w

    def inherit(self) -> _State:
        """The state a stage built FROM this one starts with (ARGs are per stage)."""
        return _State(self.env, {}, self.workdir, self.user, self.shell)

    def scope(self) -> _Scope:
        if self._scope is None:
            if self._env_map is None:
                self._env_map = dict(self.env.items())
            self._scope = _Scope(self._env_map, self.args)
        return self._scope

    def set_env(self, pairs: list[tuple[str, str]]) -> None:
        self.env = self.env.set_all(pairs)
        if self._env_map is not None:
            self._env_map.update(pairs)
        self._where = None

    def set_args(self, values: list[tuple[str, str | None]]) -> None:
        for k, v in values:
            self.args.pop(k, None)
            self.args[k] = v
        self.arg_pairs = self.arg_pairs.set_all(values)
        self._where = None


class _Context:
    def __init__(self, ex: _Expander, path: str, build_args: dict[str, str], global_scope: dict[str, str],
                 meta_args: list[tuple[str, str | None]], names: dict[str, int], stages: list[Stage],
                 declared_globally: frozenset[str] = frozenset()) -> None:  # fmt: skip
        self.ex = ex
        self.path = path
        self.build_args = build_args
        self.global_scope = global_scope
        self.meta_args = meta_args
        self.names = names
        self.stages = stages
        self.declared_globally = declared_globally
        # every stage's name -> index, later stages too: what --from names (FROM sees earlier ones only)
        self.all_names: dict[str, int] = {}
        self.stage_count = 0
        self.forward_refs: list[ForwardRef] = []
        # Recent (name, value) pairs of ENV, LABEL and ARG: equal pairs (a big file repeats
        # them) are one tuple, and so are short equal values expanded from variables.
        self.pairs: dict[tuple[str, str | None], tuple[str, str | None]] = {}

    def stage_name(self, index: int) -> str:
        """How BuildKit names a stage in messages: its name, else stage-N."""
        st = self.stages[index]
        return st.name or f"stage-{index}"
    def pair(self, key: str, value: str | None) -> tuple[str, str | None]:
        p = (key, value)
        hit = self.pairs.get(p)
        if hit is not None:
            return hit
        if len(self.pairs) >= PAIRS_MAX:
            self.pairs.clear()
        if value is not None and len(value) <= PAIR_VALUE_MAX:
            self.pairs[p] = p
        return p


PAIRS_MAX = 4096
PAIR_VALUE_MAX = 256


def _written(inst: Instruction) -> dict[str, object]:
    """``_expand_words(inst, <each word as written>)``, fast: steps rebuild it on each access."""
    make = _WRITTEN.get(type(inst))
    return make(inst) if make is not None else _expand_words(inst, _as_written)


def _as_written(word: str, inst: Instruction) -> str:
    return word


def _written_copy(inst: Copy) -> dict[str, object]:
    out: dict[str, object] = {"sources": inst.sources, "dest": inst.dest}
    if inst.chown:
        out["chown"] = inst.chown
    if inst.chmod:
        out["chmod"] = inst.chmod
    if inst.from_:
        out["from"] = inst.from_
    if inst.excludes:
        out["excludes"] = inst.excludes
    return out


_WRITTEN: dict[type, Callable[[Any], dict[str, object]]] = {
    Copy: _written_copy,
    Add: _written_copy,
    Run: lambda inst: {"mounts": []},
}


def _each(word: Callable[[str, Instruction], str], words: list[str], inst: Instruction) -> list[str]:
    out = [word(w, inst) for w in words]
    return words if all(a is b for a, b in zip(out, words)) else out


def _expand_words(inst: Instruction, word: Callable[[str, Instruction], str]) -> dict[str, object]:
    """The values of ``inst`` that BuildKit expands, each passed through ``word``: what does
    not need the resolver's context (stage names, build args). RUN mounts: only without any."""
    expanded: dict[str, object] = {}
    if isinstance(inst, Onbuild):
        return expanded  # a trigger is expanded where it runs, in the child stage
    if isinstance(inst, Copy):
        expanded["sources"] = _each(word, inst.sources, inst)
        expanded["dest"] = word(inst.dest, inst)
        for key in ("chown", "chmod", "from_"):
            val = getattr(inst, key)
            if val:
                expanded[key.rstrip("_")] = word(val, inst)
        if inst.excludes:
            expanded["excludes"] = _each(word, inst.excludes, inst)
    elif isinstance(inst, Run):
        expanded["mounts"] = []
    elif isinstance(inst, (Env, Label)):
        expanded["pairs"] = [(word(p.key, inst), word(p.value, inst)) for p in inst.pairs]
    elif isinstance(inst, Workdir):
        expanded["path"] = word(inst.path, inst)
    elif isinstance(inst, User):
        expanded["user"] = word(inst.user, inst)
    elif isinstance(inst, Expose):
        expanded["ports"] = _each(word, inst.ports, inst)
    elif isinstance(inst, Volume):
        expanded["volumes"] = _each(word, inst.volumes, inst)
    elif isinstance(inst, StopSignal):
        expanded["signal"] = word(inst.signal, inst)
    return expanded



def _expand(
    ctx: _Context, inst: Instruction, state: _State
) -> tuple[dict[str, object], dict[str, object] | list[int] | None]:
    """The values of ``inst`` that BuildKit expands, expanded in ``state``'s scope, and what a
    :class:`Step` keeps of them: the dict; or None (:func:`_expand_words` gives them again
    from the instruction); or a list: ARG's values, ENV's or LABEL's pairs, or (the rest as
    written) stage references."""
    ex = ctx.ex
    if isinstance(inst, Run) and inst.mount_specs:
        mounts = []
        refs = []
        for spec in inst.mount_specs:
            try:
                m = parse_mount(spec, lambda v: ex.word(v, state, inst))
            except ValueError as exc:
                raise InstructionError(
                    str(exc), Location(ctx.path, inst.line, inst.span.start_column)
                ) from None
            mounts.append(m)
            ref = ctx.all_names.get(m.from_.lower()) if m.from_ else None
            if ref is not None:
                refs.append(ref)
                if ref > len(ctx.stages) - 1:
                    ctx.forward_refs.append(ForwardRef(
                        len(ctx.stages) - 1,
                        f'cannot mount from stage "{m.from_}" to "{m.target}", stage needs to be defined before '
                        "current command", inst.line, inst.span.start_column))  # fmt: skip
        expanded: dict[str, object] = {"mounts": mounts}
        if refs:
            expanded["stage_refs"] = refs
        return expanded, expanded
    if isinstance(inst, Arg):
        values = []
        for a in inst.args:
            key = a.key
            value: str | None
            if key in ctx.build_args:
                value = ctx.build_args[key]
            elif a.value is not None:
                value = ex.word(a.value, state, inst)
            elif key in ctx.declared_globally and key in ctx.global_scope:
                value = ctx.global_scope[key]
            elif key in DEFAULT_PLATFORM_ARGS:
                value = DEFAULT_PLATFORM_ARGS[key]
            else:
                value = None
            values.append(ctx.pair(key, value))
        return {"args": values}, values

    changed = False

    def word(w: str, inst: Instruction) -> str:
        nonlocal changed
        value = ex.word(w, state, inst)
        if value is not w:
            changed = True
        return value

    expanded = _expand_words(inst, word)
    if isinstance(inst, (Env, Label)):
        pairs = expanded["pairs"] = [ctx.pair(k, v) for k, v in expanded["pairs"]]  # type: ignore[union-attr]
        return expanded, (pairs if changed else None)
    if isinstance(inst, Copy):
        src = str(expanded.get("from", "")).lower()
        src_stage = ctx.all_names.get(src)  # a stage defined later too, as BuildKit resolves it
        if src_stage is None and src.isdigit():
            if int(src) >= ctx.stage_count:
                raise InstructionError(f"invalid stage index {int(src)}",
                                       Location(ctx.path, inst.line, inst.span.start_column))  # fmt: skip
            src_stage = int(src)
        if src_stage is not None:
            here = len(ctx.stages) - 1
            if src_stage > here:
                ctx.forward_refs.append(ForwardRef(
                    here, f'cannot copy from stage "{expanded.get("from")}", it needs to be defined before current '
                    f'stage "{ctx.stage_name(here)}"', inst.line, inst.span.start_column))  # fmt: skip
            refs = expanded["stage_refs"] = [src_stage]
            return expanded, (expanded if changed else refs)
    return expanded, (expanded if changed else None)


def _set_all(pairs: list[tuple[str, T]], new: list[tuple[str, T]]) -> list[tuple[str, T]]:
    """``pairs`` after setting each of ``new`` in turn (a key set again moves to the end); a
    new list, the pairs themselves are kept."""
    last: dict[str, tuple[str, T]] = {}
    for p in new:
        last.pop(p[0], None)
        last[p[0]] = p
    return [p for p in pairs if p[0] not in last] + list(last.values())


def _add_step(
    ctx: _Context, stage: Stage, state: _State, inst: Instruction, *, onbuild: bool = False
) -> Step:
    """Append ``inst`` to ``stage`` with the current state, then apply its effect on it."""
    expanded, stored = _expand(ctx, inst, state)
    step = Step._at(inst, len(stage.steps), state.where(stage.index, onbuild), stored)
    stage.steps.append(step)
    # State changes take effect for the instructions after this one.
    if isinstance(inst, Env):
        state.set_env(expanded["pairs"])  # type: ignore[arg-type]
    elif isinstance(inst, Arg):
        values: list[tuple[str, str | None]] = expanded["args"]  # type: ignore[assignment]
        state.set_args(values)
        for k, v in values:
            stage.args[k] = v
    elif isinstance(inst, Workdir):
        wd = posixpath.normpath(posixpath.join(state.workdir, str(expanded["path"])))
        state.workdir = "/" + wd.lstrip("/") if wd.startswith("//") else wd
        state._where = None
    elif isinstance(inst, User):
        state.user = str(expanded["user"])
        state._where = None
    elif isinstance(inst, Shell):
        state.shell = list(inst.shell)
        state._where = None
    return step
