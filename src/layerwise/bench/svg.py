"""The bench picture, as a hand-written SVG: one timeline per build, before above after (and
the floor below them), one bar per step on a shared time axis; steps that ran are solid,
steps taken from the cache are grey and hatched; totals and the ratio in the title."""

from __future__ import annotations

import math
import textwrap
from html import escape

from layerwise.bench.results import BenchResult, Comparison, MedianBuild, Variant

WIDTH = 1000
LABEL_W = 360  # the step labels column
BAR_X = LABEL_W + 20
BAR_W = WIDTH - BAR_X - 110  # room for the seconds on the right
ROW_H = 24
BAR_H = 16
FONT = "DejaVu Sans, Helvetica, Arial, sans-serif"
MONO = "DejaVu Sans Mono, Menlo, Consolas, monospace"
RAN = {"before": "#d0533f", "after": "#2f8f5b", "floor": "#3f6fb5"}
CACHED_FILL = "url(#cached)"
OVERHEAD = "#c9c9c9"
MAX_LABEL = 46


def seconds(x: float) -> str:
    return f"{x:.1f} s" if x < 100 else f"{x:.0f} s"


def ratio_text(r: float | None) -> str:
    if r is None:
        return ""
    return f"{r:.1f}× faster" if r >= 1 else f"{1 / r:.1f}× slower"


def verdict_text(cmp: Comparison | None) -> str:
    """``3.6x faster`` (or slower), or ``no change`` with the reason when the difference is noise."""
    if cmp is None:
        return ""
    if not cmp.changed:
        return f"no change ({cmp.reason})"
    return ratio_text(cmp.ratio)


def spread_text(v: Variant) -> str:
    """The fastest and slowest rebuild, ``runs 4.9-5.6 s`` (empty with one run)."""
    if len(v.runs) < 2:
        return ""
    lo, hi = v.rebuild_range
    return f"runs {lo:.1f}–{hi:.1f} s"


def text_width(s: str, size: float, weight: str = "normal", family: str = FONT) -> float:
    """An upper estimate of the width of ``s`` in pixels (DejaVu Sans averages about 0.55 em a
    character, bold a little more; the mono font is 0.602 em exactly)."""
    em = 0.602 if family == MONO else (0.64 if weight == "bold" else 0.58)
    return len(s) * size * em


def wrap_to_width(s: str, width: float, size: float, weight: str = "normal", family: str = FONT) -> list[str]:
    """``s`` in lines no wider than ``width`` pixels (at spaces; a longer word, e.g. a path, is
    cut): a long title is wrapped, never clipped by the picture's edge."""
    per_line = max(8, int(width / text_width("x", size, weight, family)))
    return textwrap.wrap(s, per_line, break_on_hyphens=False) or [""]


def _short(text: str, n: int = MAX_LABEL) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def _ticks(top: float) -> list[float]:
    if top <= 0:
        return [0.0]
    raw = top / 5
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    n = int(top / step + 1e-9)
    return [i * step for i in range(n + 1)]


def title(result: BenchResult) -> str:
    b, a = result.variant("before"), result.variant("after")
    cmp = result.comparison()
    if b and a and cmp is not None:
        head = f"Rebuild after a one-line change to {result.change_file}: "
        if not cmp.changed:
            return head + f"no change: {seconds(b.rebuild.seconds)} and {seconds(a.rebuild.seconds)} ({cmp.reason})"
        return head + f"{seconds(b.rebuild.seconds)} → {seconds(a.rebuild.seconds)} ({ratio_text(cmp.ratio)})"
    v = b or a
    assert v is not None
    return f"Rebuild after a one-line change to {result.change_file}: {seconds(v.rebuild.seconds)}"


def spread_note(result: BenchResult) -> str:
    """The runs' spread and, when the runs cannot tell, what to do: for under the headline."""
    cmp = result.comparison()
    if cmp is None:
        return ""
    parts = []
    if cmp.runs >= 2:
        parts.append(f"rebuild over {cmp.runs} runs: before {cmp.before_range[0]:.1f}–{cmp.before_range[1]:.1f} s, "
                     f"after {cmp.after_range[0]:.1f}–{cmp.after_range[1]:.1f} s")  # fmt: skip
    elif not cmp.changed or cmp.close:
        parts.append("1 run each: the spread of the runs is not measured")
    hint = cmp.suggestion()
    if hint:
        parts.append(hint)
    return "; ".join(parts)


def render_svg(result: BenchResult) -> str:
    variants = list(result.variants) + ([result.floor] if result.floor else [])
    builds = [(v, v.rebuild) for v in variants]
    top = max([m.seconds for _, m in builds] + [0.1])
    ticks = _ticks(top)
    top = max(top, ticks[-1])
    scale = BAR_W / top

    out: list[str] = []
    y = 0

    def text(x, yy, s, size=13, weight="normal", fill="#222", anchor="start", family=FONT, extra=""):
        out.append(
            f'<text x="{x:.1f}" y="{yy:.1f}" font-family="{family}" font-size="{size}" '
            f'font-weight="{weight}" fill="{fill}" text-anchor="{anchor}"{extra}>{escape(s)}</text>'
        )

    def block(x, yy, s, size=13, line_h=None, width=WIDTH - 40, **kw) -> float:
        """``s`` wrapped to ``width`` px from (x, yy); returns the y of its last line."""
        lines = wrap_to_width(s, width, size, kw.get("weight", "normal"), kw.get("family", FONT))
        for i, ln in enumerate(lines):
            text(x, yy + i * (line_h or size + 5), ln, size=size, **kw)
        return yy + (len(lines) - 1) * (line_h or size + 5)

    y = 34
    y = block(20, y, title(result), size=19, line_h=25, weight="bold")
    y += 22
    runs = max((len(v.runs) for v in variants), default=0)
    sub = [
        result.project,
        "BuildKit" if result.builder == "buildkit" else "legacy builder",
        result.engine,
        f"median of {runs} run{'s' if runs != 1 else ''}",
    ]
    y = block(20, y, f"What Docker redoes when {result.change_file} changes by one line after a full build: one bar"
              " per Dockerfile step, as long as the step took.", size=13, fill="#333")  # fmt: skip
    y += 18
    y = block(20, y, " · ".join(s for s in sub if s), size=12, fill="#777")
    note = spread_note(result)
    if note:
        y += 18
        cmp = result.comparison()
        y = block(20, y, note[0].upper() + note[1:] + ".", size=12,
                  fill="#a05a00" if cmp and (not cmp.changed or cmp.close) else "#777")  # fmt: skip
    y += 26
    # legend
    lx = 20
    for fill, label in (
        (RAN["before"], "ran (before)"),
        (RAN["after"], "ran (after)"),
        (CACHED_FILL, "taken from the cache"),
        (OVERHEAD, "outside the steps: sending the context, exporting the image"),
    ):
        out.append(f'<rect x="{lx}" y="{y - 11}" width="22" height="13" fill="{fill}" stroke="#888" stroke-width="0.5"/>')
        text(lx + 28, y, label, size=12, fill="#333")
        lx += 28 + 7.2 * len(label) + 22
    y += 18

    for v, m in builds:
        y = _panel(out, text, block, v, m, y, scale, ticks, result)
    # cross-check line
    y += 6
    dis = result.disagreements
    if result.checked_steps:
        if dis:
            y = block(20, y, f"CROSS-CHECK FAILED: explain's prediction differs from the engine on {len(dis)} step(s):",
                      size=13, weight="bold", fill="#c00000")  # fmt: skip
            for label, run, p in dis[:6]:
                y += 17
                y = block(34, y, f"{label}, run {run}: {p.describe()}", size=12, width=WIDTH - 54, fill="#c00000")
        else:
            y = block(20, y, f"Cross-check: layerwise explain predicted all {result.checked_steps} rebuilt/cached "
                      "step statuses exactly as the engine reported them.", size=12, fill="#2f6f2f")  # fmt: skip
        y += 22
    height = y + 6
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}">\n'
        "<defs>\n"
        '<pattern id="cached" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
        '<rect width="6" height="6" fill="#e4e4e4"/><line x1="0" y1="0" x2="0" y2="6" stroke="#9a9a9a" stroke-width="2"/>'
        "</pattern>\n</defs>\n"
        f'<rect width="{WIDTH}" height="{height}" fill="white"/>\n'
    )
    return head + "\n".join(out) + "\n</svg>\n"


def _panel(out, text, block, v, m: MedianBuild, y: float, scale: float, ticks: list[float],
           result: BenchResult) -> float:  # fmt: skip
    colour = RAN.get(v.name, RAN["floor"])
    heading = {
        "before": "Before",
        "after": "After",
        "floor": "Floor",
    }.get(v.name, v.name)
    y += 14
    out.append(f'<line x1="20" y1="{y - 16}" x2="{WIDTH - 20}" y2="{y - 16}" stroke="#ddd"/>')
    cold = v.cold.seconds
    spread = spread_text(v)
    times = f"rebuild {seconds(m.seconds)}{f' ({spread})' if spread else ''}   (cold build {seconds(cold)})"
    text(WIDTH - 20, y, times, size=13, weight="bold", anchor="end")
    room = WIDTH - 40 - text_width(times, 13, "bold") - 20  # the heading wraps short of the times
    y = block(20, y, f"{heading}: {v.label}", size=15, line_h=19, width=room, weight="bold", fill=colour)
    y += 10
    t = 0.0
    rows = [(s.instruction, s.seconds, "base" if s.is_base else s.cached, s.cached_text()) for s in m.steps]
    rows.append(("(outside the steps)", m.overhead, "overhead", ""))
    for label, secs, cached, ctext in rows:
        y += ROW_H
        ty = y - 5
        text(BAR_X - 10, ty, _short(label), size=12, anchor="end", family=MONO,
             fill="#777" if cached in (True, "overhead", "base") else "#111")  # fmt: skip
        x = BAR_X + t * scale
        w = secs * scale
        if cached == "overhead":
            fill = OVERHEAD
        elif cached == "base":
            fill = "#8a8a8a"
        elif cached is True:
            fill = CACHED_FILL
        else:
            fill = colour
        if cached is True and w < 10:
            w = 10  # a cache hit takes no time: still show where it is
        w = max(w, 2.0)
        out.append(
            f'<rect x="{x:.1f}" y="{y - BAR_H:.1f}" width="{w:.1f}" height="{BAR_H}" fill="{fill}" '
            f'stroke="{"#888" if cached is True else "none"}" stroke-width="0.6"/>'
        )
        if cached is True:
            note = "cached"
        elif cached == "base":
            note = "base image"
        elif cached is None:
            note = f"{seconds(secs)} (cached in {ctext})"
        else:
            note = seconds(secs)
        text(x + w + 6, ty, note, size=12, fill="#222" if cached in (False, None) else "#666",
             weight="bold" if cached is False and secs >= 1 else "normal")  # fmt: skip
        if cached in (False, None, "overhead"):
            t += secs
    # total bar
    y += ROW_H + 4
    text(BAR_X - 10, y - 5, "whole rebuild", size=12, anchor="end", weight="bold")
    out.append(f'<rect x="{BAR_X}" y="{y - BAR_H:.1f}" width="{max(m.seconds * scale, 2):.1f}" height="{BAR_H}" '
               f'fill="{colour}" opacity="0.35"/>')  # fmt: skip
    text(BAR_X + max(m.seconds * scale, 2) + 6, y - 4, seconds(m.seconds), size=13, weight="bold")
    # axis
    y += 10
    out.append(f'<line x1="{BAR_X}" y1="{y}" x2="{BAR_X + BAR_W}" y2="{y}" stroke="#999"/>')
    for tk in ticks:
        x = BAR_X + tk * scale
        out.append(f'<line x1="{x:.1f}" y1="{y}" x2="{x:.1f}" y2="{y + 4}" stroke="#999"/>')
        text(x, y + 16, f"{tk:g} s", size=10, fill="#777", anchor="middle")
    return y + 40
