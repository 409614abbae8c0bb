"""``layerwise inspect``: show the Dockerfile model layerwise builds (stages, steps, expansions)."""

from __future__ import annotations

import click

from layerwise.cli.options import build_arg_option, format_option, parse_build_args


@click.command(
    help="""Show how layerwise (and BuildKit) read a Dockerfile: parser directives, stages,
and every instruction with its exact lines, flags and arguments after ARG/ENV expansion.

\b
Example:
    layerwise inspect Dockerfile --build-arg PYTHON=3.12 --format json
"""
)
@click.argument("dockerfile", required=False, default="Dockerfile", metavar="[DOCKERFILE]")
@build_arg_option
@format_option(("text", "json"))
def inspect(dockerfile: str, build_arg: tuple[str, ...], output_format: str) -> int:
    from layerwise.parse import parse_file
    from layerwise.report.inspect import render_json, render_text
    from layerwise.resolve.stages import resolve

    df = parse_file(dockerfile)
    build = resolve(df, parse_build_args(build_arg))
    if output_format == "json":
        click.echo(render_json(build))
    else:
        from layerwise.cli.color import console

        render_text(build, console=console())
    return 0
