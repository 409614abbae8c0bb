"""## What it does
Finds a package-manager cache mount whose target is not where the install, as the user it
runs as, keeps its cache: `USER app` with `--mount=type=cache,target=/root/.cache/pip`
(pip then uses `/home/app/.cache/pip`), or a cache dir moved by `PIP_CACHE_DIR`/`UV_CACHE_DIR`.

## Why is this bad?
The mount is silently unused: the cache is written into the image layer instead, and every
build downloads everything again. A cache mount is also owned by root unless `uid=` is given,
so a non-root user cannot write to it.

## Example
```dockerfile
USER app
RUN --mount=type=cache,target=/root/.cache/pip pip install -r requirements.txt
```

## Use instead
```dockerfile
USER app
RUN --mount=type=cache,target=/home/app/.cache/pip,uid=1000 pip install -r requirements.txt
```
or install as root before `USER app`.

## Fix safety
The fix is safe: it points the mount's `target=` at the folder the install uses (the image's
files do not change, except that the cache no longer lands in the layer). For a user other than
root it also adds `uid=` (and `gid=` when `USER` names one), the ids the user runs with: read
from a numeric `USER`, or from the `useradd -u`/`adduser -u` (`--uid`) that created the user
in this stage or the stages it is built from. When the id is not known, there is no fix (a
mount owned by root would stay unused): the hint says what to write.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator

from layerwise.analyses import pkgcache
from layerwise.analyses.findings import Edit, Finding, Fix
from layerwise.analyses.installs import strip_prefix
from layerwise.analyses.rules import RuleContext
from layerwise.parse.instructions import Run

CODE = "LW203"


_UID_OPT = r"^(?:-u|--uid)(?:=(\d+))?$"  # (compiled on first use)


def _ids(ctx: RuleContext, stage, step) -> tuple[str, str | None] | None:
    """(uid, gid or None) of the user the RUN runs as, when known."""
    user = step.user or "root"
    name, _, group = user.partition(":")
    if name.isdigit():
        return name, group if group.isdigit() else None
    for st in ctx.lineage(stage):
        for s in st.steps:
            if st is stage and s.index >= step.index:
                break
            if not isinstance(s.instruction, Run):
                continue
            for argv in ctx.analysis(s).commands:
                argv, _ = strip_prefix(argv)
                if not argv or posixpath.basename(argv[0]) not in ("useradd", "adduser"):
                    continue
                words = [w for w in argv[1:] if not w.startswith("-")]
                uid = None
                for k, w in enumerate(argv[1:], 1):
                    m = re.match(_UID_OPT, w)
                    if m:
                        uid = m.group(1) or (argv[k + 1] if k + 1 < len(argv) else None)
                if name in words and uid and uid.isdigit():
                    return uid, group if group.isdigit() else None
    return None


def _mount_spec(ctx: RuleContext, node, target: str) -> tuple[int, str] | None:
    """(offset, text) of the ``--mount=`` spec whose target is ``target``, in the file."""
    src = ctx.dockerfile.source(node)
    for m in re.finditer(r"--mount=(\S+)", src):
        spec = m.group(1)
        for kv in spec.split(","):
            k, _, v = kv.partition("=")
            if k in ("target", "dst", "destination") and posixpath.normpath(v.strip("\"'")) == posixpath.normpath(target):
                return node.span.start + m.start(1), spec
    return None


def _fix(ctx: RuleContext, stage, step, mount, d: str) -> Fix | None:
    root = (step.user or "root") in pkgcache.ROOT_USERS
    ids = None if root else _ids(ctx, stage, step)
    if not root and ids is None:
        return None
    found = _mount_spec(ctx, step.instruction.node, mount.target)
    if found is None or not re.fullmatch(r"[A-Za-z0-9_./-]+", d):
        return None
    at, spec = found
    parts = spec.split(",")
    new = []
    for kv in parts:
        k = kv.partition("=")[0]
        if k in ("target", "dst", "destination"):
            kv = f"{k}={d}"
        elif not root and k in ("uid", "gid"):
            continue  # replaced by the user's own below
        new.append(kv)
    what = f"mount the cache at {d}"
    if not root:
        uid, gid = ids  # type: ignore[misc]
        new.append(f"uid={uid}")
        if gid is not None:
            new.append(f"gid={gid}")
        what += f" with uid={uid}" + (f",gid={gid}" if gid is not None else "")
    return Fix("safe", what, (Edit(ctx.path, at, at + len(spec), ",".join(new)),))


def check(ctx: RuleContext) -> Iterator[Finding]:
    for stage, step in ctx.steps():
        if not isinstance(step.instruction, Run):
            continue
        mounts = pkgcache.cache_mounts(step)
        if not mounts:
            continue
        for x in ctx.analysis(step).installs:
            if pkgcache.disabled_by(step, x):
                continue  # LW202's business
            d = pkgcache.cache_dir(step, x)
            if d is None or pkgcache.covering_mount(step, d):
                continue
            m = next((m for m in mounts if pkgcache.looks_like_cache_of(m.target, x.manager)), None)
            if m is None:
                continue
            user = step.user or "root"
            env = pkgcache.env_of(step, x)
            if "$" in m.target or "$" in d or "~" in d:
                continue
            if posixpath.normpath(m.target).startswith("/root") and user not in pkgcache.ROOT_USERS:
                why = f"the install runs as {user}, whose cache is {d}"
            else:
                why = f"`{' '.join(x.argv[:2])}` uses {d}"
                if any(k in env for k in ("PIP_CACHE_DIR", "UV_CACHE_DIR", "POETRY_CACHE_DIR", "XDG_CACHE_HOME")):
                    why += " (set by the environment)"
            yield ctx.at(
                CODE,
                step.instruction.node,
                f"cache mount at {m.target} is not used: {why}",
                hint=f"mount the cache at {d}" + ("" if user in pkgcache.ROOT_USERS else " with uid= of that user")
                + ", or set the manager's cache dir to the mount",
                fix=_fix(ctx, stage, step, m, d),
            )
            break
