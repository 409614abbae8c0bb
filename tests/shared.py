"""Where the test data of the conformance and corpus tests lives: ``tests/data/`` in the
repository (``conformance/``: BuildKit's and moby/patternmatcher's own tables; ``corpus/``: real
Dockerfiles), so that a fresh clone runs the same suite as CI. Each folder's README records the
origin and license of every source.

The environment variable LAYERWISE_SHARED names another folder with the same layout (e.g. the
project's ``shared/`` reference folder, whose corpus also holds the files without a license that
are not redistributed here); the tests then read that one instead."""

from __future__ import annotations

import atexit
import io
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Hashable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data"

#: a project whose version comes from git (hatch-vcs): its build reads .git
HATCH_VCS = """\
[build-system]
requires = ["hatchling", "hatch-vcs"]
build-backend = "hatchling.build"

[project]
name = "app"
dynamic = ["version"]

[tool.hatch.version]
source = "vcs"
"""


def shared_dir() -> Path:
    """The folder holding ``conformance/`` and ``corpus/``: LAYERWISE_SHARED, else tests/data."""
    env = os.environ.get("LAYERWISE_SHARED")
    if env:
        path = Path(env)
        if not (path / "conformance").is_dir() or not (path / "corpus").is_dir():
            raise RuntimeError(f"LAYERWISE_SHARED={env}: no conformance/ and corpus/ folders there")
        return path
    return DATA


def shared_path(*parts: str) -> Path:
    """A path under the test data folder; a missing one is an error, never a skip."""
    path = shared_dir().joinpath(*parts)
    if not path.exists():
        raise FileNotFoundError(f"test data missing: {path}")
    return path


def corpus_files() -> list[Path]:
    """The corpus Dockerfiles, sorted by name."""
    return sorted(shared_path("corpus", "files").iterdir())


def corpus_has(name: str) -> bool:
    """Whether the corpus in use holds the file (the in-repo copy leaves out the files without a
    license: see tests/data/corpus/README.md)."""
    return (shared_dir() / "corpus" / "files" / name).is_file()


def git(cwd: Path, *args: str) -> str:
    """Run git in ``cwd`` as a test author (no user configuration needed); its stdout."""
    return subprocess.run(["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
                          cwd=cwd, check=True, capture_output=True, text=True).stdout  # fmt: skip


_REPOS: dict[Hashable, Path] = {}


def committed_repo(dest: Path, write: Callable[[Path], object], key: Hashable = None) -> Path:
    """``dest`` as a git repository holding what ``write(folder)`` writes, committed once ("init").

    The repository is made once per ``key`` (default: ``write`` itself) in the session, with
    ``git init``/``add``/``commit``, and copied to ``dest`` for each test (``dest`` may exist):
    three git child processes per test cost more than the tests themselves. A copy is a
    repository like any other (its index's stat data differ from the files', which git
    refreshes by their contents)."""
    key = write if key is None else key
    template = _REPOS.get(key)
    if template is None:
        top = tempfile.mkdtemp(prefix="layerwise-test-repo-")
        atexit.register(shutil.rmtree, top, ignore_errors=True)
        template = Path(top) / "repo"
        template.mkdir()
        write(template)
        git(template, "init", "-q")
        git(template, "add", "-A")
        git(template, "commit", "-qm", "init")
        _REPOS[key] = template
    shutil.copytree(template, dest, symlinks=True, dirs_exist_ok=True)
    return dest


class CliResult:
    """What a ``layerwise`` run printed and its exit status (see :func:`run_cli`)."""

    def __init__(self, exit_code: int, stdout: str, stderr: str, output: str) -> None:
        self.exit_code = exit_code
        self.stdout = stdout
        self.stderr = stderr
        self.output = output  # stdout and stderr interleaved, in the order they were written

    def __repr__(self) -> str:
        return f"CliResult(exit_code={self.exit_code}, output={self.output!r})"


class _Capture(io.TextIOBase):
    """A text stream that records what is written to it, in its own list and in one shared by
    stdout and stderr; a terminal when ``tty`` (as a user's colour terminal)."""

    encoding = "utf-8"
    errors = "strict"

    def __init__(self, mine: list[str], both: list[str], tty: bool) -> None:
        self._mine, self._both, self._tty = mine, both, tty

    def writable(self) -> bool:
        return True

    def write(self, s: str) -> int:
        if not isinstance(s, str):
            raise TypeError(f"write() argument must be str, not {type(s).__name__}")
        self._mine.append(s)
        self._both.append(s)
        return len(s)

    def isatty(self) -> bool:
        return self._tty


def run_cli(args: list[str], input: str | None = None, env: dict[str, str | None] | None = None,
            cwd: str | os.PathLike | None = None, tty: bool = False) -> CliResult:  # fmt: skip
    """Run ``layerwise ARGS`` in this process through :func:`layerwise.cli.main` (its error
    handling included) and capture what it prints. ``input`` is stdin's text; ``env`` sets
    environment variables for the run (None: unset); ``cwd`` the current folder; ``tty``: stdout
    and stderr are terminals. An exception main lets through (LAYERWISE_DEBUG) propagates."""
    import sys

    from layerwise.cli import main

    out: list[str] = []
    err: list[str] = []
    both: list[str] = []
    saved_env = {k: os.environ.get(k) for k in (env or {})}
    saved_streams = sys.stdin, sys.stdout, sys.stderr
    saved_cwd = os.getcwd() if cwd is not None else None
    code: object = 0
    try:
        for k, v in (env or {}).items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        if cwd is not None:
            os.chdir(cwd)
        sys.stdin = io.StringIO(input or "")
        sys.stdout = _Capture(out, both, tty)
        sys.stderr = _Capture(err, both, tty)
        try:
            main([str(a) for a in args])
        except SystemExit as exc:
            code = exc.code
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved_streams
        if saved_cwd is not None:
            os.chdir(saved_cwd)
        for k, v in saved_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    if code is None:
        code = 0
    elif not isinstance(code, int):
        err.append(f"{code}\n")
        both.append(f"{code}\n")
        code = 1
    return CliResult(code, "".join(out), "".join(err), "".join(both))
