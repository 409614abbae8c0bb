"""Colour and line width of the text output, the same for every command.

Every command takes ``--color/--no-color`` (added by the command group when the command has no
such option of its own); without either, colour is used on a terminal unless the environment
variable NO_COLOR is set (https://no-color.org). The choice is kept on click's context
(``ctx.color``), which ``click.echo``/``click.secho`` honour; :func:`console` makes a rich
Console that honours it too and never hard-wraps when the output is not a terminal (a CI log
keeps each line whole instead of cutting it at 80 columns)."""

from __future__ import annotations

import os
import sys
from typing import IO

import click

OPTION_HELP = "Colour the output (default: on a terminal, unless NO_COLOR is set)."


def no_color_env() -> bool:
    """NO_COLOR set to anything but the empty string."""
    return bool(os.environ.get("NO_COLOR"))


def _set(ctx: click.Context, param: click.Parameter, value: bool | None) -> None:
    if value is None and no_color_env():
        value = False
    if value is not None:
        ctx.color = value


def add_color_option(cmd: click.Command) -> click.Command:
    """Give ``cmd`` the ``--color/--no-color`` option unless it has one of its own."""
    if any(isinstance(p, click.Option) and "--no-color" in p.opts + p.secondary_opts for p in cmd.params):
        return cmd
    cmd.params.append(click.Option(["--color/--no-color"], default=None, expose_value=False, is_eager=True,
                                   callback=_set, help=OPTION_HELP))  # fmt: skip
    return cmd


def color_choice() -> bool | None:
    """True or False when --color/--no-color (or NO_COLOR) decided, else None (a terminal: yes)."""
    ctx = click.get_current_context(silent=True)
    while ctx is not None:
        if ctx.color is not None:
            return ctx.color
        ctx = ctx.parent
    return False if no_color_env() else None


def console(file: IO[str] | None = None, *, color: bool | None = None, **kwargs):
    """A rich Console for a command's text output: colour as :func:`color_choice` (or ``color``)
    says; soft-wrapped (no line cut at the console width) unless writing to a terminal."""
    from rich.console import Console

    if color is None:
        color = color_choice()
    out = file if file is not None else sys.stdout
    tty = hasattr(out, "isatty") and out.isatty()
    kwargs.setdefault("highlight", False)
    kwargs.setdefault("soft_wrap", not tty)
    return Console(file=file, force_terminal=True if color else None, no_color=color is False, **kwargs)
