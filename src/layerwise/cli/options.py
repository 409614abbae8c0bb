"""Options shared by several commands, defined once."""

from __future__ import annotations

from layerwise.errors import UsageError


def format_option(p, choices: tuple[str, ...]) -> None:
    """``--format`` (dest ``output_format``), the first choice by default."""
    p.add_argument("--format", dest="output_format", choices=choices, default=choices[0],
                   help=f"Output format.  [default: {choices[0]}]")  # fmt: skip


def build_arg_option(p) -> None:
    """``--build-arg KEY=VALUE`` (repeatable; dest ``build_arg``)."""
    p.add_argument("--build-arg", action="append", default=[], metavar="KEY=VALUE",
                   help="A build argument, as with `docker build --build-arg` (repeatable).")  # fmt: skip


def parse_build_args(values) -> dict[str, str]:
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
