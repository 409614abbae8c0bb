"""Text and JSON views of an explanation (``layerwise explain``): a picture of the layer stack."""

from __future__ import annotations

import json

from layerwise.analyses.explain import Explanation

STATUS_STYLE = {
    "cached": ("green", "CACHED "),
    "rebuilt": ("bold red", "REBUILD"),
    "not-built": ("dim", "skipped"),
    "metadata": ("dim", "config "),
}


def render_json(explanation: Explanation, **extra) -> str:
    from layerwise.report.escape import json_data

    return json.dumps(json_data({**extra, **explanation.to_json()}), indent=2, ensure_ascii=False)


def render_text(explanation: Explanation, *, before: str, after: str, color: bool | None = None,
                console=None, context: str | None = None) -> None:  # fmt: skip
    """Print the picture to ``console`` (a rich Console; default: stdout, colour by ``color``,
    no hard wrap when stdout is not a terminal)."""
    import sys

    from rich.console import Console

    from layerwise.report.escape import rich_text as escape

    if console is None:
        console = Console(highlight=False, force_terminal=color, no_color=color is False,
                          soft_wrap=not sys.stdout.isatty())  # fmt: skip
    first = explanation.first_miss
    console.print(
        f"[bold]layerwise explain[/]: a build of [bold]{escape(after)}[/] after building"
        f" [bold]{escape(before)}[/] ({explanation.builder}, target {explanation.target})"
        + (f"\n[dim]{escape(context)}[/]" if context else "") + "\n"
    )
    stage = object()
    for s in explanation.steps:
        if s.stage != stage:
            stage = s.stage
            console.print(f"[cyan]stage {escape(str(s.stage))}[/]")
        style, label = STATUS_STYLE[s.status]
        text = s.instruction if len(s.instruction) <= 80 else s.instruction[:77] + "..."
        marker = "[bold red]>[/]" if s is first else " "
        shown = f"[{style}]{escape(text)}[/]" if s.status == "rebuilt" else escape(text)
        cost = f"  [dim]~{s.seconds:.1f} s[/]" if s.status == "rebuilt" and s.seconds else ""
        console.print(f"{marker} [{style}]{label}[/] {s.line:>4}  {shown}{cost}")
        if s.cause is not None and s.status == "rebuilt":
            console.print(f"              [red]\u2514\u2500 {escape(s.cause.message)}[/]")
        for a in s.assumptions:
            console.print(f"              [yellow]\u2514\u2500 assumption: {escape(a)}[/]")
    counts = explanation.to_json()["summary"]
    rebuilt = counts.get("rebuilt", 0)
    cached = counts.get("cached", 0)
    console.print()
    if first is None:
        console.print(f"[green]Every step comes from the cache[/] ({cached} cached).")
    else:
        est = counts.get("estimated_rebuild_seconds")
        maybe = sum(1 for s in explanation.steps if s.may_be_cached)
        console.print(
            f"[bold]{rebuilt} step(s) rebuild, {cached} cached"
            + (f", about {est:.1f} s of work (last measured)" if est else "")
            + f".[/] The first miss is line {first.line}: {escape(first.instruction)}"
        )
        if first.cause is not None:
            console.print(f"  because {escape(first.cause.message)}")
        if maybe:
            console.print(f"{maybe} of them may come from the cache instead: they rebuild only if a re-run RUN"
                          " writes other bytes than last time (see their causes).")  # fmt: skip
    for a in explanation.assumptions:
        console.print(f"[dim]Assumes {escape(a)}.[/]")
