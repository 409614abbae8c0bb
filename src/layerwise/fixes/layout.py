"""LW101's fix: the dependency-first layout.

For a stage that copies the whole context (``COPY . .``/``ADD . /app``) before a dependency
install, the fix

1. moves that copy down to just before the first instruction that needs the whole context,
   passing only instructions that do not (metadata, ``apt-get``, ``useradd``, ...; not a
   ``chmod``/``chown``/``rm`` of the files it brings, nor a ``cd`` into a folder only it brings);
2. copies exactly the files the install reads (``-r``/``-c`` includes followed, lock files),
   right before the install;
3. for installs that also build the project (``poetry install``, ``uv sync``, ``pdm install``,
   ``pip install .``) adds a dependencies-only install (``--no-root``,
   ``--no-install-project``, ``--no-self``, or the ``[project].dependencies`` of pyproject.toml)
   before the copy, and keeps the original install after it, where it only adds the project;
4. installs that need no file at all (``pip install flask gunicorn``) simply end up above the copy.

The fix is made of text edits; every other byte of the file stays. It is *safe* when only
metadata and known context-free commands are passed over, *unsafe* otherwise (never produced
then: a hint is given instead).
"""

from __future__ import annotations

import os
import posixpath
import re
from pathlib import Path

from layerwise import safefs
from layerwise.analyses.commands import Install, analyse_run, classify, command_dirs, touches_copy
from layerwise.analyses.commands import expand_word as _expand_word
from layerwise.fixes.edits import (
    ProposedFix,
    TextEdit,
    block,
    insert_before,
    line_end,
    newline_of,
)
from layerwise.parse.instructions import (
    Add,
    Arg,
    Copy,
    Env,
    Expose,
    Label,
    Run,
    StopSignal,
    User,
    Volume,
    Workdir,
)
from layerwise.parse.nodes import Dockerfile
from layerwise.records import Record
from layerwise.resolve.stages import Build, Stage, Step

PASSABLE_METADATA = (Env, Arg, Label, Expose, StopSignal, Volume)

PYPROJECT_DEPS = (
    "import sys;"
    "t=__import__('tomllib' if sys.version_info>=(3,11) else 'pip._vendor.tomli',fromlist=['_']);"
    "p=t.load(open('pyproject.toml','rb')).get('project',{});"
    "print('\\n'.join(p.get('dependencies',[])))"
)

# With extras (pip install .[web]): their optional dependencies too; an extra that names the
# project itself (all = ["me[web,cli]"]) brings those extras' dependencies instead.
PYPROJECT_DEPS_EXTRAS = (
    "import re,sys;"
    "t=__import__('tomllib' if sys.version_info>=(3,11) else 'pip._vendor.tomli',fromlist=['_']);"
    "p=t.load(open('pyproject.toml','rb')).get('project',{});o=p.get('optional-dependencies',{});"
    "n=lambda s:re.sub(r'[-_.]+','-',re.split(r'[^A-Za-z0-9._-]',s.strip(),maxsplit=1)[0]).lower();"
    "me=n(p.get('name',''));E=EXTRAS;"
    "[E.append(x) for e in E for r in o.get(e,[]) if n(r)==me and '[' in r"
    " for x in re.findall(r'[A-Za-z0-9._-]+',r.split('[',1)[1].split(']',1)[0]) if x not in E];"
    "print('\\n'.join(p.get('dependencies',[])+[r for e in E for r in o.get(e,[]) if n(r)!=me]))"
)


class Project(Record):
    """What the fixer can see of the build context (nothing when only a Dockerfile is given).
    Reads go through :mod:`layerwise.safefs`: inside the context only, regular files, bounded.

    (This module's records are written out: a dataclass would be built at every start-up.)"""

    _fields = ("root",)

    def __init__(self, root: Path | None = None) -> None:
        self.root = root

    def inside(self, rel: str) -> bool | None:
        """Whether ``rel`` stays in the context (``..`` and symlinks followed)."""
        if self.root is None:
            return None
        return not rel.startswith("/") and safefs.contained(self.root, rel) is not None

    def exists(self, rel: str) -> bool | None:
        if self.root is None:
            return None
        return bool(self.inside(rel)) and (self.root / rel).exists()

    def read_text(self, rel: str) -> str | None:
        if self.root is None or not self.inside(rel):
            return None
        try:
            return safefs.read_text(rel, root=self.root)
        except safefs.FileAccessError:
            return None


class LayoutHint(Record):
    _fields = ("code", "message", "line")

    def __init__(self, code: str, message: str, line: int) -> None:
        self.code = code
        self.message = message
        self.line = line


class _Plan(Record):
    _fields = ("copy_step", "install_step", "installs", "files", "split")

    def __init__(self, copy_step: Step, install_step: Step, installs: list[Install], files: list[str] | None = None,
                 split: bool = False) -> None:  # fmt: skip
        self.copy_step = copy_step
        self.install_step = install_step
        self.installs = installs
        self.files: list[str] = [] if files is None else files  # context-relative
        self.split = split  # the install also needs the project: keep it after the copy


def _is_whole_context(step: Step) -> bool:
    inst = step.instruction
    if not isinstance(inst, Copy) or step.expanded.get("from") or inst.from_:
        return False
    sources = step.expanded.get("sources", inst.sources)
    norm = {posixpath.normpath("/" + s).lstrip("/") or "." for s in sources}  # type: ignore[union-attr]
    return norm == {"."} and not inst.contents


def _requirements_closure(project: Project, files: list[str]) -> tuple[list[str], bool, list[str]]:
    """Follow ``-r``/``-c`` includes; True as second value when a file refers to local code;
    third: the includes that leave the build context (never read, never copied)."""
    out: list[str] = []
    outside: list[str] = []
    local = False
    todo = list(files)
    while todo:
        rel = posixpath.normpath(todo.pop(0))
        if rel in out or rel in outside:
            continue
        if rel == ".." or rel.startswith(("../", "/")) or project.inside(rel) is False:
            outside.append(rel)
            continue
        out.append(rel)
        text = project.read_text(rel)
        if text is None:
            continue
        base = posixpath.dirname(rel)
        for raw in text.splitlines():
            line = raw.split(" #", 1)[0].strip()
            m = re.match(r"^(?:-r|--requirement|-c|--constraint)(?:\s*=?\s*)(\S+)", line)
            if m:
                todo.append(posixpath.join(base, m.group(1)))
            elif re.match(r"^(?:-e\s+|--editable\s+)?(?:\.{1,2}(?:/|$|\[)|file:|/)", line):
                local = True
    return out, local, outside


def _context_path(image_path: str, dest: str) -> str | None:
    """The context path copied to ``image_path`` by ``COPY . <dest>``."""
    rel = posixpath.relpath(posixpath.normpath(image_path), posixpath.normpath(dest))
    return None if rel.startswith("..") else rel


def _plan_stage(stage: Stage, project: Project) -> tuple[_Plan | None, LayoutHint | None]:
    steps = stage.steps
    for ci, c in enumerate(steps):
        if not _is_whole_context(c):
            continue
        dest = str(c.expanded.get("dest", c.instruction.dest))  # type: ignore[attr-defined]
        dest_abs = posixpath.normpath(posixpath.join(c.workdir, dest))
        for s in steps[ci + 1 :]:
            inst = s.instruction
            if isinstance(inst, (PASSABLE_METADATA, User)):
                continue  # no effect on a COPY without --chown, nor it on them
            if isinstance(inst, Workdir) and dest.startswith("/"):
                continue  # an absolute destination does not depend on WORKDIR
            if not isinstance(inst, Run):
                return None, None  # COPY/ADD/WORKDIR...: leave the order alone
            analysis = analyse_run(inst)
            if analysis.opaque:
                return None, None
            touched = touches_copy(analysis, s, dest_abs)
            if touched is not None:
                # chmod +x start.sh, chown -R app /app, rm -rf /app/tests: above the copy, the
                # files are not there yet (the build fails) or the copy brings them back
                if not any(x.reads or x.project for x in analysis.installs):
                    return None, None
                return None, LayoutHint(
                    "LW101",
                    f"line {inst.line}: the install shares its RUN with commands that need the"
                    f" code (`{touched}` of the copied files); split them so the dependency install"
                    " can run before the code is copied",
                    inst.line,
                )
            deps = [x for x in analysis.installs if x.reads or x.project]
            readable = all(classify(cmd) is not None for cmd in analysis.commands)
            passed = (analysis.context_free and not analysis.installs) or (
                not deps and readable and analysis.installs and all(x.tools_only for x in analysis.installs))
            if (passed or (not deps and readable)) and _missing_cd(analysis, s, dest_abs, []):
                return None, None  # cd into a folder only the copy brings
            if passed:
                # apt-get, useradd, ...: needs nothing from the context; packaging tools alone
                # (pip install poetry): the install that uses them is the one
                continue
            if not deps:
                if readable:
                    # pip install flask gunicorn: needs no file; the copy moves below it
                    return _Plan(c, s, analysis.installs, []), None
                return None, None  # a command that may read the context
            if not readable:
                return None, LayoutHint(
                    "LW101",
                    f"line {inst.line}: the install shares its RUN with commands that need the"
                    " code; split them so the dependency install can run before the code is copied",
                    inst.line,
                )
            files: list[str] = []
            split = False
            dirs = _install_dirs(analysis, s)
            for x in deps:
                wd_x = dirs.get(id(x))
                if wd_x is None:
                    return None, LayoutHint(
                        "LW101",
                        f"line {inst.line}: the install runs in a folder layerwise cannot tell (a `cd` it"
                        " cannot follow): copy the files it reads before it yourself",
                        inst.line,
                    )
                for r in x.reads:
                    rr = _expand_word(r, s)
                    if rr is None:
                        return None, LayoutHint(
                            "LW101",
                            f"line {inst.line}: the install reads `{r}`, a path with a variable layerwise does"
                            " not know: copy it before the install yourself",
                            inst.line,
                        )
                    ctx = _context_path(posixpath.join(wd_x, rr), dest_abs)
                    if ctx is None:
                        return None, None
                    files.append(ctx)
                if x.manager in ("pip", "uv-pip", "pip-sync"):
                    closure, local, outside = _requirements_closure(project, files)
                    if outside:
                        return None, LayoutHint(
                            "LW101",
                            f"line {inst.line}: {outside[0]} is outside the build context (an include"
                            " that leaves it, or a symlink out): it is not copied; fix the include",
                            inst.line,
                        )
                    if local:
                        return None, LayoutHint(
                            "LW101",
                            f"line {inst.line}: the requirements install local code (-e . or a"
                            " path); install the project in a second step after the copy",
                            inst.line,
                        )
                    files = closure
                if x.project:
                    if _deps_installed_before(steps[:ci], x.manager):
                        return None, None  # already split: this one only adds the project
                    split = True
                    if x.manager in ("pip", "uv-pip"):
                        if len(x.targets) != 1:
                            return None, None
                        target = _expand_word(re.split(r"\[", x.targets[0], maxsplit=1)[0], s)
                        if target is None:
                            return None, None
                        wd = _context_path(posixpath.join(wd_x, target), dest_abs)
                        if wd is None or project.exists(posixpath.join(wd, "pyproject.toml")) is False:
                            return None, LayoutHint(
                                "LW101",
                                f"line {inst.line}: `pip install .` without a pyproject.toml:"
                                " export the dependencies to a requirements file and install it"
                                " before copying the code",
                                inst.line,
                            )
                        files.append(posixpath.normpath(posixpath.join(wd, "pyproject.toml")))
            missing = _missing_cd(analysis, s, dest_abs, [posixpath.join(dest_abs, f) for f in files])
            if missing:
                return None, LayoutHint(
                    "LW101",
                    f"line {inst.line}: `cd {missing}` enters a folder only the code copy brings:"
                    " copy the files the install reads there before it yourself",
                    inst.line,
                )
            return _Plan(c, s, deps, _dedupe(files), split), None
    return None, None


def _missing_cd(analysis, step: Step, dest: str, copied: list[str]) -> str | None:
    """The first folder at or below the copy's destination ``dest`` the RUN ``cd``s into that
    is not there without the copy: not the WORKDIR or a folder above it, nor a folder of the
    files the fix copies first (``copied``, image paths), nor one the RUN makes with mkdir."""
    have: set[str] = set()

    def add(path: str) -> None:
        while path not in have:
            have.add(path)
            path = posixpath.dirname(path)

    add(posixpath.normpath(step.workdir or "/"))
    for f in copied:
        add(posixpath.dirname(posixpath.normpath(f)))
    below = dest.rstrip("/") + "/"
    for _, bare, cwd in command_dirs(analysis, step):
        cmd = posixpath.basename(bare[0]) if bare else ""
        if cmd == "mkdir" and cwd is not None:
            for w in bare[1:]:
                path = None if w.startswith("-") else _expand_word(w, step)
                if path:
                    add(posixpath.normpath(posixpath.join(cwd, path)))
        elif cmd == "cd" and cwd is not None and (cwd == dest or cwd.startswith(below)) and cwd not in have:
            return cwd
    return None


def _install_dirs(analysis, step: Step) -> dict[int, str | None]:
    """id(install) -> the folder it runs in (:func:`layerwise.analyses.commands.command_dirs`)."""
    from layerwise.analyses.installs import classify as classify_install

    out: dict[int, str | None] = {}
    pending = list(analysis.installs)
    for argv, bare, cwd in command_dirs(analysis, step):
        if pending and not (bare and posixpath.basename(bare[0]) == "cd") and classify_install(argv) is not None:
            out[id(pending.pop(0))] = cwd
    for x in pending:  # (not matched: never expected) unknown
        out[id(x)] = None
    return out


def _deps_installed_before(steps: list[Step], manager: str) -> bool:
    """Whether an earlier RUN already installs this manager's dependencies alone."""
    for s in steps:
        if isinstance(s.instruction, Run):
            for x in analyse_run(s.instruction).installs:
                if x.manager == manager and not x.project and (x.reads or x.manager != "pip"):
                    return True
    return False


def _dedupe(items: list[str]) -> list[str]:
    seen: list[str] = []
    for i in items:
        if i not in seen:
            seen.append(i)
    return seen


def _optional(project: Project, rel: str) -> str | None:
    """A lock file: copied when present (or, without a context, with a wildcard)."""
    ex = project.exists(rel)
    if ex is None:
        return rel + "*"
    return rel if ex else None


def _copy_lines(plan: _Plan, project: Project) -> list[str]:
    c = plan.copy_step
    inst = c.instruction
    assert isinstance(inst, Copy)
    dest = str(c.expanded.get("dest", inst.dest))
    dest_abs = posixpath.normpath(posixpath.join(c.workdir, dest))
    at_workdir = dest_abs == posixpath.normpath(plan.install_step.workdir)
    flags = [f for f in inst.node.flags if f.split("=", 1)[0] in ("--chown", "--chmod", "--link")]
    groups: dict[str, list[str]] = {}
    locks = {"uv.lock", "poetry.lock", "pdm.lock", "Pipfile.lock"}
    for f in plan.files:
        name = posixpath.basename(f)
        if name in locks:
            got = _optional(project, f)
            if got is None:
                continue
            f = got
        groups.setdefault(posixpath.dirname(f), []).append(f)
    lines = []
    for sub, files in groups.items():
        if at_workdir:
            target = "./" + (sub + "/" if sub else "")
        else:
            target = posixpath.join(dest_abs, sub) + "/" if sub else dest_abs.rstrip("/") + "/"
        lines.append(" ".join(["COPY", *flags, *files, target]))
    return lines


_NO_PROJECT = {
    "uv": (r"\buv(\s+)sync\b", r"uv\1sync --no-install-project"),
    "poetry": (r"\bpoetry(\s+)(install|sync)\b", r"poetry\1\2 --no-root"),
    "pdm": (r"\bpdm((?:\s+-\S+)*\s+)(install|sync)\b", r"pdm\1\2 --no-self"),
}
def _local_target_regex(target: str) -> re.Pattern[str]:
    """The target as written, quoted or not, with its ``-e``."""
    return re.compile(r"(?<=\s)(?:(?:-e|--editable)\s+)?([\"']?)" + re.escape(target) + r"\1(?=\s|$)")


def _extras(target: str) -> list[str]:
    m = re.search(r"\[([^\]]*)\]", target)
    return [e.strip() for e in m.group(1).split(",") if e.strip()] if m else []


def _deps_only_run(source: str, x: Install) -> str | None:
    """The RUN's text turned into a dependencies-only install (formatting kept)."""
    if x.manager in _NO_PROJECT:
        regex, repl = _NO_PROJECT[x.manager]
        new, n = re.subn(regex, repl, source, count=1)
        return new if n else None
    if x.manager == "uv-pip":
        # uv installs a pyproject's dependencies alone: uv pip install -r pyproject.toml
        if len(x.targets) != 1:
            return None
        target = x.targets[0]
        project_dir = re.split(r"\[", target, maxsplit=1)[0].rstrip("/") or "/"
        pyproject = "pyproject.toml" if project_dir in (".", "./") else posixpath.join(project_dir, "pyproject.toml")
        extras = "".join(f" --extra {e}" for e in _extras(target))
        new, n = _local_target_regex(target).subn(lambda _: f"-r {pyproject}{extras}", source, count=1)
        return new if n else None
    if x.manager == "pip":
        if len(x.targets) != 1:
            return None
        target = x.targets[0]
        new, n = _local_target_regex(target).subn("-r /tmp/layerwise-requirements.txt", source, count=1)
        if not n:
            return None
        project_dir = re.split(r"\[", target, maxsplit=1)[0].rstrip("/") or "/"
        py = "python3"
        argv0 = x.argv[0] if x.argv else ""
        if argv0.endswith(("pip", "pip3")) and "/" in argv0:
            py = posixpath.join(posixpath.dirname(argv0), "python")
        elif re.match(r"^(?:.*/)?python", argv0):
            py = argv0
        program = PYPROJECT_DEPS if not _extras(target) else PYPROJECT_DEPS_EXTRAS.replace("EXTRAS", repr(_extras(target)))
        program = program.replace("'pyproject.toml'", repr(posixpath.join(project_dir, "pyproject.toml")))
        extract = f'{py} -c "{program}" > /tmp/layerwise-requirements.txt && '
        m = re.match(r"(?is)^(RUN(?:\s+--\S+)*\s+)", new)
        if m is None:
            return None
        return m.group(1) + extract + new[m.end() :]
    return None


def fix_layout(df: Dockerfile, build: Build, project: Project) -> tuple[list[ProposedFix], list[LayoutHint]]:
    fixes: list[ProposedFix] = []
    hints: list[LayoutHint] = []
    for stage in build.stages:
        plan, hint = _plan_stage(stage, project)
        if hint:
            hints.append(hint)
        if plan is None:
            continue
        fix = _edits_for(df, plan, project)
        if fix is None:
            hints.append(LayoutHint("LW101", f"line {plan.install_step.line}: cannot derive a"
                                    " dependencies-only install from this command", plan.install_step.line))  # fmt: skip
        else:
            fixes.append(fix)
    return fixes, hints


def _edits_for(df: Dockerfile, plan: _Plan, project: Project) -> ProposedFix | None:
    c_node = plan.copy_step.instruction.node
    i_node = plan.install_step.instruction.node
    nl = newline_of(df.text)
    c_start, c_end = block(df, c_node)
    c_text = df.text[c_start:c_end]
    if not c_text.endswith("\n"):
        c_text += nl
    edits = [TextEdit(c_start, c_end, "")]
    new_lines: list[str] = []
    if plan.files:
        new_lines += _copy_lines(plan, project)
    if plan.split:
        source = df.source(i_node)
        for x in plan.installs:
            if x.project:
                deps_only = _deps_only_run(source, x)
                if deps_only is None:
                    return None
                source = deps_only
        new_lines.append(source)
    if plan.split:
        # deps COPY, deps-only install, then the whole copy, before the original install
        ins = insert_before(df, i_node, new_lines)
        edits.append(TextEdit(ins.start, ins.end, ins.replacement + c_text))
        what = "install the dependencies alone first, then copy the code and install the project"
        no_deps = _no_deps_edit(df, plan, project)
        if no_deps is not None:
            edits.append(no_deps)
            what += " alone (--no-deps)"
    else:
        if new_lines:
            edits.append(insert_before(df, i_node, new_lines))
        at = line_end(df.text, i_node.span.end)
        prefix = "" if df.text[i_node.span.end : at].endswith("\n") else nl
        edits.append(TextEdit(at, at, prefix + c_text))
        what = "copy " + (", ".join(plan.files) if plan.files else "nothing") + " first, install, then copy the code"
    kw = "ADD" if isinstance(plan.copy_step.instruction, Add) else "COPY"
    return ProposedFix(
        "LW101",
        f"move `{kw} {' '.join(c_node.args)}` (line {c_node.span.start_line}) below the install"
        f" (line {i_node.span.start_line}): {what}",
        edits,
        "safe",
        c_node.span.start_line,
    )


def _static_dependencies(project: Project, rel: str, extras: list[str]) -> bool:
    """Whether the pyproject.toml at ``rel`` declares its dependencies (and those of
    ``extras``) statically in ``[project]``: then the dependencies-only install installed
    them all, and the project's own install needs none."""
    text = project.read_text(rel)
    if not text:
        return False
    try:
        import tomllib
    except ImportError:  # pragma: no cover - Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]
    try:
        meta = tomllib.loads(text).get("project")
    except (ValueError, RecursionError):
        return False
    if not isinstance(meta, dict) or not isinstance(meta.get("name"), str):
        return False
    dynamic = meta.get("dynamic", [])
    if not isinstance(dynamic, list) or "dependencies" in dynamic or (extras and "optional-dependencies" in dynamic):
        return False
    return isinstance(meta.get("dependencies", []), list)


def _no_deps_edit(df: Dockerfile, plan: _Plan, project: Project) -> TextEdit | None:
    """``--no-deps`` for the project's own ``pip install .`` (``uv pip install .``) after its
    dependencies were installed alone: a code change then installs the project and resolves
    nothing (as uv's ``--no-install-project`` split does). Only when the dependencies are all
    static in pyproject.toml (seen in the context) and the RUN holds that one install."""
    xs = [x for x in plan.installs if x.project]
    if len(xs) != 1 or len(plan.installs) != 1 or xs[0].manager not in ("pip", "uv-pip") or xs[0].action != "install" or xs[0].has("--no-deps"):
        return None
    x = xs[0]
    pyprojects = [f for f in plan.files if posixpath.basename(f) == "pyproject.toml"]
    if len(pyprojects) != 1 or not _static_dependencies(project, pyprojects[0], _extras(x.targets[0])):
        return None
    from layerwise.analyses.fixtext import install_word

    # after that command's own `install` word (not the same text in an echo or a comment)
    span = install_word(df, plan.install_step.instruction, plan, x, x.argv.index("install", 1))
    return None if span is None else TextEdit(span[1], span[1], " --no-deps")


def project_from(context: str | os.PathLike[str] | None) -> Project:
    return Project(Path(context) if context is not None else None)
