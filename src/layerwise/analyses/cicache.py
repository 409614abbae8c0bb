"""What the CI-cache rules (LW6xx) ask of a Dockerfile and of the repository's CI builds.

A CI runner starts with an empty builder: only what a build imports (``cache-from``) from what
an earlier build exported (``cache-to``, or inline cache metadata) is reused. These helpers say
where the dependency install sits in the Dockerfile (a builder stage that later copies the code
loses it in ``mode=min``), which installs lean on a cache mount (never exported), and whether
some build of the repository exports the cache that another imports.
"""

from __future__ import annotations

import re

from layerwise.analyses.findings import Finding, Fix
from layerwise.parse.instructions import Add, Copy, Run
from layerwise.records import Frozen

TYPE_CHECKING = False  # (typing.TYPE_CHECKING without importing typing at start-up)
if TYPE_CHECKING:
    from layerwise.analyses.rules import RuleContext
    from layerwise.ci import CacheSpec, CiBuild, Pos
    from layerwise.resolve.stages import Stage, Step


def finding(ctx: RuleContext, code: str, build: CiBuild, message: str, *, pos: Pos | None = None,
            hint: str = "", fix: Fix | None = None, step: Step | None = None) -> Finding:  # fmt: skip
    """A finding at a place of the CI file (the build's step or command by default), related to
    the Dockerfile it builds (the step that matters, when given)."""
    p = pos or build.pos
    related = ((ctx.path, step.line if step is not None else 1),)
    return Finding(code, message, build.path, p.line, p.column, fix=fix, hint=hint, related=related)


def ci_text(ctx: RuleContext, build: CiBuild) -> str:
    ci = ctx.ci()
    return ci.texts.get(build.path, "") if ci is not None else ""


def target_stage(ctx: RuleContext, build: CiBuild) -> Stage | None:
    stages = ctx.build.stages
    if not stages:
        return None
    if build.target:
        for s in stages:
            if s.name and s.name.lower() == build.target.lower():
                return s
        return None
    return stages[-1]


def _is_context_copy(step: Step) -> bool:
    inst = step.instruction
    return isinstance(inst, (Copy, Add)) and not step.expanded.get("from") and not getattr(inst, "heredocs", None)


class BuilderInstall(Frozen):
    """A dependency install in a stage the image does not ship, and the later step of that
    stage that copies from the build context (and so re-runs on a code change). (A record
    written out: the SARIF report imports every rule module, this one's too.)"""

    __slots__ = _fields = ("stage", "install", "code_copy")

    def __init__(self, stage: Stage, install: Step, code_copy: Step) -> None:
        self._init(stage, install, code_copy)


def install_in_builder(ctx: RuleContext, build: CiBuild) -> BuilderInstall | None:
    target = target_stage(ctx, build)
    if target is None:
        return None
    shipped = {s.index for s in ctx.lineage(target)}
    for stage in ctx.build.needed_stages(target.index):
        if stage.index in shipped:
            continue
        install = None
        for step in stage.steps:
            inst = step.instruction
            if install is None and isinstance(inst, Run):
                if any(i.downloads and not i.tools_only for i in ctx.analysis(step).installs):
                    install = step
            elif install is not None and _is_context_copy(step):
                return BuilderInstall(stage, install, step)
    return None


def cache_mount_install(ctx: RuleContext, build: CiBuild) -> Step | None:
    """The first dependency install of the built stages that downloads into a cache mount."""
    target = target_stage(ctx, build)
    if target is None:
        return None
    for stage in ctx.build.needed_stages(target.index):
        for step in stage.steps:
            inst = step.instruction
            if not isinstance(inst, Run) or not any(m.type == "cache" for m in inst.mounts):
                continue
            if any(i.downloads and not i.tools_only for i in ctx.analysis(step).installs):
                return step
    return None


# (what the value is, when it changes, pattern of the CI expression or shell text giving it)
_VOLATILE = (
    ("the commit's SHA", "every commit",
     r"github\.sha|GITHUB_SHA|head_commit\.id|pull_request\.head\.sha|CI_COMMIT_(SHORT_)?SHA"
     r"|\$\(\s*git\s+(rev-parse|describe|log)\b|BUILD_COMMIT|GIT_COMMIT|COMMIT_SHA"),
    ("the run's number", "every build",
     r"github\.run_(id|number|attempt)|GITHUB_RUN_(ID|NUMBER)|CI_PIPELINE_I?ID|CI_JOB_ID|BUILD_NUMBER"),
    ("a date", "every build", r"\$\(\s*date\b|BUILD_DATE|TIMESTAMP|\bnow\(\)"),
    ("the version", "every release",
     r"github\.ref_name|release\.tag_name|CI_COMMIT_TAG|outputs\.version\b|outputs\.tags?\b|inputs\.(tag|version)\b"),
)  # fmt: skip


def volatile_value(value: str) -> tuple[str, str] | None:
    """(what the value is, when it changes) for a value that changes on every build or
    release; None for one that may stay (a literal, a branch name, an input of the workflow)."""
    for what, when, pattern in _VOLATILE:
        if re.search(pattern, value, re.I):
            return what, when
    return None


def volatile_args(build: CiBuild) -> dict[str, tuple[str, str]]:
    """The build arguments ``build`` sets to a value that changes on every build or release:
    name -> (what the value is, when it changes)."""
    return {k: v for k, value in build.build_args.items() if (v := volatile_value(value)) is not None}


def same_cache(a: CacheSpec, b: CacheSpec) -> bool:
    """Whether an import (``a``) reads what an export (``b``) writes."""
    if a.opaque or b.opaque:
        return True  # an expression: assume the author matched them
    if a.type != b.type:
        return a.type == "registry" and b.type == "inline"
    if a.type == "gha":
        return a.scope == b.scope
    if a.type == "registry":
        return a.attrs.get("ref") == b.attrs.get("ref")
    if a.type == "local":  # the export's folder, or where a later step of its job moves it
        return a.attrs.get("src") is not None and a.location == b.location
    return True  # s3, azblob...: names we do not compare


def exporters(builds: list[CiBuild], spec: CacheSpec) -> list[tuple[CiBuild, str]]:
    """The builds that export what the import ``spec`` reads, each with the mode of that
    export (``max``, or ``min``: cache-to's default, and the inline metadata of an image)."""
    out = []
    for b in builds:
        modes = [to.mode if to.type != "inline" else "min" for to in b.cache_to if same_cache(spec, to)]
        if not modes and spec.type == "registry" and b.uses_registry_inline:
            modes = ["min"]
        if modes:
            out.append((b, "max" if "max" in modes else "min"))
    return out


def exported_by_some_build(ctx: RuleContext, spec: CacheSpec) -> bool:
    ci = ctx.ci()
    return bool(exporters(ci.builds, spec)) if ci is not None else False


def imported_by_some_build(ctx: RuleContext, spec: CacheSpec) -> bool:
    ci = ctx.ci()
    return any(same_cache(fr, spec) for b in (ci.builds if ci is not None else ()) for fr in b.cache_from)


def can_export(spec: CacheSpec) -> bool:
    """Whether the default ``docker`` driver (classic image store) refuses this export."""
    return spec.type == "inline"
