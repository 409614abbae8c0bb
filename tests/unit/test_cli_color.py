"""Every command takes --color/--no-color and honours NO_COLOR; text output is never cut at 80
columns when it is not written to a terminal (CI logs)."""

from __future__ import annotations

import re

import pytest

from layerwise.cli import COMMANDS, load
from tests.shared import run_cli

ANSI = re.compile(r"\x1b\[[0-9;]*m")
LONG = "src/" + "/".join(f"package_{i}" for i in range(12)) + "/module.py"  # a path of 140 characters


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_takes_no_color(name):
    opts = load(name).parser()._option_string_actions
    assert {"--color", "--no-color"} <= set(opts)
    r = run_cli([name, "--no-color", "--help"])
    assert r.exit_code == 0 and "--color / --no-color" in r.output


def _states(tmp_path):
    """Two folders: the build before and after a change to a file with a long path."""
    for name, body in (("before", "x = 1\n"), ("after", "x = 2\n")):
        root = tmp_path / name
        (root / LONG).parent.mkdir(parents=True)
        (root / LONG).write_text(body)
        (root / "requirements.txt").write_text("flask==3.0.0\n")
        (root / "Dockerfile").write_text("FROM python:3.12-slim\nWORKDIR /app\nCOPY src /app/src\n"
                                         "COPY requirements.txt .\nRUN pip install -r requirements.txt\n")  # fmt: skip
    return tmp_path / "before", tmp_path / "after"


def _explain(tmp_path, *args, env=None):
    before, after = _states(tmp_path)
    r = run_cli(["explain", str(after), "--before", str(before), *args], env=env)
    assert r.exit_code == 0, r.output
    return r.output


def test_explain_is_not_wrapped_at_80_columns_off_a_terminal(tmp_path):
    out = _explain(tmp_path, env={"COLUMNS": None})
    lines = out.splitlines()
    cause = next(ln for ln in lines if "└─" in ln and "changed" in ln)
    assert LONG.removeprefix("src/") in cause  # whole, on its line
    assert any(len(ln) > 100 for ln in lines)
    first = next(ln for ln in lines if ln.startswith("layerwise explain"))
    assert str(tmp_path / "before") + " (buildkit" in first  # the header not cut either


def test_explain_colour_on_request_and_never_with_no_color(tmp_path):
    assert ANSI.search(_explain(tmp_path / "a", "--color"))
    assert not ANSI.search(_explain(tmp_path / "b", "--color", "--no-color"))
    assert not ANSI.search(_explain(tmp_path / "c", env={"NO_COLOR": "1"}))
    assert not ANSI.search(_explain(tmp_path / "d", "--no-color"))


def test_no_color_reaches_styles(tmp_path):
    """color.style (the demo's headings) honours --no-color and NO_COLOR on a colour terminal."""
    from layerwise.cli.args import command, echo
    from layerwise.cli.color import style

    @command(help="Say hello.")
    def hello() -> int:
        echo(style("hello", fg="red"))
        return 0

    def run(*args, env=None):
        return _run_command(hello, list(args), env)

    assert ANSI.search(run())
    assert not ANSI.search(run("--no-color"))
    assert not ANSI.search(run(env={"NO_COLOR": "1"}))
    assert ANSI.search(run("--color", env={"NO_COLOR": "1"}))


def _run_command(cmd, args, env) -> str:
    """What ``cmd`` prints to a terminal when run with ``args`` (and ``env``)."""
    import io
    import os
    import sys

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    out, saved = Tty(), (sys.stdout, dict(os.environ))
    try:
        os.environ.pop("NO_COLOR", None)
        os.environ.update(env or {})
        sys.stdout = out
        assert cmd(args) == 0
    finally:
        sys.stdout = saved[0]
        os.environ.clear()
        os.environ.update(saved[1])
    return out.getvalue()


def test_check_keeps_its_own_colour_option():
    r = run_cli(["check", "--help"])
    assert r.exit_code == 0 and r.output.count("--no-color") == 1
    assert load("check").parser()._option_string_actions["--no-color"].help == "Colour the text output (default: on a terminal)."
