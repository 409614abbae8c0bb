"""The command line itself (argparse, #17): lazy command modules, help, usage errors, and the
option forms the commands accept."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from layerwise import __version__
from layerwise.cli import COMMANDS
from tests.shared import run_cli

PROBE = """\
import json, sys
from layerwise.cli import main
try:
    main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
print(json.dumps({"code": code, "modules": sorted(m for m in sys.modules if m.startswith("layerwise.cli."))}),
      file=sys.__stderr__)
"""


def _cli_modules(*args: str, cwd=None) -> tuple[int, list[str]]:
    p = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=60,
                       cwd=cwd, check=False)  # fmt: skip
    report = json.loads(p.stderr.strip().splitlines()[-1])
    return report["code"], report["modules"]


def test_help_lists_every_command_without_importing_them():
    code, modules = _cli_modules("--help")
    assert code == 0 and not [m for m in modules if m.endswith("_cmd")], modules
    out = run_cli(["--help"]).stdout
    for name, (_, summary) in COMMANDS.items():
        assert f"  {name}  " in out and summary in out


def test_a_command_imports_its_module_only(tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM python:3.12-slim\nUSER app\n")
    code, modules = _cli_modules("check", "--no-context", str(tmp_path / "Dockerfile"))
    assert code == 0 and [m for m in modules if m.endswith("_cmd")] == ["layerwise.cli.check_cmd"]


def test_version():
    r = run_cli(["--version"])
    assert (r.exit_code, r.stdout) == (0, f"layerwise, version {__version__}\n")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nosuch"], "layerwise: error: no such command 'nosuch'\n"),
        (["chek"], "layerwise: error: no such command 'chek' (did you mean 'check'?)\n"),
        (["--nosuch"], "layerwise: error: no such option: --nosuch\n"),
        (["check", "--nosuch"], "layerwise check: error: unrecognized arguments: --nosuch"),
        (["check", "--sel", "LW1"], "unrecognized arguments: --sel"),  # no abbreviations
        (["rules", "--format", "xml"], "argument --format: invalid choice: 'xml'"),
        (["bench", "--runs", "0"], "argument --runs: 0 is not in the range 1 to 50"),
        (["demo", "--runs", "x"], "argument --runs: 'x' is not a whole number"),
        (["rule"], "the following arguments are required: CODE"),
        (["check", "--format"], "argument --format: expected one argument"),
    ],
)
def test_usage_errors_are_short_and_exit_2(args, message):
    r = run_cli(args)
    assert r.exit_code == 2 and r.stdout == "" and message in r.stderr, r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.splitlines()) <= 5


def test_no_command_shows_the_help_and_fails():
    r = run_cli([])
    assert r.exit_code == 2 and "Commands:" in r.stderr


def test_path_checks(tmp_path):
    (tmp_path / "file").write_text("")
    r = run_cli(["explain", str(tmp_path / "file")])
    assert r.exit_code == 2 and "is a file, not a folder" in r.stderr
    r = run_cli(["check", "--no-context", "-o", str(tmp_path), str(tmp_path / "Dockerfile")])
    assert r.exit_code == 2 and "is a folder, not a file" in r.stderr
    r = run_cli(["pin", str(tmp_path / "missing")])
    assert r.exit_code == 2 and "does not exist" in r.stderr


def test_repeated_and_comma_separated_codes_and_options_after_paths(tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM python:3.12-slim\nCOPY . .\nRUN pip install -r requirements.txt\n")
    df = str(tmp_path / "Dockerfile")

    def codes(*args: str) -> set[str]:
        r = run_cli(["check", "--no-context", df, "--format", "json", *args])  # options after the path
        assert r.exit_code in (0, 1), r.output
        return {f["code"] for f in json.loads(r.stdout)}

    every = codes()
    assert {"LW101", "LW201", "LW503"} <= every
    assert codes("--select", "LW101,LW201") == {"LW101", "LW201"}
    assert codes("--select", "LW101", "--select", "lw201") == {"LW101", "LW201"}
    assert codes("--ignore", "LW1", "--ignore", "LW503") == every - {"LW503"} - {c for c in every if c.startswith("LW1")}


def test_the_last_of_a_flag_pair_wins(tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM python:3.12-slim\nCOPY . .\nRUN pip install -r requirements.txt\n")
    df = str(tmp_path / "Dockerfile")
    assert "\x1b[" in run_cli(["check", "--no-context", "--no-color", "--color", df]).stdout
    assert "\x1b[" not in run_cli(["check", "--no-context", "--color", "--no-color", df]).stdout


def test_help_keeps_the_examples_as_written():
    out = run_cli(["check", "--help"], env={"COLUMNS": "60"}).stdout
    assert "    layerwise check --select LW1,LW2 --ignore LW204 --format sarif -o layerwise.sarif\n" in out
    assert "--min-severity {info,warning,error}" in out and "[default: info]" in out
    assert max(len(line) for line in out.splitlines() if not line.startswith("    layerwise")) <= 60


_EXIT_PROBE = """
import atexit, sys
from layerwise.cli import main
atexit.register(lambda: sys.stderr.write("at-exit ran\\n"))


class Teardown:  # freed by the interpreter's teardown only (a module global)
    def __del__(self):
        sys.stderr.write("torn down\\n")


kept = Teardown()
sys.argv = ["layerwise", *sys.argv[1:]]
main()
"""


@pytest.mark.parametrize(("args", "status"), [(["rules"], 0), (["check", "{tmp}"], 2)])
def test_the_console_script_exits_fast_with_its_output_and_at_exit_functions(tmp_path, args, status):
    """The console script ends without the interpreter's teardown (``os._exit``): what it wrote
    is all there, through a pipe, its status is kept, and the at-exit functions (the stat
    cache's save) ran first."""
    out = subprocess.run([sys.executable, "-c", _EXIT_PROBE, *[a.format(tmp=tmp_path) for a in args]],
                         capture_output=True, text=True, check=False)  # fmt: skip
    assert out.returncode == status, out.stderr
    assert out.stderr.endswith("at-exit ran\n")  # and nothing was torn down after
    if args == ["rules"]:
        assert all(code in out.stdout for code in ("LW001", "LW101", "LW609"))  # its last lines too
        assert out.stdout.endswith("C needs the build context\n")
