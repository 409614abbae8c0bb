"""The small, unambiguous fixes: the edits the check rules attach to their findings
(:func:`rule_fixes`), so ``layerwise check`` shows the fix that ``layerwise fix`` applies, on
the same instructions:

* LW502: ``ADD`` of local files -> ``COPY``;
* LW202: a cache mount made useless by ``--no-cache-dir``/``--no-cache`` -> drop the option;
* LW201: a package cache baked into the layer -> ``--no-cache-dir``/``--no-cache``, or with
  ``cache_mount`` a ``--mount=type=cache`` on the RUN (root's pip/uv caches: their path is known);
* LW204: uv with a cache mount but hard links that cannot cross it -> ``ENV UV_LINK_MODE=copy``.
"""

from __future__ import annotations

from layerwise.analyses.rules import RuleContext, get_rule
from layerwise.fixes.edits import ProposedFix, TextEdit


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
