"""Cross-check: ``explain``'s predicted step statuses against what the engine reported.

``explain`` lists every instruction of the Dockerfile; the engine reports only the steps it
executes, numbered its own way. :func:`pair_steps` lines the two up:

- BuildKit numbers steps ``[i/n]`` within a stage, FROM included; config-only instructions
  (CMD, ENV...) and ``FROM <earlier stage>`` are no steps of their own; stages that the target
  does not need are not built. Steps are matched by (stage, number).
- The legacy builder numbers steps over the whole file, runs every instruction (config ones
  too) and runs a parent's ONBUILD triggers inside its FROM step. Steps are matched in order.

FROM is left out on both sides: its status is the base image's, outside the cache chain.
Used by the real-engine scenario tests and by ``layerwise bench``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = ["StepPair", "compare", "disagreements", "pair_steps"]


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


def _predicted(steps: Iterable, builder: str) -> list[tuple]:
    """``(stage, number, instruction, cached)`` for every predicted step the engine executes."""
    pred = []
    stages: dict[object, int] = {}
    for s in steps:
        if s.status in ("not-built",) or (builder == "buildkit" and s.status == "metadata"):
            continue
        if builder == "legacy" and s.onbuild:
            continue  # the legacy builder runs triggers inside its FROM step
        if s.kind == "from" and s.base_stage is not None:
            continue  # FROM <stage> is no step of its own for BuildKit
        n = stages.get(s.stage, 0) + 1
        stages[s.stage] = n
        if s.kind == "from":
            continue
        number = n if builder == "buildkit" else None
        pred.append((s.stage, number, s.instruction, s.status == "cached"))
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
    pred = _predicted(predicted_steps, builder)
    eng = _engine(engine_steps)
    if builder == "legacy":
        return [(i, c) for i, (_, _, _, c) in enumerate(pred)], [(i, c) for i, (_, _, _, c) in enumerate(eng)]
    p = sorted((_stage_key(st), n, c) for st, n, _, c in pred)
    e = sorted((_stage_key(st), n, c) for st, n, _, c in eng)
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
    by_key = {(_stage_key(st), n): (instr, c) for st, n, instr, c in pred}
    out = []
    seen = set()
    for st, n, instr, c in sorted(eng, key=lambda t: (_stage_key(t[0]), t[1])):
        key = (_stage_key(st), n)
        seen.add(key)
        p = by_key.get(key)
        out.append(StepPair(key, p[0] if p else instr, p[1] if p else None, c))
    for key, (instr, c) in by_key.items():
        if key not in seen:
            out.append(StepPair(key, instr, c, None))
    return out


def disagreements(predicted_steps: Sequence, engine_steps: Sequence, builder: str) -> list[StepPair]:
    return [p for p in pair_steps(predicted_steps, engine_steps, builder) if not p.agrees]
