"""Bench reports for the terminal (table, bars, cross-check) and as files (SVG, PNG, HTML)."""

from __future__ import annotations

import difflib
import shutil
import subprocess
from html import escape
from pathlib import Path

from layerwise.bench.results import BenchResult, MedianBuild, MedianStep
from layerwise.bench.svg import render_svg, seconds, spread_note, spread_text, title, verdict_text
from layerwise.errors import LayerwiseError

STEP_W = 44


def _short(text: str, n: int = STEP_W) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def aligned_rows(a: MedianBuild, b: MedianBuild) -> list[tuple[MedianStep | None, MedianStep | None]]:
    """The steps of two builds side by side: equal instructions on one row, the rest alone."""
    ka = [s.instruction for s in a.steps]
    kb = [s.instruction for s in b.steps]
    rows: list[tuple[MedianStep | None, MedianStep | None]] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, ka, kb, autojunk=False).get_opcodes():
        if op == "equal":
            rows += [(a.steps[i1 + k], b.steps[j1 + k]) for k in range(i2 - i1)]
        else:
            rows += [(a.steps[i], None) for i in range(i1, i2)]
            rows += [(None, b.steps[j]) for j in range(j1, j2)]
    return rows


def _cell(s: MedianStep | None) -> str:
    if s is None:
        return f"{'—':>8}  {'':<12}"
    return f"{seconds(s.seconds):>8}  {s.cached_text():<12}"


def render_table(result: BenchResult) -> str:
    """step | before | after | cached? for the rebuild after the change, then totals."""
    b, a = result.variant("before"), result.variant("after")
    cols = [v for v in (b, a) if v is not None]
    n = len(cols[0].runs)
    lines = [f"Rebuild after changing {result.change_file} ({f'median of {n} runs' if n > 1 else '1 run'}):", ""]
    lines.append(f"{'':<{STEP_W}}" + "".join(f"  {v.name.upper():<22}" for v in cols))
    lines.append(f"{'':<{STEP_W}}" + "".join(f"  {_short(v.label, 22):<22}" for v in cols))
    lines.append(f"{'step':<{STEP_W}}" + "".join(f"  {'time':>8}  {'cached?':<12}" for _ in cols))
    if b and a:
        rows = aligned_rows(b.rebuild, a.rebuild)
    else:
        rows = [(s, None) for s in cols[0].rebuild.steps]
    for x, y in rows:
        name = (x or y).instruction  # type: ignore[union-attr]
        cells = [_cell(x)] + ([_cell(y)] if len(cols) == 2 else [])
        lines.append(f"{_short(name):<{STEP_W}}" + "".join(f"  {c}" for c in cells))
    lines.append(
        f"{'(outside the steps: context, export)':<{STEP_W}}"
        + "".join(f"  {seconds(v.rebuild.overhead):>8}  {'':<12}" for v in cols)
    )
    lines.append("-" * (STEP_W + 24 * len(cols)))
    cmp = result.comparison()
    lines.append(f"{'rebuild after the change':<{STEP_W}}" + "".join(f"  {seconds(v.rebuild.seconds):>8}  {'':<12}" for v in cols)
                 + (f"  {verdict_text(cmp)}" if cmp else ""))  # fmt: skip
    if any(len(v.runs) > 1 for v in cols):
        lines.append(f"{'  fastest–slowest run':<{STEP_W}}"
                     + "".join(f"  {_range(v):>8}  {'':<12}" for v in cols))  # fmt: skip
    lines.append(f"{'cold build':<{STEP_W}}" + "".join(f"  {seconds(v.cold.seconds):>8}  {'':<12}" for v in cols))
    if result.floor and result.floor.runs:
        f = result.floor.rebuild.seconds
        over = ""
        if a:
            d = a.rebuild.seconds - f
            over = f"  (the fixed rebuild is {abs(d):.1f} s {'above' if d >= 0 else 'below'} it)"
        lines.append(f"{'floor: only the final COPY runs':<{STEP_W}}  {seconds(f):>8}{over}")
    note = spread_note(result)
    if note:
        lines += ["", f"note: {note}."]
    return "\n".join(lines) + "\n"


def _range(v) -> str:
    lo, hi = v.rebuild_range
    return f"{lo:.1f}–{hi:.1f}"


def render_bars(result: BenchResult, width: int = 40) -> str:
    """The picture in the terminal: one bar per step of each rebuild, on one scale."""
    variants = list(result.variants) + ([result.floor] if result.floor else [])
    top = max([v.rebuild.seconds for v in variants] + [0.1])
    note = spread_note(result)
    lines = [title(result)] + ([f"({note})"] if note else []) + [""]
    for v in variants:
        m = v.rebuild
        spread = spread_text(v)
        lines.append(f"{v.name}: {v.label} (rebuild {seconds(m.seconds)}{f', {spread}' if spread else ''}, "
                     f"cold {seconds(v.cold.seconds)})")  # fmt: skip
        for s in m.steps:
            if s.is_base:
                bar, note = "▪", "base image"
            elif s.cached:
                bar, note = "░", "cached"
            else:
                bar = "█" * max(1, round(s.seconds / top * width))
                note = seconds(s.seconds) + ("" if s.cached is False else f" (cached in {s.cached_text()})")
            lines.append(f"  {_short(s.instruction, 38):<38} {bar} {note}")
        ov = m.overhead
        lines.append(f"  {'(outside the steps)':<38} {'▒' * max(1, round(ov / top * width))} {seconds(ov)}")
        lines.append("")
    lines.append("█ ran   ░ from the cache   ▪ base image   ▒ sending the context, exporting the image")
    return "\n".join(lines) + "\n"


def render_crosscheck(result: BenchResult) -> str:
    dis = result.disagreements
    n = result.checked_steps
    if not n:
        return "cross-check: nothing to compare\n"
    held = result.hedges_held
    if not dis and held:
        return (f"cross-check: explain predicted {n - len(held)} of {n} step statuses of the rebuilds exactly as the"
                f" engine reported them; {len(held)} it said would rebuild unless a re-run RUN writes the same bytes"
                " came from the cache (the RUN wrote the same bytes).\n")  # fmt: skip
    if not dis:
        return f"cross-check: explain predicted all {n} step statuses of the rebuilds exactly as the engine reported them.\n"
    bang = "!" * 72
    lines = [bang, f"!!! CROSS-CHECK FAILED: explain's prediction differs from the engine on {len(dis)} step(s):"]
    for label, run, p in dis:
        lines.append(f"!!!   {label}, run {run}: {p.describe()}")
    lines.append("!!! Please report this (with the Dockerfile) — layerwise's model of the cache is wrong here.")
    lines.append(bang)
    return "\n".join(lines) + "\n"


def render_html(result: BenchResult, svg: str) -> str:
    dockerfiles = "".join(
        f"<h3>{escape(v.name)}: {escape(v.label)}</h3><pre>{escape(v.dockerfile)}</pre>"
        for v in result.variants + ([result.floor] if result.floor else [])
    )
    return (
        "<!doctype html>\n<html><head><meta charset='utf-8'>"
        f"<title>{escape(title(result))}</title>"
        "<style>body{font-family:sans-serif;margin:2em;max-width:1040px}pre{background:#f6f6f6;padding:1em}</style>"
        f"</head><body>\n{svg}\n<h2>Table</h2><pre>{escape(render_table(result))}</pre>\n"
        f"<h2>Cross-check</h2><pre>{escape(render_crosscheck(result))}</pre>\n"
        f"<h2>Dockerfiles</h2>{dockerfiles}\n</body></html>\n"
    )


def svg_to_png(svg_path: Path, png_path: Path) -> None:
    """Convert with rsvg-convert (Debian: librsvg2-bin); a clear error without it."""
    exe = shutil.which("rsvg-convert")
    if exe is None:
        raise LayerwiseError(
            f"PNG output needs rsvg-convert (Debian/Ubuntu: apt-get install librsvg2-bin); "
            f"the SVG is at {svg_path}"
        )
    p = subprocess.run([exe, "-b", "white", "-o", str(png_path), str(svg_path)], capture_output=True, text=True, check=False)
    if p.returncode != 0:
        raise LayerwiseError(f"rsvg-convert failed: {p.stderr.strip()}; the SVG is at {svg_path}")


def write_report(result: BenchResult, path: str | Path) -> list[Path]:
    """Write the picture (``.svg``, ``.png``) or the HTML report (``.html``); returns the files."""
    path = Path(path)
    suffix = path.suffix.lower()
    svg = render_svg(result)
    if suffix == ".svg":
        path.write_text(svg, encoding="utf-8")
        return [path]
    if suffix in (".html", ".htm"):
        path.write_text(render_html(result, svg), encoding="utf-8")
        return [path]
    if suffix == ".png":
        svg_path = path.with_suffix(".svg")
        svg_path.write_text(svg, encoding="utf-8")
        svg_to_png(svg_path, path)
        return [path, svg_path]
    raise LayerwiseError(f"--output {path}: the report is .svg, .png or .html")
