"""The small, unambiguous fixes: each returns text edits on one instruction's span.

* LW502 (``ADD`` of local files -> ``COPY``) and LW204 (uv with a cache mount but hard links
  that cannot cross it -> ``ENV UV_LINK_MODE=copy``): the edits their check rules attach to
  their findings (:func:`rule_fixes`), so ``layerwise check`` shows the fix that
  ``layerwise fix`` applies.
* LW201: a pip/uv cache baked into the layer -> ``--no-cache-dir`` / ``--no-cache``, or with
  ``cache_mount`` a ``--mount=type=cache`` on the RUN (root user only: its cache path is known).
* LW202: a cache mount made useless by ``--no-cache-dir`` on the same command -> drop the flag.

LW201 and LW202 still find their RUNs here: their rules report fewer of them (only the stages
that ship, no ``pip install -U pip``, no local wheels, no RUN that cleans its cache) and fix
more (Poetry, uv's ``--no-cache`` under a mount), so taking the rules' edits would change what
``fix`` writes on real files (20 of the corpus's 76).
"""

from __future__ import annotations

import re

from layerwise.analyses.pkgcache import ROOT_USERS
from layerwise.analyses.rules import RuleContext, get_rule
from layerwise.fixes.commands import analyse_run
from layerwise.fixes.edits import ProposedFix, TextEdit
from layerwise.parse.instructions import Run
from layerwise.parse.nodes import Dockerfile
from layerwise.resolve.stages import Build

PIP_CACHE = "/root/.cache/pip"
UV_CACHE = "/root/.cache/uv"


def rule_fixes(ctx: RuleContext, code: str) -> list[ProposedFix]:
    """The fixes the rule ``code`` attaches to its findings, in the rule's order (findings
    whose fix carries no edits are left out)."""
    rule = get_rule(code)
    assert rule is not None, code
    out = []
    for f in rule.check(ctx):
        if f.fix is None or not f.fix.edits:
            continue
        edits = [TextEdit(e.start_offset, e.end_offset, e.replacement) for e in f.fix.edits]
        out.append(ProposedFix(f.code, f"line {f.line}: {f.fix.description}", edits, f.fix.safety, f.line))
    return out


_PIP_INSTALL = re.compile(r"\b(pip3?(?:\.\d+)?|-m\s+pip)(\s+)install\b")
_UV_INSTALL = re.compile(r"\buv(\s+)(sync|pip\s+install)\b")


def _has_cache_mount(run: Run, target_part: str) -> bool:
    return any(m.type == "cache" and target_part in m.target for m in run.mounts)


# (the managers, a word of their cache mount's target, the env var and the option that disable
#  the cache, its folder for root, where the option goes, the name in messages)
_CACHES = (
    (("pip",), "pip", "PIP_NO_CACHE_DIR", "--no-cache-dir", PIP_CACHE, _PIP_INSTALL, "pip"),
    (("uv", "uv-pip"), "uv", "UV_NO_CACHE", "--no-cache", UV_CACHE, _UV_INSTALL, "uv"),
)


def fix_pip_cache(df: Dockerfile, build: Build, *, cache_mount: bool) -> list[ProposedFix]:
    out = []
    for stage in build.stages:
        for step in stage.steps:
            inst = step.instruction
            if not isinstance(inst, Run):
                continue
            analysis = analyse_run(inst)
            env = {k for k, _ in step.env} | {k for k, _ in step.args}
            node = inst.node
            src = df.source(node)
            new = src
            what = []
            for managers, part, var, flag, cache, pattern, name in _CACHES:
                cmds = [x for x in analysis.installs if x.manager in managers]
                if not cmds or _has_cache_mount(inst, part) or var in env or any(flag in x.argv for x in cmds):
                    continue
                if cache_mount and step.user in ROOT_USERS and inst.prepend_shell:
                    new = _add_mount(new, node.keyword, f"--mount=type=cache,target={cache}")
                    what.append(f"cache mount at {cache}")
                else:
                    new = pattern.sub(lambda m, flag=flag: m.group(0) + " " + flag, new)
                    what.append(f"{name} {flag}")
            # LW202: a cache mount and --no-cache-dir on the same pip command
            if _has_cache_mount(inst, "pip") and "--no-cache-dir" in new:
                new = re.sub(r"\s--no-cache-dir\b", "", new)
                what.append("drop --no-cache-dir (it disables the cache mount)")
            if new != src:
                code = "LW202" if what and what[-1].startswith("drop") and len(what) == 1 else "LW201"
                out.append(ProposedFix(code, f"line {node.span.start_line}: " + ", ".join(what),
                                       [TextEdit(node.span.start, node.span.end, new)], "safe", node.span.start_line))  # fmt: skip
    return out


def _add_mount(source: str, keyword: str, mount: str) -> str:
    return source[: len(keyword)] + " " + mount + source[len(keyword) :]
