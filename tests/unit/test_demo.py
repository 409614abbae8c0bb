"""``layerwise demo`` without builds: the offline commands on a copy of flask-demo, narrated."""

from __future__ import annotations

from pathlib import Path

import pytest

import layerwise
from layerwise.bench import engines
from layerwise.cli.demo_cmd import shorten_diff
from tests.shared import run_cli

EXAMPLE = Path(layerwise.__file__).parent / "examples" / "flask-demo"


@pytest.fixture(scope="module")
def no_engine_output():
    mp = pytest.MonkeyPatch()
    mp.setattr(engines, "choose_engine", lambda: engines.EngineChoice(None, "`docker info` failed: test"))
    try:
        before = {p.name: p.read_bytes() for p in EXAMPLE.iterdir() if p.is_file()}
        result = run_cli(["demo"])
        after = {p.name: p.read_bytes() for p in EXAMPLE.iterdir() if p.is_file()}
    finally:
        mp.undo()
    assert before == after, "the bundled example was modified"
    return result


@pytest.mark.slow
def test_demo_runs_the_offline_steps(no_engine_output):
    out = no_engine_output.output
    assert no_engine_output.exit_code == 0, out
    for step in ("1/5", "2/5", "3/5", "4/5", "5/5"):
        assert f"── {step}" in out
    assert "$ layerwise explain flask-demo --before before" in out
    assert "REBUILD    6  RUN pip install -r requirements.txt" in out  # the article's problem
    assert "+COPY requirements.txt ./" in out  # the fix's diff
    assert "more .dockerignore lines" in out  # shortened
    # after the fix only the final COPY rebuilds
    tail = out[out.index("--before before-fixed") :]
    assert "CACHED     5  RUN pip install --no-cache-dir -r requirements.txt" in tail
    assert "1 step(s) rebuild" in tail


@pytest.mark.slow
def test_demo_without_engine_says_how_to_get_one(no_engine_output):
    out = no_engine_output.output
    assert "No Docker engine here (`docker info` failed: test)" in out
    assert "install-engine.sh" in out


@pytest.mark.slow
def test_demo_offline_skips_bench(monkeypatch):
    def boom():
        raise AssertionError("no engine lookup with --offline")

    monkeypatch.setattr(engines, "choose_engine", boom)
    result = run_cli(["demo", "--offline", "--example", "data-api"])
    assert result.exit_code == 0, result.output
    assert "(skipped: --offline)" in result.output
    assert "REBUILD" in result.output and "COPY . ." in result.output


def test_demo_unknown_example():
    result = run_cli(["demo", "--example", "nope"])
    assert result.exit_code == 2 and "no bundled example named 'nope'" in result.stderr
    assert "Traceback" not in result.output


def test_shorten_diff():
    diff = "--- a/Dockerfile\n+++ b/Dockerfile\n+A\n+B\n+C\n--- a/.dockerignore\n+++ b/.dockerignore\n" + "".join(
        f"+p{i}\n" for i in range(10)
    )
    out = shorten_diff(diff, keep=3).splitlines()
    assert out[:5] == ["--- a/Dockerfile", "+++ b/Dockerfile", "+A", "+B", "+C"]
    assert out[-4:] == ["+p0", "+p1", "+p2", "  ... (7 more .dockerignore lines)"]


def test_help_has_an_example():
    for name in ("demo", "bench"):
        result = run_cli([name, "--help"])
        assert result.exit_code == 0 and "Example:" in result.output


@pytest.mark.slow
def test_demo_no_color_on_a_colour_terminal(monkeypatch):
    """--no-color: no colour in the demo's own headings nor in the commands it runs."""
    import re

    monkeypatch.setattr(engines, "choose_engine", lambda: engines.EngineChoice(None, "test"))
    plain = run_cli(["demo", "--offline", "--no-color"], tty=True)
    assert plain.exit_code == 0 and not re.search(r"\x1b\[", plain.output)
    coloured = run_cli(["demo", "--offline"], tty=True)
    assert re.search(r"\x1b\[", coloured.output)  # the headings are styled otherwise
