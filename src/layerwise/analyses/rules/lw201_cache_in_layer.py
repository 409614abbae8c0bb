"""## What it does
Finds package installs (pip, uv, Poetry, PDM, Pipenv, conda) in the shipped stages that
write their download cache into the image layer: no `--no-cache-dir` / `PIP_NO_CACHE_DIR`
(`--no-cache` / `UV_NO_CACHE` for uv), no BuildKit cache mount on the cache folder, and no
cleanup (`pip cache purge`, `rm -rf ~/.cache`, `conda clean -a`) in the same `RUN`.
Upgrading the tools (`pip install --upgrade pip setuptools wheel`) counts: it leaves the
downloaded wheels in the cache as any install does.
Not reported: pip installing only from a local wheelhouse (`pip install --no-index
--find-links=/wheels app`, or local `.whl` files): it fetches nothing over HTTP and builds no
wheel, so its cache stays empty (checked with pip 23.2). A `--find-links` URL, an sdist pip
builds (it caches the wheel it builds) or `uv pip` (uv's cache keeps local wheels too) are
reported; layerwise cannot see whether a wheelhouse folder holds sdists.

Which stages: those whose layers end up in an image. That is the last stage (the default
target), every stage no other stage builds FROM or copies from (it exists only to be built
with `docker build --target`: a `dev` or `test` image, which holds the cache as well), and the
stages they are built FROM. A builder stage that later stages only copy files from
(`COPY --from=builder`) is not reported: its layers are not shipped. `check` has no `--target`
of its own, so it reports every such target, as LW104 does.

## Why is this bad?
The cache holds a second copy of every downloaded wheel: often as large as the installed
packages. It is useless in the image (the layer is never rebuilt incrementally) and makes
every pull and push slower.

## Example
```dockerfile
RUN pip install -r requirements.txt
```

## Use instead
```dockerfile
RUN pip install --no-cache-dir -r requirements.txt
```
or keep the cache between builds, outside the image:
```dockerfile
RUN --mount=type=cache,target=/root/.cache/pip pip install -r requirements.txt
```

## Fix safety
Safe: it adds `--no-cache-dir` (pip) or `--no-cache` (uv, Poetry; PDM's is a global option:
`pdm --no-cache install`, checked with PDM 2.29 on the engine) to the install. With
`layerwise fix --cache-mount` (the default when the Dockerfile already uses BuildKit features)
it mounts a cache, as root, on the folder where pip/uv keep it (`$HOME/.cache/...`,
`PIP_CACHE_DIR`) instead; as another user, or for other tools, it still adds the option. No fix for a Poetry pinned below 1.2 (`poetry==1.1`,
`POETRY_VERSION=1.1.13`): it has no `--no-cache` option.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from layerwise.analyses import fixtext, pkgcache
from layerwise.analyses.findings import Edit, Finding, Fix
from layerwise.analyses.installs import requirement_name
from layerwise.analyses.rules import RuleContext
from layerwise.parse.instructions import Run

CODE = "LW201"

_FLAG = {"pip": "--no-cache-dir", "pip-sync": None, "uv": "--no-cache", "uv-pip": "--no-cache",
         "poetry": "--no-cache", "pdm": "--no-cache", "pipenv": None, "conda": None}  # fmt: skip
#: the commands the option is added to: their actions, and whether it goes after the action
#: word (``pip install --no-cache-dir``) or after the tool's (pdm's is a global option: ``pdm
#: --no-cache install``)
_INSERT = {"pip": (("install",), True), "uv-pip": (("install",), True), "uv": (("sync",), True),
           "poetry": (("install",), True), "pdm": (("install", "sync"), False)}  # fmt: skip
#: the managers whose fix can mount their cache instead (``layerwise fix --cache-mount``)
_MOUNTABLE = ("pip", "uv", "uv-pip")


def check(ctx: RuleContext) -> Iterator[Finding]:
    shipped = ctx.shipped_stages()
    for stage, step in ctx.steps():
        if stage.index not in shipped or not isinstance(step.instruction, Run):
            continue
        a = ctx.analysis(step)
        done: set[str] = set()
        for x in a.installs:
            if x.manager in done or not x.downloads or x.manager == "setuptools":
                continue
            if pkgcache.disabled_by(step, x):
                continue
            if x.targets and not (x.packages or x.requirements) and all(
                t.endswith(".whl") or "wheel" in t for t in x.targets
            ):
                continue  # local wheels: nothing is downloaded
            if x.manager == "pip" and pkgcache.local_sources(step, x):
                continue  # --no-index from a local wheelhouse: no HTTP cache, and wheels need no build
            d = pkgcache.cache_dir(step, x)
            if pkgcache.covering_mount(step, d) or any(
                pkgcache.looks_like_cache_of(m.target, x.manager) for m in pkgcache.cache_mounts(step)
            ):
                continue
            if pkgcache.cleaned(a.text, x.manager):
                continue
            if x.manager == "conda" and x.action in ("env update",):
                continue
            done.add(x.manager)
            node = step.instruction.node
            flag = _FLAG.get(x.manager)
            fix = None
            where = ctx.locate_install(step, x)
            # as root, a mount (owned by root) serves the cache folder the install uses
            mount = d if x.manager in _MOUNTABLE and d and d.startswith("/") and "$" not in d else None
            if any(y.manager == x.manager and pkgcache.disabled_by(step, y) for y in a.installs):
                mount = None  # another install of this RUN has the option: give this one the option too
            if ctx.cache_mount and mount and step.user in pkgcache.ROOT_USERS and step.instruction.prepend_shell:
                # keep the cache, in a mount, between builds
                at = node.span.start + len(node.keyword)
                fix = Fix("safe", f"mount a cache at {mount}", (Edit(ctx.path, at, at, f" --mount=type=cache,target={mount}"),))
            elif flag and x.manager in _INSERT and not (x.manager == "poetry" and _old_poetry(ctx, stage, step)):
                # only the installs that keep their cache (`pip install -U pip && pip install
                # --no-cache-dir -r r.txt`: the second has the option already), each in its own
                # command's words (never in a quoted word or another command with the same text)
                opts = pkgcache.CACHES.get(x.manager, ("", "", (), ()))[3] or (flag,)
                actions, after_action = _INSERT[x.manager]
                edits = []
                for y in a.installs:
                    if y.manager == x.manager and y.action in actions and not y.has(*opts):
                        k = y.argv.index(y.action, 1) if after_action else 0
                        edit = fixtext.option_insert(ctx.path, ctx.dockerfile, step.instruction, a, y, k, flag)
                        if edit is not None:
                            edits.append(edit)
                if edits:
                    fix = Fix("safe", f"add {flag}", tuple(edits))
            windows = any("powershell" in w.lower() or w.lower() in ("cmd", "cmd.exe") for w in step.shell[:1]) or any(
                w in stage.base.lower() for w in ("windows", "servercore", "nanoserver"))
            where_cache = "the cache folder" if windows or not d else d
            if x.manager == "conda":
                hint = "end the RUN with `conda clean -afy` (or mount a cache on the pkgs folder)"
            elif flag and fix is None and x.manager == "poetry":
                hint = f"remove {where_cache} in the same RUN (this Poetry predates --no-cache), or mount a cache there"
            elif flag:
                hint = f"add {flag}, or use RUN --mount=type=cache,target={where_cache}"
            else:
                hint = f"remove {where_cache} in the same RUN, or use RUN --mount=type=cache,target={where_cache}"
            yield ctx.at(
                CODE,
                node,
                f"`{' '.join(x.argv[:2])}` keeps its download cache ({where_cache}) in the image layer",
                hint=hint,
                fix=fix,
                line=where[0] if where else None,
                column=where[1] if where else None,
            )


#: Poetry has the global --no-cache option from 1.2.0 (August 2022); a pin is "old" when it
#: admits none of these, nor any version of 1.2 or later that it names
_LATER = ("1.2.0", "1.2.2", "1.8.5", "2.0.0", "2.1.3", "99.0")


def _old_poetry(ctx: RuleContext, stage, step) -> bool:
    """Whether the Poetry this RUN uses is pinned below 1.2, which has no ``--no-cache``: by
    ``POETRY_VERSION`` (what the official installer reads) or by a ``pip install poetry==...``
    of this stage's lineage up to this RUN."""
    specs: list[str] = []
    version = pkgcache.env_of(step).get("POETRY_VERSION", "").strip()
    if version:
        specs.append("==" + version.lstrip("=v"))
    for st in ctx.lineage(stage):
        for s in st.steps:
            if st is stage and s.index > step.index:
                break
            if not isinstance(s.instruction, Run):
                continue
            for y in ctx.analysis(s).installs:
                if y.manager in ("pip", "uv-pip", "pipx"):
                    specs += [p[len("poetry"):].strip().strip("'\"") for p in y.packages if requirement_name(p) == "poetry"]
    specs = [spec for spec in specs if spec and "$" not in spec]
    return any(_admits_no_later(spec) for spec in specs)


#: a pin to one release (``==1.1.15``), the form Poetry pins take: compared as numbers, without
#: importing packaging (with the typing module it needs, more than all the corpus's Poetry
#: checks cost, #17); tests/fuzz/test_poetry_pin_properties.py checks it against packaging
_RELEASE_PIN = r"==([0-9]+(?:\.[0-9]+)*)"


def _release(version: str) -> tuple[int, ...]:
    """``1.2.0`` -> (1, 2): a release as PEP 440 compares it (trailing zeros do not count)."""
    parts = [int(p) for p in version.split(".")]
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


def _admits_no_later(spec: str) -> bool:
    """Whether the version specifier ``spec`` admits no Poetry with ``--no-cache`` (1.2.0 or
    later); False for a specifier packaging cannot read."""
    pin = re.fullmatch(_RELEASE_PIN, spec)
    if pin:
        return _release(pin.group(1)) < _release(_LATER[0])
    return _specifier_admits_no_later(spec)


def _specifier_admits_no_later(spec: str) -> bool:
    """:func:`_admits_no_later` for any specifier, read with packaging."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet
    from packaging.version import InvalidVersion, Version

    later = [Version(v) for v in _LATER]
    try:
        allowed = SpecifierSet(spec)
    except InvalidSpecifier:
        return False
    named = []
    for one in allowed:
        try:
            named.append(Version(one.version.removesuffix(".*")))
        except InvalidVersion:
            pass
    candidates = later + [v for v in named if v >= later[0]]
    return not any(allowed.contains(v, prereleases=True) for v in candidates)
