"""Colour and line width of the text output, the same for every command.

Every command takes ``--color/--no-color`` (added to its parser when the command has no such
option of its own); without either, colour is used on a terminal unless the environment
variable NO_COLOR is set (https://no-color.org). The choice is kept here for the run
(:func:`choose`); :func:`style` colours a string by it, and :func:`console` makes a rich
Console that honours it too and never hard-wraps when the output is not a terminal (a CI log
keeps each line whole instead of cutting it at 80 columns)."""

from __future__ import annotations

import os
import sys

OPTION_HELP = "Colour the output (default: on a terminal, unless NO_COLOR is set)."

_choice: bool | None = None  # this run's --color/--no-color (or NO_COLOR); None: neither

_CODES = {"bold": "1", "dim": "2", "red": "31", "green": "32", "yellow": "33", "blue": "34", "cyan": "36"}


def no_color_env() -> bool:
    """NO_COLOR set to anything but the empty string."""
    return bool(os.environ.get("NO_COLOR"))


def add_color_option(parser, help: str = OPTION_HELP) -> None:
    """Give the command's parser ``--color/--no-color`` (dest ``color``) unless it has one."""
    if "--no-color" in parser._option_string_actions:
        return
    from layerwise.cli.args import flag_pair

    flag_pair(parser, "--color", "--no-color", "color", help)


def choose(value: bool | None) -> None:
    """Record this run's choice: ``--color`` (True), ``--no-color`` (False) or neither (None:
    then NO_COLOR decides, else whether the output is a terminal)."""
    global _choice
    _choice = False if value is None and no_color_env() else value


def color_choice() -> bool | None:
    """True or False when --color/--no-color (or NO_COLOR) decided, else None (a terminal: yes)."""
    if _choice is not None:
        return _choice
    return False if no_color_env() else None


def style(text: str, *, fg: str | None = None, bold: bool = False, file=None) -> str:
    """``text`` in colour ``fg`` and/or bold when colour is on for ``file`` (default: stdout)."""
    on = color_choice()
    if on is None:
        out = file if file is not None else sys.stdout
        on = hasattr(out, "isatty") and out.isatty()
    codes = [_CODES[c] for c in (("bold",) if bold else ()) + ((fg,) if fg else ())]
    if not on or not codes:
        return text
    return f"\x1b[{';'.join(codes)}m{text}\x1b[0m"


def console(file=None, *, color: bool | None = None, **kwargs):
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


def plain_stdout() -> bool:
    """Whether rich would print to stdout without any style (not a terminal, no colour asked
    for: rich's own test, FORCE_COLOR and TTY_COMPATIBLE included), so that a command's text
    can be written without importing rich (#17: start-up; as ``context`` does)."""
    if color_choice():
        return False
    tty_compatible = os.environ.get("TTY_COMPATIBLE", "")
    if tty_compatible == "0":
        return True
    if tty_compatible == "1" or os.environ.get("FORCE_COLOR"):
        return False
    try:
        return not sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False
