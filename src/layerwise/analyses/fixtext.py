"""Small text-edit helpers the rules use to build their fixes (:class:`~layerwise.analyses.
findings.Edit` s on offsets of the Dockerfile): every byte outside the edited spans is kept.

They work on the exact source of an instruction (``Dockerfile.source(node)``), with the file's
line ending and escape character.
"""

from __future__ import annotations

import re

from layerwise.analyses.findings import Edit
from layerwise.parse.nodes import Dockerfile, Node


def newline_of(text: str) -> str:
    """The file's line ending: CRLF when its first line ends so, else LF."""
    i = text.find("\n")
    return "\r\n" if i > 0 and text[i - 1] == "\r" else "\n"


def line_start(text: str, offset: int) -> int:
    return text.rfind("\n", 0, offset) + 1


def line_end(text: str, offset: int) -> int:
    """Offset just past the line ending of the line holding ``offset`` (or the end of text)."""
    i = text.find("\n", offset)
    return len(text) if i < 0 else i + 1


def block_start(df: Dockerfile, node: Node) -> int:
    """The start of the instruction's line, extended upwards over the comment lines directly
    above it (they describe it and go with it); parser directives stay."""
    text = df.text
    directive_lines = {d.line for d in df.directives}
    start = line_start(text, node.span.start)
    while start > 0:
        prev = line_start(text, start - 1)
        if text[prev:start].strip().startswith("#") and text.count("\n", 0, prev) + 1 not in directive_lines:
            start = prev
        else:
            break
    return start


def block(df: Dockerfile, node: Node) -> tuple[int, int]:
    """(start, end) of the instruction with its comment lines: whole lines, line ending included."""
    return block_start(df, node), line_end(df.text, node.span.end)


def block_text(df: Dockerfile, node: Node) -> str:
    """The instruction's whole lines (with its comments), ending with a line ending."""
    start, end = block(df, node)
    out = df.text[start:end]
    return out if out.endswith("\n") else out + newline_of(df.text)


def delete(path: str, df: Dockerfile, node: Node) -> Edit:
    """Remove the instruction's lines (the comments above it stay: every other byte is kept)."""
    return Edit(path, line_start(df.text, node.span.start), line_end(df.text, node.span.end), "")


def shell_start(df: Dockerfile, node: Node) -> int | None:
    """Offset where the shell text of a shell-form RUN starts (after ``RUN`` and its flags);
    None for the exec form or a heredoc."""
    if node.heredocs:
        return None
    src = df.source(node)
    esc = re.escape(df.escape)
    gap = rf"(?:[ \t]|{esc}[ \t]*\r?\n)+"
    m = re.match(rf"(?is)^{re.escape(node.keyword)}(?:{gap}--\S+)*{gap}", src)
    if m is None or src[m.end() :].lstrip().startswith("["):
        return None
    return node.span.start + m.end()


def append_command(path: str, df: Dockerfile, node: Node, command: str) -> Edit | None:
    """An edit that runs ``command`` after the RUN's shell text (``&& command``), in the style
    of its continuation lines: ``... \\`` + ``&& command`` on a new line when the RUN's lines
    start with ``&&``, ``&& \\`` + ``command`` when they end with it, on the same line otherwise."""
    if shell_start(df, node) is None:
        return None
    src = df.source(node)
    nl = newline_of(df.text)
    esc = df.escape
    lines = src.split("\n")
    body = re.sub(r"[ \t\r]+$", "", src)
    end = node.span.start + len(body)
    if len(lines) > 1:
        last = lines[-1]
        indent = last[: len(last) - len(last.lstrip())]
        if last.lstrip().startswith("&&"):
            return Edit(path, end, end, f" {esc}{nl}{indent}&& {command}")
        if re.search(rf"&&[ \t]*{re.escape(esc)}\r?$", lines[-2]):
            return Edit(path, end, end, f" && {esc}{nl}{indent}{command}")
    return Edit(path, end, end, f" && {command}")


def move_safety(between, run_text: str, *, past_context_free_runs: bool = False) -> str | None:
    """Whether a RUN (its shell text ``run_text``) may move above the instructions ``between``
    (the steps it would pass): ``"safe"`` past metadata it does not use (LABEL, EXPOSE,
    STOPSIGNAL, an ENV or ARG it does not mention); with ``past_context_free_runs`` also past
    RUNs that need nothing from the context, then ``"unsafe"`` (two RUNs change order); None
    when anything else stands between (WORKDIR, USER, COPY, SHELL...: what the RUN sees may
    change)."""
    from layerwise.analyses.commands import analyse_run
    from layerwise.parse.instructions import Arg, Env, Expose, Label, Run, StopSignal

    safety = "safe"
    for s in between:
        inst = s.instruction
        if isinstance(inst, (Label, Expose, StopSignal)):
            continue
        if isinstance(inst, (Env, Arg)):
            names = [p.key for p in inst.pairs] if isinstance(inst, Env) else [a.key for a in inst.args]
            if any(n and re.search(r"\$\{?" + re.escape(n) + r"\b", run_text) for n in names):
                return None
            continue
        if past_context_free_runs and isinstance(inst, Run):
            a = analyse_run(inst)
            if a.opaque or not a.context_free:
                return None
            safety = "unsafe"
            continue
        return None
    return safety
