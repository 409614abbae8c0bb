"""What ``bench`` measured: builds, steps, runs, and the medians over runs (pure values)."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

from layerwise.engine.crosscheck import StepPair


@dataclass
class StepTime:
    """One step of one build, as the engine reported it."""

    instruction: str
    cached: bool
    seconds: float  # 0 for a cache hit
    stage: str | None = None
    index: int = 0  # the engine's step number

    @property
    def key(self) -> tuple:
        return (self.stage, self.index, self.instruction)


@dataclass
class BuildTime:
    seconds: float  # wall clock of the whole build
    steps: list[StepTime]

    @property
    def overhead(self) -> float:
        """Time outside the steps: context transfer, cache lookups, image export."""
        return max(0.0, self.seconds - sum(s.seconds for s in self.steps))


@dataclass
class Run:
    cold: BuildTime
    rebuild: BuildTime
    crosscheck: list[StepPair] = field(default_factory=list)  # the rebuild, predicted vs engine

    @property
    def disagreements(self) -> list[StepPair]:
        return [p for p in self.crosscheck if not p.agrees and not p.hedge_held]

    @property
    def hedges_held(self) -> list[StepPair]:
        """Steps explain said would rebuild unless a re-run RUN writes the same bytes, which the
        engine took from the cache: no disagreement, but explain could not tell."""
        return [p for p in self.crosscheck if p.hedge_held]


@dataclass
class MedianStep:
    instruction: str
    seconds: float  # median over runs
    cached_runs: int  # in how many runs the engine took it from the cache
    runs: int
    stage: str | None = None

    @property
    def cached(self) -> bool | None:
        """True/False when every run agrees, None when the runs differ."""
        if self.cached_runs == self.runs:
            return True
        if self.cached_runs == 0:
            return False
        return None

    @property
    def is_base(self) -> bool:
        """A FROM: the base image, outside the cache chain (the engine only resolves it)."""
        return self.instruction.lstrip().upper().startswith("FROM ")

    def cached_text(self) -> str:
        if self.is_base:
            return "base"
        c = self.cached
        if c is None:
            return f"{self.cached_runs}/{self.runs} runs"
        return "cached" if c else "ran"


@dataclass
class MedianBuild:
    seconds: float
    steps: list[MedianStep]

    @property
    def overhead(self) -> float:
        return max(0.0, self.seconds - sum(s.seconds for s in self.steps))


def median_build(builds: list[BuildTime]) -> MedianBuild:
    """Median total and median per step; steps are matched by (stage, number, instruction)
    in the order of the first build (a step missing from a run counts as absent there)."""
    if not builds:
        return MedianBuild(0.0, [])
    order: list[tuple] = []
    by_key: dict[tuple, list[StepTime]] = {}
    for b in builds:
        for s in b.steps:
            if s.key not in by_key:
                by_key[s.key] = []
                order.append(s.key)
            by_key[s.key].append(s)
    steps = [
        MedianStep(
            instruction=k[2],
            seconds=statistics.median(s.seconds for s in by_key[k]),
            cached_runs=sum(1 for s in by_key[k] if s.cached),
            runs=len(by_key[k]),
            stage=k[0],
        )
        for k in order
    ]
    return MedianBuild(statistics.median(b.seconds for b in builds), steps)


@dataclass
class Variant:
    """One Dockerfile benchmarked: ``before`` (yours), ``after`` (fixed or --against), ``floor``."""

    name: str
    label: str  # for people: "your Dockerfile", "after layerwise fix"
    dockerfile: str  # its text
    runs: list[Run] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)  # other files written in its copy (.dockerignore)

    @property
    def rebuild_range(self) -> tuple[float, float]:
        """The fastest and the slowest rebuild over the runs."""
        times = [r.rebuild.seconds for r in self.runs] or [0.0]
        return min(times), max(times)

    @property
    def cold(self) -> MedianBuild:
        return median_build([r.cold for r in self.runs])

    @property
    def rebuild(self) -> MedianBuild:
        return median_build([r.rebuild for r in self.runs])

    @property
    def disagreements(self) -> list[tuple[int, StepPair]]:
        return [(i + 1, p) for i, r in enumerate(self.runs) for p in r.disagreements]

    @property
    def hedges_held(self) -> list[tuple[int, StepPair]]:
        return [(i + 1, p) for i, r in enumerate(self.runs) for p in r.hedges_held]

    @property
    def checked_steps(self) -> int:
        return sum(len(r.crosscheck) for r in self.runs)


# What a difference of two rebuild times must exceed to count as a change. Below ABSOLUTE_FLOOR
# seconds, or below RELATIVE_FLOOR of the slower rebuild, no number of runs makes it meaningful
# (timer, scheduling, the context transfer). With one run the spread is not measured: a build's
# time varies from run to run by this much (ONE_RUN_SPREAD of the slower one, on a quiet machine;
# more on a busy one), so a smaller difference is not resolved.
ABSOLUTE_FLOOR = 0.3
RELATIVE_FLOOR = 0.05
ONE_RUN_SPREAD = 0.15


@dataclass
class Comparison:
    """The rebuild before and after, and whether the difference is a change or run-to-run noise."""

    before: float  # median rebuild seconds
    after: float
    before_range: tuple[float, float]  # fastest, slowest run
    after_range: tuple[float, float]
    runs: int  # the fewer of the two variants' runs
    verdict: str  # "faster" | "slower" | "no change"
    reason: str  # why "no change", for people ("" otherwise)

    @property
    def ratio(self) -> float | None:
        return self.before / self.after if self.after > 0 else None

    @property
    def changed(self) -> bool:
        return self.verdict != "no change"

    def suggestion(self) -> str:
        """The advice when the runs cannot tell (fewer than 3 runs and no clear change)."""
        if self.runs >= 3 or (self.changed and not self.close):
            return ""
        return "--runs 3 measures it" if self.runs == 1 else "--runs 3 narrows it"

    @property
    def close(self) -> bool:
        """A change, but by less than twice what the runs resolve."""
        return self.changed and abs(self.before - self.after) < 2 * self._resolution()

    def _resolution(self) -> float:
        slower = max(self.before, self.after)
        spread = ONE_RUN_SPREAD * slower if self.runs < 2 else max(_width(self.before_range), _width(self.after_range))
        return max(spread, ABSOLUTE_FLOOR, RELATIVE_FLOOR * slower)


def _width(r: tuple[float, float]) -> float:
    return r[1] - r[0]


def compare_rebuilds(before: Variant, after: Variant) -> Comparison:
    """Faster, slower, or no change: the same Dockerfile (and files) is no change whatever the
    clock says; with several runs a difference inside the spread of the runs (their time ranges
    overlap) or below the floors is no change; with one run a difference below ONE_RUN_SPREAD of
    the slower rebuild is."""
    b, a = before.rebuild.seconds, after.rebuild.seconds
    runs = min(len(before.runs), len(after.runs))
    cmp = Comparison(b, a, before.rebuild_range, after.rebuild_range, runs, "faster" if a < b else "slower", "")
    diff = abs(b - a)
    if before.dockerfile == after.dockerfile and not after.files:
        cmp.verdict, cmp.reason = "no change", "the same Dockerfile; the difference is run-to-run noise"
    elif runs >= 2:
        overlap = before.rebuild_range[0] <= after.rebuild_range[1] and after.rebuild_range[0] <= before.rebuild_range[1]
        if overlap or diff <= cmp._resolution():
            cmp.verdict = "no change"
            cmp.reason = f"a difference of {diff:.1f} s, within the spread of the {runs} runs"
    elif diff <= cmp._resolution():
        cmp.verdict = "no change"
        cmp.reason = f"a difference of {diff:.1f} s, below what one run resolves"
    return cmp


@dataclass
class BenchResult:
    project: str
    change_file: str
    builder: str
    engine: str  # which engine, for people
    variants: list[Variant]
    floor: Variant | None = None

    def variant(self, name: str) -> Variant | None:
        return next((v for v in self.variants if v.name == name), None)

    @property
    def ratio(self) -> float | None:
        """Rebuild time before / after (how many times faster the fixed rebuild is)."""
        b, a = self.variant("before"), self.variant("after")
        if not b or not a or not b.runs or not a.runs:
            return None
        after = a.rebuild.seconds
        return b.rebuild.seconds / after if after > 0 else None

    def comparison(self) -> Comparison | None:
        """Before against after (None without both)."""
        b, a = self.variant("before"), self.variant("after")
        if not b or not a or not b.runs or not a.runs:
            return None
        return compare_rebuilds(b, a)

    @property
    def disagreements(self) -> list[tuple[str, int, StepPair]]:
        return [(v.label, run, p) for v in self.variants for run, p in v.disagreements]

    @property
    def hedges_held(self) -> list[tuple[str, int, StepPair]]:
        return [(v.label, run, p) for v in self.variants for run, p in v.hedges_held]

    @property
    def checked_steps(self) -> int:
        return sum(v.checked_steps for v in self.variants)

    def to_json(self) -> dict:
        def build(m: MedianBuild, times: list[float]) -> dict:
            return {
                "seconds": round(m.seconds, 3),
                "runs_seconds": [round(t, 3) for t in times],
                "steps": [
                    {"instruction": s.instruction, "stage": s.stage, "seconds": round(s.seconds, 3),
                     "cached_runs": s.cached_runs, "runs": s.runs}  # fmt: skip
                    for s in m.steps
                ],
            }

        cmp = self.comparison()
        out = {
            "project": self.project,
            "change": self.change_file,
            "builder": self.builder,
            "engine": self.engine,
            "ratio": round(self.ratio, 2) if self.ratio else None,
            "verdict": cmp.verdict if cmp else None,
            "verdict_reason": cmp.reason if cmp else None,
            "variants": [
                {
                    "name": v.name,
                    "label": v.label,
                    "runs": len(v.runs),
                    "cold": build(v.cold, [r.cold.seconds for r in v.runs]),
                    "rebuild": build(v.rebuild, [r.rebuild.seconds for r in v.runs]),
                    "crosscheck_disagreements": [f"run {n}: {p.describe()}" for n, p in v.disagreements],
                    "crosscheck_cached_as_hedged": [f"run {n}: {p.describe()}" for n, p in v.hedges_held],
                }
                for v in self.variants + ([self.floor] if self.floor else [])
            ],
        }
        return out
