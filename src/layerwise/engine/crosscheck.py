"""Cross-check: ``explain``'s predicted step statuses against what the engine reported.

``explain`` lists every instruction of the Dockerfile; the engine reports only the steps it
executes, numbered its own way. :func:`pair_steps` lines the two up:

- BuildKit numbers steps ``[i/n]`` within a stage, FROM included; config-only instructions
  (CMD, ENV...) and ``FROM <earlier stage>`` are no steps of their own; stages that the target
  does not need are not built. Steps are matched by (stage, number).
- The legacy builder numbers steps over the whole file, runs every instruction (config ones
  too) and runs a parent's ONBUILD triggers inside its FROM step. Steps are matched in order.

FROM is left out on both sides: its status is the base image's, outside the cache chain.

BuildKit runs identical vertices once: two stages that start alike (``FROM x AS a`` and
``FROM x AS b``, both then ``WORKDIR /w``) share those steps, and the engine prints each shared
step once, under the name of one of the stages (either one: it varies from build to build). A
predicted step the engine did not print under its own stage is paired with the shared step
when both make the same vertex. A vertex is its parent vertex and its own operation (LLB
digests: the step's name is metadata, no part of it), so two steps are the same vertex when
their parent chains are and their operations are (:func:`_vertex_keys`):

- ``WORKDIR``: a ``mkdir`` of the absolute path (a relative one joined to the workdir before),
  as the ``USER`` set before it; ``WORKDIR /`` makes no vertex.
- ``COPY``/``ADD``: the instruction, and the workdir its destination is relative to.
- ``RUN``: the instruction, with the environment (``ENV``, ``ARG``), ``USER``, workdir and
  ``SHELL`` it runs with.
- Config instructions (``ENV``, ``LABEL``, ``CMD``...) make no vertex: an ``ENV`` before a
  ``WORKDIR`` or ``COPY`` leaves it the same vertex (it changes the image config, not the LLB
  chain), but an ``ENV`` before a ``RUN`` changes the RUN's environment. An instruction that
  names a variable (``$``) is compared with the environment it is expanded in.
- ``FROM <stage>`` continues that stage's chain and its settings; ``FROM image`` starts from
  the image (``busybox``, ``busybox:latest`` and ``docker.io/library/busybox`` are one).

Used by the real-engine scenario tests and by ``layerwise bench``.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = ["StepPair", "compare", "disagreements", "pair_steps", "shared_step_stages"]


@dataclass(frozen=True)
class StepPair:
    """One step as predicted and as built. A side is None when that side has no such step."""

    key: tuple  # (stage, number) for BuildKit, (position,) for the legacy builder
    instruction: str
    predicted: bool | None  # predicted cached?
    engine: bool | None  # the engine reported it cached?
    #: explain predicted REBUILD but said the step may come from the cache (a re-run RUN that
    #: writes the same bytes: StepReport.may_be_cached)
    hedged: bool = False

    @property
    def agrees(self) -> bool:
        return self.predicted == self.engine

    @property
    def hedge_held(self) -> bool:
        """explain said REBUILD unless a re-run RUN writes the same bytes, and the engine took
        the step from the cache: what explain said may happen did."""
        return self.hedged and self.predicted is False and self.engine is True

    def describe(self) -> str:
        def word(v: bool | None) -> str:
            return "no such step" if v is None else ("CACHED" if v else "REBUILD")

        said = word(self.predicted)
        if self.hedged and self.predicted is False:
            said += " (or CACHED if a re-run RUN writes the same bytes)"
        return f"{self.instruction}: explain predicted {said}, the engine did {word(self.engine)}"


def _stage_key(stage) -> str:
    if stage is None:
        return "0"
    s = str(stage)
    return s[len("stage-") :] if s.startswith("stage-") else s


_FROM_AS = re.compile(r"\s+AS\s+\S+\s*$", re.IGNORECASE)
_KEYWORD = re.compile(r"\s*(\S+)\s*(.*)$", re.DOTALL)


def _image(ref: str) -> str:
    """An image reference as the registry knows it: ``busybox`` -> ``docker.io/library/busybox:latest``."""
    if "$" in ref or ref.lower() == "scratch":
        return ref
    name, digest = ref.split("@", 1) if "@" in ref else (ref, "")
    first, _, rest = name.partition("/")
    if not rest:
        name = "docker.io/library/" + name
    elif "." not in first and ":" not in first and first != "localhost":
        name = "docker.io/" + name
    if not digest and ":" not in name.rsplit("/", 1)[-1]:
        name += ":latest"
    return name + ("@" + digest if digest else "")


def _vertex_keys(steps: Sequence) -> list[tuple]:
    """For each step, a key equal to another step's exactly when BuildKit makes them one
    vertex (see the module's doc). Config-only steps get the key of the vertex they sit on."""
    final: dict[int, tuple] = {}  # stage index -> (its last vertex key, its settings)
    keys: list[tuple] = []
    index = -1
    key: tuple = ()
    env: tuple = ()
    user = shell = ""
    workdir = "/"
    for s in steps:
        if s.kind == "from" and not s.onbuild:
            index += 1
        m = _KEYWORD.match(s.instruction)
        word, rest = (m.group(1).upper(), m.group(2).strip()) if m else ("", "")
        dollar = "$" in rest
        if s.kind == "from":
            base = getattr(s, "base_stage", None)
            if base is not None and base in final:
                key, (env, user, shell, workdir) = final[base]
            else:
                words = [w for w in _FROM_AS.sub("", rest).split() if not w.startswith("--")]
                flags = tuple(w for w in _FROM_AS.sub("", rest).split() if w.startswith("--"))
                key = ("FROM", _image(words[0]) if words else "", flags)
                env, user, shell, workdir = (), "", "", "/"
        elif s.kind == "workdir" or word == "WORKDIR":  # (explain files `WORKDIR /` as metadata: no vertex)
            path = " ".join(rest.split())
            new = path if path.startswith("/") else posixpath.normpath(posixpath.join("/", workdir, path))
            if new != "/" or dollar:
                key = (key, "WORKDIR", new, user, env if dollar else ())
            workdir = new
        elif s.kind in ("copy", "add"):
            key = (key, word, " ".join(rest.split()), workdir, env if dollar else ())
        elif s.kind == "run":
            key = (key, "RUN", rest, env, user, workdir, shell)
        elif word in ("ENV", "ARG"):
            env += (" ".join(rest.split()),)
        elif word == "USER":
            user = rest
        elif word == "SHELL":
            shell = rest
        keys.append(key)
        final[index] = (key, (env, user, shell, workdir))
    return keys


def _predicted(steps: Iterable, builder: str) -> list[tuple]:
    """``(stage, number, instruction, cached, vertex, hedged)`` for every predicted step the
    engine executes; ``vertex``: the key of the vertex it makes (see _vertex_keys); ``hedged``:
    explain said it may come from the cache (StepReport.may_be_cached)."""
    pred = []
    stages: dict[object, int] = {}
    steps = list(steps)
    vertices = _vertex_keys(steps) if builder == "buildkit" else [None] * len(steps)
    for s, vertex in zip(steps, vertices):
        if s.status == "not-built":
            continue
        if builder == "legacy" and s.onbuild:
            continue  # the legacy builder runs triggers inside its FROM step
        if builder == "buildkit" and s.status == "metadata":
            continue
        if s.kind == "from" and s.base_stage is not None:
            continue  # FROM <stage> is no step of its own for BuildKit
        n = stages.get(s.stage, 0) + 1
        stages[s.stage] = n
        if s.kind == "from":
            continue
        number = n if builder == "buildkit" else None
        pred.append((s.stage, number, s.instruction, s.status == "cached", vertex, bool(getattr(s, "may_be_cached", False))))
    return pred


def _engine(steps: Iterable) -> list[tuple]:
    return [
        (st.stage, st.index, st.instruction, st.cached)
        for st in steps
        if not st.instruction.upper().startswith("FROM ")
    ]


def compare(predicted_steps: Sequence, engine_steps: Sequence, builder: str) -> tuple[list[tuple], list[tuple]]:
    """(predicted, engine) lists of ``(step number, cached?)`` keys, sorted so that equal lists
    mean full agreement (BuildKit: ``(stage, number, cached)``; legacy: ``(position, cached)``)."""
    if builder == "legacy":
        pred = _predicted(predicted_steps, builder)
        eng = _engine(engine_steps)
        return [(i, p[3]) for i, p in enumerate(pred)], [(i, c) for i, (_, _, _, c) in enumerate(eng)]
    pairs = pair_steps(predicted_steps, engine_steps, builder)
    p = sorted((*x.key, x.predicted) for x in pairs if x.predicted is not None)
    e = sorted((*x.key, x.engine) for x in pairs if x.engine is not None)
    return p, e


def pair_steps(predicted_steps: Sequence, engine_steps: Sequence, builder: str) -> list[StepPair]:
    """Every executed step, predicted and reported side by side (in the engine's order, then
    predicted steps the engine never reported)."""
    pred = _predicted(predicted_steps, builder)
    eng = _engine(engine_steps)
    if builder == "legacy":
        out = []
        for i in range(max(len(pred), len(eng))):
            p = pred[i] if i < len(pred) else None
            e = eng[i] if i < len(eng) else None
            instr = (p or e)[2]  # type: ignore[index]
            out.append(StepPair((i,), instr, p[3] if p else None, e[3] if e else None, bool(p and p[5])))
        return out
    by_key = {(_stage_key(st), n): (instr, c, vertex, h) for st, n, instr, c, vertex, h in pred}
    out = []
    seen = set()
    shared: dict[tuple, bool] = {}  # a vertex -> the engine's status of the step that made it
    for st, n, instr, c in sorted(eng, key=lambda t: (_stage_key(t[0]), t[1])):
        key = (_stage_key(st), n)
        seen.add(key)
        p = by_key.get(key)
        out.append(StepPair(key, p[0] if p else instr, p[1] if p else None, c, bool(p and p[3])))
        if p is not None:
            shared.setdefault(p[2], c)
    for key, (instr, c, vertex, hedged) in by_key.items():
        if key not in seen:  # not printed under its own stage: maybe as a step shared with another one
            out.append(StepPair(key, instr, c, shared.get(vertex), hedged))
    return out


def disagreements(predicted_steps: Sequence, engine_steps: Sequence, builder: str) -> list[StepPair]:
    return [p for p in pair_steps(predicted_steps, engine_steps, builder) if not p.agrees]


def shared_step_stages(predicted_steps: Sequence) -> dict[tuple[str, int], str]:
    """For BuildKit: ``(stage, number) -> stage`` of each step two stages share, naming the
    first stage (in Dockerfile order) that has it, in the engine's spelling (its name, or
    ``stage-N``); the engine prints such a step under either stage's name, varying from build
    to build, and bench files it under one."""
    first: dict[tuple, object] = {}
    out: dict[tuple[str, int], str] = {}
    for st, n, _, _, vertex, _ in _predicted(predicted_steps, "buildkit"):
        owner = first.setdefault(vertex, st)
        if owner != st:
            label = owner if isinstance(owner, str) else f"stage-{owner}"
            out[(_stage_key(st), n)] = label
            out[(_stage_key(owner), n)] = label
    return out
