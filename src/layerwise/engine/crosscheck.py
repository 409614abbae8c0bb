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
when its stage's instructions up to it are those of a stage whose step the engine did print
(the same base, the same instructions, config ones included, as text).

Used by the real-engine scenario tests and by ``layerwise bench``.
"""

from __future__ import annotations

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

    @property
    def agrees(self) -> bool:
        return self.predicted == self.engine

    def describe(self) -> str:
        def word(v: bool | None) -> str:
            return "no such step" if v is None else ("CACHED" if v else "REBUILD")

        return f"{self.instruction}: explain predicted {word(self.predicted)}, the engine did {word(self.engine)}"


def _stage_key(stage) -> str:
    if stage is None:
        return "0"
    s = str(stage)
    return s[len("stage-") :] if s.startswith("stage-") else s


_FROM_AS = re.compile(r"\s+AS\s+\S+\s*$", re.IGNORECASE)


def _same_vertex_text(s) -> str:
    """An instruction as far as the vertex it makes goes: whitespace runs as one space, and a
    FROM without its ``AS name`` (the stage's name is no part of what it builds)."""
    text = " ".join(s.instruction.split())
    return _FROM_AS.sub("", text) if s.kind == "from" else text


def _predicted(steps: Iterable, builder: str) -> list[tuple]:
    """``(stage, number, instruction, cached, prefix)`` for every predicted step the engine
    executes; ``prefix``: the stage's instructions up to this one (see _same_vertex_text)."""
    pred = []
    stages: dict[object, int] = {}
    prefixes: dict[object, tuple] = {}
    for s in steps:
        if s.status == "not-built":
            continue
        if builder == "legacy" and s.onbuild:
            continue  # the legacy builder runs triggers inside its FROM step
        prefix = prefixes[s.stage] = prefixes.get(s.stage, ()) + (_same_vertex_text(s),)
        if builder == "buildkit" and s.status == "metadata":
            continue
        if s.kind == "from" and s.base_stage is not None:
            continue  # FROM <stage> is no step of its own for BuildKit
        n = stages.get(s.stage, 0) + 1
        stages[s.stage] = n
        if s.kind == "from":
            continue
        number = n if builder == "buildkit" else None
        pred.append((s.stage, number, s.instruction, s.status == "cached", prefix))
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
        return [(i, c) for i, (_, _, _, c, _) in enumerate(pred)], [(i, c) for i, (_, _, _, c) in enumerate(eng)]
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
            out.append(StepPair((i,), instr, p[3] if p else None, e[3] if e else None))
        return out
    by_key = {(_stage_key(st), n): (instr, c, prefix) for st, n, instr, c, prefix in pred}
    out = []
    seen = set()
    shared: dict[tuple, bool] = {}  # a stage's prefix -> the engine's status of the step it ends in
    for st, n, instr, c in sorted(eng, key=lambda t: (_stage_key(t[0]), t[1])):
        key = (_stage_key(st), n)
        seen.add(key)
        p = by_key.get(key)
        out.append(StepPair(key, p[0] if p else instr, p[1] if p else None, c))
        if p is not None:
            shared.setdefault(p[2], c)
    for key, (instr, c, prefix) in by_key.items():
        if key not in seen:  # not printed under its own stage: maybe as a step shared with another one
            out.append(StepPair(key, instr, c, shared.get(prefix)))
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
    for st, n, _, _, prefix in _predicted(predicted_steps, "buildkit"):
        owner = first.setdefault(prefix, st)
        if owner != st:
            label = owner if isinstance(owner, str) else f"stage-{owner}"
            out[(_stage_key(st), n)] = label
            out[(_stage_key(owner), n)] = label
    return out
