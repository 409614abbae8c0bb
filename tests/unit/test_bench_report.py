"""bench's output from fake timings: the table, the terminal bars, the cross-check, the SVG."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET

import pytest

from layerwise.bench.report import aligned_rows, render_bars, render_crosscheck, render_table, write_report
from layerwise.bench.results import BenchResult, BuildTime, Run, StepTime, Variant
from layerwise.bench.svg import _ticks, render_svg, title
from layerwise.engine.crosscheck import StepPair
from layerwise.errors import LayerwiseError

SVG = "{http://www.w3.org/2000/svg}"


def _bt(total, steps):
    return BuildTime(total, [StepTime(i, c, s, None, n) for n, (i, c, s) in enumerate(steps, 1)])


BEFORE_COLD = [("FROM python:3.10-slim", False, 0.0), ("WORKDIR /app", False, 0.1), ("ADD . /app", False, 0.2),
               ("RUN pip install -r requirements.txt", False, 14.6)]  # fmt: skip
BEFORE_RE = [("FROM python:3.10-slim", False, 0.0), ("WORKDIR /app", True, 0.0), ("ADD . /app", False, 1.0),
             ("RUN pip install -r requirements.txt", False, 15.3)]  # fmt: skip
AFTER_COLD = [("FROM python:3.10-slim", False, 0.0), ("WORKDIR /app", False, 0.1),
              ("COPY requirements.txt ./", False, 0.9), ("RUN pip install --no-cache-dir -r requirements.txt", False, 15.7),
              ("COPY . .", False, 1.4)]  # fmt: skip
AFTER_RE = [("FROM python:3.10-slim", False, 0.0), ("WORKDIR /app", True, 0.0), ("COPY requirements.txt ./", True, 0.0),
            ("RUN pip install --no-cache-dir -r requirements.txt", True, 0.0), ("COPY . .", False, 0.9)]  # fmt: skip


def _result(disagree: bool = False, floor: bool = False) -> BenchResult:
    ok = [StepPair((0, 2), "WORKDIR /app", True, True)]
    bad = [StepPair((0, 4), "RUN pip install -r requirements.txt", True, False)] if disagree else []
    before = Variant("before", "your Dockerfile", "FROM python:3.10-slim\n",
                     [Run(_bt(72.5, BEFORE_COLD), _bt(24.1, BEFORE_RE), ok + bad)])  # fmt: skip
    after = Variant("after", "fixed by layerwise fix", "FROM python:3.10-slim\nCOPY requirements.txt ./\n",
                    [Run(_bt(25.5, AFTER_COLD), _bt(6.7, AFTER_RE), ok)])  # fmt: skip
    fl = None
    if floor:
        fl = Variant("floor", "only the final COPY runs", "",
                     [Run(_bt(2.0, AFTER_COLD[:2] + AFTER_COLD[-1:]), _bt(5.9, AFTER_RE[:2] + AFTER_RE[-1:]))])  # fmt: skip
    return BenchResult("flask-demo", "app.py", "buildkit", "test engine", [before, after], fl)


def test_ratio_and_title():
    r = _result()
    assert r.ratio == pytest.approx(24.1 / 6.7)
    assert "24.1 s → 6.7 s (3.6× faster)" in render_svg(r)


def test_table_aligns_the_two_rebuilds():
    r = _result()
    rows = aligned_rows(r.variant("before").rebuild, r.variant("after").rebuild)
    names = [((a.instruction if a else None), (b.instruction if b else None)) for a, b in rows]
    assert names[:2] == [("FROM python:3.10-slim",) * 2, ("WORKDIR /app",) * 2]
    assert ("ADD . /app", None) in names and (None, "COPY . .") in names
    table = render_table(r)
    assert "BEFORE" in table and "AFTER" in table and "cached?" in table
    line = next(ln for ln in table.splitlines() if ln.startswith("RUN pip install -r"))
    assert "15.3 s  ran" in line and "—" in line
    line = next(ln for ln in table.splitlines() if ln.startswith("rebuild after the change"))
    assert "24.1 s" in line and "6.7 s" in line and "3.6× faster" in line
    assert "cold build" in table and "72.5 s" in table


def test_table_with_floor():
    table = render_table(_result(floor=True))
    assert "floor: only the final COPY runs" in table and "the fixed rebuild is 0.8 s above it" in table


def test_bars_in_the_terminal():
    text = render_bars(_result())
    lines = text.splitlines()
    pip = next(ln for ln in lines if "RUN pip install -r" in ln)
    assert pip.count("█") == round(15.3 / 24.1 * 40)  # one scale: the slowest rebuild is 40 wide
    assert "░ cached" in next(ln for ln in lines if "RUN pip install --no-cache-dir" in ln)
    assert "▪ base image" in text


def test_crosscheck_quiet_when_it_agrees_loud_when_not():
    assert render_crosscheck(_result()).startswith("cross-check: explain predicted all 2 step statuses")
    loud = render_crosscheck(_result(disagree=True))
    assert "CROSS-CHECK FAILED" in loud
    assert "your Dockerfile, run 1: RUN pip install -r requirements.txt: explain predicted CACHED, the engine did REBUILD" in loud


def _svg_tree(result):
    return ET.fromstring(render_svg(result))


def test_svg_is_valid_and_before_is_above_after():
    root = _svg_tree(_result(floor=True))
    texts = [(float(t.get("y")), t.text) for t in root.iter(f"{SVG}text")]
    y = {label: yy for yy, label in texts}
    assert y["Before: your Dockerfile"] < y["After: fixed by layerwise fix"] < y["Floor: only the final COPY runs"]
    assert any(t == "cached" for _, t in texts)
    assert any("Cross-check: layerwise explain predicted all 2" in (t or "") for _, t in texts)


def test_svg_cached_steps_are_hatched_and_ran_steps_solid():
    root = _svg_tree(_result())
    rects = list(root.iter(f"{SVG}rect"))
    fills = [r.get("fill") for r in rects]
    assert root.find(f".//{SVG}pattern[@id='cached']") is not None
    assert fills.count("url(#cached)") == 1 + 1 + 3  # legend + WORKDIR before + 3 after
    # the pip step of the before rebuild is the widest solid bar
    solid = [r for r in rects if r.get("fill") == "#d0533f"]
    widest = max(solid, key=lambda r: float(r.get("width")))
    assert float(widest.get("width")) > 300


def test_svg_shared_scale():
    root = _svg_tree(_result())
    totals = [r for r in root.iter(f"{SVG}rect") if r.get("opacity") == "0.35"]
    before_w, after_w = (float(r.get("width")) for r in totals)
    assert before_w / after_w == pytest.approx(24.1 / 6.7, rel=0.01)


def test_svg_disagreement_in_red():
    svg = render_svg(_result(disagree=True))
    assert "CROSS-CHECK FAILED" in svg and "#c00000" in svg


def test_svg_escapes_instruction_text():
    r = _result()
    r.variants[0].runs[0].rebuild.steps[2].instruction = 'RUN echo "<b>&"'
    ET.fromstring(render_svg(r))  # parses


@pytest.mark.parametrize(("top", "ticks"), [(24.1, [0, 5, 10, 15, 20]), (1.0, [0, 0.2, 0.4, 0.6, 0.8, 1.0]), (0, [0])])
def test_ticks(top, ticks):
    assert _ticks(top) == pytest.approx(ticks)


def test_write_report_svg_and_html(tmp_path):
    r = _result()
    (svg,) = write_report(r, tmp_path / "b.svg")
    ET.parse(svg)
    (html,) = write_report(r, tmp_path / "b.html")
    text = html.read_text()
    assert "<svg" in text and "Cross-check" in text and "FROM python:3.10-slim" in text
    with pytest.raises(LayerwiseError, match=r"\.svg, \.png or \.html"):
        write_report(r, tmp_path / "b.pdf")


@pytest.mark.skipif(shutil.which("rsvg-convert") is None, reason="rsvg-convert not installed")
def test_write_report_png(tmp_path):
    files = write_report(_result(), tmp_path / "b.png")
    assert files[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_png_without_rsvg_convert_says_how(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(LayerwiseError, match="apt-get install librsvg2-bin"):
        write_report(_result(), tmp_path / "b.png")
    assert (tmp_path / "b.svg").is_file()


def test_json():
    data = _result(floor=True).to_json()
    assert data["ratio"] == 3.6
    assert [v["name"] for v in data["variants"]] == ["before", "after", "floor"]
    assert data["variants"][0]["rebuild"]["seconds"] == 24.1


# ---------------------------------------------------------------- run-to-run noise is not a change
def _variant(name, dockerfile, rebuilds, files=None):
    runs = [Run(_bt(30.0, BEFORE_COLD), _bt(t, [("FROM python:3.10-slim", False, 0.0), ("COPY . .", False, t - 0.5)]))
            for t in rebuilds]  # fmt: skip
    return Variant(name, {"before": "your Dockerfile"}.get(name, "the other one"), dockerfile, runs, files or {})


def _pair(before, after, same=False, files=None):
    b = _variant("before", "FROM python:3.10-slim\nCOPY . .\n", before)
    a = _variant("after", b.dockerfile if same else "FROM python:3.10-slim\nCOPY app.py .\n", after, files)
    return BenchResult("proj", "app.py", "buildkit", "test engine", [b, a])


def _everywhere(result):
    """The headline, the table, the terminal picture, the SVG's texts and the JSON."""
    svg = " ".join(t.text or "" for t in _svg_tree(result).iter(f"{SVG}text"))  # wrapped lines joined again
    return title(result), render_table(result), render_bars(result), svg, result.to_json()


def test_the_same_dockerfile_is_no_change_whatever_the_clock_says():
    r = _pair([5.2], [4.1], same=True)
    head, table, bars, svg, data = _everywhere(r)
    assert head == ("Rebuild after a one-line change to app.py: no change: 5.2 s and 4.1 s "
                    "(the same Dockerfile; the difference is run-to-run noise)")  # fmt: skip
    assert "faster" not in table + bars + svg
    assert "no change" in next(ln for ln in table.splitlines() if ln.startswith("rebuild after the change"))
    assert head in bars and head in svg
    assert "the spread of the runs is not measured; --runs 3 measures it" in table and "--runs 3" in bars and "--runs 3" in svg
    assert data["verdict"] == "no change" and data["ratio"] == round(5.2 / 4.1, 2)


def test_the_same_dockerfile_with_another_dockerignore_is_compared():
    r = _pair([20.0], [5.0], same=True, files={".dockerignore": "*.log\n"})
    assert r.comparison().verdict == "faster" and "(4.0× faster)" in title(r)


def test_overlapping_runs_are_no_change_and_the_spread_is_shown():
    r = _pair([4.9, 5.6, 5.2], [4.5, 5.0, 4.8])
    head, table, bars, svg, data = _everywhere(r)
    assert head.endswith("no change: 5.2 s and 4.8 s (a difference of 0.4 s, within the spread of the 3 runs)")
    note = "rebuild over 3 runs: before 4.9–5.6 s, after 4.5–5.0 s"
    assert note in table and note in bars and note[1:] in svg  # the SVG capitalises it
    spread = next(ln for ln in table.splitlines() if ln.strip().startswith("fastest–slowest run"))
    assert "4.9–5.6" in spread and "4.5–5.0" in spread
    assert "runs 4.9–5.6 s" in svg and "runs 4.5–5.0 s" in svg  # each panel's header
    assert "--runs 3" not in table  # three runs were made
    assert data["variants"][0]["rebuild"]["runs_seconds"] == [4.9, 5.6, 5.2]


def test_separated_runs_are_a_change():
    r = _pair([24.0, 25.1, 24.6], [6.5, 6.9, 6.7])
    cmp = r.comparison()
    assert cmp.verdict == "faster" and not cmp.suggestion()
    assert title(r).endswith("24.6 s → 6.7 s (3.7× faster)")
    assert "before 24.0–25.1 s, after 6.5–6.9 s" in render_table(r)


@pytest.mark.parametrize(("before", "after", "verdict"), [
    ([5.0], [4.6], "no change"),  # 8 % with one run: not resolved
    ([5.0], [3.9], "faster"),  # 22 %
    ([3.9], [5.0], "slower"),
    ([1.0], [0.8], "no change"),  # below the absolute floor
    ([10.0, 10.1], [9.7, 9.8], "no change"),  # separated, but by 3 %: below the relative floor
    ([10.0, 10.1], [8.9, 9.0], "faster"),
    ([10.0, 12.0], [9.0, 10.5], "no change"),  # the runs overlap
])  # fmt: skip
def test_verdicts(before, after, verdict):
    r = _pair(before, after)
    assert r.comparison().verdict == verdict
    assert (verdict in title(r)) if verdict == "no change" else ("×" in title(r) and verdict in title(r))


def test_one_run_close_call_suggests_more_runs():
    r = _pair([5.0], [3.9])  # a change, but less than twice what one run resolves
    cmp = r.comparison()
    assert cmp.changed and cmp.close
    assert "1 run each: the spread of the runs is not measured; --runs 3 measures it" in render_table(r)
    clear = _pair([24.1], [6.7])
    assert not clear.comparison().suggestion() and "note:" not in render_table(clear)


def _long_result():
    r = _result(disagree=True)
    r.change_file = "services/" + "/".join(f"component_{i}" for i in range(10)) + "/handlers/entry_point.py"
    r.engine = "layerwise's private engine (dockerd 26.1.5; base images python:3.1x-slim = Debian 12's Python 3.11, busybox)"
    r.project = "a-project-with-a-rather-long-name-for-its-folder"
    r.variants[1].label = "Dockerfile.production-candidate-with-a-very-long-name (--against), in a copy of the context"
    return r


def test_long_titles_are_wrapped_not_clipped():
    """Every text of the picture lies inside it (widths estimated with DejaVu Sans' measured
    advances: about 0.50-0.56 em a character, bold 0.56-0.62) and the long ones are wrapped
    onto lines below each other, whole."""
    from layerwise.bench.svg import WIDTH, text_width

    r = _long_result()
    root = _svg_tree(r)
    texts = list(root.iter(f"{SVG}text"))
    for t in texts:
        x, size, s = float(t.get("x")), float(t.get("font-size")), t.text or ""
        w = text_width(s, size, t.get("font-weight"), t.get("font-family"))
        left = {"start": x, "end": x - w, "middle": x - w / 2}[t.get("text-anchor")]
        assert left >= 0 and left + w <= WIDTH, (s, left, w)
    joined = "".join("".join(t.text.split()) for t in texts if t.text)  # (a long path is cut anywhere)
    for whole in (title(r), r.change_file, r.engine, f"After: {r.variants[1].label}"):
        assert "".join(whole.split()) in joined
    title_lines = [t for t in texts if t.get("font-size") == "19"]
    assert len(title_lines) >= 2 and len({t.get("y") for t in title_lines}) == len(title_lines)
    assert float(root.get("height")) > float(_svg_tree(_result(disagree=True)).get("height"))


def test_the_panel_heading_does_not_run_into_the_times():
    from layerwise.bench.svg import WIDTH, text_width

    root = _svg_tree(_long_result())
    texts = list(root.iter(f"{SVG}text"))
    times = next(t for t in texts if (t.text or "").startswith("rebuild 6.7 s"))
    right_edge_of_heading = max(float(t.get("x")) + text_width(t.text, 15, "bold") for t in texts
                                if t.get("font-size") == "15" and t.get("y") == times.get("y"))  # fmt: skip
    assert right_edge_of_heading < WIDTH - 20 - text_width(times.text, 13, "bold")
