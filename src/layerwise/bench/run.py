"""The experiment: build cold, change one source file, rebuild; with your Dockerfile and with
the fixed one; N times. Every rebuild is also predicted by ``explain`` first (cross-check).

Your files: the Dockerfile you benchmark ("before") is built in your folder, and the change
is a temporary edit undone whatever happens (see :mod:`layerwise.bench.edit`). Every other
Dockerfile ("after", "floor") is built in a temporary copy of the context. The images built
are removed at the end; the builder's cache of them stays (it is yours to prune).
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from layerwise.bench.edit import temporary_edit
from layerwise.bench.results import BenchResult, BuildTime, Run, StepTime, Variant
from layerwise.errors import LayerwiseError
from layerwise.signals import held_while, terminate_as_interrupt


class Progress(Protocol):
    def started(self, what: str) -> None: ...

    def finished(self, what: str, seconds: float, detail: str) -> None: ...

    def note(self, text: str) -> None: ...


class NoProgress:
    def started(self, what: str) -> None:
        pass

    def finished(self, what: str, seconds: float, detail: str) -> None:
        pass

    def note(self, text: str) -> None:
        pass


@dataclass
class VariantSpec:
    name: str  # before | after | floor
    label: str
    dockerfile: str  # text
    files: dict[str, str] = field(default_factory=dict)  # context-relative path -> text, written in the copy
    in_place: bool = False  # build in the user's folder (only for their own, unchanged Dockerfile)
    #: a fresh CI runner (``bench --ci``): the cold build exports its cache in this mode
    #: (``min``/``max``; ``none``: no export), the builder is emptied, the rebuild imports it
    ci_mode: str | None = None


@dataclass
class Plan:
    context: Path
    dockerfile: Path
    change: str  # context-relative path of the file to change
    variants: list[VariantSpec]
    runs: int = 1
    builder: str = "buildkit"  # whose cache rules: buildkit | legacy
    floor: VariantSpec | None = None
    buildx: str | None = None  # a named `docker buildx` builder (BuildKit), else the engine's own
    buildx_driver: str | None = None  # its driver (``docker buildx inspect``): docker, docker-container...
    build_args: dict[str, str] = field(default_factory=dict)
    target: str | None = None

    def build_options(self) -> dict:
        """Engine.build keywords. A named buildx builder gets ``--builder NAME --load``; the host
        network only with the docker driver (others need an entitlement for it)."""
        common = {"build_args": self.build_args, "target": self.target}
        if not self.buildx:
            return {"builder": self.builder, **common}
        network = "host" if self.buildx_driver == "docker" else None
        return {"builder": "buildkit", "network": network, "extra_args": ("--builder", self.buildx, "--load"),
                **common}  # fmt: skip


def _step_times(result, shared: dict[tuple[str, int], str] | None = None) -> list[StepTime]:
    """The engine's steps; a step stages share (``shared``, see shared_step_stages) filed under
    one stage, whichever name the engine printed it under this time."""
    from layerwise.engine.crosscheck import _stage_key

    shared = shared or {}
    return [
        StepTime(s.instruction, s.cached, float(s.seconds or 0.0) if not s.cached else 0.0,
                 shared.get((_stage_key(s.stage), s.index), s.stage), s.index)  # fmt: skip
        for s in result.steps
    ]


def _fail(what: str, result) -> LayerwiseError:
    if "buildx component is missing" in result.log:  # (open_engine checks first; a plugin that broke since)
        from layerwise.bench.engines import BUILDX_HINT

        return LayerwiseError(f"{what} failed: the docker CLI has no working buildx plugin, which BuildKit builds "
                              f"need; {BUILDX_HINT}")  # fmt: skip
    tail = "\n".join(result.log.rstrip().splitlines()[-15:])
    return LayerwiseError(f"{what} failed: {result.error or 'exit ' + str(result.returncode)}\n{tail}")


def copy_context(src: Path, dst: Path, dockerfile: Path, builder: str) -> None:
    """Copy the build context (what the ignore file lets through, plus the ignore file and the
    Dockerfile) to ``dst``. Directories are pruned only when no ``!`` pattern could re-include."""
    from layerwise.context.ignore import load_ignore

    ign = load_ignore(src, dockerfile, builder)
    keep = set()
    for p in (dockerfile, ign.path if ign else None):
        if p is not None:
            try:
                keep.add(Path(p).resolve().relative_to(src.resolve()).as_posix())
            except ValueError:
                pass
    prune_dirs = ign is not None and not ign.matcher.exclusions

    def ignore(dirpath: str, names: list[str]) -> set[str]:
        if ign is None:
            return set()
        rel_dir = Path(dirpath).relative_to(src).as_posix()
        out = set()
        for n in names:
            rel = n if rel_dir == "." else f"{rel_dir}/{n}"
            if rel in keep or not ign.excludes(rel):
                continue
            full = Path(dirpath) / n
            if full.is_dir() and not full.is_symlink() and not prune_dirs:
                continue
            out.add(n)
        return out

    shutil.copytree(src, dst, symlinks=True, ignore=ignore)


def floor_dockerfile(text: str) -> str | None:
    """The cheapest build that still runs the final COPY: the global ARGs, the final stage's
    FROM, its ARG/ENV/WORKDIR/USER lines and its last COPY/ADD of the context. None when that
    stage builds on another stage or ends with no such copy."""
    from layerwise.parse import parse_bytes

    df = parse_bytes(text.encode(), "Dockerfile")
    nodes = list(df.nodes)
    froms = [i for i, n in enumerate(nodes) if n.cmd == "from"]
    if not froms:
        return None
    last = froms[-1]
    names = {nodes[i].args[2].lower() for i in froms[:-1] if len(nodes[i].args) >= 3}
    if nodes[last].args and nodes[last].args[0].lower() in names:
        return None
    copies = [
        n for n in nodes[last + 1 :] if n.cmd in ("copy", "add") and not any(f.startswith("--from") for f in n.flags)
    ]
    if not copies:
        return None
    keep = [n for n in nodes[:froms[0]] if n.cmd == "arg"] + [nodes[last]]
    keep += [n for n in nodes[last + 1 :] if n.cmd in ("arg", "env", "workdir", "user") and n is not copies[-1]]
    keep.append(copies[-1])
    keep.sort(key=lambda n: n.start_line)
    return "".join(df.source(n).rstrip("\n") + "\n" for n in keep)


def run_bench(engine, plan: Plan, progress: Progress | None = None, *, project: str = "",
              engine_label: str = "") -> BenchResult:  # fmt: skip
    """Run the plan. SIGTERM and SIGHUP end it as Ctrl-C does (KeyboardInterrupt), and on any
    way out the edited file is restored, the temporary copies deleted and the images built
    removed."""
    progress = progress or NoProgress()
    session = uuid.uuid4().hex[:10]
    built: list[str] = []  # image ids and tags to remove, in build order
    variants: list[Variant] = []
    floor: Variant | None = None
    with terminate_as_interrupt():
        try:
            specs = list(plan.variants) + ([plan.floor] if plan.floor else [])
            for spec in specs:
                v = _bench_variant(engine, plan, spec, session, built, progress)
                if spec is plan.floor:
                    floor = v
                else:
                    variants.append(v)
        finally:
            remove_built_images(engine, built, prefix=f"layerwise-bench-{session}:")
    return BenchResult(
        project=project or str(plan.context),
        change_file=plan.change,
        builder=plan.builder,
        engine=engine_label,
        variants=variants,
        floor=floor,
    )


def _bench_variant(engine, plan: Plan, spec: VariantSpec, session: str, built: list[str], progress) -> Variant:
    variant = Variant(spec.name, spec.label, spec.dockerfile, files=dict(spec.files))
    tmp: Path | None = None
    try:
        if spec.in_place:
            ctx, df = plan.context, plan.dockerfile
        else:
            with held_while() as guard:  # a Ctrl-C now comes after `tmp` names the folder
                guard.holding = True
                tmp = Path(tempfile.mkdtemp(prefix="layerwise-bench-"))
            ctx = tmp / "context"
            copy_context(plan.context, ctx, plan.dockerfile, plan.builder)
            try:
                rel = plan.dockerfile.resolve().relative_to(plan.context.resolve())
                df = ctx / rel
            except ValueError:
                df = tmp / plan.dockerfile.name
            df.parent.mkdir(parents=True, exist_ok=True)
            df.write_text(spec.dockerfile)
            for relpath, text in spec.files.items():
                (ctx / relpath).parent.mkdir(parents=True, exist_ok=True)
                (ctx / relpath).write_text(text)
        if not (ctx / plan.change).is_file():
            raise LayerwiseError(f"{plan.change}: no such file in the build context ({spec.label})")
        tag = f"layerwise-bench-{session}:{spec.name}"
        for n in range(1, plan.runs + 1):
            variant.runs.append(_one_run(engine, plan, spec, ctx, df, tag, n, built, progress,
                                         stat_cache=spec.in_place))  # fmt: skip
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    return variant


def context_files(ctx: Path, df: Path, builder: str, *, stat_cache: bool):
    """The build context's files (``path -> Entry``, hashed lazily), as ``folder_files`` gives
    them, but with the persistent stat cache ($XDG_CACHE_HOME/layerwise/stat) only when
    ``stat_cache``: it keeps one file per folder path, so each temporary copy would leave one
    there that nothing ever reads again."""
    from layerwise.context.ignore import load_ignore
    from layerwise.context.snapshot import Snapshot
    from layerwise.context.states import snapshot_entries

    return snapshot_entries(Snapshot.take(ctx, load_ignore(ctx, df, builder), use_cache=stat_cache))


def _one_run(engine, plan: Plan, spec: VariantSpec, ctx: Path, df: Path, tag: str, n: int,
             built: list[str], progress, *, stat_cache: bool) -> Run:  # fmt: skip
    """One cold build and one rebuild after the change (on a fresh runner with ``spec.ci_mode``).
    ``stat_cache``: use the persistent stat cache (for your own folder; not for a temporary copy)."""
    of = f" (run {n}/{plan.runs})" if plan.runs > 1 else ""
    what = f"{spec.label}: cold build{of}"
    progress.started(what)
    cache_dir = None
    options = plan.build_options()
    if spec.ci_mode is not None:
        cache_dir = Path(tempfile.mkdtemp(prefix="layerwise-ci-cache-"))
        export = [] if spec.ci_mode == "none" else ["--cache-to", f"type=local,dest={cache_dir},mode={spec.ci_mode}"]
        options = {**options, "extra_args": (*options.get("extra_args", ()), *export)}
    try:
        return _cold_and_rebuild(engine, plan, spec, ctx, df, tag, of, built, progress, options, cache_dir,
                                 stat_cache=stat_cache)  # fmt: skip
    finally:
        if cache_dir is not None:
            shutil.rmtree(cache_dir, ignore_errors=True)


def _cold_and_rebuild(engine, plan: Plan, spec: VariantSpec, ctx: Path, df: Path, tag: str, of: str,
                      built: list[str], progress, options: dict, cache_dir: Path | None, *,
                      stat_cache: bool) -> Run:  # fmt: skip
    from layerwise.analyses.explain import explain
    from layerwise.engine.crosscheck import pair_steps, shared_step_stages
    from layerwise.parse import parse_bytes
    from layerwise.resolve.stages import resolve

    what = f"{spec.label}: cold build{of}"
    cold = engine.build(ctx, df, tag=tag, no_cache=True, **options)
    _remember(cold, tag, built)
    if not cold.ok:
        raise _fail(what, cold)
    progress.finished(what, cold.seconds, _summary(cold))
    if spec.ci_mode is not None:
        # a fresh runner: the image and the whole build cache of this private engine are gone,
        # the base images stay; the rebuild imports what the cold build exported
        engine.remove_image(tag)
        engine.prune_build_cache()
        options = plan.build_options()
        if spec.ci_mode != "none":
            options = {**options, "extra_args": (*options.get("extra_args", ()), "--cache-from",
                                                 f"type=local,src={cache_dir}")}  # fmt: skip

    lazy = context_files(ctx, df, plan.builder, stat_cache=stat_cache)
    before_files = lazy.copy()  # digests now, before the change
    text = df.read_bytes()
    what = f"{spec.label}: rebuild after changing {plan.change}{of}"
    with temporary_edit(ctx / plan.change, uuid.uuid4().hex[:12]):
        after_files = context_files(ctx, df, plan.builder, stat_cache=stat_cache)
        args = plan.build_args
        after_build = resolve(parse_bytes(text, str(df)), args)
        predicted = explain(resolve(parse_bytes(text, str(df)), args), before_files, after_build, after_files,
                            builder=plan.builder, target=plan.target)  # fmt: skip
        if spec.ci_mode is not None:
            from layerwise.analyses.fresh_runner import fresh_runner

            predicted = fresh_runner(predicted, after_build, spec.ci_mode, target=plan.target)
        progress.started(what)
        rebuild = engine.build(ctx, df, tag=tag, **options)
        _remember(rebuild, tag, built)
    if not rebuild.ok:
        raise _fail(what, rebuild)
    progress.finished(what, rebuild.seconds, _summary(rebuild))
    pairs = pair_steps(predicted.steps, rebuild.steps, plan.builder)
    for p in pairs:
        if not p.agrees:
            progress.note(f"CROSS-CHECK: {p.describe()}")
    shared = shared_step_stages(predicted.steps) if plan.builder == "buildkit" else {}
    return Run(BuildTime(cold.seconds, _step_times(cold, shared)), BuildTime(rebuild.seconds, _step_times(rebuild, shared)),
               pairs)  # fmt: skip


def remove_built_images(engine, built: list[str], prefix: str) -> None:
    """Remove what bench built and nothing else: its own tags first, then the image ids that no
    other tag names (an id that also carries a tag of yours stays)."""
    tags = [r for r in built if r.startswith(prefix)]
    for t in tags:
        engine.remove_image(t, force=False)
    for ref in reversed([r for r in built if r not in tags]):
        info = engine.inspect_image(ref)
        if info is None:
            continue
        others = [t for t in info.get("RepoTags") or [] if not t.startswith(prefix)]
        if not others:
            engine.remove_image(ref, force=False)


def _remember(result, tag: str, built: list[str]) -> None:
    if result.image_id and result.image_id not in built:
        built.append(result.image_id)
    if tag not in built:
        built.append(tag)


def _summary(result) -> str:
    ran = sum(1 for s in result.steps if s.ran)
    cached = sum(1 for s in result.steps if s.cached)
    return f"{ran} step(s) ran, {cached} cached"

