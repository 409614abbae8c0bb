"""What a RUN does, as far as the cache layout cares: which dependency installs it runs, which
files of the build context they read, and whether the rest needs the context at all.

A RUN's shell text (continuations joined, heredoc bodies included) is split into simple
commands on ``&&``, ``||``, ``;``, ``|`` and newlines with :mod:`shlex`; anything we cannot
read makes the RUN "opaque" (assumed to need the whole context), never a crash.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from dataclasses import dataclass, field

from layerwise.parse.instructions import Run

MANAGERS = ("pip", "uv-pip", "uv", "poetry", "pdm", "pipenv", "conda", "pip-sync")

# Commands that never read the build context (system packages, users, folders, downloads).
CONTEXT_FREE = frozenset(
    {"apt-get", "apt", "apk", "yum", "dnf", "microdnf", "zypper", "useradd", "adduser",
     "groupadd", "addgroup", "usermod", "mkdir", "ln", "echo", "true", "export", "set",
     "rm", "curl", "wget", "update-ca-certificates", "locale-gen", "dpkg-reconfigure",
     "chown", "chmod", "printf", "cd", "ldconfig", "npm", "corepack"}
)  # fmt: skip

_SPLIT = re.compile(r"\s*(?:&&|\|\||;|\||\n)\s*")
_PY = re.compile(r"^(?:.*/)?python(?:3(?:\.\d+)?)?$")
_PIP = re.compile(r"^(?:.*/)?pip(?:3(?:\.\d+)?)?$")


@dataclass
class Install:
    """One dependency install inside a RUN."""

    manager: str  # pip | uv-pip | uv | poetry | pdm | pipenv | conda | pip-sync
    argv: list[str]
    reads: list[str] = field(default_factory=list)  # context files (relative to cwd)
    project: bool = False  # installs the project itself (needs its sources)
    targets: list[str] = field(default_factory=list)  # the local project paths it installs
    packages: list[str] = field(default_factory=list)  # named requirements (pip x y)
    text: str = ""  # the command as written


@dataclass
class RunAnalysis:
    installs: list[Install]
    context_free: bool  # every command is known not to read the build context
    opaque: bool  # we could not read it
    commands: list[list[str]]


def run_text(run: Run) -> str:
    if run.prepend_shell:
        text = " ".join(run.cmd_line)
    else:
        argv = list(run.cmd_line)
        if len(argv) >= 3 and argv[0] in ("/bin/sh", "sh", "/bin/bash", "bash") and argv[1] == "-c":
            text = argv[2]
        else:
            text = shlex.join(argv)
    for h in run.files:
        text += "\n" + h.content
    return text


def split_commands(text: str) -> list[list[str]] | None:
    """Simple commands of a shell text, or None when it cannot be tokenised."""
    out: list[list[str]] = []
    try:
        lexer = shlex.shlex(text, posix=True, punctuation_chars=";&|\n")
        lexer.whitespace = " \t\r"
        lexer.whitespace_split = True
        lexer.commenters = "#"
        current: list[str] = []
        for tok in lexer:
            if tok and set(tok) <= set(";&|\n"):
                if current:
                    out.append(current)
                current = []
            else:
                current.append(tok)
        if current:
            out.append(current)
    except ValueError:
        return None
    return out


def _strip_env_prefix(argv: list[str]) -> list[str]:
    i = 0
    while i < len(argv) and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", argv[i]):
        i += 1
    if i < len(argv) and argv[i] in ("sudo", "exec", "env", "time", "nice"):
        return _strip_env_prefix(argv[i + 1 :])
    return argv[i:]


def _pip_install(argv: list[str], start: int, manager: str) -> Install:
    ins = Install(manager, argv)
    i = start
    while i < len(argv):
        a = argv[i]
        val = None
        for opt in ("-r", "--requirement", "-c", "--constraint"):
            if a == opt and i + 1 < len(argv):
                val = argv[i + 1]
                i += 1
            elif a.startswith(opt + "=") or (len(opt) == 2 and a.startswith(opt) and len(a) > 2):
                val = a[len(opt) + 1 :] if a.startswith(opt + "=") else a[2:]
        if val is not None:
            ins.reads.append(val)
        elif a in ("-e", "--editable") and i + 1 < len(argv):
            target = argv[i + 1]
            i += 1
            if _is_local(target):
                ins.project = True
                ins.targets.append(target)
            else:
                ins.packages.append(target)
        elif a.startswith("-"):
            if a in ("-i", "--index-url", "--extra-index-url", "-f", "--find-links", "--target",
                     "-t", "--prefix", "--root", "--platform", "--python-version", "--only-binary",
                     "--no-binary", "--progress-bar", "--cache-dir", "--src", "--upgrade-strategy",
                     "--trusted-host", "--python") and "=" not in a:  # fmt: skip
                i += 1  # its value
        elif _is_local(a):
            ins.project = True
            ins.targets.append(a)
        else:
            ins.packages.append(a)
        i += 1
    return ins


def _is_local(target: str) -> bool:
    base = re.split(r"\[", target, maxsplit=1)[0]
    return base in (".", "./") or base.startswith(("./", "../", "/")) and not base.startswith("//")


def classify(argv: list[str]) -> Install | str | None:
    """An :class:`Install`, ``"free"`` for a context-free command, or None (may read the context)."""
    argv = _strip_env_prefix(argv)
    if not argv:
        return "free"
    cmd = argv[0]
    # python -m pip install ... / pip install ... / uv pip install ...
    if _PY.match(cmd) and len(argv) > 2 and argv[1] == "-m" and argv[2] in ("pip", "pip3"):
        argv = ["pip", *argv[3:]]
        cmd = "pip"
    if _PY.match(cmd) and len(argv) > 2 and argv[1] == "-m" and argv[2] == "venv":
        return "free"
    if _PIP.match(cmd):
        if len(argv) > 1 and argv[1] == "install":
            ins = _pip_install(argv, 2, "pip")
            return ins if (ins.reads or ins.project) else _free_install(ins)
        return "free" if len(argv) > 1 and argv[1] in ("config", "--version", "list", "freeze") else None
    base = posixpath.basename(cmd)
    if base == "uv" and len(argv) > 2 and argv[1] == "pip" and argv[2] in ("install", "sync"):
        if argv[2] == "sync":
            return Install("uv-pip", argv, reads=[a for a in argv[3:] if not a.startswith("-")])
        ins = _pip_install(argv, 3, "uv-pip")
        return ins if (ins.reads or ins.project) else _free_install(ins)
    if base == "uv" and len(argv) > 1 and argv[1] == "sync":
        no_project = "--no-install-project" in argv or "--only-deps" in argv
        return Install("uv", argv, reads=["pyproject.toml", "uv.lock"], project=not no_project)
    if base == "poetry" and len(argv) > 1 and argv[1] in ("install", "sync"):
        no_root = "--no-root" in argv
        return Install("poetry", argv, reads=["pyproject.toml", "poetry.lock"], project=not no_root)
    if base == "pdm" and len(argv) > 1 and argv[1] in ("install", "sync"):
        no_self = "--no-self" in argv
        return Install("pdm", argv, reads=["pyproject.toml", "pdm.lock"], project=not no_self)
    if base == "pipenv" and len(argv) > 1 and argv[1] in ("install", "sync"):
        names = [a for a in argv[2:] if not a.startswith("-")]
        if names:
            return Install("pipenv", argv, packages=names)
        return Install("pipenv", argv, reads=["Pipfile", "Pipfile.lock"])
    if base == "pip-sync":
        files = [a for a in argv[1:] if not a.startswith("-")] or ["requirements.txt"]
        return Install("pip-sync", argv, reads=files)
    if base in ("conda", "mamba", "micromamba"):
        rest = argv[1:]
        if rest[:2] in (["env", "create"], ["env", "update"]) or (rest and rest[0] in ("create", "install", "update")):
            files = []
            for j, a in enumerate(rest):
                if a in ("-f", "--file") and j + 1 < len(rest):
                    files.append(rest[j + 1])
                elif a.startswith("--file="):
                    files.append(a.split("=", 1)[1])
            if files:
                return Install("conda", argv, reads=files)
            if rest[:2] == ["env", "create"]:
                return Install("conda", argv, reads=["environment.yml"])
            return "free"
        return "free" if rest[:1] in (["clean"], ["config"], ["init"]) else None
    if base in CONTEXT_FREE:
        return "free"
    return None


def _free_install(ins: Install) -> Install:
    """``pip install flask gunicorn``: an install that needs no file of the context."""
    return ins


def analyse_run(run: Run) -> RunAnalysis:
    text = run_text(run)
    commands = split_commands(text)
    if commands is None:
        return RunAnalysis([], False, True, [])
    installs: list[Install] = []
    free = True
    for argv in commands:
        c = classify(argv)
        if isinstance(c, Install):
            c.text = shlex.join(argv)
            installs.append(c)
            if c.reads or c.project:
                free = False
        elif c is None:
            free = False
    return RunAnalysis(installs, free, False, commands)
