"""The ``layerwise`` command line: a thin layer that parses options, calls the library, and
chooses a reporter.

Subcommands live in their own modules and are imported only when invoked, so that
``layerwise --help`` and a single-file ``check`` start fast.
"""

from __future__ import annotations

import importlib
import sys

import click

from layerwise import __version__

# name -> "module:attribute"; each module defines one click command.
COMMANDS: dict[str, str] = {
    "inspect": "layerwise.cli.inspect_cmd:inspect",
    "context": "layerwise.cli.context_cmd:context",
    "explain": "layerwise.cli.explain_cmd:explain",
    "check": "layerwise.cli.check_cmd:check",
    "rule": "layerwise.cli.check_cmd:rule",
    "rules": "layerwise.cli.check_cmd:rules",
    "fix": "layerwise.cli.fix_cmd:fix",
    "pin": "layerwise.cli.pin_cmd:pin",
    "bench": "layerwise.cli.bench_cmd:bench",
    "demo": "layerwise.cli.demo_cmd:demo",
    "server": "layerwise.cli.server_cmd:server",
}

HELP = """\
Make Docker builds of Python applications fast by getting the layer cache right.

\b
A Dockerfile like
    ADD . /app
    RUN pip install -r requirements.txt
reinstalls every package whenever any source file changes. layerwise shows
which step rebuilds, why, and how to fix it.

\b
Examples:
    layerwise explain            # which steps will the next build rebuild, and why?
    layerwise fix --diff         # the cache-friendly Dockerfile and .dockerignore
    layerwise context            # what is sent to the builder
"""


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for name in COMMANDS if self.get_command(ctx, name) is not None]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, _, attr = target.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:  # a command still being written
            if exc.name == module_name:
                return None
            raise
        from layerwise.cli.color import add_color_option

        return add_color_option(getattr(module, attr))


@click.group(cls=LazyGroup, help=HELP, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="layerwise")
def cli() -> None:
    pass


def main(argv: list[str] | None = None) -> None:
    """Entry point of the console script: turns library errors into one line and exit code 2."""
    from layerwise.errors import LayerwiseError

    try:
        rv = cli.main(args=argv, prog_name="layerwise", standalone_mode=False)
    except LayerwiseError as exc:
        from layerwise.report.escape import line as clean

        click.echo(clean(f"layerwise: error: {exc}"), err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(2 if isinstance(exc, click.UsageError) else exc.exit_code)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(_interrupt_status())
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(_interrupt_status())
    except BrokenPipeError:
        sys.exit(1)
    except Exception as exc:  # a bug: one line, not a traceback (unless asked for)
        import os

        if os.environ.get("LAYERWISE_DEBUG"):
            raise
        from layerwise.report.escape import line as clean

        click.echo(
            clean(f"layerwise: internal error: {type(exc).__name__}: {exc}") + "\n"
            "  This is a bug in layerwise; rerun with LAYERWISE_DEBUG=1 to see the traceback.",
            err=True,
        )
        sys.exit(2)
    sys.exit(rv if isinstance(rv, int) else 0)


def _interrupt_status() -> int:
    """128 + the signal that interrupted the command (130 for Ctrl-C; ``bench`` turns SIGTERM
    and SIGHUP into an interrupt too, to clean up: then 143 or 129, as the shell reports them)."""
    from layerwise.signals import exit_status

    return exit_status()
