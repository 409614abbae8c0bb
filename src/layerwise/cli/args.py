"""The little the commands need on top of :mod:`argparse`: a command (its help text, its
arguments, the function it runs), help formatted as the commands write it, option types that
check paths and ranges, and ``echo``.

A command module defines its command with :func:`command`; ``layerwise NAME ARGS`` imports that
module only (see :data:`layerwise.cli.COMMANDS`) and calls the command with ARGS. Help texts are
paragraphs, re-wrapped to the terminal (80 columns at most), except a paragraph that starts with
a ``\\b`` line, printed as written (examples)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable

HELP_WIDTH = 80


def help_width() -> int:
    """The width of help text: the terminal's (COLUMNS, else stdout's), at most 80 columns.
    (shutil.get_terminal_size without importing shutil, which every parser would pay for:
    argparse makes a formatter for each option it adds.)"""
    try:
        columns = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns
        except (AttributeError, ValueError, OSError):
            columns = HELP_WIDTH
    return min(columns or HELP_WIDTH, HELP_WIDTH)


class _Formatter(argparse.HelpFormatter):
    def __init__(self, prog: str) -> None:
        super().__init__(prog, width=help_width(), max_help_position=32)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        return fill_paragraphs(text, width, indent)

    def _split_lines(self, text: str, width: int) -> list[str]:
        import textwrap

        return textwrap.wrap(" ".join(text.split()), width, break_on_hyphens=False)  # --build-arg whole

    def _format_action_invocation(self, action: argparse.Action) -> str:
        if isinstance(action, _Pair):
            return " / ".join(action.option_strings)
        if action.option_strings and action.nargs != 0:  # -f, --file DOCKERFILE (once)
            return ", ".join(action.option_strings) + " " + self._format_args(action, self._get_default_metavar_for_optional(action))
        return super()._format_action_invocation(action)

    def _format_usage(self, usage, actions, groups, prefix) -> str:
        return super()._format_usage(usage, actions, groups, "Usage: " if prefix is None else prefix)


def fill_paragraphs(text: str, width: int, indent: str = "") -> str:
    """Each paragraph of ``text`` re-wrapped to ``width``, but one that starts with ``\\b`` kept
    line by line (as click printed help)."""
    import textwrap

    out = []
    for para in text.strip("\n").split("\n\n"):
        if para.startswith("\b\n"):
            out.append("\n".join(indent + line for line in para[2:].splitlines()))
        else:
            out.append(textwrap.fill(" ".join(para.split()), width, initial_indent=indent,
                                     subsequent_indent=indent, break_on_hyphens=False))  # fmt: skip
    return "\n\n".join(out) + "\n"


class Parser(argparse.ArgumentParser):
    """A command's parser: a usage error is the usage line, the error and where help is, on
    stderr, and exit status 2."""

    def error(self, message: str):  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\nTry '{self.prog} --help' for help.\n")


class Command:
    """One ``layerwise`` subcommand. Calling it with the command line's arguments parses them
    and runs the function with them as keyword arguments; its return value is the exit status."""

    def __init__(self, func: Callable[..., int | None], help: str, usage: str,
                 arguments: Callable[[argparse.ArgumentParser], None] | None, name: str) -> None:  # fmt: skip
        self.func = func
        self.help = help
        self.usage = usage
        self.arguments = arguments
        self.name = name

    def parser(self) -> Parser:
        from layerwise.cli.color import add_color_option

        p = Parser(prog=f"layerwise {self.name}", usage=f"%(prog)s {self.usage}", description=self.help,
                   formatter_class=_Formatter, add_help=False, allow_abbrev=False)  # fmt: skip
        if self.arguments is not None:
            self.arguments(p)
        add_color_option(p)  # unless the command has its own
        p.add_argument("-h", "--help", action="help", help="Show this message and exit.")
        return p

    def __call__(self, argv: list[str]) -> int | None:
        from layerwise.cli import color

        parser = self.parser()
        ns = vars(parser.parse_intermixed_args(_attach_values(parser, argv)))
        color.choose(ns["color"])
        params = self.func.__code__.co_varnames[: self.func.__code__.co_argcount]
        if "color" not in params:
            del ns["color"]
        return self.func(**ns)


def _attach_values(parser: argparse.ArgumentParser, argv: list[str]) -> list[str]:
    """``--before -h`` as ``--before=-h``: an option that takes a value takes the next argument,
    whatever it starts with (argparse would read ``-h`` as an option)."""
    out: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            out += argv[i:]
            break
        action = parser._option_string_actions.get(arg)
        if action is not None and action.nargs is None and i + 1 < len(argv) and argv[i + 1].startswith("-"):
            out.append(f"{arg}={argv[i + 1]}" if arg.startswith("--") else arg + argv[i + 1])
            i += 2
            continue
        out.append(arg)
        i += 1
    return out


def command(help: str, *, usage: str = "[OPTIONS]", arguments=None, name: str | None = None):
    """Make the decorated function a :class:`Command` named after it (or ``name``)."""

    def wrap(func: Callable[..., int | None]) -> Command:
        return Command(func, help, usage, arguments, name or func.__name__)

    return wrap


def flag(p: argparse.ArgumentParser, *names: str, help: str, dest: str | None = None) -> None:
    """An on/off option (False unless given)."""
    p.add_argument(*names, action="store_true", dest=dest, help=help)


class _Pair(argparse.Action):
    """``--on / --off``: True, False, or None when neither is given (the last one given wins)."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs) -> None:
        super().__init__(option_strings, dest, nargs=0, default=None, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        setattr(namespace, self.dest, option_string == self.option_strings[0])


def flag_pair(p: argparse.ArgumentParser, on: str, off: str, dest: str, help: str) -> None:
    """``--on / --off``: True, False, or None when neither is given (the last one given wins)."""
    p.add_argument(on, off, dest=dest, action=_Pair, help=help)


def repeated(p: argparse.ArgumentParser, *names: str, metavar: str, help: str, dest: str | None = None, **kw) -> None:
    """An option that may be given several times: the list of its values, in order ([] if none)."""
    p.add_argument(*names, action="append", default=[], metavar=metavar, dest=dest, help=help, **kw)


def folder(value: str) -> str:
    """A path that is not an existing file (a folder, or one that does not exist yet)."""
    if os.path.isfile(value):
        raise argparse.ArgumentTypeError(f"{value!r} is a file, not a folder")
    return value


def not_folder(value: str) -> str:
    """A path that is not an existing folder."""
    if os.path.isdir(value):
        raise argparse.ArgumentTypeError(f"{value!r} is a folder, not a file")
    return value


def existing(value: str) -> str:
    """A path that exists."""
    if not os.path.exists(value):
        raise argparse.ArgumentTypeError(f"{value!r} does not exist")
    return value


def int_range(low: int, high: int) -> Callable[[str], int]:
    """An integer from ``low`` to ``high``."""

    def convert(value: str) -> int:
        try:
            n = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
        if not low <= n <= high:
            raise argparse.ArgumentTypeError(f"{n} is not in the range {low} to {high}")
        return n

    return convert


def echo(text: str = "", *, err: bool = False, nl: bool = True) -> None:
    """Write ``text`` (and a newline) to stdout, or stderr when ``err``; a character the stream
    cannot encode is written as an escape instead of failing."""
    stream = sys.stderr if err else sys.stdout
    if nl:
        text += "\n"
    try:
        stream.write(text)
    except UnicodeEncodeError:
        enc = getattr(stream, "encoding", None) or "utf-8"
        stream.write(text.encode(enc, "backslashreplace").decode(enc))
    if err:
        stream.flush()
