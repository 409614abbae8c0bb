"""Text and JSON views of an explanation (``layerwise explain``): a picture of the layer stack."""

from __future__ import annotations

import json
import re

from layerwise.analyses.explain import Explanation

TYPE_CHECKING = False  # (typing.TYPE_CHECKING without importing typing at start-up)
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import TextIO

STATUS_STYLE = {
    "cached": ("green", "CACHED "),
    "rebuilt": ("bold red", "REBUILD"),
    "not-built": ("dim", "skipped"),
    "metadata": ("dim", "config "),
}


def render_json(explanation: Explanation, **extra) -> str:
    from layerwise.escape import json_data

    return json.dumps(json_data({**extra, **explanation.to_json()}), indent=2, ensure_ascii=False)


def render_text(explanation: Explanation, *, before: str, after: str, color: bool | None = None,
                console=None, context: str | None = None) -> None:  # fmt: skip
    """Print the picture to ``console`` (a rich Console; default: stdout, colour by ``color``,
    no hard wrap when stdout is not a terminal)."""
    import sys

    from rich.console import Console

    from layerwise.escape import rich_text as escape

    if console is None:
        console = Console(highlight=False, force_terminal=color, no_color=color is False,
                          soft_wrap=not sys.stdout.isatty(), emoji=False)  # fmt: skip
    for line in _markup_lines(explanation, before, after, context, escape):
        console.print(line)


def write_text_plain(explanation: Explanation, out: TextIO, *, before: str, after: str,
                     context: str | None = None) -> bool:  # fmt: skip
    """Write the picture as :func:`render_text` prints it to a file that is not a terminal,
    without colour (and emoji codes left as text), byte for byte, but without importing rich
    (#17: start-up, ~30 ms of a small project's explain). False, and nothing written, when a
    text holds what rich would render otherwise (a backslash, a tab, a line break):
    then :func:`render_text` is the one to use."""
    from layerwise.escape import clean

    unsafe = False

    def escape(text: str) -> str:
        nonlocal unsafe
        shown = clean(text)
        # (a "[" alone is printed as it is: rich's escape() makes it literal, and without a
        # backslash before it nothing else changes; the tests compare both on bracket forms)
        if "\\" in shown or "\t" in shown or "\n" in shown or "\r" in shown:
            unsafe = True
        return shown.replace("[", "\0")  # (not a tag: put back once the tags are gone; clean() leaves no NUL)

    lines = list(_markup_lines(explanation, before, after, context, escape))
    if unsafe:
        return False
    out.write("".join(_TAGS.sub("", line).replace("\0", "[") + "\n" for line in lines))
    return True


_TAGS = re.compile(r"\[/?(?:bold red|bold|dim|cyan|green|red|yellow)?\]")


def _markup_lines(explanation: Explanation, before: str, after: str, context: str | None, escape) -> Iterator[str]:
    """The picture as rich markup, a line per print (the texts in it through ``escape``)."""
    first = explanation.first_miss
    yield (
        f"[bold]layerwise explain[/]: a build of [bold]{escape(after)}[/] after building"
        f" [bold]{escape(before)}[/] ({explanation.builder}, target {explanation.target})"
        + (f"\n[dim]{escape(context)}[/]" if context else "") + "\n"
    )
    stage = object()
    for s in explanation.steps:
        if s.stage != stage:
            stage = s.stage
            yield f"[cyan]stage {escape(str(s.stage))}[/]"
        style, label = STATUS_STYLE[s.status]
        text = s.instruction if len(s.instruction) <= 80 else s.instruction[:77] + "..."
        marker = "[bold red]>[/]" if s is first else " "
        shown = f"[{style}]{escape(text)}[/]" if s.status == "rebuilt" else escape(text)
        cost = f"  [dim]~{s.seconds:.1f} s[/]" if s.status == "rebuilt" and s.seconds else ""
        yield f"{marker} [{style}]{label}[/] {s.line:>4}  {shown}{cost}"
        if s.cause is not None and s.status == "rebuilt":
            yield f"              [red]\u2514\u2500 {escape(s.cause.message)}[/]"
        for a in s.assumptions:
            yield f"              [yellow]\u2514\u2500 assumption: {escape(a)}[/]"
    counts = explanation.to_json()["summary"]
    rebuilt = counts.get("rebuilt", 0)
    cached = counts.get("cached", 0)
    yield ""
    if first is None:
        yield f"[green]Every step comes from the cache[/] ({cached} cached)."
    else:
        est = counts.get("estimated_rebuild_seconds")
        maybe = sum(1 for s in explanation.steps if s.may_be_cached)
        yield (
            f"[bold]{rebuilt} step(s) rebuild, {cached} cached"
            + (f", about {est:.1f} s of work (last measured)" if est else "")
            + f".[/] The first miss is line {first.line}: {escape(first.instruction)}"
        )
        if first.cause is not None:
            yield f"  because {escape(first.cause.message)}"
        if maybe:
            yield (f"{maybe} of them may come from the cache instead: they rebuild only if a re-run RUN"
                   " writes other bytes than last time (see their causes).")  # fmt: skip
    for a in explanation.assumptions:
        yield f"[dim]Assumes {escape(a)}.[/]"
