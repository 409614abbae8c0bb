"""``layerwise bench``: measure the rebuild after a code change, before and after the fix."""

from __future__ import annotations

import sys
import threading
import time

from layerwise.cli.args import command, echo, flag, folder, int_range, repeated
from layerwise.cli.options import build_arg_option, parse_build_args


class TerminalProgress:
    """Live progress on stderr: a ticking line while a build runs (on a terminal), one line
    per finished build."""

    def __init__(self, stream=None) -> None:
        self.stream = stream or sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self._stop: threading.Event | None = None
        self._thread: threading.Thread | None = None

    def _line(self, text: str, end: str = "\n") -> None:
        self.stream.write(("\r\x1b[K" if self.tty else "") + text + end)
        self.stream.flush()

    def started(self, what: str) -> None:
        self._halt()
        t0 = time.monotonic()
        if not self.tty:
            self._line(f"  ... {what}")
            return
        self._stop = stop = threading.Event()

        def tick() -> None:
            while not stop.wait(0.5):
                self._line(f"  ... {what}  {time.monotonic() - t0:.0f} s", end="")

        self._line(f"  ... {what}", end="")
        self._thread = threading.Thread(target=tick, daemon=True)
        self._thread.start()

    def _halt(self) -> None:
        if self._stop is not None:
            self._stop.set()
            if self._thread is not None:
                self._thread.join()
            self._stop = self._thread = None

    def finished(self, what: str, seconds: float, detail: str) -> None:
        self._halt()
        self._line(f"  {seconds:6.1f} s  {what}: {detail}")

    def note(self, text: str) -> None:
        self._halt()
        self._line(f"  !!! {text}")


def _arguments(p) -> None:
    p.add_argument("path", nargs="?", default=".", type=folder, metavar="PATH",
                   help="The project folder, the build context (default: the current folder).")  # fmt: skip
    p.add_argument("-f", "--file", dest="dockerfile", metavar="DOCKERFILE", help="The Dockerfile (default: PATH/Dockerfile).")
    p.add_argument("--change", metavar="FILE",
                   help="The source file to change (default: app.py, main.py... or the first .py file).")  # fmt: skip
    flag(p, "--fixed", help="Also benchmark the Dockerfile (and .dockerignore) that `layerwise fix` writes.")
    p.add_argument("--against", metavar="FILE", help="Also benchmark this other Dockerfile (built in a copy of PATH).")
    flag(p, "--floor", help="Also measure the floor: a build where only the final COPY runs.")
    p.add_argument("--runs", default=1, type=int_range(1, 50), metavar="N",
                   help="Repeat, report medians (1 to 50).  [default: 1]")  # fmt: skip
    p.add_argument("--builder", default=None, metavar="buildkit|legacy|NAME",
                   help="BuildKit (default), Docker's legacy builder, or a `docker buildx` builder by name. Without "
                        "this option, a docker lacking the buildx plugin measures with the legacy builder (with a note) "
                        "when the private engine cannot be used.")  # fmt: skip
    p.add_argument("--target", default=None, metavar="STAGE", help="Build up to this stage.")
    build_arg_option(p)
    p.add_argument("-o", "--output", metavar="FILE", default="layerwise-bench.svg",
                   help="The picture: .svg, .png (needs rsvg-convert) or .html (picture, table, Dockerfiles)."
                        "  [default: layerwise-bench.svg]")  # fmt: skip
    p.add_argument("--json", dest="json_path", metavar="FILE", help="Also write the measurements as JSON.")
    flag(p, "--ci", help="Measure a fresh CI runner: the cold build exports its cache, the builder is emptied, the "
                         "rebuild imports it (the private engine with the containerd image store, as root).")  # fmt: skip
    repeated(p, "--cache-mode", dest="cache_modes", metavar="{min,max,none}", choices=["min", "max", "none"],
             help="With --ci: the exported cache's mode (default: the CI file's, else max). Given twice "
                  "(--cache-mode min --cache-mode max), your Dockerfile is measured in both. Implies --ci.")  # fmt: skip


@command(
    usage="[OPTIONS] [PATH]",
    arguments=_arguments,
    help="""Measure what the layer cache saves on your project, on a real Docker engine.

Builds the project cold, makes a one-line change to a source file (a temporary edit, undone
afterwards whatever happens, Ctrl-C included), rebuilds, and does the same with the Dockerfile
that `layerwise fix` writes (--fixed) or any other one (--against), in a temporary copy: your
files are never left modified. Reports median times per step and per build over --runs, a
table and a timeline picture (--output .svg, .png or .html), and checks every step status that
`layerwise explain` predicted against what the engine reported.

Uses your Docker when `docker info` works; else, as root, layerwise's private engine
(scripts/install-engine.sh). Images it builds are removed; their build cache is left.

\b
Example:
    layerwise bench --fixed --runs 3 --output bench.svg
    layerwise bench myproject --against myproject/Dockerfile.new --change src/app/main.py
""",
)
def bench(path, dockerfile, change, fixed, against, floor, runs, builder, target, build_arg, output,
          json_path, ci, cache_modes) -> int:  # fmt: skip
    import json
    import os

    from layerwise.bench import (
        make_plan,
        open_engine,
        render_bars,
        render_crosscheck,
        render_table,
        run_bench,
        write_report,
    )
    from layerwise.bench.engines import legacy_blocker

    notes: list[str] = []
    plan = make_plan(path, dockerfile, change=change, fixed=fixed, against=against, runs=runs,
                     builder=builder or "buildkit", floor=floor, build_args=parse_build_args(build_arg),
                     target=target, notes=notes)  # fmt: skip
    ci = ci or bool(cache_modes)
    if ci:
        _fresh_runner_variants(plan, path, cache_modes, floor, builder)
    # may a docker without buildx measure with the legacy builder instead of BuildKit?
    if plan.buildx:
        legacy_refused = f"--builder {plan.buildx} is a buildx builder"
    elif builder == "buildkit":
        legacy_refused = "--builder buildkit"
    else:
        specs = plan.variants + ([plan.floor] if plan.floor else [])
        legacy_refused = next((f"{v.label}: {why}" for v in specs
                               if (why := legacy_blocker(v.dockerfile, plan.build_args, plan.target))), None)  # fmt: skip
    from layerwise.api import context_is_elsewhere, context_line

    df_used = dockerfile or os.path.join(path, "Dockerfile")
    if context_is_elsewhere(df_used, path):  # the one context rule: PATH, as docker build -f
        echo(context_line(df_used, path), err=True)
    for n in notes:
        echo(f"note: {n}", err=True)
    if len(plan.variants) == 1 and not floor:
        echo("note: only your Dockerfile is measured; add --fixed to compare with the fixed one.", err=True)
    progress = TerminalProgress()
    say = lambda s: echo(s, err=True)  # noqa: E731
    project = os.path.basename(os.path.abspath(path))
    with open_engine(say, builder=plan.builder, legacy_refused=legacy_refused,
                     private_ok=not plan.buildx, ci=ci) as (engine, label, used):  # fmt: skip
        plan.builder = used
        if plan.buildx:
            p = engine.docker("buildx", "inspect", plan.buildx, check=False, timeout=60)
            if p.returncode != 0:
                from layerwise.errors import LayerwiseError

                msg = (p.stderr or p.stdout).strip().splitlines()
                raise LayerwiseError(f"--builder {plan.buildx}: no such buildx builder on {label}"
                                     f" ({msg[-1] if msg else 'docker buildx inspect failed'})")  # fmt: skip
            plan.buildx_driver = next((ln.split(":", 1)[1].strip() for ln in p.stdout.splitlines()
                                       if ln.strip().startswith("Driver:")), None)  # fmt: skip
        say(f"Engine: {label}" + (f", buildx builder {plan.buildx}" if plan.buildx else ""))
        say(f"Change: a comment line appended to {plan.change} before each rebuild (undone after)")
        result = run_bench(engine, plan, progress, project=project, engine_label=label)
    _save_timings(plan, result)
    echo()
    echo(render_table(result))
    echo(render_bars(result))
    check = render_crosscheck(result)
    echo(check, err=bool(result.disagreements))
    for p in write_report(result, output):
        echo(f"wrote {p}")
    if json_path:
        with open(json_path, "w") as f:
            json.dump(result.to_json(), f, indent=1)
        echo(f"wrote {json_path}")
    if result.disagreements:
        return 1
    return 0


def _fresh_runner_variants(plan, path: str, modes: tuple[str, ...], floor: bool, builder: str | None) -> None:
    """Make the plan's variants fresh-runner builds (``bench --ci``): each in the one mode, or
    your Dockerfile in two modes as "before" and "after"."""
    from dataclasses import replace

    from layerwise.api import ci_cache_mode
    from layerwise.errors import UsageError

    if floor or plan.buildx or (builder and builder != "buildkit"):
        raise UsageError("--ci measures BuildKit on the private engine: without --floor and --builder")
    if len(modes) > 2:
        raise UsageError("--cache-mode: at most two modes (to compare them)")
    if not modes:
        mode, source = ci_cache_mode(path, str(plan.dockerfile))
        echo(f"note: fresh runner, mode={mode} ({source})", err=True)
        modes = (mode,)
    if len(modes) == 2:
        if len(plan.variants) > 1:
            raise UsageError("two --cache-mode values compare your Dockerfile in both: without --fixed or --against")
        v = plan.variants[0]
        plan.variants = [replace(v, name="before", label=f"{v.label}, mode={modes[0]}", ci_mode=modes[0]),
                         replace(v, name="after", label=f"{v.label}, mode={modes[1]}", ci_mode=modes[1])]  # fmt: skip
        return
    plan.variants = [replace(v, label=f"{v.label} (fresh runner, mode={modes[0]})", ci_mode=modes[0])
                     for v in plan.variants]  # fmt: skip


def _save_timings(plan, result) -> None:
    """Remember the cold build's step times, so that `explain` can estimate a rebuild's cost."""
    from layerwise.analyses.timings import save_timings

    before = result.variant("before")
    if before and before.runs:
        save_timings(plan.dockerfile, {s.instruction: s.seconds for s in before.cold.steps if not s.cached})
