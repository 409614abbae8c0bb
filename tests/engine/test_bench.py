"""``layerwise bench`` on the real engine: the article's experiment on flask-demo, one run,
with the Dockerfile that ``layerwise fix`` writes. The engine must say what the article saw
(pip reruns before the fix, comes from the cache after it), explain's predictions must agree
with the engine on every step, and the project folder must be left exactly as it was."""

from __future__ import annotations

import os
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import layerwise
from layerwise.bench import make_plan, render_crosscheck, render_table, run_bench, write_report

pytestmark = pytest.mark.engine

EXAMPLE = Path(layerwise.__file__).parent / "examples" / "flask-demo"


def _tree(root: Path) -> dict[str, tuple]:
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for n in dirnames + filenames:
            p = Path(dirpath) / n
            st = p.lstat()
            out[p.relative_to(root).as_posix()] = (p.read_bytes() if p.is_file() else None, st.st_mode, st.st_mtime_ns)
    return out


class Events:
    def __init__(self):
        self.lines: list[str] = []

    def started(self, what):
        self.lines.append(f"start {what}")

    def finished(self, what, seconds, detail):
        self.lines.append(f"done {what}: {detail}")

    def note(self, text):
        self.lines.append(f"note {text}")


@pytest.mark.parametrize("builder", ["buildkit", "legacy"])
def test_bench_flask_demo_fixed(engine, tmp_path, builder):
    ctx = tmp_path / "flask-demo"
    shutil.copytree(EXAMPLE, ctx)
    files_before = _tree(ctx)
    images_before = set(engine.docker("images", "-aq").stdout.split())

    plan = make_plan(ctx, fixed=True, runs=1, builder=builder)
    events = Events()
    result = run_bench(engine, plan, events, project="flask-demo", engine_label="test engine")

    assert _tree(ctx) == files_before  # bytes, modes and mtimes: nothing left modified
    assert set(engine.docker("images", "-aq").stdout.split()) <= images_before  # built images removed

    before, after = result.variant("before"), result.variant("after")
    pip_before = next(s for s in before.rebuild.steps if s.instruction.startswith("RUN pip"))
    pip_after = next(s for s in after.rebuild.steps if s.instruction.startswith("RUN pip"))
    assert pip_before.cached is False, render_table(result)  # the article's problem
    assert pip_after.cached is True, render_table(result)  # and its cure
    last_after = [s for s in after.rebuild.steps if s.instruction.startswith("COPY")][-1]
    assert last_after.cached is False
    assert result.ratio and result.ratio > 1, render_table(result)

    assert result.checked_steps >= 5
    assert result.disagreements == [], render_crosscheck(result)
    assert "CROSS-CHECK FAILED" not in render_crosscheck(result)
    assert [ln.split(":")[0] for ln in events.lines if ln.startswith("done")] == [
        "done your Dockerfile", "done your Dockerfile", "done fixed by layerwise fix", "done fixed by layerwise fix"
    ]

    table = render_table(result)
    assert "RUN pip install -r requirements.txt" in table and "cached" in table
    (svg,) = write_report(result, tmp_path / "bench.svg")
    ET.parse(svg)


def test_bench_of_the_same_dockerfile_says_no_change(engine, tmp_path):
    """Two builds of one Dockerfile differ only by the engine's run-to-run noise: the headline,
    the table and the picture say "no change", never "faster" or "slower"."""
    from layerwise.bench.svg import title

    ctx = tmp_path / "proj"
    ctx.mkdir()
    (ctx / "app.py").write_text("print('hello')\n")
    (ctx / "Dockerfile").write_text("FROM busybox\nWORKDIR /app\nCOPY . .\nRUN cat app.py && sleep 1\n")
    same = tmp_path / "Dockerfile.same"
    same.write_text((ctx / "Dockerfile").read_text())
    result = run_bench(engine, make_plan(ctx, against=same, runs=1), project="proj", engine_label="test engine")
    b, a = result.variant("before").rebuild.seconds, result.variant("after").rebuild.seconds
    head = title(result)
    assert "no change" in head and "faster" not in head and "slower" not in head, (b, a, head)
    table = render_table(result)
    assert "no change (the same Dockerfile" in table and "--runs 3" in table
    (svg,) = write_report(result, tmp_path / "bench.svg")
    assert "no change" in svg.read_text() and "faster" not in svg.read_text()
    assert result.disagreements == [], render_crosscheck(result)


@pytest.mark.parametrize("builder", ["buildkit", "legacy"])
def test_bench_crosscheck_with_steps_two_stages_share(engine, tmp_path, builder):
    """Two stages starting with the same FROM + WORKDIR: BuildKit runs and prints those steps
    once; the cross-check pairs them with both stages (no false CROSS-CHECK FAILED)."""
    from tests.unit.test_engine_output import DEDUP_DOCKERFILE

    ctx = tmp_path / "proj"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text(DEDUP_DOCKERFILE)
    (ctx / "a.txt").write_text("a\n")
    (ctx / "b.txt").write_text("b\n")
    result = run_bench(engine, make_plan(ctx, change="a.txt", runs=2, builder=builder), project="proj",
                       engine_label="test engine")  # fmt: skip
    assert result.disagreements == [], render_crosscheck(result)
    assert "CROSS-CHECK FAILED" not in render_crosscheck(result)
    checked = [p for r in result.variant("before").runs for p in r.crosscheck]
    assert sum(1 for p in checked if p.instruction == "WORKDIR /w") == 4  # both stages, both runs
