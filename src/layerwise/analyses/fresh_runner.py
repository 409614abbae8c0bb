"""``explain --ci``: the next build on a fresh CI runner, whose builder starts empty and imports
the cache the previous build exported (``cache-from``/``cache-to``).

What the import holds decides each step (checked on Docker 26.1 / BuildKit 0.13 with the
containerd image store, ``tests/engine/test_ci_cache.py`` and ``test_fresh_runner.py``):

* ``none`` (no cache imported): every step runs.
* ``max``: every layer of every stage the previous build ran: the steps are as on the machine
  that built before (plain ``explain``).
* ``min`` (``cache-to``'s default, and inline cache): only the layers of the final image, i.e.
  of the target stage and the stages it is built FROM. A stage the image does not ship (a
  builder stage) is not in the cache: when any of its steps must run, all of them run, from
  its first instruction (and so do the unshipped stages it is built FROM); when none must,
  BuildKit matches the final image by its cache keys and reports them cached. A
  ``COPY --from`` such a stage is still decided by the files it copies: a step that re-runs on
  unchanged inputs is taken to write the same files (true of a deterministic install; a
  non-reproducible one makes the copy run too).

Cache mounts (``RUN --mount=type=cache``) are never exported: on a fresh runner they start
empty, which changes how long a step takes, not whether it runs.
"""

from __future__ import annotations

from layerwise.analyses.cache import Cause
from layerwise.analyses.explain import Explanation, StepReport
from layerwise.records import replace
from layerwise.resolve.stages import Build

MODES = ("none", "min", "max")

NO_IMPORT = Cause("ci-no-cache-import", "a fresh runner imports no cache: every step runs", {})
MIN_MODE = Cause(
    "ci-min-mode",
    "not in the imported cache: mode=min keeps only the final image's layers, and a step of this stage must run,"
    " so the stage runs from its start",
    {},
)
MOUNTS = "cache mounts start empty on a fresh runner (they are never exported)"


def _shipped(build: Build, target: str | int | None) -> set[int]:
    final = build.stage(target) if target is not None else build.stages[-1]
    out = {final.index}
    s = final
    while s.base_stage is not None and s.base_stage not in out:
        out.add(s.base_stage)
        s = build.stages[s.base_stage]
    return out


def fresh_runner(explanation: Explanation, after: Build, mode: str, *, target: str | int | None = None,
                 source: str | None = None) -> Explanation:  # fmt: skip
    """The explanation of the same build on a fresh runner importing a ``mode`` cache
    (``none``, ``min`` or ``max``) of the before build. ``source`` says where the cache
    settings come from (a CI file's place), for the assumptions."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
    where = f" ({source})" if source else ""
    if mode == "none":
        head = f"fresh CI runner: no cache imported{where}"
    else:
        head = f"fresh CI runner: imports the cache the before build exported with mode={mode}{where}"
    steps = [replace(s) for s in explanation.steps]
    if mode == "none":
        for s in steps:
            if s.status in ("cached", "rebuilt") and s.kind != "from":
                s.status, s.cause = "rebuilt", NO_IMPORT
    elif mode == "min":
        shipped = _shipped(after, target)
        index = {s.label: s.index for s in after.stages}
        index.update({s.index: s.index for s in after.stages})
        by_stage: dict[int, list[StepReport]] = {}
        for s in steps:
            i = index.get(s.stage)
            if i is not None:
                by_stage.setdefault(i, []).append(s)
        forced: set[int] = set()
        for i, reports in by_stage.items():
            if i not in shipped and any(r.status == "rebuilt" and r.kind != "from" for r in reports):
                j: int | None = i
                while j is not None and j not in shipped and j not in forced:
                    forced.add(j)
                    j = after.stages[j].base_stage
        for i in forced:
            for r in by_stage.get(i, []):
                if r.status == "cached" and r.kind != "from":
                    r.status, r.cause = "rebuilt", MIN_MODE
    assumptions = [head]
    if any("--mount=type=cache" in s.instruction.replace(" ", "") for s in steps):
        assumptions.append(MOUNTS)
    return Explanation(explanation.builder, explanation.target, steps, assumptions)
