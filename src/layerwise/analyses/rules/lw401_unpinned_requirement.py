"""## What it does
Finds requirements that are not pinned to one version: a bare name, a range (`>=`, `<`),
`~=`, `==1.*`, a VCS branch or tag (`git+https://...@main`), a URL without a hash, or an
editable `-e` requirement. It reads inline `pip install` / `uv pip install` / `pipenv install`
arguments, and with the build context the requirements files the installs read (following
`-r`/`-c`) and the `[project].dependencies` of a project installed without a lock.
Packaging tools (`pip`, `setuptools`, `wheel`) are not reported. A requirements-file line is
read as pip reads it: its own options (`--hash`, `-C`/`--config-settings`, `--global-option`,
`--no-binary`...) come after the requirement and its environment markers and are not part of
its version (`lxml==5.3.0 --no-binary lxml,xmlsec` is pinned); a URL with a `--hash` is pinned.
An install from a local wheelhouse only (`pip install --no-index --find-links=/wheels app`)
is not judged: it installs the versions of the wheels there, chosen where the wheelhouse is
built (a `pip wheel -r requirements.txt -w /wheels` in the Dockerfile is judged).

## Why is this bad?
The layer cache keys on the text of the install, not on what it resolves to: a cached layer
keeps old versions forever, and whenever the layer rebuilds (another machine, CI, a changed
line above it) it silently picks up new releases. Builds stop being reproducible and break
without any change in the repository.

## Example
```dockerfile
RUN pip install flask "gunicorn>=21"
```

## Use instead
```dockerfile
RUN pip install flask==3.0.3 gunicorn==22.0.0
```
or install from a lock (`pip-compile`/`uv pip compile` output, `uv sync --locked`,
`poetry install`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from layerwise.analyses import pkgcache
from layerwise.analyses.findings import Finding
from layerwise.analyses.installs import requirement_name
from layerwise.analyses.rules import RuleContext
from layerwise.parse.instructions import Run

CODE = "LW401"

BOOTSTRAP = {"pip", "setuptools", "wheel"}
_HEX40 = r"@[0-9a-f]{40}\b"  # (compiled on first use)


def split_options(line: str) -> tuple[str, str]:
    """A requirements-file line as pip reads it (``req_file.break_args_options``): the
    requirement, with its environment markers, is the words before the first word that starts
    with ``-``; the words from there are that line's options (``--hash``, ``-C`` /
    ``--config-settings``, ``--global-option``, ``--no-binary``...), never part of the version.
    A line that starts with an option (``-e``, ``-r``...) is all options."""
    m = re.search(r"(?:^|\s)-", line)
    return (line, "") if m is None else (line[: m.start()].strip(), line[m.start() :].strip())


def unpinned(req: str, *, conda: bool = False, hashed: bool = False) -> str | None:
    """Why a requirement is not pinned (None: pinned, or not a requirement we judge); ``hashed``:
    its line has a ``--hash`` option (which pins a URL requirement)."""
    r = req.strip().strip("'\"")
    if not r or (r.startswith("-") and not r.startswith(("-e", "--editable"))):
        return None
    if r.startswith(("-e", "--editable")):
        return "editable (-e) requirement"
    r = r.split(";", 1)[0].strip()
    if re.match(r"^(git|hg|svn|bzr)\+", r) or re.search(r"@\s*(git|hg|svn|bzr)\+", r):
        return None if re.search(_HEX40, r) else "VCS branch or tag, not a commit"
    if "://" in r:
        return None if hashed or re.search(r"[#&]sha(256|384|512)=|--hash", req) else "URL without a hash"
    if r.startswith((".", "/", "~", "$")) or r.endswith((".whl", ".tar.gz", ".zip")):
        return None
    if conda:
        m = re.match(r"^[A-Za-z0-9_.-]+(?:::)?[A-Za-z0-9_.-]*\s*(==?|>=|<=|>|<|~=)?\s*([^\s]*)$", r)
        if m and m.group(1) in ("=", "==") and m.group(2) and "*" not in m.group(2):
            return None
        return "no version" if not m or not m.group(1) else "version range"
    spec = re.sub(r"^[A-Za-z0-9][A-Za-z0-9._-]*\s*(\[[^\]]*\])?", "", r).strip()
    if not spec:
        return "no version"
    if "," in spec:
        return "version range"
    if spec.startswith("==="):
        return None
    if spec.startswith("=="):
        return "wildcard version (==X.*)" if "*" in spec else None
    if spec.startswith("~="):
        return "compatible-release range (~=)"
    if spec.startswith("@"):
        return None if re.search(r"[#&]sha(256|384|512)=", spec) else "URL without a hash"
    return "version range"


def check(ctx: RuleContext) -> Iterator[Finding]:
    project = ctx.project
    seen_files: set[str] = set()
    for stage, step in ctx.steps():
        if not isinstance(step.instruction, Run):
            continue
        node = step.instruction.node
        for x in ctx.analysis(step).installs:
            if x.manager in ("pip", "uv-pip") and pkgcache.local_sources(step, x):
                continue  # the versions are the local wheelhouse's: they are pinned where it is built
            if x.manager in ("pip", "uv-pip", "pipenv", "conda"):
                bad = []
                for p in x.packages:
                    if requirement_name(p) in BOOTSTRAP:
                        continue
                    why = unpinned(p, conda=x.manager == "conda")
                    if why:
                        bad.append(f"{p} ({why})")
                for e in x.editable:
                    if e and not e.startswith((".", "/")):
                        bad.append(f"-e {e} (editable requirement)")
                if bad:
                    where = ctx.locate(node, x.packages[0]) if x.packages else None
                    yield ctx.at(
                        CODE,
                        node,
                        f"`{' '.join(x.argv[:2])}` installs unpinned requirements: {', '.join(bad[:4])}"
                        + (f" and {len(bad) - 4} more" if len(bad) > 4 else ""),
                        hint="pin exact versions (name==X.Y.Z) or install from a lock file",
                        line=where[0] if where else None,
                        column=where[1] if where else None,
                    )
            if not project.known:
                continue
            if x.manager in ("pip", "uv-pip", "pip-sync") and x.requirements:
                pinned_by_constraints = set()
                for c in project.requirements_closure([r for r in x.constraints if not r.startswith("/")]):
                    for _, line in project.requirement_lines(c) or []:
                        req, opts = split_options(line)
                        if req and unpinned(req, hashed="--hash" in opts) is None:
                            pinned_by_constraints.add(requirement_name(req))
                files = project.requirements_closure([r.lstrip("./") if r.startswith("./") else r for r in x.requirements if not r.startswith("/")])
                # absolute paths (/etc/requirements.txt), through the COPY that put them there
                absolute = [r for r in x.requirements if r.startswith("/") and "$" not in r]
                if absolute:
                    from layerwise.analyses.installreads import requirement_reads

                    files += [rel for _, rel, _ in requirement_reads(ctx, stage, step, absolute) if rel and rel not in files]
                for f in files:
                    if f in seen_files:
                        continue
                    seen_files.add(f)
                    yield from _file_findings(project, f, pinned_by_constraints)
            elif (
                x.manager in ("pip", "uv-pip")
                and x.project
                and not x.requirements
                and not x.constraints
                and not x.has("--no-deps")
                # a bare variable (`pip install "$EXTRA_PACKAGES"`) may name anything: no evidence
                # that it is this project
                and not all(t.startswith("$") for t in x.targets)
            ):
                # (with --no-deps the project is installed alone: no dependency is resolved)
                data = project.pyproject or {}
                deps = data.get("project", {}).get("dependencies", []) if isinstance(data.get("project"), dict) else []
                bad = [d for d in deps if isinstance(d, str) and unpinned(d)]
                if bad:
                    yield ctx.at(
                        CODE,
                        node,
                        f"`{' '.join(x.argv[:3])}` resolves pyproject.toml's dependency ranges without a lock: "
                        + ", ".join(bad[:4]) + (f" and {len(bad) - 4} more" if len(bad) > 4 else ""),
                        hint="install a locked requirements file first (uv export / pip-compile), then the project with --no-deps",
                    )


def _file_findings(project, rel: str, pinned: set[str]) -> Iterator[Finding]:
    for n, line in project.requirement_lines(rel) or []:
        if line.startswith(("-r", "-c", "--requirement", "--constraint", "-i", "--index-url",
                            "--extra-index-url", "-f", "--find-links", "--trusted-host", "--hash",
                            "--no-binary", "--only-binary", "--pre", "--prefer-binary", "--require-hashes")):  # fmt: skip
            continue
        req, opts = (line, "") if line.startswith("-") else split_options(line)
        why = unpinned(req, hashed="--hash" in opts)
        if why and requirement_name(req) not in pinned and requirement_name(req) not in BOOTSTRAP:
            col = 1
            yield Finding(
                code=CODE,
                message=f"{req} is not pinned ({why})",
                path=project.display(rel),
                line=n,
                column=col,
                hint="pin an exact version (name==X.Y.Z), or compile this file with pip-compile / uv pip compile",
            )
