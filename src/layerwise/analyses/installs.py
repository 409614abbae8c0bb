"""The dependency installs of a RUN, recognised once for every rule (and the fixer).

A RUN's shell text (shell form with continuations already joined by the parser, exec form, a
``sh -c`` exec form, heredoc scripts) is split into simple commands on ``&&``, ``||``, ``;``,
``|`` and newlines as :mod:`shlex` (POSIX) does. Each command is stripped of ``VAR=value``
prefixes and wrappers (``sudo``, ``env``, ``exec``...) and classified: ``python -m pip``,
``pip3``, ``/venv/bin/pip``, ``uv pip install``, ``uv sync``, ``poetry install``, ``pdm
install/sync``, ``pipenv install/sync``, ``pip-sync``, ``conda/mamba/micromamba
install/create``, ``python setup.py install/develop``. Shell we cannot tokenise yields no
commands (``opaque``), never an exception.
"""

from __future__ import annotations

import posixpath
import re
import shlex

from layerwise.parse.instructions import Run
from layerwise.records import Record

_ASSIGN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_PY = re.compile(r"^(?:.*/)?python(?:3(?:\.\d+)?)?(?:\.exe)?$", re.I)
_PIP = re.compile(r"^(?:.*/)?pip(?:3(?:\.\d+)?)?(?:\.exe)?$", re.I)
_WRAPPERS = frozenset({"sudo", "exec", "env", "time", "nice", "nohup", "command", "xargs"})
_HEREDOC_ONLY = r"""^\s*<<-?\s*(["']?)[A-Za-z0-9_.-]+\1\s*$"""  # (compiled on first use)
_SHELLS = frozenset({"sh", "bash", "/bin/sh", "/bin/bash", "/usr/bin/env", "dash", "ash", "zsh"})
#: shell words that start a command but are not part of it (split_commands drops them)
SHELL_KEYWORDS = frozenset({"if", "then", "else", "elif", "do", "while", "until", "!", "{", "}", "fi", "done"})
#: ``sh -c SCRIPT``: the shells and flags whose script argument analyse_run reads as commands
SH_C_SHELLS = frozenset({"sh", "bash", "dash", "ash"})
SH_C_FLAGS = frozenset({"-c", "-ec", "-xc", "-exc", "-lc"})

# pip options that take a value (so the value is not a requirement)
_PIP_VALUE_OPTS = frozenset(
    {"-i", "--index-url", "--extra-index-url", "-f", "--find-links", "--target", "-t",
     "--prefix", "--root", "--platform", "--python-version", "--only-binary", "--no-binary",
     "--progress-bar", "--cache-dir", "--src", "--upgrade-strategy", "--trusted-host",
     "--python", "--implementation", "--abi", "--log", "--proxy", "--retries", "--timeout",
     "--exists-action", "--cert", "--client-cert", "--global-option", "--install-option",
     "--config-settings", "-C", "--report", "--root-user-action", "--keyring-provider",
     "--index-strategy", "--python-preference", "--link-mode", "--resolution", "--prerelease", "--python-platform",
     "--extra", "--group", "--exclude-newer", "--default-index", "--index", "-p",
     "--override", "--build-constraint", "-b", "--build-constraints", "--compile-bytecode-jobs",
     "--wheel-dir", "-w", "-d", "--dest", "--use-feature", "--use-deprecated", "--hash"}
)  # fmt: skip
_REQ_OPTS = {"-r": "requirements", "--requirement": "requirements", "--requirements": "requirements", "-c": "constraints",
             "--constraint": "constraints", "--override": "constraints"}  # fmt: skip
# global pip options allowed before the subcommand (``pip3 --no-cache-dir install``)
_PIP_GLOBAL_VALUE = frozenset({"--cache-dir", "--log", "--proxy", "--retries", "--timeout",
                               "--exists-action", "--cert", "--client-cert", "--python"})  # fmt: skip

MANAGER_LOCKS = {
    "poetry": ("pyproject.toml", "poetry.lock"),
    "uv": ("pyproject.toml", "uv.lock"),
    "pdm": ("pyproject.toml", "pdm.lock"),
    "pipenv": ("Pipfile", "Pipfile.lock"),
}


TOOLS = frozenset(
    {"pip", "setuptools", "wheel", "poetry", "uv", "pipenv", "pdm", "virtualenv", "pip-tools",
     "hatch", "hatchling", "build", "flit", "flit-core", "poetry-plugin-export", "poetry-core",
     "cython", "pipx", "micropipenv", "setuptools-scm", "conda-pack"}
)  # fmt: skip


def requirement_name(req: str) -> str:
    """``Flask[async]>=2`` -> ``flask`` (normalised as PEP 503 does)."""
    m = re.match(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)", req)
    return re.sub(r"[-_.]+", "-", m.group(1)).lower() if m else req.lower()


class Install(Record):
    """One dependency install inside a RUN.

    (This module's records are written out: a dataclass would be built at every start-up.)"""

    _fields = ("manager", "action", "argv", "env", "requirements", "constraints", "reads", "project", "targets",
               "packages", "editable", "options", "text")  # fmt: skip

    def __init__(self, manager: str, action: str, argv: list[str], env: dict[str, str] | None = None,
                 requirements: list[str] | None = None, constraints: list[str] | None = None,
                 reads: list[str] | None = None, project: bool = False, targets: list[str] | None = None,
                 packages: list[str] | None = None, editable: list[str] | None = None,
                 options: list[str] | None = None, text: str = "") -> None:  # fmt: skip
        self.manager = manager  # pip | uv-pip | uv | poetry | pdm | pipenv | pip-sync | conda | setuptools
        self.action = action  # install | sync | create | develop ...
        self.argv = argv
        self.env: dict[str, str] = {} if env is None else env  # inline VAR=value prefixes
        self.requirements: list[str] = [] if requirements is None else requirements  # -r files (as written)
        self.constraints: list[str] = [] if constraints is None else constraints  # -c files
        self.reads: list[str] = [] if reads is None else reads  # every file it reads (reqs, locks...)
        self.project = project  # installs the local project (needs its sources)
        self.targets: list[str] = [] if targets is None else targets  # local project paths it installs
        self.packages: list[str] = [] if packages is None else packages  # named requirements (pip install x y)
        self.editable: list[str] = [] if editable is None else editable  # -e values
        self.options: list[str] = [] if options is None else options  # option words as written
        self.text = text

    def has(self, *names: str) -> bool:
        """Whether any of the options is given (``--opt`` or ``--opt=value``)."""
        for o in self.options:
            name = o.split("=", 1)[0]
            if name in names:
                return True
        return False

    @property
    def downloads(self) -> bool:
        """Whether it fetches packages (and so fills a package cache)."""
        if self.manager == "setuptools":
            return True
        return bool(self.requirements or self.packages or self.project or self.reads or self.editable)

    @property
    def tools_only(self) -> bool:
        """Installs only packaging tools (``pip install -U pip``, ``pip install poetry==2.1``)."""
        if self.project or self.reads or self.editable or not self.packages:
            return False
        return all(requirement_name(p) in TOOLS for p in self.packages)

    @property
    def deps_only(self) -> bool:
        """Installs dependencies but not the project itself."""
        return not self.project


class RunAnalysis(Record):
    _fields = ("commands", "installs", "opaque", "text")

    def __init__(self, commands: list[list[str]], installs: list[Install], opaque: bool, text: str) -> None:
        self.commands = commands  # simple commands, argv each (env prefixes kept)
        self.installs = installs
        self.opaque = opaque  # the shell text could not be tokenised
        self.text = text  # the shell text analysed

    def words(self) -> list[str]:
        return [w for c in self.commands for w in c]


def run_text(run: Run) -> str:
    """The shell script a RUN executes, as text."""
    if run.prepend_shell:
        text = " ".join(run.cmd_line)
        if run.files and re.match(_HEREDOC_ONLY, text):
            return "\n".join(h.content for h in run.files)
        first = text.split(None, 1)[0] if text.strip() else ""
        if run.files and posixpath.basename(first) in {posixpath.basename(s) for s in _SHELLS}:
            text += "\n" + "\n".join(h.content for h in run.files)
        return text
    argv = list(run.cmd_line)
    if len(argv) >= 3 and posixpath.basename(argv[0]) in SH_C_SHELLS and (argv[1] in SH_C_FLAGS or argv[1] == "-ex"):
        return argv[2]
    return shlex.join(argv)


#: split_commands' lexer is ``shlex`` in POSIX mode (whitespace " \t\r", whitespace_split,
#: punctuation ``;&|\n()``, ``#`` comments), written as regexes: shlex reads a character at a
#: time in Python, and the corpus's checks spent a tenth of their time there (#17).
#: tests/fuzz/test_split_commands_properties.py checks it against shlex itself. One match is
#: white space; a comment (shlex's readline: it takes the newline that ends it); a token (a run of
#: punctuation, or a word: unquoted characters, '...', "..." and \X pieces up to white space,
#: punctuation, ``#`` or the end); or a quote or backslash that starts no piece (an unclosed
#: quote, a backslash at the end), where shlex raises ValueError.
_SHLEX_TOKEN = r"""(?s)[ \t\r]+|\#[^\n]*\n?|([;&|\n()]+|(?:[^ \t\r;&|\n()'"\\\#]+|'[^']*'|"(?:[^"\\]|\\.)*"|\\.)+)|(['"\\])"""
#: the quoted pieces of a word; inside "...", shlex drops a backslash only before " and \
#: (flags inline, (?s): an re.S argument costs an enum operation on every call)
_SHLEX_PIECE = r"""(?s)'([^']*)'|"((?:[^"\\]|\\.)*)"|\\(.)"""
_QUOTING = frozenset("'\"\\")


def _unquote_piece(m: re.Match) -> str:
    single, double, escaped = m.groups()
    if single is not None:
        return single
    if double is not None:
        return re.sub(r'\\([\\"])', r"\1", double)
    return escaped


def _tokens(text: str) -> list[str]:
    """The tokens of :func:`split_commands`' lexer, as ``shlex`` reads them (quotes removed);
    ValueError where shlex raises it."""
    out = []
    for token, bad in re.findall(_SHLEX_TOKEN, text):
        if bad:
            raise ValueError(f"no closing {bad}" if bad != "\\" else "no escaped character")
        if token:
            out.append(re.sub(_SHLEX_PIECE, _unquote_piece, token) if _QUOTING & set(token) else token)
    return out


def split_commands(text: str) -> list[list[str]] | None:
    """Simple commands of a shell text, or None when it cannot be tokenised."""
    out: list[list[str]] = []
    try:
        current: list[str] = []
        for tok in _tokens(text):
            if tok and not tok.strip(";&|\n()"):  # only separators (a quoted ";" too, as before)
                if current:
                    out.append(current)
                current = []
            else:
                current.append(tok)
        if current:
            out.append(current)
    except ValueError:
        return None
    # shell keywords that start a command: if/then/do... are not part of it
    cleaned = []
    for argv in out:
        while argv and argv[0] in SHELL_KEYWORDS:
            argv = argv[1:]
        if argv:
            cleaned.append(argv)
    return cleaned


def strip_prefix(argv: list[str]) -> tuple[list[str], dict[str, str]]:
    """``A=1 sudo -E pip install x`` -> (``pip install x``, {A: 1})."""
    env: dict[str, str] = {}
    i = 0
    while i < len(argv):
        a = argv[i]
        if _ASSIGN.match(a):
            k, _, v = a.partition("=")
            env[k] = v
            i += 1
        elif posixpath.basename(a) in _WRAPPERS:
            i += 1
            while i < len(argv) and argv[i].startswith("-") and not _ASSIGN.match(argv[i]):
                i += 1  # sudo -E, env -i, ...
        else:
            break
    return argv[i:], env


def _parse_pip_args(ins: Install, argv: list[str], start: int) -> Install:
    i = start
    while i < len(argv):
        a = argv[i]
        name, eq, value = a.partition("=")
        if name in _REQ_OPTS or (len(a) > 2 and a[:2] in ("-r", "-c") and not a.startswith("--")):
            kind = _REQ_OPTS.get(name) or _REQ_OPTS[a[:2]]
            if name in _REQ_OPTS:
                if eq:
                    val = value
                elif i + 1 < len(argv):
                    val = argv[i + 1]
                    i += 1
                else:
                    val = ""
            else:
                val = a[2:]
            if val:
                (ins.requirements if kind == "requirements" else ins.constraints).append(val)
                ins.reads.append(val)
            ins.options.append(name if name in _REQ_OPTS else a[:2])
        elif a in ("-e", "--editable") or a.startswith("--editable="):
            target = value if a.startswith("--editable=") else (argv[i + 1] if i + 1 < len(argv) else "")
            if not a.startswith("--editable="):
                i += 1
            ins.options.append("--editable")
            ins.editable.append(target)
            if is_local(target):
                ins.project = True
                ins.targets.append(target)
            elif target:
                ins.packages.append(target)
        elif a.startswith("-"):
            ins.options.append(a)
            if a in _PIP_VALUE_OPTS and not eq:
                i += 1
                if i < len(argv):
                    ins.options[-1] = a + "=" + argv[i]
        elif is_local(a):
            ins.project = True
            ins.targets.append(a)
        else:
            ins.packages.append(a)
        i += 1
    return ins


def is_local(target: str) -> bool:
    """``.``, ``./pkg``, ``/app``, ``.[extra]``, ``dist/*.whl``, ``pkg.tar.gz``: a path, not a name."""
    base = re.split(r"\[", target, maxsplit=1)[0].strip()
    if not base:
        return False
    if base in (".", "./", ".."):
        return True
    if "://" in base or base.startswith("git+") or "@" in base:
        return False
    if base.startswith(("./", "../", "/", "~", "$")):
        return True
    return base.endswith((".whl", ".tar.gz", ".zip", ".tgz")) or ("/" in base and not re.match(r"^[A-Za-z0-9_.-]+$", base))


# ``pdm run CMD``, ``poetry run CMD``, ``uv run CMD``, ``pipenv run CMD``: CMD runs in the
# project's environment; the options of ``run`` that take a value
_RUNNERS = frozenset({"pdm", "poetry", "uv", "pipenv", "hatch", "rye"})
_RUN_VALUE_OPTS = frozenset({"-p", "--project", "--python", "--with", "--directory", "-s", "--site-packages",
                             "--env-file", "--extra", "--group", "--package", "--index", "--index-url",
                             "-e", "--env", "--venv", "--with-requirements"})  # fmt: skip


def _runner_command(argv: list[str]) -> list[str] | None:
    """The command a ``pdm run``/``uv run``/... runs, or None when ``argv`` is not one."""
    if len(argv) < 3 or posixpath.basename(argv[0]).lower() not in _RUNNERS or argv[1] != "run":
        return None
    i = 2
    while i < len(argv) and argv[i].startswith("-"):
        if argv[i] == "--":
            i += 1
            break
        if argv[i] in _RUN_VALUE_OPTS and "=" not in argv[i]:
            i += 1
        i += 1
    return argv[i:] or None


def classify(argv: list[str]) -> Install | None:
    """The install a simple command runs, or None."""
    argv, env = strip_prefix(argv)
    if not argv:
        return None
    inner = _runner_command(argv)
    if inner is not None:  # pdm run pip install -r requirements.txt
        ins = classify(inner)
        if ins is not None:
            ins.env = {**env, **ins.env}
        return ins
    cmd = argv[0]
    base = posixpath.basename(cmd).lower()
    if _PY.match(cmd):
        rest = argv[1:]
        while rest and rest[0] in ("-u", "-B", "-E", "-s", "-I", "-O", "-OO", "-q"):
            rest = rest[1:]
        if len(rest) >= 2 and rest[0] == "-m" and rest[1] in ("pip", "pip3"):
            argv = ["pip", *rest[2:]]
            cmd, base = "pip", "pip"
        elif len(rest) >= 2 and rest[0] == "-m" and rest[1] in ("uv", "poetry", "pipenv", "pdm"):
            argv = [rest[1], *rest[2:]]
            cmd = base = rest[1]
        elif rest and posixpath.basename(rest[0]) == "setup.py" and len(rest) > 1 and rest[1] in ("install", "develop"):
            ins = Install("setuptools", rest[1], argv, env, project=True,
                          targets=[posixpath.dirname(rest[0]) or "."], reads=[rest[0]])  # fmt: skip
            ins.options = [a for a in rest[2:] if a.startswith("-")]
            return ins
        else:
            return None
    if _PIP.match(cmd):
        i = 1
        options: list[str] = []
        while i < len(argv) and argv[i].startswith("-"):  # global options first: pip3 --no-cache-dir install
            options.append(argv[i])
            if argv[i] in _PIP_GLOBAL_VALUE and i + 1 < len(argv):
                i += 1
                options[-1] += "=" + argv[i]
            i += 1
        if i < len(argv) and argv[i] in ("install", "wheel", "download"):
            ins = _parse_pip_args(Install("pip", argv[i], argv, env), argv, i + 1)
            ins.options = options + ins.options
            return ins
        return None
    if base == "uv":
        if len(argv) > 2 and argv[1] == "pip" and argv[2] in ("install", "sync"):
            if argv[2] == "sync":
                files = [a for a in argv[3:] if not a.startswith("-")]
                return Install("uv-pip", "sync", argv, env, requirements=files, reads=list(files),
                               options=[a for a in argv[3:] if a.startswith("-")])  # fmt: skip
            return _parse_pip_args(Install("uv-pip", "install", argv, env), argv, 3)
        if len(argv) > 1 and argv[1] == "sync":
            opts = [a for a in argv[2:] if a.startswith("-")]
            ins = Install("uv", "sync", argv, env, reads=["pyproject.toml", "uv.lock"], options=opts)
            ins.project = not ins.has("--no-install-project", "--only-deps", "--no-install-workspace")
            ins.targets = ["."] if ins.project else []
            return ins
        return None
    if base == "poetry" and len(argv) > 1 and argv[1] in ("install", "sync"):
        opts = [a for a in argv[2:] if a.startswith("-")]
        ins = Install("poetry", argv[1], argv, env, reads=["pyproject.toml", "poetry.lock"], options=opts)
        ins.project = not ins.has("--no-root")
        ins.targets = ["."] if ins.project else []
        return ins
    if base == "pdm":
        # global options before the command: pdm --no-cache -v install
        k, glob = 1, []
        while k < len(argv) and argv[k].startswith("-"):
            glob.append(argv[k])
            if argv[k] in ("-c", "--config") and k + 1 < len(argv):
                k += 1
            k += 1
        if k < len(argv) and argv[k] in ("install", "sync"):
            opts = glob + [a for a in argv[k + 1 :] if a.startswith("-")]
            ins = Install("pdm", argv[k], argv, env, reads=["pyproject.toml", "pdm.lock"], options=opts)
            ins.project = not ins.has("--no-self")
            ins.targets = ["."] if ins.project else []
            return ins
        return None
    if base == "pipenv" and len(argv) > 1 and argv[1] in ("install", "sync"):
        opts = [a for a in argv[2:] if a.startswith("-")]
        names = [a for a in argv[2:] if not a.startswith("-")]
        ins = Install("pipenv", argv[1], argv, env, options=opts)
        if names:
            ins.packages = names
        else:
            ins.reads = ["Pipfile", "Pipfile.lock"]
        return ins
    if base == "pip-sync":
        files = [a for a in argv[1:] if not a.startswith("-")] or ["requirements.txt"]
        return Install("pip-sync", "sync", argv, env, requirements=files, reads=list(files),
                       options=[a for a in argv[1:] if a.startswith("-")])  # fmt: skip
    if base in ("conda", "mamba", "micromamba"):
        rest = argv[1:]
        if rest[:2] in (["env", "create"], ["env", "update"]) or (rest and rest[0] in ("create", "install", "update")):
            files = []
            for j, a in enumerate(rest):
                if a in ("-f", "--file") and j + 1 < len(rest):
                    files.append(rest[j + 1])
                elif a.startswith("--file="):
                    files.append(a.split("=", 1)[1])
            action = " ".join(rest[:2]) if rest[0] == "env" else rest[0]
            if not files and rest[:2] == ["env", "create"]:
                files = ["environment.yml"]
            ins = Install("conda", action, argv, env, reads=files, requirements=files,
                          options=[a for a in rest if a.startswith("-")])  # fmt: skip
            skip = False
            for a in rest[1 if rest[0] != "env" else 2 :]:
                if skip:
                    skip = False
                    continue
                if a in ("-f", "--file", "-n", "--name", "-p", "--prefix", "-c", "--channel", "-r", "--root-prefix"):
                    skip = True
                elif not a.startswith("-"):
                    ins.packages.append(a)
            return ins
        return None
    return None


def analyse_run(run: Run) -> RunAnalysis:
    text = run_text(run)
    commands = split_commands(text)
    if commands is None:
        return RunAnalysis([], [], True, text)
    expanded: list[list[str]] = []
    for argv in commands:  # ``bash -c "pip install ..."``: the script's commands too
        bare, _ = strip_prefix(argv)
        if len(bare) >= 3 and posixpath.basename(bare[0]) in SH_C_SHELLS and bare[1] in SH_C_FLAGS:
            inner = split_commands(bare[2])
            if inner:
                expanded += inner
                continue
        expanded.append(argv)
    commands = expanded
    installs = []
    for argv in commands:
        ins = classify(argv)
        if ins is not None:
            ins.text = shlex.join(argv)
            installs.append(ins)
    return RunAnalysis(commands, installs, False, text)


def pdm_scripts(pyproject: dict | None) -> dict[str, str]:
    """The ``[tool.pdm.scripts]`` of a pyproject.toml that run a command line (``name =
    "cmd"``, ``{cmd = "..."}`` or ``{cmd = [...]}``, ``{shell = "..."}``), by name."""
    tool = pyproject.get("tool") if isinstance(pyproject, dict) else None
    pdm = tool.get("pdm") if isinstance(tool, dict) else None
    scripts = pdm.get("scripts") if isinstance(pdm, dict) else None
    out: dict[str, str] = {}
    for name, value in (scripts or {}).items() if isinstance(scripts, dict) else ():
        if isinstance(value, dict):
            value = value.get("cmd", value.get("shell"))
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            value = shlex.join(value)
        if isinstance(name, str) and isinstance(value, str):
            out[name] = value
    return out


def with_scripts(a: RunAnalysis, scripts: dict[str, str]) -> RunAnalysis:
    """``a`` with the installs that ``pdm run NAME`` runs through a script of ``scripts``
    (``install-deps = "pdm install --prod"``); the analysis itself when there is none."""
    if a.opaque or not scripts:
        return a
    extra: list[Install] = []
    for argv in a.commands:
        bare, env = strip_prefix(argv)
        inner = _runner_command(bare) if bare and posixpath.basename(bare[0]) == "pdm" else None
        if not inner or inner[0] not in scripts:
            continue
        for cmd in split_commands(scripts[inner[0]]) or []:
            ins = classify(cmd)
            if ins is not None:
                ins.env = {**env, **ins.env}
                ins.text = shlex.join(cmd)
                extra.append(ins)
    if not extra:
        return a
    return RunAnalysis(a.commands, a.installs + extra, a.opaque, a.text)


def command_names(a: RunAnalysis) -> list[str]:
    """The program names of a RUN's commands (``apt-get``, ``pip``...), env prefixes stripped."""
    out = []
    for argv in a.commands:
        argv, _ = strip_prefix(argv)
        if argv:
            out.append(posixpath.basename(argv[0]))
    return out
