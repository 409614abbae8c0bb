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
        return [p for p in self.crosscheck if not p.agrees]


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
    def checked_steps(self) -> int:
        return sum(len(r.crosscheck) for r in self.runs)


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

    @property
    def disagreements(self) -> list[tuple[str, int, StepPair]]:
        return [(v.label, run, p) for v in self.variants for run, p in v.disagreements]

    @property
    def checked_steps(self) -> int:
        return sum(v.checked_steps for v in self.variants)

    def to_json(self) -> dict:
        def build(m: MedianBuild) -> dict:
            return {
                "seconds": round(m.seconds, 3),
                "steps": [
                    {"instruction": s.instruction, "stage": s.stage, "seconds": round(s.seconds, 3),
                     "cached_runs": s.cached_runs, "runs": s.runs}  # fmt: skip
                    for s in m.steps
                ],
            }

        out = {
            "project": self.project,
            "change": self.change_file,
            "builder": self.builder,
            "engine": self.engine,
            "ratio": round(self.ratio, 2) if self.ratio else None,
            "variants": [
                {
                    "name": v.name,
                    "label": v.label,
                    "runs": len(v.runs),
                    "cold": build(v.cold),
                    "rebuild": build(v.rebuild),
                    "crosscheck_disagreements": [f"run {n}: {p.describe()}" for n, p in v.disagreements],
                }
                for v in self.variants + ([self.floor] if self.floor else [])
            ],
        }
        return out
