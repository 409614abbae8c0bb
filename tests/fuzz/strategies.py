"""Hypothesis strategies that generate Dockerfiles: every instruction, flags, parser directives,
continuations (both escape characters), comments inside continuations, heredocs (terminated or
not, ``<<-``, quoted, with a file descriptor, several per line), JSON forms (valid and broken),
variable expansions, CRLF, odd white space, random unicode and random bytes.

``dockerfiles(differential=True)`` keeps to inputs BuildKit v0.12.5 (the ``dockerfile`` wheel)
can be compared on: valid UTF-8 without NUL or surrogates, no ``# check=`` directive (newer than
v0.12.5), lines well under 64 KiB.
"""

from __future__ import annotations

import os

from hypothesis import settings
from hypothesis import strategies as st


def fuzz_settings(**overrides):
    """The active profile (conftest.py: fast by default, ``LAYERWISE_FUZZ=long`` for long runs)."""
    from tests.fuzz.conftest import PROFILE

    return settings(settings.get_profile(PROFILE), **overrides)


INSTRUCTIONS = [
    "FROM", "RUN", "CMD", "LABEL", "MAINTAINER", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT",
    "VOLUME", "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL",
]  # fmt: skip

FLAGS = [
    "--from=build", "--from=0", "--from=$X", "--chown=1000:1000", "--chown=", "--chmod=755",
    "--link", "--link=false", "--link=maybe", "--parents", "--exclude=*.pyc", "--keep-git-dir=true",
    "--checksum=sha256:abc", "--platform=linux/amd64", "--platform=$BUILDPLATFORM",
    "--mount=type=cache,target=/root/.cache", "--mount=type=bind,source=.,target=/src",
    "--mount=type=secret,id=tok", "--mount=type=ssh", "--mount=type=tmpfs,target=/t,size=1m",
    "--mount=type=cache,target=/x,sharing=locked,uid=1,mode=0755", "--mount=bogus",
    "--mount=type=nope", "--mount=target=/x,from=y", '--mount="type=cache,target=/a b"',
    "--network=none", "--network=host", "--network=bogus", "--security=insecure",
    "--interval=5s", "--timeout=1m", "--start-period=3s", "--start-interval=1s", "--retries=3",
    "--retries=-1", "--retries=x", "--interval=nonsense", "--unknown", "--", "--=", "-x", "---",
    "--from", "--chown", '--chown="a b"', "--from='x y'", "--link=", "--from=\\", "--a=\\\\b",
]  # fmt: skip

WORDS = [
    "alpine", "python:3.12-slim", "ubuntu@sha256:deadbeef", "scratch", "AS", "as", "builder",
    "base", "/app", ".", "..", "./src", "requirements.txt", "*.py", "a b", "pip", "install", "-r",
    "&&", "||", ";", "|", ">", "<", "2>&1", "echo", "hello", "8080/tcp", "80", "SIGTERM", "9",
    "root", "1000:1000", "NONE", "CMD", "k=v", "k=", "=v", "=", "key", "value", "a=b", "x=\"y z\"",
    "'single'", '"double"', "'", '"', "\\", "`", "\\\\", "\\'", '\\"', "$", "$$", "$X", "${X}",
    "${X:-d}", "${X:+a}", "${X-d}", "${X+a}", "${X:?err}", "${X?}", "${X#p}", "${X##*}", "${X%s}",
    "${X%%*.}", "${X/a/b}", "${X//a/b}", "${X/#a/b}", "${#X}", "${X:1:2}", "${", "${X", "${X:-",
    "${}", "${1}", "$1", "${X:-${Y:-${Z}}}", "~", "#", "# not a comment", "<<", "<<<", "<<EOF",
    "<<-EOF", "<<'EOF'", '<<"EOF"', "3<<EOF", "<<EOF2", "<<\\EOF", "<<'E O F'", "<<-'EOF'",
    "[", "]", "[]", '["a"]', '["sh", "-c", "echo hi"]', '["a",]', "[1]", '["a", 1]', '["\\u00e9"]',
    '[ "x" ]', "[NaN]", '["a" "b"]', '[[]]', "{}", "null", "true", "é", "日本", "🐳", "\u200b",
    "\u00a0", "\u2028", "\u3000", "\u0085", "\x1c", "\x7f", "\t", "\v", "\f",
]  # fmt: skip

# Characters that matter to the lexers, plus ordinary ones.
ALPHABET = "abcXYZ019 \t\\`'\"$#{}[]:,=-/+*?<>&|;~\n\r\u00e9\u00a0\u2028\u3000\U0001f433\ufeff"

text_chunk = st.text(alphabet=ALPHABET, max_size=12)
unicode_chunk = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=8
)


@st.composite
def _keyword(draw, differential: bool) -> str:
    kw = draw(
        st.one_of(
            st.sampled_from(INSTRUCTIONS).map(str),
            st.sampled_from(INSTRUCTIONS).map(str.lower),
            st.sampled_from(INSTRUCTIONS).map(str.title),
            st.sampled_from(["FORM", "RUNN", "WORKID", "{%", "--", "#x", "\\", "é", "ONBUILD ONBUILD"]),
            st.text(alphabet="ABCabc_", min_size=1, max_size=6),
        )
    )
    if kw.upper() == "ONBUILD" and draw(st.booleans()):
        kw = kw + " " + draw(st.sampled_from(INSTRUCTIONS + ["onbuild", "from", "maintainer"]))
    return kw


@st.composite
def _argument(draw, differential: bool) -> str:
    pieces = draw(
        st.lists(
            st.one_of(
                st.sampled_from(WORDS),
                text_chunk,
                unicode_chunk.filter(lambda s: "\n" not in s and "\r" not in s),
            ),
            max_size=6,
        )
    )
    seps = draw(st.lists(st.sampled_from([" ", " ", "  ", "\t", "", "=", " \\ "]), min_size=len(pieces), max_size=len(pieces)))
    return "".join(p + s for p, s in zip(pieces, seps))


@st.composite
def _json_arg(draw) -> str:
    import json

    items = draw(st.lists(st.one_of(st.sampled_from(WORDS), text_chunk), max_size=4))
    text = json.dumps(items, ensure_ascii=draw(st.booleans()))
    mutate = draw(st.integers(0, 5))
    if mutate == 1:
        text = text[:-1]  # broken: missing ]
    elif mutate == 2:
        text = text.replace('"', "'")
    elif mutate == 3:
        text = "  " + text + "  "
    return text


@st.composite
def _heredoc_spec(draw) -> tuple[str, str]:
    """(operator word as written, delimiter that closes it)."""
    name = draw(st.sampled_from(["EOF", "END", "E", "eof", "X_1", "EOT"]))
    quote = draw(st.sampled_from(["", "", "'", '"']))
    chomp = draw(st.sampled_from(["", "-"]))
    fd = draw(st.sampled_from(["", "", "3", "10"]))
    return f"{fd}<<{chomp}{quote}{name}{quote}", name


@st.composite
def _instruction(draw, esc: str, differential: bool) -> str:
    """One instruction, possibly over several physical lines, possibly with heredocs."""
    kw = draw(_keyword(differential))
    lead = draw(st.sampled_from(["", "", "", " ", "\t", "  \t"]))
    flags = draw(st.lists(st.sampled_from(FLAGS), max_size=3))
    if kw.upper() in ("RUN", "CMD", "ENTRYPOINT", "SHELL", "COPY", "ADD", "VOLUME") and draw(st.integers(0, 3)) == 0:
        arg = draw(_json_arg())
    elif kw.upper() == "HEALTHCHECK" and draw(st.booleans()):
        arg = draw(st.sampled_from(["NONE", "CMD", "CMD ", "cmd", "BOGUS"])) + " " + draw(
            st.one_of(_json_arg(), _argument(differential))
        )
    else:
        arg = draw(_argument(differential))
    docs: list[tuple[str, str]] = []
    if kw.upper().split(" ")[-1] in ("RUN", "COPY", "ADD") and draw(st.integers(0, 2)) == 0:
        docs = draw(st.lists(_heredoc_spec(), min_size=1, max_size=3))
        arg = arg + " " + " ".join(d[0] for d in docs) + draw(st.sampled_from(["", " /dst", " && cat", " | sh"]))
    words = [kw, *flags, arg] if arg else [kw, *flags]
    # Split the logical line over physical lines with the escape character.
    parts: list[str] = []
    for w in words:
        parts.append(w)
        if draw(st.integers(0, 5)) == 0:
            cont = esc + draw(st.sampled_from(["", "", " ", "\t", "  "]))
            extra = draw(
                st.lists(st.sampled_from(["", "   ", "# comment inside", "  # indented", "\t"]), max_size=2)
            )
            parts.append(cont + "\n" + "".join(e + "\n" for e in extra) + draw(st.sampled_from(["", " ", "\t"])))
        else:
            parts.append(" ")
    line = lead + "".join(parts).rstrip(" ")
    if draw(st.integers(0, 10)) == 0:
        line += esc  # dangling continuation (maybe at end of file)
    nl = draw(st.sampled_from(["\n", "\n", "\n", "\r\n"]))
    out = line + nl
    for _op, name in docs:
        body = draw(st.lists(st.one_of(text_chunk.map(lambda s: s.replace("\n", "")), st.sampled_from(WORDS)), max_size=3))
        for b in body:
            out += draw(st.sampled_from(["", "\t", "\t\t"])) + b + "\n"
        close = draw(st.integers(0, 12))
        if close == 0:
            continue  # never closed (an error unless a later delimiter closes it)
        prefix = "\t" if close == 1 else ""
        out += prefix + name + (" " if close == 2 else "") + draw(st.sampled_from(["\n", "\r\n", ""]))
        if not out.endswith("\n"):
            out += "\n"
    return out


@st.composite
def _directives(draw, differential: bool) -> tuple[str, str]:
    """(directive block text, escape character in effect)."""
    esc = "\\"
    out = ""
    names = ["syntax", "escape", "ESCAPE", "Syntax", "foo"] + ([] if differential else ["check"])
    for _ in range(draw(st.integers(0, 3))):
        name = draw(st.sampled_from(names))
        if name.lower() == "escape":
            value = draw(st.sampled_from(["`", "\\", "`", "x", "", "``"]))
        elif name.lower() == "syntax":
            value = draw(st.sampled_from(["docker/dockerfile:1", "docker/dockerfile:1.4", "", "x y"]))
        else:
            value = draw(st.sampled_from(["skip=all", "error=true", "x"]))
        sp = draw(st.sampled_from(["", " ", "  ", "\t"]))
        out += f"#{sp}{name}{draw(st.sampled_from(['', ' ']))}={draw(st.sampled_from(['', ' ']))}{value}\n"
        if name.lower() == "escape" and value in ("`", "\\"):
            esc = value
    if draw(st.integers(0, 8)) == 0:
        out = draw(st.sampled_from(["#!/usr/bin/env docker\n", "\n", "# a comment\n"])) + out
    return out, esc


@st.composite
def structured_dockerfile(draw, differential: bool = False) -> str:
    head, esc = draw(_directives(differential))
    if draw(st.integers(0, 6)) == 0:
        esc = draw(st.sampled_from(["\\", "`"]))  # sometimes the "wrong" escape char for the file
    body = []
    if draw(st.booleans()):  # a first stage, so that the instruction layer and resolve go deep
        body.append(draw(st.sampled_from(["FROM alpine\n", "FROM python:3.12 AS base\n", "ARG V=1\nFROM a:$V\n"])))
    for _ in range(draw(st.integers(0, 8))):
        kind = draw(st.integers(0, 12))
        if kind == 0:
            body.append(draw(st.sampled_from(["\n", "\r\n", "   \n", "# comment\n", "#\n", "  # x\n"])))
        elif kind == 1:
            body.append(draw(text_chunk) + "\n")
        else:
            body.append(draw(_instruction(esc, differential)))
    text = head + "".join(body)
    if draw(st.integers(0, 4)) == 0:
        text = text.rstrip("\n")  # no final newline
    if draw(st.integers(0, 15)) == 0:
        text = "\ufeff" + text
    if not differential and draw(st.integers(0, 10)) == 0:
        # splice random unicode somewhere
        pos = draw(st.integers(0, len(text)))
        text = text[:pos] + draw(unicode_chunk) + text[pos:]
    return text


def dockerfile_texts(differential: bool = False) -> st.SearchStrategy[str]:
    """Dockerfile text: mostly structured, sometimes free-form text."""
    free = st.text(alphabet=ALPHABET, max_size=80)
    if not differential:
        free = st.one_of(free, st.text(max_size=60).filter(lambda s: "\x00" not in s))
    return st.one_of(
        structured_dockerfile(differential), structured_dockerfile(differential), free,
        st.deferred(lambda: plausible_dockerfile()),
    )


def dockerfile_bytes() -> st.SearchStrategy[bytes]:
    """Bytes as found on disk: UTF-8 (with/without BOM), sometimes corrupted or binary."""

    @st.composite
    def corrupt(draw) -> bytes:
        data = draw(structured_dockerfile()).encode("utf-8", "surrogatepass")
        pos = draw(st.integers(0, len(data)))
        junk = draw(st.binary(min_size=1, max_size=6))
        return data[:pos] + junk + data[pos:]

    return st.one_of(
        dockerfile_texts().map(lambda s: s.encode("utf-8", "surrogatepass")),
        corrupt(),
        st.binary(max_size=100),
    )


# --- shell words -------------------------------------------------------------------------------

SHELL_ALPHABET = "abXY_1 \t\\`'\"${}:-+?=#%/*.[]^!~@"


@st.composite
def shell_words(draw) -> str:
    pieces = draw(
        st.lists(
            st.one_of(st.text(alphabet=SHELL_ALPHABET, max_size=10), st.sampled_from(WORDS)),
            max_size=6,
        )
    )
    return "".join(pieces)


shell_envs = st.dictionaries(
    st.sampled_from(["X", "Y", "Z", "a", "PWD", "HOME", "1", "_"]),
    st.one_of(st.text(alphabet=SHELL_ALPHABET, max_size=6), st.sampled_from(WORDS)),
    max_size=4,
)

IS_LONG = os.environ.get("LAYERWISE_FUZZ") == "long"


# --- plausible Dockerfiles (they mostly resolve: deeper coverage of instructions/resolve) -------

_PLAUSIBLE = [
    "RUN {w} {w}", "RUN --mount=type=cache,target=/root/.cache pip install {w}",
    "RUN --network=none {w}", 'RUN ["{w}", "{w}"]', "CMD {w}", 'CMD ["{w}"]',
    'ENTRYPOINT ["{w}", "{w}"]', "ENV {k}={w}", "ENV {k} {w}", "ARG {k}", "ARG {k}={w}",
    "LABEL {k}={w}", "EXPOSE 8080", "EXPOSE {w}", "USER {w}", "WORKDIR /{w}", "VOLUME /{w}",
    "COPY {w} /{w}/", "COPY --chown=1000:1000 --chmod=755 {w} /app/", "COPY --link . /app",
    "ADD {w} /{w}", "COPY --from=0 /{w} /{w}", "STOPSIGNAL SIGTERM", "SHELL [\"/bin/sh\", \"-c\"]",
    "HEALTHCHECK --interval=5s --retries=3 CMD {w}", "HEALTHCHECK NONE", "ONBUILD RUN {w}",
    "RUN <<EOF\n{w}\n{w}\nEOF", "COPY <<-EOT /{w}\n\t{w}\nEOT", "MAINTAINER {w}",
    "FROM {w} AS {k2}", "FROM alpine", "FROM base AS {k2}",
]  # fmt: skip
_PLAUSIBLE_WORDS = [
    "app", "x", "$X", "${X}", "${X:-d}", "${X:+a}", "${V}", "$HOME", "'a b'", '"a $X"', "a\\ b",
    "${X#p}", "${X%%.*}", "${X/a/b}", "requirements.txt", "src", "é", "🐳", "$$", "\\$X",
]  # fmt: skip


@st.composite
def plausible_dockerfile(draw) -> str:
    lines = [draw(st.sampled_from(["", "# syntax=docker/dockerfile:1\n", "# escape=\\\n"]))]
    lines.append(draw(st.sampled_from(["ARG X=1\n", "", "ARG V\n"])) + "FROM alpine AS base\n")
    for _ in range(draw(st.integers(1, 10))):
        template = draw(st.sampled_from(_PLAUSIBLE))
        line = template
        while "{w}" in line:
            line = line.replace("{w}", draw(st.sampled_from(_PLAUSIBLE_WORDS)), 1)
        line = line.replace("{k}", draw(st.sampled_from(["X", "V", "PATH", "A_1"])))
        line = line.replace("{k2}", draw(st.sampled_from(["b1", "b2", "base"])))
        if draw(st.integers(0, 6)) == 0:
            line = line.replace(" ", " \\\n  ", 1)
        lines.append(line + "\n")
    return "".join(lines)
