"""Options shared by several commands, defined once."""

from __future__ import annotations

import click

from layerwise.errors import UsageError


def format_option(choices: tuple[str, ...]):
    return click.option(
        "--format",
        "output_format",
        type=click.Choice(choices),
        default=choices[0],
        show_default=True,
        help="Output format.",
    )


build_arg_option = click.option(
    "--build-arg",
    multiple=True,
    metavar="KEY=VALUE",
    help="A build argument, as with `docker build --build-arg` (repeatable).",
)


def parse_build_args(values: tuple[str, ...]) -> dict[str, str]:
    """``KEY=VALUE`` strings -> dict. ``KEY`` alone takes the value from the environment."""
    import os

    out: dict[str, str] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not key:
            raise UsageError(f"--build-arg {item!r}: expected KEY=VALUE")
        if not sep:
            if key not in os.environ:
                continue  # docker ignores a KEY with no value when it is not in the environment
            value = os.environ[key]
        out[key] = value
    return out
