"""The ``layerwise`` command line: a thin layer that parses options, calls the library, and
chooses a reporter.

Subcommands live in their own modules and are imported only when invoked, so that
``layerwise --help`` and a single-file ``check`` start fast.
"""

from __future__ import annotations

import sys

from layerwise import __version__

# name -> ("module:attribute", one-line summary); each module defines its commands with
# layerwise.cli.args.command, and only the module of the command that runs is imported.
COMMANDS: dict[str, tuple[str, str]] = {
    "inspect": ("layerwise.cli.inspect_cmd:inspect", "Show how layerwise (and BuildKit) read a Dockerfile."),
    "context": ("layerwise.cli.context_cmd:context", "Show what `docker build` sends as the build context."),
    "explain": ("layerwise.cli.explain_cmd:explain", "Predict which build steps come from the cache, which rebuild, and why."),
    "check": ("layerwise.cli.check_cmd:check", "Find Docker layer-cache problems in Dockerfiles of Python projects."),
    "rule": ("layerwise.cli.check_cmd:rule", "Explain a rule: what it does, why it is bad, what to use instead."),
    "rules": ("layerwise.cli.check_cmd:rules", "List the rules of `layerwise check`."),
    "fix": ("layerwise.cli.fix_cmd:fix", "Rewrite a project's Dockerfile and .dockerignore for a cache-friendly build."),
    "pin": ("layerwise.cli.pin_cmd:pin", "Turn loose requirements into exact pins."),
    "bench": ("layerwise.cli.bench_cmd:bench", "Measure what the layer cache saves on your project, on a real engine."),
    "demo": ("layerwise.cli.demo_cmd:demo", "Show what layerwise does, on the bundled example project."),
    "server": ("layerwise.cli.server_cmd:server", "Run the layerwise language server (LSP over stdin/stdout) for editors."),
}  # fmt: skip

USAGE = "Usage: layerwise [OPTIONS] COMMAND [ARGS]..."

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
    layerwise COMMAND --help     # a command's options and examples
"""


def help_text() -> str:
    """``layerwise --help``: what it is for, the options and the commands (no command module
    is imported for it)."""
    from layerwise.cli.args import fill_paragraphs, help_width

    width = help_width()
    pad = max(map(len, COMMANDS)) + 2
    lines = [USAGE, "", fill_paragraphs(HELP, width - 2, "  "), "Options:",
             "  --version   Show the version and exit.", "  -h, --help  Show this message and exit.", "", "Commands:"]  # fmt: skip
    lines += [f"  {name:<{pad}}{summary}" for name, (_, summary) in COMMANDS.items()]
    return "\n".join(lines) + "\n"


def load(name: str):
    """The command ``name`` (importing its module), or None when there is no such command."""
    import importlib

    target = COMMANDS.get(name)
    if target is None:
        return None
    module_name, _, attr = target[0].partition(":")
    return getattr(importlib.import_module(module_name), attr)


def _usage_error(message: str) -> int:
    """As a command's usage errors read (argparse): the usage, the error, where help is."""
    sys.stderr.write(f"{USAGE}\nlayerwise: error: {message}\nTry 'layerwise --help' for help.\n")
    return 2


def run(argv: list[str]) -> int | None:
    """Run the command line ``argv`` (without the program name): its exit status."""
    for i, arg in enumerate(argv):
        if arg in ("-h", "--help"):
            sys.stdout.write(help_text())
            return 0
        if arg == "--version":
            sys.stdout.write(f"layerwise, version {__version__}\n")
            return 0
        if arg.startswith("-"):
            return _usage_error(f"no such option: {arg}")
        cmd = load(arg)
        if cmd is None:
            import difflib

            close = difflib.get_close_matches(arg, COMMANDS, n=1)
            return _usage_error(f"no such command {arg!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        return cmd(argv[i + 1 :])
    sys.stderr.write(help_text())  # no command: what there is to run
    return 2


def main(argv: list[str] | None = None) -> None:
    """Entry point of the console script: turns library errors into one line and exit code 2."""
    # the console script ends without the interpreter's teardown; tests call main with their
    # argv, and go on after its SystemExit
    leave = _fast_exit if argv is None else sys.exit
    leave(_status(sys.argv[1:] if argv is None else list(argv)))


def _status(argv: list[str]) -> int:
    """Run ``argv``: its exit status, every error said in one line."""
    from layerwise.errors import LayerwiseError

    try:
        rv = run(argv)
    except LayerwiseError as exc:
        from layerwise.escape import line as clean

        _say(clean(f"layerwise: error: {exc}"))
        return exc.exit_code
    except (KeyboardInterrupt, EOFError):  # Ctrl-C (or SIGTERM/SIGHUP in bench), end of input
        _say("\nAborted.")
        return _interrupt_status()
    except BrokenPipeError:  # `layerwise rules | head`: stop quietly
        _silence_stdout()
        return 1
    except Exception as exc:  # a bug: one line, not a traceback (unless asked for)
        import os

        if os.environ.get("LAYERWISE_DEBUG"):
            raise
        from layerwise.escape import line as clean

        _say(clean(f"layerwise: internal error: {type(exc).__name__}: {exc}") + "\n"
             "  This is a bug in layerwise; rerun with LAYERWISE_DEBUG=1 to see the traceback.")  # fmt: skip
        return 2
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _silence_stdout()
        return 1
    return rv if isinstance(rv, int) else 0


def _fast_exit(code: int) -> None:
    """End the process without the interpreter's teardown, as mypy does: freeing every module
    and object and a last garbage collection cost ~5 ms of a 50 ms ``check`` and more after
    a big walk, for nothing. The at-exit functions run first (the stat cache's save), then the
    output is flushed. Not under a tracer or profiler (they write their results at teardown),
    nor on a Python without ``atexit._run_exitfuncs``."""
    import atexit

    run_exitfuncs = getattr(atexit, "_run_exitfuncs", None)
    if run_exitfuncs is None or sys.gettrace() is not None or sys.getprofile() is not None:
        sys.exit(code)
    run_exitfuncs()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (BrokenPipeError, ValueError):  # (a reader gone, or a stream closed: nothing to lose)
        pass
    import os

    os._exit(code)


def _say(text: str) -> None:
    from layerwise.cli.args import echo

    echo(text, err=True)


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so that Python's own flush at exit does not report the
    broken pipe a second time."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def _interrupt_status() -> int:
    """128 + the signal that interrupted the command (130 for Ctrl-C; ``bench`` turns SIGTERM
    and SIGHUP into an interrupt too, to clean up: then 143 or 129, as the shell reports them)."""
    from layerwise.signals import exit_status

    return exit_status()
