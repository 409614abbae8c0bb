"""``layerwise bench``: the article's experiment on your own project, on a real engine.

Build cold, change one line of code, rebuild; the same with the fixed (or any other)
Dockerfile; N times; median times per step and per build; every rebuild also predicted by
``explain`` and the prediction checked against the engine's report.

    plan = make_plan(context, dockerfile, fixed=True, runs=3)
    with open_engine(builder=plan.builder) as (engine, label, builder):
        result = run_bench(engine, plan, progress, engine_label=label)
    render_table(result); render_bars(result); render_crosscheck(result); write_report(result, "x.svg")

Modules: :mod:`edit` (the temporary change), :mod:`engines` (which engine), :mod:`run` (the
builds), :mod:`results` (values, medians), :mod:`report` and :mod:`svg` (output).
"""

from __future__ import annotations

from pathlib import Path

from layerwise.bench.engines import EngineChoice, choose_engine, open_engine
from layerwise.bench.report import render_bars, render_crosscheck, render_table, write_report
from layerwise.bench.results import BenchResult
from layerwise.bench.run import Plan, VariantSpec, floor_dockerfile, run_bench
from layerwise.errors import LayerwiseError, Location

__all__ = [
    "BenchResult",
    "EngineChoice",
    "Plan",
    "VariantSpec",
    "choose_engine",
    "make_plan",
    "open_engine",
    "render_bars",
    "render_crosscheck",
    "render_table",
    "run_bench",
    "write_report",
]


def make_plan(
    context: str | Path,
    dockerfile: str | Path | None = None,
    *,
    change: str | None = None,
    fixed: bool = False,
    against: str | Path | None = None,
    runs: int = 1,
    builder: str = "buildkit",
    floor: bool = False,
    build_args: dict[str, str] | None = None,
    target: str | None = None,
    notes: list[str] | None = None,
) -> Plan:
    """What to build. ``builder``: ``buildkit``, ``legacy`` or the name of a ``docker buildx``
    builder (BuildKit rules). ``fixed``: also the Dockerfile that ``layerwise fix`` writes (with its
    .dockerignore); ``against``: also this other Dockerfile; ``floor``: also the cheapest build
    that runs the final COPY. ``notes`` collects remarks for the user."""
    notes = notes if notes is not None else []
    ctx = Path(context)
    if not ctx.is_dir():
        raise LayerwiseError("build context is not a directory", Location(str(ctx)))
    df = Path(dockerfile) if dockerfile else ctx / "Dockerfile"
    if not df.is_file():
        raise LayerwiseError("no Dockerfile here (use -f to name it)", Location(str(df)))
    if runs < 1:
        raise LayerwiseError("--runs must be at least 1")
    text = df.read_text(encoding="utf-8", errors="surrogateescape")
    variants = [VariantSpec("before", "your Dockerfile", text, in_place=True)]
    if fixed and against:
        raise LayerwiseError("--fixed and --against both name the 'after' Dockerfile: give one")
    if fixed:
        try:
            from layerwise.fixes import fix_project
        except ImportError:  # pragma: no cover - fix not installed
            raise LayerwiseError("--fixed needs `layerwise fix`, which this installation lacks; use --against FILE") from None
        res = fix_project(ctx, df)
        if not res.changed:
            notes.append("layerwise fix finds nothing to change in this Dockerfile: only yours is benchmarked.")
        else:
            files = {}
            if res.dockerignore is not None and res.dockerignore_path:
                try:
                    rel = Path(res.dockerignore_path).resolve().relative_to(ctx.resolve()).as_posix()
                    files[rel] = res.dockerignore
                except ValueError:
                    pass
            variants.append(VariantSpec("after", "fixed by layerwise fix", res.dockerfile, files))
    elif against:
        alt = Path(against)
        if not alt.is_file():
            raise LayerwiseError("no such Dockerfile", Location(str(alt)))
        variants.append(VariantSpec("after", f"{alt.name} (--against)", alt.read_text(encoding="utf-8")))
    floor_spec = None
    if floor and target:
        notes.append("no floor build with --target (the floor is built from the final stage).")
    elif floor:
        ftext = floor_dockerfile(variants[-1].dockerfile)
        if ftext is None:
            notes.append("no floor build: the final stage builds on another stage or copies nothing from the context.")
        else:
            floor_spec = VariantSpec("floor", "only the final COPY runs", ftext, dict(variants[-1].files))
    if change is None:
        change = _default_change(ctx, df, "legacy" if builder == "legacy" else "buildkit")
    else:
        change = _change_path(ctx, change)
    buildx = None
    if builder not in ("buildkit", "legacy"):
        buildx, builder = builder, "buildkit"
    return Plan(ctx, df, change, variants, runs=runs, builder=builder, floor=floor_spec, buildx=buildx,
                build_args=dict(build_args or {}), target=target)  # fmt: skip


def _change_path(ctx: Path, change: str) -> str:
    """``--change`` as a context-relative path (given relative to the context or the cwd)."""
    p = Path(change)
    if not p.is_absolute() and (ctx / p).is_file():
        return p.as_posix()
    try:
        rel = p.resolve().relative_to(ctx.resolve()).as_posix()
    except ValueError:
        raise LayerwiseError("--change: the file is not inside the build context", Location(change)) from None
    if not (ctx / rel).is_file():
        raise LayerwiseError("--change: no such file", Location(change))
    return rel


def _default_change(ctx: Path, df: Path, builder: str) -> str:
    from layerwise.bench.edit import pick_change_file
    from layerwise.context.ignore import load_ignore

    ign = load_ignore(ctx, df, builder)
    cands = []
    for p in sorted(ctx.rglob("*.py")):
        rel = p.relative_to(ctx).as_posix()
        if any(part.startswith(".") or part in ("venv", "node_modules", "__pycache__") for part in p.relative_to(ctx).parts):
            continue
        if ign is not None and ign.excludes(rel):
            continue
        if p.is_file() and not p.is_symlink():
            cands.append(rel)
        if len(cands) > 2000:
            break
    return pick_change_file(ctx, cands)
