"""``layerwise explain``: which build steps Docker takes from cache, which it rebuilds, and why."""

from __future__ import annotations

from layerwise.cli.args import command, echo, flag, folder
from layerwise.cli.options import build_arg_option, format_option, parse_build_args


def _arguments(p) -> None:
    p.add_argument("path", nargs="?", default=".", type=folder, metavar="PATH",
                   help="The build context (default: the current folder).")  # fmt: skip
    p.add_argument("-f", "--file", dest="dockerfile", metavar="DOCKERFILE",
                   help="The Dockerfile (default: PATH/Dockerfile); the context stays PATH, as with docker build -f.")  # fmt: skip
    p.add_argument("--before", default="HEAD", metavar="REV|DIR",
                   help="The state the cache was built from: a git revision or a folder.  [default: HEAD]")  # fmt: skip
    p.add_argument("--after", default=None, metavar="REV|DIR",
                   help="The state to build next (default: the working tree, PATH).")  # fmt: skip
    p.add_argument("--target", default=None, metavar="STAGE", help="Build up to this stage.")
    build_arg_option(p)
    p.add_argument("--builder", choices=["buildkit", "legacy"], default="buildkit",
                   help="Which Docker builder's cache rules to apply. With legacy, a Dockerfile it cannot build"
                        " (RUN --mount/--network, COPY --chmod/--exclude, COPY --from a later stage, heredocs...)"
                        " is an error (exit 2).  [default: buildkit]")  # fmt: skip
    flag(p, "--no-cache", help="As with `docker build --no-cache`.")
    flag(p, "--ci", help="Predict the build on a fresh CI runner, which imports only the cache the before build"
                         " exported (settings from the project's CI file, or --cache-mode).")  # fmt: skip
    p.add_argument("--cache-mode", choices=["min", "max", "none"], default=None,
                   help="With --ci: the imported cache's mode (min: the final image's layers; max: every stage's;"
                        " none: no cache-from). Implies --ci.")  # fmt: skip
    flag(p, "--no-cache-import", help="With --ci: the runner imports no cache (--cache-mode none).")
    format_option(p, ("text", "json"))


@command(
    usage="[OPTIONS] [PATH]",
    arguments=_arguments,
    help="""Predict, offline and before you build, which steps of your Docker build come from
the cache and which rebuild, with the file or change that causes each miss.

It compares two states of the project, each a git revision or a folder: by default the last
commit (--before HEAD, what your previous build most likely saw) and the working tree (--after,
what the next `docker build` will see). Files git ignores or does not track count, as Docker
sends them too; .dockerignore is applied as BuildKit applies it. The build context is PATH
(default: the current folder) as with `docker build -f DOCKERFILE PATH`: a Dockerfile elsewhere
(-f docker/Dockerfile) does not move it; the output says which was used.

\b
Example:
    layerwise explain                       # HEAD vs the working tree, in the current folder
    layerwise explain --before v1.2 --after HEAD --format json
    layerwise explain --before ../old-copy --after . --builder legacy
    layerwise explain --ci                  # on a fresh CI runner, with the CI file's cache settings
    layerwise explain --ci --cache-mode min # what mode=min would keep
""",
)
def explain(path, dockerfile, before, after, target, build_arg, builder, no_cache, ci, cache_mode,
            no_cache_import, output_format) -> int:  # fmt: skip
    import gc

    from layerwise.api import explain_project
    from layerwise.report.explain import render_json, render_text

    # The walk's entries (100,000 objects and more) hold no cycles: with the collector on, the
    # collections after the walk traverse all of them for nothing (#17: ~45 ms of a warm 100k
    # explain, as context found). Off while the prediction is made; on again after.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        got = explain_project(path, dockerfile=dockerfile, before=before, after=after, builder=builder,
                              target=target, no_cache=no_cache, build_args=parse_build_args(build_arg),
                              ci=ci or cache_mode is not None or no_cache_import,
                              cache_mode="none" if no_cache_import else cache_mode)  # fmt: skip
    finally:
        if gc_was_enabled:
            gc.enable()
    result = got.explanation
    for w in got.warnings:
        echo(f"layerwise: warning: {w}", err=True)
    import os

    from layerwise.api import context_line

    df_path = dockerfile or os.path.join(path, "Dockerfile")
    if output_format == "json":
        echo(render_json(result, before=got.before, after=got.after, context=os.path.normpath(path),
                               dockerfile=os.path.normpath(df_path)))  # fmt: skip
    else:
        import sys

        from layerwise.cli.color import console, plain_stdout
        from layerwise.report.explain import write_text_plain

        shown = context_line(df_path, path)
        if not (plain_stdout() and write_text_plain(result, sys.stdout, before=got.before, after=got.after,
                                                    context=shown)):  # fmt: skip
            render_text(result, before=got.before, after=got.after, console=console(emoji=False), context=shown)
    return 0
