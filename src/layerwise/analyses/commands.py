"""What the layout fix (and LW107's move) need to know of a RUN on top of the shared install
recogniser (:mod:`layerwise.analyses.installs`): whether each command is a dependency install, a command
known *not* to read the build context (system packages, users, folders, downloads), or
something that may read it.
"""

from __future__ import annotations

import posixpath
import re

from layerwise.analyses.installs import Install, strip_prefix
from layerwise.analyses.installs import analyse_run as _analyse_run
from layerwise.analyses.installs import classify as _classify
from layerwise.parse.instructions import Run
from layerwise.records import Record

__all__ = ["CONTEXT_FREE", "Install", "RunAnalysis", "analyse_run", "classify", "command_dirs", "expand_word", "touches_copy"]

# Commands that never read the build context (system packages, users, folders, downloads).
CONTEXT_FREE = frozenset(
    {"apt-get", "apt", "apk", "yum", "dnf", "microdnf", "zypper", "useradd", "adduser",
     "groupadd", "addgroup", "usermod", "mkdir", "ln", "echo", "true", "export", "set",
     "rm", "curl", "wget", "update-ca-certificates", "locale-gen", "dpkg-reconfigure",
     "chown", "chmod", "printf", "cd", "ldconfig"}
)  # fmt: skip

# The JavaScript package managers read the project's package.json (and lock file, sources) in
# almost everything they do: ``npm ci``, ``npm install``, ``npm run build``, ``yarn``, ``npx``,
# ``pnpm install``, ``bun install``, ``node script.js``. Only these uses are known not to:
# settings, the version, and a global install of packages named by name.
_JS_MANAGERS = frozenset({"npm", "yarn", "pnpm", "bun"})
_JS_FREE = frozenset({"config", "set", "get", "--version", "-v"})
_JS_ADD = frozenset({"install", "i", "add"})
_JS_GLOBAL = frozenset({"-g", "--global"})
# options of a global install that take the next word as their value
_JS_VALUED = frozenset({"--cache", "--prefix", "--registry", "--loglevel", "--userconfig", "--tag",
                        "--global-dir", "--dir", "-C"})  # fmt: skip

# (compiled on first use, by re's cache: not at every check's start-up)
#: a Python interpreter as a command names it
PYTHON = r"^(?:.*/)?python(?:3(?:\.\d+)?)?$"
_PIP = r"^(?:.*/)?pip(?:3(?:\.\d+)?)?$"


class RunAnalysis(Record):
    """(A record written out: a dataclass would be built at every start-up.)"""

    _fields = ("installs", "context_free", "opaque", "commands")

    def __init__(self, installs: list[Install], context_free: bool, opaque: bool, commands: list[list[str]]) -> None:
        self.installs = installs
        self.context_free = context_free  # every command is known not to read the build context
        self.opaque = opaque  # we could not read it
        self.commands = commands


def classify(argv: list[str]) -> Install | str | None:
    """An :class:`Install`, ``"free"`` for a command that reads nothing of the context, or
    None (it may read the context)."""
    ins = _classify(argv)
    if ins is not None:
        return ins
    bare, _ = strip_prefix(argv)
    if not bare:
        return "free"
    cmd = posixpath.basename(bare[0])
    if re.match(PYTHON, bare[0]) and bare[1:3] == ["-m", "venv"]:
        return "free"
    if re.match(_PIP, bare[0]) and bare[1:2] in (["config"], ["--version"], ["list"], ["freeze"]):
        return "free"
    if cmd in ("conda", "mamba", "micromamba") and bare[1:2] in (["clean"], ["config"], ["init"]):
        return "free"
    if cmd in _JS_MANAGERS:
        return "free" if _js_context_free(bare[1:]) else None
    if cmd == "corepack":  # `corepack install` (and `corepack` alone) read package.json
        return "free" if bare[1:2] in (["enable"], ["disable"], ["prepare"], ["--version"]) and (
            bare[1] != "prepare" or len(bare) > 2) else None  # fmt: skip
    return "free" if cmd in CONTEXT_FREE else None


def _js_context_free(args: list[str]) -> bool:
    """Whether npm/yarn/pnpm/bun with ``args`` is known not to read the project: a setting,
    the version, or a global install of named packages (``npm install -g pnpm@9``,
    ``yarn global add x``); not an install of the folder, a path or a tarball."""
    if not args:
        return False  # `yarn`, `bun`: install the project's dependencies
    if args[0] in _JS_FREE or (args[0] == "cache" and args[1:2] in (["clean"], ["verify"])):
        return True
    if args[0] == "global" and args[1:2] == ["add"]:  # yarn classic
        rest = args[2:]
    elif args[0] in _JS_ADD and any(a in _JS_GLOBAL for a in args[1:]):
        rest = args[1:]
    else:
        return False
    names: list[str] = []
    skip = False
    for a in rest:
        if skip:
            skip = False
        elif a.startswith("-"):
            skip = a in _JS_VALUED
        else:
            names.append(a)
    return bool(names) and not any(
        n.startswith((".", "/", "~", "file:", "link:", "$")) or n.endswith((".tgz", ".tar.gz")) for n in names
    )


def analyse_run(run: Run) -> RunAnalysis:
    a = _analyse_run(run)
    if a.opaque:
        return RunAnalysis([], False, True, [])
    free = all(
        (c == "free") or (isinstance(c, Install) and not (c.reads or c.project))
        for c in (classify(argv) for argv in a.commands)
    )
    return RunAnalysis(a.installs, free, False, a.commands)


# (compiled on first use, by re's cache)
_VAR = r"\$(?:\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)\}|(?P<plain>[A-Za-z_][A-Za-z0-9_]*))"


def expand_word(word: str, step) -> str | None:
    """A path of a RUN command as the shell sees it: ``$NAME``/``${NAME}`` replaced by the
    value ENV or ARG gives it at that step; None when it holds anything else with ``$`` (a
    variable set elsewhere, the base image's, ``${X:-y}``, ``$(...)``): its path is unknown."""
    if "$" not in word:
        return word
    unknown = False

    def value(m: re.Match[str]) -> str:
        nonlocal unknown
        name = m.group("braced") or m.group("plain")
        v = step.env_get(name)
        if v is None:
            v = step.arg_get(name)
        if v is None:
            unknown = True
            return ""
        return str(v)

    out = re.sub(_VAR, value, word)
    return None if unknown or "$" in out else out


def command_dirs(analysis, step):
    """Each command of the RUN (without its ``A=1 sudo`` prefix) with the folder it runs in:
    the step's WORKDIR, moved by the ``cd`` commands before it (None where a ``cd`` cannot be
    followed: a variable, ``cd -``, a subshell)."""
    cwd: str | None = posixpath.normpath(step.workdir or "/")
    subshell = "(" in " ".join(" ".join(c) for c in analysis.commands)
    for argv in analysis.commands:
        bare, _ = strip_prefix(argv)
        if bare and posixpath.basename(bare[0]) == "cd":
            arg = expand_word(bare[1], step) if len(bare) == 2 else None
            if cwd is None or subshell or arg is None or arg == "-" or arg.startswith("~"):
                cwd = None
            else:
                cwd = posixpath.normpath(posixpath.join(cwd, arg))
        yield argv, bare, cwd


# Commands of the context-free list that work on paths, with the number of words (not options)
# before their paths: above the code copy, one that names a path the copy brings fails (chmod
# +x start.sh: no such file) or is undone by it (chown -R app /app, rm -rf /app/tests).
_PATH_COMMANDS = {"chmod": 1, "chown": 1, "chgrp": 1, "rm": 0}


def touches_copy(analysis, step, dest: str) -> str | None:
    """The first command of the RUN that works on a path at or below ``dest`` (the copy's
    destination), or above it recursively, or on a path layerwise cannot place."""
    for _, bare, cwd in command_dirs(analysis, step):
        cmd = posixpath.basename(bare[0]) if bare else ""
        if cmd not in _PATH_COMMANDS:
            continue
        args = bare[1:]
        words = [w for w in args if not w.startswith("-")]
        skip = 0 if any(a.startswith("--reference") for a in args) else _PATH_COMMANDS[cmd]
        for w in words[skip:]:
            if w.startswith("~"):
                continue  # a home folder's cache (rm -rf ~/.cache/pip)
            path = expand_word(w, step)
            if path is None or (cwd is None and not path.startswith("/")):
                return cmd
            glob = re.search(r"[*?\[]", path)
            if glob:  # /var/lib/apt/lists/*: what it may match lies below the folder before it
                path = path[: glob.start()].rsplit("/", 1)[0] or "/"
            full = posixpath.normpath(posixpath.join(cwd or "/", path))
            if full in (dest, "/") or full.startswith(dest.rstrip("/") + "/") or dest.startswith(full.rstrip("/") + "/"):
                return cmd
    return None
