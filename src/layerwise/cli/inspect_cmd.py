"""``layerwise inspect``: show the Dockerfile model layerwise builds (stages, steps, expansions)."""

from __future__ import annotations

from layerwise.cli.args import command, echo
from layerwise.cli.options import build_arg_option, format_option, parse_build_args


def _arguments(p) -> None:
    p.add_argument("dockerfile", nargs="?", default="Dockerfile", metavar="DOCKERFILE",
                   help="The Dockerfile to read.  [default: Dockerfile]")  # fmt: skip
    build_arg_option(p)
    format_option(p, ("text", "json"))


@command(
    usage="[OPTIONS] [DOCKERFILE]",
    arguments=_arguments,
    help="""Show how layerwise (and BuildKit) read a Dockerfile: parser directives, stages,
and every instruction with its exact lines, flags and arguments after ARG/ENV expansion.

\b
Example:
    layerwise inspect Dockerfile --build-arg PYTHON=3.12 --format json
""",
)
def inspect(dockerfile: str, build_arg: list[str], output_format: str) -> int:
    from layerwise.parse import parse_file
    from layerwise.report.inspect import render_json, render_text
    from layerwise.resolve.stages import resolve

    df = parse_file(dockerfile)
    build = resolve(df, parse_build_args(build_arg))
    if output_format == "json":
        echo(render_json(build))
    else:
        from layerwise.cli.color import console

        render_text(build, console=console())
    return 0
