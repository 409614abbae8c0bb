"""``docker build`` commands in CI shell scripts (``run:`` of a GitHub step, GitLab ``script:``).

A script is split into logical lines (backslash continuations joined), each line into simple
commands on ``&&``, ``||``, ``;`` and ``|`` with :mod:`shlex`; a command that starts (after
``VAR=value`` prefixes and ``sudo``) with ``docker build``, ``docker image build``, ``docker
buildx build`` or ``docker compose build`` / ``docker-compose build`` is a :class:`DockerBuild`.
Shell that does not tokenise is skipped, never an error.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

_ASSIGN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_SEPARATORS = frozenset({"&&", "||", ";", "|", "&", ";;", "(", ")"})
# options of docker build / buildx build that take a value
_VALUE_OPTS = frozenset(
    {"-f", "--file", "-t", "--tag", "--target", "--build-arg", "--cache-from", "--cache-to",
     "--platform", "--label", "--secret", "--ssh", "-o", "--output", "--builder", "--progress",
     "--network", "--iidfile", "--metadata-file", "--add-host", "--shm-size", "--ulimit",
     "--cgroup-parent", "--allow", "--attest", "--sbom", "--provenance", "--annotation",
     "--build-context", "--no-cache-filter", "--isolation", "--cpu-period", "--cpu-quota",
     "--cpu-shares", "--cpuset-cpus", "--cpuset-mems", "-m", "--memory", "--memory-swap",
     "--call", "--security-opt", "--config", "--context", "-H", "--host", "--log-level"}
)  # fmt: skip


@dataclass
class DockerBuild:
    kind: str  # docker-build | buildx-build | compose-build
    argv: list[str]
    line: int  # 0-based physical line of the script where the command starts
    first_line: str  # that line's text (to find it in the file)
    dockerfile: str | None = None
    context: str | None = None
    target: str | None = None
    build_args: dict[str, str] = field(default_factory=dict)
    cache_from: list[str] = field(default_factory=list)
    cache_to: list[str] = field(default_factory=list)
    no_cache: bool = False
    builder: str | None = None
    env: dict[str, str] = field(default_factory=dict)  # VAR=value prefixes


@dataclass
class BuilderCreate:
    """``docker buildx create ... --use`` (a builder that can export a cache)."""

    line: int


def _logical_lines(script: str) -> list[tuple[int, str, str]]:
    """(first physical line, joined text, first physical line's text)."""
    out = []
    lines = script.split("\n")
    i = 0
    while i < len(lines):
        start, first = i, lines[i]
        text = lines[i].rstrip("\r")
        while text.endswith("\\") and i + 1 < len(lines):
            i += 1
            text = text[:-1] + " " + lines[i].rstrip("\r")
        out.append((start, text, first))
        i += 1
    return out


def _split(text: str) -> list[list[str]] | None:
    lexer = shlex.shlex(text, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    lexer.commenters = "#"
    try:
        tokens = list(lexer)
    except ValueError:
        return None
    commands, cur = [], []
    for t in tokens:
        if t in _SEPARATORS or set(t) <= set("&|;()<>"):
            if cur:
                commands.append(cur)
            cur = []
        else:
            cur.append(t)
    if cur:
        commands.append(cur)
    return commands


def _strip(argv: list[str]) -> tuple[list[str], dict[str, str]]:
    env = {}
    i = 0
    while i < len(argv) and (argv[i] in ("sudo", "env", "exec", "time") or _ASSIGN.match(argv[i])):
        if _ASSIGN.match(argv[i]):
            k, _, v = argv[i].partition("=")
            env[k] = v
        i += 1
    return argv[i:], env


def _kind(argv: list[str]) -> tuple[str, int] | None:
    """The build kind and where its options start."""
    if len(argv) >= 2 and argv[0] == "docker-compose" and argv[1] == "build":
        return "compose-build", 2
    if not argv or argv[0].rsplit("/", 1)[-1] != "docker":
        return None
    # global options of the docker CLI before the subcommand
    i = 1
    while i < len(argv) and argv[i].startswith("-"):
        i += 2 if argv[i] in _VALUE_OPTS and "=" not in argv[i] else 1
    rest = argv[i:]
    if rest[:1] == ["build"]:
        return "docker-build", i + 1
    if rest[:2] == ["image", "build"]:
        return "docker-build", i + 2
    if rest[:2] == ["buildx", "build"] or rest[:2] == ["buildx", "b"]:
        return "buildx-build", i + 2
    if rest[:2] == ["compose", "build"]:
        return "compose-build", i + 2
    return None


def _parse_options(b: DockerBuild, argv: list[str], start: int) -> None:
    positional = []
    i = start
    while i < len(argv):
        a = argv[i]
        if a == "--":
            positional += argv[i + 1 :]
            break
        if a.startswith("-") and a != "-":
            name, eq, value = a.partition("=")
            if not eq and name in _VALUE_OPTS:
                value = argv[i + 1] if i + 1 < len(argv) else ""
                i += 1
            if name in ("-f", "--file"):
                b.dockerfile = value
            elif name == "--target":
                b.target = value
            elif name == "--build-arg":
                k, _, v = value.partition("=")
                b.build_args[k] = v
            elif name == "--cache-from":
                b.cache_from.append(value)
            elif name == "--cache-to":
                b.cache_to.append(value)
            elif name == "--builder":
                b.builder = value
            elif name == "--no-cache":
                b.no_cache = value.lower() not in ("false", "0") if eq else True
        else:
            positional.append(a)
        i += 1
    if b.kind != "compose-build" and positional:
        b.context = positional[-1]


def docker_builds(script: str) -> tuple[list[DockerBuild], list[BuilderCreate]]:
    """The image builds in a shell script, and the ``docker buildx create --use`` commands."""
    builds, creates = [], []
    for line, text, first in _logical_lines(script):
        commands = _split(text)
        if commands is None:
            continue
        for argv in commands:
            argv, env = _strip(argv)
            if argv[:3] == ["docker", "buildx", "create"] and "--use" in argv:
                creates.append(BuilderCreate(line))
                continue
            kind = _kind(argv)
            if kind is None:
                continue
            b = DockerBuild(kind[0], argv, line, first, env=env)
            _parse_options(b, argv, kind[1])
            builds.append(b)
    return builds, creates


def moves(script: str) -> list[tuple[str, str]]:
    """The ``mv SOURCE DEST`` commands of a shell script, in order (one source, options
    skipped): what moves a local cache export where the next run imports it."""
    out = []
    for _line, text, _first in _logical_lines(script):
        for argv in _split(text) or []:
            argv, _ = _strip(argv)
            if argv[:1] != ["mv"]:
                continue
            paths = [a for a in argv[1:] if not a.startswith("-")]
            if len(paths) == 2:
                out.append((paths[0].rstrip("/") or "/", paths[1].rstrip("/") or "/"))
    return out


def apply_moves(builds, script: str) -> None:
    """Record on the ``type=local`` cache exports of ``builds`` (earlier builds of the job) where
    the ``mv`` commands of a later script of the job put them (:attr:`CacheSpec.moved_to`)."""
    found = moves(script) if "mv" in script else []
    if not found:
        return
    from dataclasses import replace

    for b in builds:
        for i, spec in enumerate(b.cache_to):
            where = spec.location
            if where is None or spec.opaque:
                continue
            for src, dest in found:
                if src == where:
                    where = dest
            if where != spec.location:
                b.cache_to[i] = replace(spec, moved_to=where)

