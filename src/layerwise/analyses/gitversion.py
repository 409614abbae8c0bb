"""Builds that read the project's git metadata: a build backend plugin (hatch-vcs,
setuptools-scm, versioningit, poetry-dynamic-versioning, pdm-backend's ``scm`` source,
uv-dynamic-versioning, versioneer, pbr...) computes the version from ``.git`` (setuptools-scm
also lists the package's files with it). When the Dockerfile builds or installs the project
from a copy of the whole context (``COPY . /build`` then ``pip install .``, ``uv build``,
``poetry install``...), the ``.git`` it copies is read by the build, not junk:

* excluding it fails the build (``setuptools-scm was unable to detect version``) or changes
  the version (a fallback);
* while it is sent, excluding a file git tracks (the Dockerfile) makes the checkout look
  modified: the version turns "dirty" (``1.2.4.dev0+g1a2b3c4.d20260101``).

A version given by the environment (``SETUPTOOLS_SCM_PRETEND_VERSION``,
``POETRY_DYNAMIC_VERSIONING_BYPASS``, ``PDM_BUILD_SCM_VERSION``...: an ENV, an ARG or a prefix
of the command) reads no git: such a build is left out.
"""

from __future__ import annotations

import posixpath
import re

from layerwise.analyses import copies
from layerwise.analyses.commands import PYTHON
from layerwise.analyses.installs import requirement_name
from layerwise.parse.instructions import Arg, Run

TYPE_CHECKING = False  # (typing.TYPE_CHECKING without importing typing at start-up)
if TYPE_CHECKING:
    from layerwise.analyses.project import ProjectContext
    from layerwise.analyses.rules import RuleContext
    from layerwise.parse.nodes import Node

#: build requirements (normalised names) that read git metadata when the project is built
_PLUGINS = ("setuptools-scm", "hatch-vcs", "versioningit", "poetry-dynamic-versioning", "uv-dynamic-versioning",
            "setuptools-git-versioning", "flit-scm", "vcs-versioning", "pbr", "dunamai", "versioneer",
            "setuptools-git-version", "pdm-backend-scm")  # fmt: skip
#: variables that give the version instead of git (their name, or its start)
_OVERRIDES = ("SETUPTOOLS_SCM_PRETEND_VERSION", "POETRY_DYNAMIC_VERSIONING_BYPASS", "UV_DYNAMIC_VERSIONING_BYPASS",
              "PDM_BUILD_SCM_VERSION", "PBR_VERSION", "VCS_VERSIONING_PRETEND_VERSION")  # fmt: skip
#: commands that build the project in a folder: (argv start, options that take a value)
_BUILDERS = {("uv", "build"): {"-o", "--out-dir", "--package", "-p", "--python", "-C", "--config-setting", "-c",
                               "--build-constraint", "--index-url", "--extra-index-url", "-i"},
             ("python", "-m", "build"): {"-o", "--outdir", "-C", "--config-setting"},
             ("pyproject-build",): {"-o", "--outdir", "-C", "--config-setting"},
             ("poetry", "build"): None, ("pdm", "build"): None, ("hatch", "build"): None, ("flit", "build"): None,
             ("rye", "build"): None}  # fmt: skip
_ARCHIVE = (".whl", ".tar.gz", ".zip", ".tgz", ".tar.bz2")


def vcs_plugin(project: ProjectContext, rel_dir: str) -> str | None:
    """The plugin that makes a build of the project in ``rel_dir`` (a context folder) read its
    git metadata, or None."""
    cache = project.__dict__.setdefault("_vcs_plugin", {})
    if rel_dir not in cache:
        cache[rel_dir] = _vcs_plugin(project, rel_dir)
    return cache[rel_dir]


def _vcs_plugin(project: ProjectContext, rel_dir: str) -> str | None:
    def at(name: str) -> str:
        return posixpath.normpath(posixpath.join(rel_dir, name))

    data = project.pyproject_at(at("pyproject.toml")) or {}
    system = data.get("build-system") if isinstance(data.get("build-system"), dict) else {}
    for req in system.get("requires") or ():  # type: ignore[union-attr]
        name = requirement_name(req)
        if name in _PLUGINS:
            return name
    backend = system.get("build-backend")  # type: ignore[union-attr]
    if isinstance(backend, str) and backend.split(":")[0] in ("poetry_dynamic_versioning.backend", "flit_scm"):
        return backend.split(".")[0].split(":")[0].replace("_", "-")
    tool = data.get("tool") if isinstance(data.get("tool"), dict) else {}
    hatch = tool.get("hatch", {}).get("version") if isinstance(tool.get("hatch"), dict) else None  # type: ignore[union-attr]
    if isinstance(hatch, dict) and hatch.get("source") in ("vcs", "versioningit", "uv-dynamic-versioning"):
        return "hatch-vcs" if hatch.get("source") == "vcs" else str(hatch.get("source"))
    pdm = tool.get("pdm", {}).get("version") if isinstance(tool.get("pdm"), dict) else None  # type: ignore[union-attr]
    if isinstance(pdm, dict) and pdm.get("source") == "scm":
        return "pdm-backend (scm)"
    pdv = tool.get("poetry-dynamic-versioning")  # type: ignore[union-attr]
    if isinstance(pdv, dict) and pdv.get("enable") is True:
        return "poetry-dynamic-versioning"
    for name in ("setuptools_scm", "setuptools-scm", "versioningit", "versioneer", "setuptools-git-versioning"):
        if isinstance(tool.get(name), dict):  # type: ignore[union-attr]
            return name.replace("_", "-")
    setup_py = project.read_text(at("setup.py")) or ""
    setup_cfg = project.read_text(at("setup.cfg")) or ""
    if "use_scm_version" in setup_py or "use_scm_version" in setup_cfg or re.search(r"setuptools[_-]scm", setup_cfg):
        return "setuptools-scm"
    if re.search(r"^\s*import versioneer\b", setup_py, re.M) or re.search(r"^\[versioneer\]", setup_cfg, re.M):
        return "versioneer"
    if re.search(r"\bpbr\s*=\s*True", setup_py) or re.search(r"^\[pbr\]", setup_cfg, re.M):
        return "pbr"
    return None


def _overridden(stage, step, argv_env: dict[str, str]) -> bool:
    """Whether the environment of the build gives the version (no git read for it): a prefix
    of the command, an ENV, or an ARG of the stage (with or without a default: the build
    passes it)."""
    names = set(argv_env)
    names.update(k for k, v in step.env if v is not None)
    names.update(k for k, _ in step.args)
    names.update(a.key for s in stage.steps[: step.index] if isinstance(s.instruction, Arg) for a in s.instruction.args)
    return any(n.startswith(_OVERRIDES) for n in names)


def project_builds(ctx: RuleContext, step) -> list[tuple[str, dict[str, str]]]:
    """(folder as the RUN names it, env prefix) of each build of a project from its source
    tree in a RUN: an install of a local project (``pip install .``, ``uv sync``, ``poetry
    install``...), or a build command (``uv build``, ``python -m build``, ``poetry build``...)."""
    from layerwise.analyses.installs import strip_prefix

    analysis = ctx.analysis(step)
    out: list[tuple[str, dict[str, str]]] = []
    for x in analysis.installs:
        if x.project:
            for t in x.targets or ["."]:
                t = t.split("[", 1)[0]
                if t and not t.endswith(_ARCHIVE) and not any(c in t for c in "*?$"):
                    out.append((t, dict(x.env)))
    for argv in analysis.commands:
        argv, env = strip_prefix(argv)
        if not argv:
            continue
        words = ["python", *argv[1:]] if re.match(PYTHON, argv[0]) else [posixpath.basename(argv[0]), *argv[1:]]
        for start, value_opts in _BUILDERS.items():
            if tuple(words[: len(start)]) != start:
                continue
            target, rest, skip = ".", words[len(start) :], False
            for a in rest:
                if skip:
                    skip = False
                elif a.startswith("-"):
                    skip = value_opts is not None and a in value_opts
                elif value_opts is not None:
                    target = a
                    break
            out.append((target, dict(env)))
            break
    return out


def git_reads(ctx: RuleContext) -> list[tuple[str, str, Node]]:
    """(context path of the ``.git``, why, RUN) for each build that reads the git metadata of a
    project it builds from a whole-context copy (the ``.git`` at the project's folder or above
    it in the context, as git finds it)."""
    return [(git, f"the git metadata {plugin} reads for the project's version", node)
            for git, plugin, node in version_builds(ctx)]  # fmt: skip


def version_builds(ctx: RuleContext) -> list[tuple[str, str, Node]]:
    """(context path of the ``.git``, plugin, RUN) of each build that reads the git metadata of
    a project it builds from a whole-context copy."""
    got = ctx.__dict__.get("_git_reads")
    if got is not None:
        return got
    got = []
    project = ctx.project
    if project.root is not None:
        from layerwise.analyses.needed import _from_whole

        for stage in ctx.build.stages:
            whole: list[str] = []
            for step in stage.steps:
                if copies.is_whole_context(step):
                    whole.append(copies.dest_path(step))
                if not whole or not isinstance(step.instruction, Run):
                    continue
                for target, env in project_builds(ctx, step):
                    rel = _from_whole(step, target, whole)
                    if rel is None:
                        continue
                    plugin = vcs_plugin(project, rel)
                    if plugin is None or _overridden(stage, step, env):
                        continue
                    git = _git_of(project, rel)
                    if git is not None:
                        got.append((git, plugin, step.instruction.node))
    ctx.__dict__["_git_reads"] = got
    return got


def _git_of(project: ProjectContext, rel: str) -> str | None:
    """The ``.git`` of the repository holding context folder ``rel`` (itself or above it)."""
    d = posixpath.normpath(rel)
    while True:
        cand = ".git" if d in (".", "") else f"{d}/.git"
        if project.exists(cand):
            return cand
        if d in (".", ""):
            return None
        d = posixpath.dirname(d) or "."


def tracked_files(project: ProjectContext, git: str) -> list[str] | None:
    """The files the git index at ``git`` (a ``.git`` folder of the context) tracks, as context
    paths; None when it cannot be read (a ``.git`` file of a worktree, a split index, an
    unknown version)."""
    import struct

    base = posixpath.dirname(git)
    root = project.root
    if root is None:
        return None
    try:
        data = (root / git / "index").read_bytes()
    except OSError:
        return None
    if len(data) < 12 or data[:4] != b"DIRC":
        return None
    version, count = struct.unpack(">II", data[4:12])
    if version not in (2, 3, 4):
        return None
    out: list[str] = []
    pos, prev = 12, b""
    try:
        for _ in range(count):
            start = pos
            flags = struct.unpack(">H", data[pos + 60 : pos + 62])[0]
            pos += 62
            if version >= 3 and flags & 0x4000:
                pos += 2
            if version == 4:  # the path: strip N bytes of the previous one, then a NUL-ended suffix
                b = data[pos]
                pos += 1
                strip = b & 0x7F
                while b & 0x80:  # git's offset varint (varint.c)
                    b = data[pos]
                    pos += 1
                    strip = ((strip + 1) << 7) | (b & 0x7F)
                end = data.index(b"\0", pos)
                name = prev[: len(prev) - strip] + data[pos:end]
                pos = end + 1
            else:
                end = data.index(b"\0", pos)
                name = data[pos:end]
                pos = start + ((end - start) // 8 + 1) * 8  # NUL-padded to a multiple of 8
            prev = name
            path = name.decode("utf-8", "surrogateescape")
            out.append(posixpath.join(base, path) if base else path)
        while pos + 8 <= len(data) - 20:  # extensions: a split or sparse index lists other paths
            sig, size = data[pos : pos + 4], struct.unpack(">I", data[pos + 4 : pos + 8])[0]
            if sig in (b"link", b"sdir"):
                return None
            pos += 8 + size
    except (IndexError, ValueError, struct.error):
        return None
    return out


def kept_tracked(ctx: RuleContext) -> list[str]:
    """The files git tracks that ``.dockerignore`` must keep sending, because a build computes
    its version from the ``.git`` sent with them (a tracked file left out looks deleted: the
    version turns dirty); every sent file when the index cannot be read; none otherwise."""
    got = ctx.__dict__.get("_kept_tracked")
    if got is not None:
        return got
    project = ctx.project
    got = []
    for git in sorted({git for git, _, _ in version_builds(ctx) if not project.excluded(git)}):
        files = tracked_files(project, git)
        got += files if files is not None else (project.select(".") or [])
    ctx.__dict__["_kept_tracked"] = got
    return got


def tracked_note(ctx: RuleContext, patterns: list[str]) -> str:
    """Why ``layerwise fix`` leaves out those of ``patterns`` that exclude a file git tracks
    (see :func:`kept_tracked`), for a finding's hint; "" when it leaves out none for that."""
    tracked = kept_tracked(ctx)
    if not tracked:
        return ""
    from layerwise.analyses.needed import keeps_needed

    ok = set(keeps_needed(patterns, tracked))
    left = [p for p in patterns if p not in ok]
    if not left:
        return ""
    git, plugin, _ = next(r for r in version_builds(ctx) if not ctx.project.excluded(r[0]))
    return (f" (layerwise fix leaves out {', '.join(left)}: {plugin} computes the version from the {git} sent "
            "with them, and git would take a tracked file left out of the context for a deleted one: the "
            "version would turn dirty)")  # fmt: skip
