"""layerwise as a library: what the commands do, as calls that return their results.

``layerwise.check_project``, ``layerwise.check_text`` and ``layerwise.explain_project`` (also
importable from the package itself). The CLI is a thin layer over these: it parses options,
calls them and renders what they return. Errors are :class:`~layerwise.errors.LayerwiseError`
(one located line), never printed here.

>>> import layerwise
>>> result = layerwise.check_text("FROM python:3.12\\nADD . /app\\n", select=["LW502"])
>>> [(f.code, f.line) for f in result.findings]
[('LW502', 2)]
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping

from layerwise.records import Record

TYPE_CHECKING = False  # (typing.TYPE_CHECKING without importing typing at start-up)
if TYPE_CHECKING:
    from layerwise.analyses.check import CheckResult
    from layerwise.analyses.explain import Explanation
    from layerwise.analyses.rules import Rule
    from layerwise.config import Config

DOCKERFILE_NAMES = ("Dockerfile", "Containerfile", "dockerfile")
# files whose presence says "this folder is a project" (a build context)
PROJECT_MARKERS = ("pyproject.toml", "requirements.txt", "setup.py", "setup.cfg", ".dockerignore",
                   "Pipfile", "uv.lock", "poetry.lock", "pdm.lock", "environment.yml", ".git")  # fmt: skip


def _codes(values: Iterable[str] | str | None) -> list[str] | None:
    if values is None:
        return None
    from layerwise.analyses.selection import codes

    return codes([values] if isinstance(values, str) else values)


def rules_for(
    select: Iterable[str] | str | None = None,
    ignore: Iterable[str] | str = (),
    extend_select: Iterable[str] | str = (),
    config: Config | None = None,
) -> list[Rule]:
    """The rules a selection turns on, as ``check --select/--ignore/--extend-select`` reads it
    (code prefixes or ``ALL``; the longest prefix wins; ``config``'s ``[tool.layerwise]``
    selection underneath). An unknown code is a :class:`~layerwise.errors.UsageError`."""
    from layerwise.analyses.check import selected_rules
    from layerwise.analyses.selection import rule_selection
    from layerwise.config import Config

    sel, ign = rule_selection(config or Config(), tuple(_codes(select) or ()), tuple(_codes(ignore) or ()),
                              tuple(_codes(extend_select) or ()))  # fmt: skip
    return selected_rules(sel, ign)


def guess_context(dockerfile: str) -> str | None:
    """The build context of a Dockerfile named alone: the nearest folder, from the Dockerfile's
    own up to the current one, that looks like a project (None: none)."""
    d = os.path.abspath(os.path.dirname(dockerfile) or ".")
    cwd = os.path.abspath(".")
    while True:
        if any(os.path.exists(os.path.join(d, m)) for m in PROJECT_MARKERS):
            return os.path.relpath(d) if d == cwd or d.startswith(cwd + os.sep) else d
        if d == cwd or not d.startswith(cwd + os.sep):
            return None
        d = os.path.dirname(d)


def project_dockerfile(path: str | os.PathLike[str]) -> str:
    """The Dockerfile of a project folder (``Dockerfile``, ``Containerfile``, ``dockerfile``)."""
    from layerwise.errors import Location, UsageError

    p = os.fspath(path)
    found = next((os.path.join(p, n) for n in DOCKERFILE_NAMES if os.path.isfile(os.path.join(p, n))), None)
    if found is None:
        raise UsageError("no Dockerfile here (name one, or use -f)", Location(p))
    return found


# compiled on first use (re's cache), not at every check's start-up
_DOCKERFILE_NAME = r"^((Docker|Container)file|dockerfile)(\.[^/]*)?$|\.(docker|container)file$"


def _dockerfiles_in(folder: str) -> list[str]:
    """The Dockerfiles of a folder (Dockerfile, Dockerfile.prod, app.dockerfile...), sorted."""
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return []
    return [os.path.join(folder, n) for n in names
            if re.search(_DOCKERFILE_NAME, n) and not n.endswith(".dockerignore") and os.path.isfile(os.path.join(folder, n))]


def changed_file_targets(paths: tuple[str, ...], cfg) -> list[tuple[str, str | None]]:
    """(Dockerfile, context) pairs to check when ``paths`` changed (the pre-commit hook): a
    Dockerfile is checked with the project around it; a dependency file, lock file,
    ``pyproject.toml``, CI file or ``.dockerignore`` makes the project it belongs to checked
    (the Dockerfiles of the nearest folder above it that has some, up to the current one, or
    the configured one).
    A file no project's Dockerfile sits above is skipped."""
    out: dict[str, tuple[str, str | None]] = {}

    def add(df: str, ctx: str | None) -> None:
        out.setdefault(os.path.abspath(df), (df, ctx))

    cwd = os.path.abspath(".")
    for p in paths:
        name = os.path.basename(p)
        if re.search(_DOCKERFILE_NAME, name) and not name.endswith(".dockerignore"):
            if os.path.isfile(p):
                add(p, guess_context(p))
            continue
        if name.endswith(".dockerignore") and name != ".dockerignore":
            df = p[: -len(".dockerignore")]  # Dockerfile.dockerignore belongs to Dockerfile
            if os.path.isfile(df):
                add(df, guess_context(df))
                continue
        d = os.path.abspath(os.path.dirname(p) or ".")
        found: list[str] = []
        while d == cwd or d.startswith(cwd + os.sep):
            found = _dockerfiles_in(d)
            if found or d == cwd:
                break
            d = os.path.dirname(d)
        for df in found:
            add(os.path.relpath(df), os.path.relpath(d))
        if not found and cfg.dockerfile and os.path.isfile(cfg.resolve(cfg.dockerfile)):
            df = cfg.resolve(cfg.dockerfile)
            add(df, cfg.resolve(cfg.context) if cfg.context else os.path.dirname(df) or ".")
    return list(out.values())


def default_context(path: str | None = None, cfg=None) -> str:
    """The build context when none is named, for every command: the folder PATH when one is
    given, else the current folder, as ``docker build [-f DOCKERFILE] PATH`` (a Dockerfile
    elsewhere, such as ``docker/Dockerfile``, does not move it). With ``[tool.layerwise]
    dockerfile`` and no PATH: its ``context``, else the folder of that ``pyproject.toml``."""
    if path is not None and os.path.isdir(path):
        return path
    if cfg is not None and cfg.dockerfile:
        return _shown(cfg.resolve(cfg.context or "."))
    return "."


def _shown(path: str) -> str:
    """``path`` relative to the current folder when it is in it, else as it is."""
    cwd = os.path.abspath(".")
    a = os.path.abspath(path)
    return os.path.relpath(a) if a == cwd or a.startswith(cwd + os.sep) else os.path.normpath(path)


def context_line(dockerfile: str, context: str | None) -> str:
    """``context: . (Dockerfile: docker/Dockerfile)``: the one line that says what was used."""
    if context is None:
        return f"context: none (--no-context; Dockerfile: {_shown(dockerfile)})"
    return f"context: {_shown(context)} (Dockerfile: {_shown(dockerfile)})"


def context_is_elsewhere(dockerfile: str, context: str | None) -> bool:
    """Whether the Dockerfile is not directly in its context folder (then the context used is
    worth saying: ``docker/Dockerfile`` built with ``.``)."""
    if context is None:
        return False
    return os.path.abspath(os.path.dirname(dockerfile) or ".") != os.path.abspath(context)


def _inside_cwd(path: str) -> bool:
    cwd = os.path.abspath(".")
    return os.path.abspath(path).startswith(cwd + os.sep)


def project_targets(paths: tuple[str, ...], dockerfile: str | None, context: str | None, no_context: bool, cfg):
    """(Dockerfile, context or None) pairs that ``check PATHS [-f DOCKERFILE] [--context DIR]``
    checks: folders (their Dockerfile, themselves as context), Dockerfiles named (as with
    ``-f``: the context is ``--context``, else the current folder; a Dockerfile outside the
    current folder is checked alone), ``cfg``'s
    ``[tool.layerwise] dockerfile``/``context`` when no path is given (see
    :func:`default_context`)."""
    from layerwise.errors import Location, UsageError

    out: list[tuple[str, str | None]] = []
    if not paths:
        if dockerfile is None and cfg.dockerfile:
            dockerfile = _shown(cfg.resolve(cfg.dockerfile))
            if context is None:
                context = default_context(None, cfg)
        paths = (".",) if dockerfile is None else ()
    if dockerfile is not None:
        if not os.path.isfile(dockerfile):
            raise UsageError("no such Dockerfile", Location(dockerfile))
        ctx = None if no_context else (context or default_context(paths[0] if paths else None))
        out.append((dockerfile, ctx))
        paths = tuple(p for p in paths if not os.path.isdir(p))
    for p in paths:
        if os.path.isdir(p):
            found = next((os.path.join(p, n) for n in DOCKERFILE_NAMES if os.path.isfile(os.path.join(p, n))), None)
            if found is None:
                raise UsageError("no Dockerfile here (name one, or use -f)", Location(p))
            out.append((found, None if no_context else (context or p)))
        elif os.path.isfile(p):
            # as with -f, the current folder; a Dockerfile outside it is checked alone
            inside = _inside_cwd(p)
            out.append((p, None if no_context or (context is None and not inside) else (context or default_context())))
        else:
            raise UsageError("no such file or folder", Location(p))
    return out


def check_text(
    dockerfile_text: str,
    *,
    context: str | os.PathLike[str] | None = None,
    path: str = "Dockerfile",
    select: Iterable[str] | str | None = None,
    ignore: Iterable[str] | str = (),
    extend_select: Iterable[str] | str = (),
    rules: list[Rule] | None = None,
    severities: Mapping[str, str] | None = None,
    build_args: Mapping[str, str] | None = None,
) -> CheckResult:
    """Check a Dockerfile given as text. ``context``: the build context folder (None: the rules
    that need one are skipped, as with ``check --no-context``). ``path`` is where the Dockerfile
    sits, relative to the context (or as shown, without one): it names the findings and tells
    the rules whether ``COPY .`` copies the Dockerfile itself. Inline directives apply; no
    ``[tool.layerwise]`` is read (pass ``select``/``ignore``/``severities``)."""
    from layerwise.analyses.check import check_parsed
    from layerwise.analyses.project import ProjectContext
    from layerwise.parse import parse

    df = parse(dockerfile_text, path)
    on_disk = os.path.join(os.fspath(context), path) if context is not None and not os.path.isabs(path) else path
    project = ProjectContext(context, on_disk)
    if rules is None:
        rules = rules_for(select, ignore, extend_select)
    return check_parsed(df, path, project, rules=rules, severities=severities, build_args=build_args)


def check_project(
    path: str | os.PathLike[str] = ".",
    *,
    dockerfile: str | os.PathLike[str] | None = None,
    context: str | os.PathLike[str] | None = None,
    no_context: bool = False,
    select: Iterable[str] | str | None = None,
    ignore: Iterable[str] | str = (),
    extend_select: Iterable[str] | str = (),
    rules: list[Rule] | None = None,
    severities: Mapping[str, str] | None = None,
    build_args: Mapping[str, str] | None = None,
    config: bool | Config = True,
    display_path: str | None = None,
) -> CheckResult:
    """Check one project: ``path`` is its folder (its Dockerfile and build context) or a
    Dockerfile (the context is then the current folder, as with ``docker build -f``).
    ``dockerfile``/``context`` name them apart; ``no_context`` checks the Dockerfile alone.
    ``config``: read ``[tool.layerwise]`` from the project's ``pyproject.toml`` (True), not
    (False), or this :class:`~layerwise.config.Config`. ``rules`` (a list from
    :func:`rules_for`) replaces ``select``/``ignore``/``extend_select``. Findings are those
    ``check`` prints, with the configured severities; parse errors raise."""
    from layerwise.analyses.check import check_dockerfile
    from layerwise.config import Config, load_config
    from layerwise.errors import Location, UsageError

    p = os.fspath(path)
    if isinstance(config, Config):
        cfg = config
    elif config:
        cfg = load_config(p if os.path.isdir(p) else os.path.dirname(p) or ".")
    else:
        cfg = Config()
    if dockerfile is None and os.path.isdir(p) and cfg.dockerfile:  # [tool.layerwise] dockerfile
        dockerfile = cfg.resolve(cfg.dockerfile)
        if context is None:
            context = cfg.resolve(cfg.context or ".")
    if dockerfile is not None:
        df = os.fspath(dockerfile)
        if not os.path.isfile(df):
            raise UsageError("no such Dockerfile", Location(df))
        ctx = context if context is not None else default_context(p)
    elif os.path.isdir(p):
        df, ctx = project_dockerfile(p), context if context is not None else p
    elif os.path.isfile(p):
        df, ctx = p, context if context is not None else default_context()
    else:
        raise UsageError("no such file or folder", Location(p))
    if rules is None:
        rules = rules_for(select, ignore, extend_select, cfg)
    sev = {**cfg.severity, **{k.upper(): v for k, v in (severities or {}).items()}}
    return check_dockerfile(df, context=None if no_context else ctx, display_path=display_path or os.path.normpath(df),
                            rules=rules, severities=sev, build_args=build_args)  # fmt: skip


class ProjectExplanation(Record):
    """What :func:`explain_project` returns: the prediction and the two states compared (a
    record written out: a dataclass would be built at every start-up)."""

    _fields = ("explanation", "before", "after", "warnings")

    def __init__(self, explanation: Explanation, before: str, after: str, warnings: list[str] | None = None) -> None:
        self.explanation = explanation
        self.before = before  # the state the cache was built from, as named for people ("HEAD (1a2b3c4)")
        self.after = after  # the state to build next
        # files a step copies that cannot be read: BuildKit sends them empty (the image gets an
        # empty file; the build goes on), as predicted; worth a warning
        self.warnings: list[str] = [] if warnings is None else warnings


def ci_volatile_args(ci, dockerfile: str, text: bytes, given) -> tuple[dict[str, str], dict[str, str], list[str]]:
    """The build arguments that a CI build (of the CI model ``ci``) of ``dockerfile`` (whose ``text`` declares them)
    sets to a value that changes on every build (its commit's SHA, run number, date; not a
    version, which changes with a release only; none of ``given``): their values for the
    build before and for this one (two different ones), and what the prediction assumes."""
    import re

    from layerwise.analyses.cicache import volatile_args

    before: dict[str, str] = {}
    after: dict[str, str] = {}
    said: list[str] = []
    for b in ci.builds_of(dockerfile):
        for name, (what, when) in volatile_args(b).items():
            if name in given or name in after or when == "every release":
                continue
            if not re.search(rb"(?im)^[ \t]*ARG[ \t]+" + re.escape(name.encode()) + rb"\b", text):
                continue  # (an argument the Dockerfile does not declare is not used)
            before[name], after[name] = f"<{what} of the build before>", f"<{what} of this build>"
            said.append(f"{b.path}:{b.pos.line} sets the build argument {name} to {what}: a new value with {when}")
    return before, after, said


def ci_cache_mode(path: str, dockerfile: str, ci=None) -> tuple[str, str]:
    """The cache a fresh CI runner imports for ``dockerfile``, from the project's CI builds of
    it: the mode of the export that a build's ``cache-from`` reads (``max`` or ``min``; the
    first build of the Dockerfile whose import some CI build exports), else ``none`` (no
    ``cache-from``, or one that no CI build exports: the import finds nothing); with where
    that was read. Without a CI build of it: ``max`` (the recommended setup). ``ci``: the
    project's CI model when it was read already."""
    from layerwise.analyses.cicache import exporters
    from layerwise.ci import load_ci

    ci = load_ci(path) if ci is None else ci
    builds = ci.builds_of(dockerfile)
    if not builds:
        return "max", "no CI build of this Dockerfile found: assumed; --cache-mode to change"
    for b in builds:
        for spec in b.cache_from:
            found = exporters(ci.builds, spec)
            if found:
                # (several exports of one cache: the last one written wins, any of them may be it)
                exporter, mode = next(((e, m) for e, m in found if m == "max"), found[0])
                where = f"{b.path}:{b.pos.line}"
                if exporter is not b:
                    where += f", exported by {exporter.path}:{exporter.pos.line}"
                return mode, where
    b = builds[0]
    where = f"{b.path}:{b.pos.line}"
    if any(spec.opaque for spec in b.cache_from):
        return "min", where + ": a cache named by an expression, assumed exported in the default mode"
    if b.cache_from:
        where += ": a cache no CI build exports"
    return "none", where


def _with_dockerfile_text(state, context: str, text: bytes):
    """``state`` with the Dockerfile's text replaced, in the context too when the context
    sends the Dockerfile (``COPY . .`` copies the text that is saved, not the old file's)."""
    import hashlib

    from layerwise.analyses.cache import Entry
    from layerwise.records import replace

    files = state.files
    rel = os.path.relpath(os.path.realpath(state.dockerfile_path), os.path.realpath(context)).replace(os.sep, "/")
    if not rel.startswith("../") and rel in files and text != state.dockerfile_text:
        old = files[rel]
        if old.kind == "file":
            files = files.overlay() if hasattr(files, "overlay") else dict(files)  # never the kept walk itself
            files[rel] = Entry("file", old.mode, hashlib.sha256(text).digest(), "")
    return replace(state, dockerfile_text=text, files=files)


def explain_project(
    path: str = ".",
    *,
    dockerfile: str | None = None,
    before: str = "HEAD",
    after: str | None = None,
    builder: str = "buildkit",
    target: str | None = None,
    no_cache: bool = False,
    build_args: Mapping[str, str] | None = None,
    timings: bool = True,
    ci: bool = False,
    cache_mode: str | None = None,
    dockerfile_text: str | None = None,
    walks: dict | None = None,
) -> ProjectExplanation:
    """Predict which steps of the next build come from cache: the project's state ``before``
    (a git revision or a folder; default ``HEAD``) against ``after`` (default: the working
    tree at ``path``); with ``timings``, the steps carry the durations of the last measured
    build.

    ``dockerfile_text``: the text of the Dockerfile to build next, in place of the file's
    (an editor's unsaved text; the step lines are its lines). ``walks``: a dict the caller
    keeps between calls: the folders walked are kept there and not walked again by the calls
    given the same dict (the caller empties it when a file of the context changes)."""
    from layerwise.analyses.explain import explain
    from layerwise.context.states import load_state
    from layerwise.parse import parse_bytes
    from layerwise.resolve.stages import resolve

    args = dict(build_args or {})
    from layerwise.context.states import git_folder_moved, one_walk

    # the working tree is walked once for both states (and again by the next call); the digests
    # the prediction computes are saved to the stat cache when the scope ends
    with one_walk(walks):
        old = load_state(path, dockerfile, before, builder=builder, option="--before")
        new = load_state(path, dockerfile, after, builder=builder, option="--after")
        old = git_folder_moved(path, old, before, after) or old  # (a .git sent: another commit's)
        if dockerfile_text is not None:
            new = _with_dockerfile_text(new, path, dockerfile_text.encode())
        if ci:
            from layerwise.ci import load_ci

            ci_model = load_ci(path)  # (read once: the build args here, the cache mode below)
            old_args, new_args, volatile = ci_volatile_args(ci_model, new.dockerfile_path, new.dockerfile_text, args)
        else:
            old_args, new_args, volatile = {}, {}, []
        old_build = resolve(parse_bytes(old.dockerfile_text, old.dockerfile_path), {**args, **old_args})
        new_build = resolve(parse_bytes(new.dockerfile_text, new.dockerfile_path), {**args, **new_args})
        result = explain(old_build, old.files, new_build, new.files, builder=builder, target=target,
                         no_cache=no_cache)  # fmt: skip
    if ci:
        from layerwise.analyses.fresh_runner import fresh_runner

        mode, source = ((cache_mode, "--cache-mode") if cache_mode
                        else ci_cache_mode(path, new.dockerfile_path, ci=ci_model))  # fmt: skip
        result = fresh_runner(result, new_build, mode, target=target, source=source)
        result.assumptions.extend(volatile)
    if timings:
        from layerwise.analyses.timings import load_timings

        result.apply_timings(load_timings(new.dockerfile_path))
    out = ProjectExplanation(result, old.label, new.label)
    for files in (new.files, old.files):
        for rel in getattr(files, "unreadable", ()):
            snap_root = os.fspath(files._snap.root)  # type: ignore[attr-defined]
            msg = (f"{os.path.join(snap_root, rel)}: cannot read file (permission denied): BuildKit sends it empty "
                   "(the image gets an empty file)")  # fmt: skip
            if msg not in out.warnings:
                out.warnings.append(msg)
    return out
