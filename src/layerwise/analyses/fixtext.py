"""Small text-edit helpers the rules use to build their fixes (:class:`~layerwise.analyses.
findings.Edit` s on offsets of the Dockerfile): every byte outside the edited spans is kept.

They work on the exact source of an instruction (``Dockerfile.source(node)``), with the file's
line ending and escape character.
"""

from __future__ import annotations

import posixpath
import re
import shlex

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


# -- where a RUN's commands and their words are in the file --------------------------------------
#
# The rules see a RUN as :mod:`~layerwise.analyses.installs` analyses it: its shell text (continuation
# lines joined, comment lines dropped, as BuildKit does) split into simple commands of unquoted
# words. An edit of one command (an option added after its subcommand, an option removed) must land
# on that command's own words in the file: never in a quoted word, a comment or another command that
# happens to hold the same text (``echo "pip install deps" && pip install -U pip``). The helpers
# below map the analysed text back to the file, character by character, and split it with the
# analysis' own lexer, so every word of every command has its span in the file.

def _instruction_text(df: Dockerfile, node: Node) -> tuple[str, list[int], int]:
    """The shell text of a shell-form RUN's instruction line(s) (after ``RUN`` and its flags), as
    the parser joins it: a continuation's escape and line ending removed, comment and blank lines
    inside it dropped. Returns (text, the file offset of each of its characters, the offset just
    past the instruction's last line)."""
    text = df.text
    esc = re.escape(df.escape)
    cont = re.compile(rf"[^{esc}]({esc})[ \t]*$|^({esc})[ \t]*$")
    pos, end = node.span.start + len(node.keyword), node.span.end
    out: list[str] = []
    offsets: list[int] = []
    first = True
    stop = end
    while pos <= end:
        nl = text.find("\n", pos)
        stop = len(text) if nl < 0 else nl
        line = text[pos:stop].rstrip("\r")
        if not first and (line.lstrip().startswith("#") or not line.strip()):
            pos = stop + 1  # dropped inside a continuation
            continue
        c = cont.search(line)
        keep = line if c is None else line[: c.start(1) if c.group(1) is not None else c.start(2)]
        out.append(keep)
        offsets.extend(range(pos, pos + len(keep)))
        first = False
        if c is None or nl < 0:
            break
        pos = stop + 1
    joined = "".join(out).rstrip(" \t")
    flags = re.match(r"(?:[ \t]+--\S+)*[ \t]*", joined)  # the RUN's flags, as the parser takes them
    at = flags.end() if flags else 0
    return joined[at:], offsets[at : len(joined)], stop


def run_text_offsets(df: Dockerfile, run) -> tuple[str, list[int | None]] | None:
    """The shell text :func:`~layerwise.analyses.installs.run_text` gives for ``run`` and the file
    offset of each of its characters (None for a character the file does not hold: the line break
    between heredoc bodies); None when the text cannot be mapped to the file (the exec form but for
    ``["sh", "-c", "script"]`` with a script without escapes, a ``<<-`` heredoc...)."""
    from layerwise.analyses.installs import run_text

    node = run.node
    want = run_text(run)
    if not run.prepend_shell:
        script = want if len(run.cmd_line) >= 3 and run.cmd_line[2] == want else None
        if script is None or "\\" in script or '"' in script:
            return None
        src = df.source(node)
        m = re.match(r'(?is)[a-z]+\s.*?\[\s*"[^"\\]*"\s*,\s*"[^"\\]*"\s*,\s*"', src)
        if m is None or not src.startswith(script + '"', m.end()):
            return None
        at = node.span.start + m.end()
        return script, list(range(at, at + len(script)))
    text, offsets, stop = _instruction_text(df, node)
    if node.heredocs and text != want:  # the bodies are the script (``RUN <<EOF``, ``RUN bash <<EOF``)
        pos = stop + 1
        bodies: list[tuple[str, list[int | None]]] = []
        for h in node.heredocs:
            if not df.text.startswith(h.content, pos):
                return None
            bodies.append((h.content, list(range(pos, pos + len(h.content)))))
            after = df.text.find("\n", pos + len(h.content))  # past the terminator's line
            pos = len(df.text) if after < 0 else after + 1
        texts = [b[0] for b in bodies]
        maps: list[int | None] = []
        for i, (_, o) in enumerate(bodies):
            maps += ([None] if i else []) + o
        if want == "\n".join(texts):
            return want, maps
        text, offsets = text + "\n" + "\n".join(texts), [*offsets, None, *maps]
    return (text, offsets) if text == want else None


def _commands_of(text: str, offsets: list[int | None]) -> list[list[tuple[str, int | None, int | None]]]:
    """Simple commands of a mapped shell text as split_commands and analyse_run make them (the
    script of ``sh -c "..."`` in place of that command), each word (unquoted) with its (start,
    end) in the file, or (None, None) when not known; [] when the text cannot be tokenised."""
    from layerwise.analyses import installs
    from layerwise.analyses.installs import _QUOTING, _SHLEX_PIECE, _SHLEX_TOKEN, _unquote_piece, strip_prefix

    words: list[list[tuple[str, int | None, int | None, str, int]]] = [[]]
    for m in re.finditer(_SHLEX_TOKEN, text, re.S):
        token, bad = m.group(1), m.group(2)
        if bad:
            return []
        if not token:
            continue
        word = re.sub(_SHLEX_PIECE, _unquote_piece, token, flags=re.S) if _QUOTING & set(token) else token
        if word and set(word) <= set(";&|\n()"):  # (``\;`` too, as split_commands reads it)
            words.append([])
            continue
        s, e = offsets[m.start(1)], offsets[m.end(1) - 1]
        words[-1].append((word, s, None if e is None else e + 1, token, m.start(1)))
    out: list[list[tuple[str, int | None, int | None]]] = []
    for argv in words:
        while argv and argv[0][0] in installs.SHELL_KEYWORDS:
            argv = argv[1:]
        if not argv:
            continue
        bare, _ = strip_prefix([w[0] for w in argv])
        if len(bare) >= 3 and posixpath.basename(bare[0]) in installs.SH_C_SHELLS and bare[1] in installs.SH_C_FLAGS:
            script = argv[len(argv) - len(bare) + 2]
            raw, at = script[3], script[4]
            inner: list[list[tuple[str, int | None, int | None]]] = []
            if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "'\"" and not set(raw[1:-1]) & set("'\"\\"):
                # one quoted piece without escapes: its characters are the script's
                inner = _commands_of(raw[1:-1], offsets[at + 1 : at + len(raw) - 1])
            else:
                from layerwise.analyses.installs import split_commands

                inner = [[(w, None, None) for w in c] for c in split_commands(bare[2]) or []]
            if inner:
                out += inner
                continue
        out.append([(w, s, e) for w, s, e, _, _ in argv])
    return out


def install_words(df: Dockerfile, run, analysis, install) -> list[tuple[str, int | None, int | None]] | None:
    """The words of the command that runs ``install`` (one of ``analysis.installs``, the analysis
    of the RUN ``run``), each with its (start, end) in the file or (None, None); None when that
    command is not in the file as written (the exec form, a ``pdm run`` script of pyproject.toml)."""
    from layerwise.analyses.installs import analyse_run

    mapped = run_text_offsets(df, run)
    if mapped is None:
        return None
    commands = _commands_of(*mapped)
    if [[w[0] for w in c] for c in commands] != analyse_run(run).commands:
        return None  # (not expected: this mapping and the analysis disagree)
    nth = 0
    for y in analysis.installs:
        if y is install:
            break
        nth += y.text == install.text
    same = [c for c in commands if shlex.join([w[0] for w in c]) == install.text]
    return same[nth] if nth < len(same) else None


def install_word(df: Dockerfile, run, analysis, install, k: int) -> tuple[int, int] | None:
    """(start, end) in the file of the word ``install.argv[k]`` of the command that runs
    ``install``, where an option for it goes (after its subcommand, after the tool for a global
    option); None when that word is not in the file as written."""
    words = install_words(df, run, analysis, install)
    if words is None or not 0 <= k < len(install.argv) or len(words) < len(install.argv):
        return None
    word, start, end = words[len(words) - len(install.argv) + k]
    return (start, end) if word == install.argv[k] and start is not None and end is not None else None


def option_insert(path: str, df: Dockerfile, run, analysis, install, k: int, option: str) -> Edit | None:
    """An edit adding ``option`` to the command of ``install`` right after its word
    ``install.argv[k]`` (``pip install`` -> ``pip install --no-cache-dir``): only there, never
    in another command or a quoted word that holds the same text."""
    span = install_word(df, run, analysis, install, k)
    return None if span is None else Edit(path, span[1], span[1], " " + option)
