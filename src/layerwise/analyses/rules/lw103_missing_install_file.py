"""## What it does
Finds a dependency install that needs a file which is not in the image at that point: a
`-r`/`-c` requirements file (and, with the build context, the files it includes), the
`pyproject.toml`/`setup.py` of a project being installed, the lock file of `--locked`, or
the README/license file that `pyproject.toml` names and the build backend reads.

## Why is this bad?
The build fails (`No such file or directory`, `Readme file does not exist`), usually right
after someone split `COPY . .` into a cache-friendly "dependency files first" layout and
forgot one of the files the install reads. The exception is a README or license file that a
setuptools project names (`readme = "README.md"`, `license = {file = "LICENSE"}`): setuptools
builds without it and only warns, so that finding is a warning, not an error (the package's
metadata then lacks the file; checked on the engine).

## Example
```dockerfile
COPY requirements.txt .
RUN pip install -r requirements.txt   # requirements.txt has "-r base.txt"
```

## Use instead
```dockerfile
COPY requirements.txt base.txt ./
RUN pip install -r requirements.txt
```
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator

from layerwise.analyses.findings import Finding
from layerwise.analyses.rules import RuleContext
from layerwise.parse.instructions import Run
from layerwise.records import replace

CODE = "LW103"


def _plain(path: str) -> bool:
    return bool(path) and "$" not in path and "<" not in path and not any(c in path for c in "*?[{`")


def check(ctx: RuleContext) -> Iterator[Finding]:
    project = ctx.project
    for stage in ctx.build.stages:
        for step in stage.steps:
            if not isinstance(step.instruction, Run):
                continue
            installs = ctx.analysis(step).installs
            if not installs:
                continue
            fs = ctx.image_files_before(stage, step.index).with_mounts(step)
            # the RUN itself may create the file (poetry export -o requirements.txt && pip install -r ...)
            fs.add_run(step, _before_installs(ctx.analysis(step)))
            for x in installs:
                for need, why in _needs(ctx, stage, x, step, project, fs):
                    if fs.has(need):
                        continue
                    node = step.instruction.node
                    at = ctx.locate(node, posixpath.basename(need))
                    warns = why.startswith(_BACKEND) and _setuptools(project, x)
                    if warns:
                        message = (f"`{' '.join(x.argv[:3])}` reads {need} ({why}), which no earlier COPY or mount "
                                   "puts in the image: setuptools builds without it, with a warning, and the "
                                   "package's metadata lacks it")  # fmt: skip
                    else:
                        message = (f"`{' '.join(x.argv[:3])}` needs {need} ({why}), which no earlier COPY "
                                   f"or mount puts in the image")  # fmt: skip
                    f = ctx.at(
                        CODE,
                        node,
                        message,
                        hint=f"COPY the file to {need} before this RUN",
                        line=at[0] if at else None,
                        column=at[1] if at else None,
                    )
                    yield replace(f, severity="warning", own_severity=True) if warns else f


_BACKEND = "named in pyproject.toml, read by the build backend"


def _setuptools(project, x) -> bool:
    """Whether the project ``x`` installs builds with setuptools (its build-backend, or no
    [build-system] at all: pip's legacy default), which only warns about a missing readme or
    license file (checked on the engine: exit 0, the file left out of the metadata)."""
    targets = [t.split("[", 1)[0] for t in (x.targets or ["."])]
    if len(targets) != 1 or targets[0].startswith("/") or "$" in targets[0]:
        return False
    data = project.toml(posixpath.join(posixpath.normpath(targets[0]), "pyproject.toml"))
    if not isinstance(data, dict):
        return False
    system = data.get("build-system")
    if system is None:
        return True
    backend = system.get("build-backend") if isinstance(system, dict) else None
    return backend in (None, "setuptools.build_meta", "setuptools.build_meta:__legacy__")


def _before_installs(a) -> str:
    """The text of the commands of a RUN (files they write may be read by its installs)."""
    out = []
    for argv in a.commands:
        if any(w in ("install", "sync") for w in argv[:3]) and argv and argv[0].split("/")[-1].startswith(("pip", "uv", "poetry", "pdm", "pipenv", "python")):
            continue
        out.append(" ".join(argv))
    return "\n".join(out)


def _needs(ctx, stage, x, step, project, fs) -> Iterator[tuple[str, str]]:
    from layerwise.analyses.copies import image_path
    from layerwise.analyses.installreads import requirement_reads

    files = [r for r in x.requirements + x.constraints if _plain(r) and "://" not in r]
    if x.manager in ("pip", "uv-pip"):
        # each file through the COPY that put it there, and its -r/-c includes, which pip
        # reads relative to the including file (/etc/requirements.txt: -r base.txt is /etc/base.txt)
        for path, _, why in requirement_reads(ctx, stage, step, files):
            yield path, why
    else:
        for r in files:
            yield image_path(step, r), "its input file"
    if x.manager in ("poetry", "pdm", "uv") or (x.manager == "pipenv" and not x.packages):
        main = "Pipfile" if x.manager == "pipenv" else "pyproject.toml"
        yield image_path(step, main), f"read by {x.manager}"
        if x.manager == "uv" and x.has("--locked", "--frozen"):
            yield image_path(step, "uv.lock"), "--locked/--frozen"
        if x.manager == "pipenv" and (x.has("--deploy", "--ignore-pipfile") or x.action == "sync"):
            yield image_path(step, "Pipfile.lock"), "--deploy/sync"
    if x.project and x.manager in ("pip", "uv-pip"):
        for t in x.targets:
            base = t.split("[", 1)[0]
            if not _plain(base) or base.endswith((".whl", ".tar.gz", ".zip", ".tgz")):
                continue
            d = image_path(step, base)
            if not any(fs.has(posixpath.join(d, f)) for f in ("pyproject.toml", "setup.py", "setup.cfg")):
                yield posixpath.join(d, "pyproject.toml"), "the project being installed (pyproject.toml or setup.py)"
    if x.project and project.known:
        for t in x.targets or ["."]:
            base = t.split("[", 1)[0]
            if not _plain(base) or base.startswith("/"):
                continue
            rel = posixpath.normpath(base)
            for f in project.pyproject_files(rel):
                yield image_path(step, f), _BACKEND
            if x.manager in ("pip", "uv-pip", "setuptools"):
                for f in ("setup.py", "setup.cfg"):
                    if project.is_file(posixpath.join(rel, f)):
                        yield image_path(step, posixpath.join(base, f)), "the project's setuptools configuration"
