"""The small, unambiguous fixes: each returns text edits on one instruction's span.

* LW502 (``ADD`` of local files -> ``COPY``) and LW204 (uv with a cache mount but hard links
  that cannot cross it -> ``ENV UV_LINK_MODE=copy``): the edits their check rules attach to
  their findings (:func:`rule_fixes`), so ``layerwise check`` shows the fix that
  ``layerwise fix`` applies.
* LW201: a pip/uv cache baked into the layer -> ``--no-cache-dir`` / ``--no-cache``, or with
  ``cache_mount`` a ``--mount=type=cache`` on the RUN (root user only: its cache path is known).
* LW202: a cache mount made useless by ``--no-cache-dir`` on the same command -> drop the flag.
"""

from __future__ import annotations

import re

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


def _no_cache_env(step) -> set[str]:
    names = {k for k, _ in step.env} | {k for k, _ in step.args}
    return names


def fix_pip_cache(df: Dockerfile, build: Build, *, cache_mount: bool) -> list[ProposedFix]:
    out = []
    for stage in build.stages:
        for step in stage.steps:
            inst = step.instruction
            if not isinstance(inst, Run):
                continue
            analysis = analyse_run(inst)
            managers = {x.manager for x in analysis.installs}
            env = _no_cache_env(step)
            node = inst.node
            src = df.source(node)
            new = src
            edits: list[TextEdit] = []
            what = []
            root = step.user in ("", "root", "0", "0:0", "root:root")
            if "pip" in managers and not _has_cache_mount(inst, "pip") and "PIP_NO_CACHE_DIR" not in env:
                pip_cmds = [x for x in analysis.installs if x.manager == "pip"]
                if all("--no-cache-dir" not in x.argv for x in pip_cmds):
                    if cache_mount and root and inst.prepend_shell:
                        new = _add_mount(new, node.keyword, f"--mount=type=cache,target={PIP_CACHE}")
                        what.append(f"cache mount at {PIP_CACHE}")
                    else:
                        new = _PIP_INSTALL.sub(lambda m: m.group(0) + " --no-cache-dir", new)
                        what.append("pip --no-cache-dir")
            if managers & {"uv", "uv-pip"} and not _has_cache_mount(inst, "uv") and "UV_NO_CACHE" not in env:
                uv_cmds = [x for x in analysis.installs if x.manager in ("uv", "uv-pip")]
                if all("--no-cache" not in x.argv for x in uv_cmds):
                    if cache_mount and root and inst.prepend_shell:
                        new = _add_mount(new, node.keyword, f"--mount=type=cache,target={UV_CACHE}")
                        what.append(f"cache mount at {UV_CACHE}")
                    else:
                        new = _UV_INSTALL.sub(lambda m: m.group(0) + " --no-cache", new)
                        what.append("uv --no-cache")
            # LW202: a cache mount and --no-cache-dir on the same pip command
            if _has_cache_mount(inst, "pip") and "--no-cache-dir" in new:
                new = re.sub(r"\s--no-cache-dir\b", "", new)
                what.append("drop --no-cache-dir (it disables the cache mount)")
            if new != src:
                edits.append(TextEdit(node.span.start, node.span.end, new))
                code = "LW202" if what and what[-1].startswith("drop") and len(what) == 1 else "LW201"
                out.append(ProposedFix(code, f"line {node.span.start_line}: " + ", ".join(what),
                                         edits, "safe", node.span.start_line))  # fmt: skip
    return out


def _add_mount(source: str, keyword: str, mount: str) -> str:
    return source[: len(keyword)] + " " + mount + source[len(keyword) :]
