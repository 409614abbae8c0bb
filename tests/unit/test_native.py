"""The C accelerator is used only when it was built from the C source beside it
(layerwise.context.native): a stale build in a source checkout (the C changed by a pull or a
branch switch, not rebuilt) would be called with arguments it does not take."""

from __future__ import annotations

import os
import subprocess
import sys

from layerwise.context import native


def _pair(tmp_path, source_age: float, built_age: float) -> str:
    built = tmp_path / "_fastscan.cpython-311-x86_64-linux-gnu.so"
    source = tmp_path / "_fastscan.c"
    built.write_bytes(b"\x7fELF")
    source.write_text("/* C */\n")
    now = 1_700_000_000
    os.utime(built, (now - built_age, now - built_age))
    os.utime(source, (now - source_age, now - source_age))
    return str(built)


def test_a_source_newer_than_the_build_makes_it_stale(tmp_path):
    assert native.stale(_pair(tmp_path, source_age=10, built_age=60))


def test_a_build_newer_than_its_source_is_used(tmp_path):
    assert not native.stale(_pair(tmp_path, source_age=60, built_age=10))


def test_without_a_source_beside_it_the_build_is_used(tmp_path):
    built = _pair(tmp_path, source_age=10, built_age=60)
    os.unlink(tmp_path / "_fastscan.c")  # an installed wheel ships no .c
    assert not native.stale(built)


def test_a_stale_build_is_not_loaded_and_the_walk_and_report_use_their_twins(tmp_path):
    """In a fresh process whose accelerator counts as stale: no C function is handed out, the
    walk says it runs in Python, and a snapshot and its report still work."""
    (tmp_path / "app.py").write_text("print(1)\n")
    (tmp_path / ".env").write_text("X=1\n")
    code = (
        "import sys\n"
        "from layerwise.context import native\n"
        "native.stale = lambda built: True\n"
        "from layerwise.context import walk, report\n"
        "from layerwise.context.ignore import load_ignore\n"
        "from layerwise.context.snapshot import Snapshot\n"
        "snap = Snapshot.take(sys.argv[1], load_ignore(sys.argv[1], None, 'buildkit'))\n"
        "print(walk.BACKEND, report._report_pass is report._report_pass_py, report._json_lines,\n"
        "      native.function('list_dir'), sorted(e.path for e in snap.entries if e.kind == 'file'))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "LAYERWISE_PURE_PYTHON"}
    got = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, env=env, check=False
    )
    assert got.returncode == 0, got.stderr
    assert got.stdout.split(" ", 4)[:4] == ["python", "True", "None", "None"], got.stdout
    assert "'.env'" in got.stdout and "'app.py'" in got.stdout


def test_pure_python_is_asked_for_with_the_environment(tmp_path):
    code = "from layerwise.context import native; print(native.fastscan())"
    env = {**os.environ, "LAYERWISE_PURE_PYTHON": "1"}
    got = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False)
    assert got.stdout.strip() == "None", got.stderr
