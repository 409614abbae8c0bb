"""Fix safety is documented (issue #18): every rule that declares a fix says in a
``## Fix safety`` section of its doc why the fix is safe or what makes it unsafe."""

from __future__ import annotations

import pytest

from layerwise.analyses.rules import all_rules

RULES = list(all_rules().values())


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_declared_fix_has_a_fix_safety_section(rule):
    assert rule.fix in (None, "safe", "unsafe")
    if rule.fix is not None:
        assert "\n## Fix safety\n" in "\n" + rule.doc, rule.code
        section = rule.doc.split("## Fix safety", 1)[1].split("\n## ", 1)[0]
        assert rule.fix in section.lower() or "safe" in section.lower()
