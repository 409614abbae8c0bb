"""Fix safety (issue #18): every rule that declares a fix says in a ``## Fix safety`` section of
its doc why the fix is safe or what makes it unsafe; each finding's fix carries its own
applicability, which must be the one its rule declares (or either, for a ``per-finding`` rule
whose doc then says which case is which)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from layerwise.analyses.findings import Edit, Finding, Fix
from layerwise.analyses.rules import all_rules
from layerwise.api import check_text

RULES = list(all_rules().values())


def _section(rule) -> str:
    return rule.doc.split("## Fix safety", 1)[1].split("\n## ", 1)[0].lower()


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_declared_fix_has_a_fix_safety_section(rule):
    assert rule.fix in (None, "safe", "unsafe", "per-finding")
    if rule.fix is not None:
        assert "\n## Fix safety\n" in "\n" + rule.doc, rule.code
        assert "safe" in _section(rule)


@pytest.mark.parametrize("rule", [r for r in RULES if r.fix == "per-finding"], ids=lambda r: r.code)
def test_a_per_finding_rule_says_when_its_fix_is_safe_and_when_unsafe(rule):
    words = _section(rule).replace("unsafe", "").split()
    assert "unsafe" in _section(rule) and any(w.startswith("safe") for w in words), rule.code


def test_fix_safety_is_safe_or_unsafe():
    assert Fix("safe", "x").safety == "safe" and Fix("unsafe", "x").safety == "unsafe"
    with pytest.raises(ValueError, match="fix safety must be one of"):
        Fix("Safe", "a misspelt safety would never be applied")


@dataclass
class _Rule:
    code: str
    fix: str | None
    safety: str
    needs_context: bool = False
    severity: str = "warning"

    def check(self, ctx):
        node = ctx.dockerfile.nodes[0]
        yield Finding(self.code, "probe", ctx.path, node.span.start_line,
                      fix=Fix(self.safety, "probe", (Edit(ctx.path, 0, 0, "# x\n"),)))  # fmt: skip


@pytest.mark.parametrize(
    ("declared", "safety", "error"),
    [("safe", "safe", False), ("safe", "unsafe", True), ("unsafe", "safe", True), (None, "safe", True),
     ("per-finding", "safe", False), ("per-finding", "unsafe", False)],
)  # fmt: skip
def test_a_finding_whose_fix_safety_its_rule_does_not_declare_is_a_rule_error(declared, safety, error):
    result = check_text("FROM python:3.12-slim\n", rules=[_Rule("LW999", declared, safety)])
    assert [f.code for f in result.findings] == ["LW999"]
    assert bool(result.errors) == error, result.errors
    if error:
        assert result.errors == [f"Dockerfile: internal error in LW999: ValueError: a {safety} fix, "
                                 f"but the rule declares {declared or 'no fix'}"]  # fmt: skip


WORKFLOW = """\
on: push
jobs:
  publish:
    runs-on: ubuntu-latest
    steps:
      - uses: docker/build-push-action@v6
        with:
          push: true
          cache-to: type=gha,mode=max,scope=publish
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: docker/build-push-action@v6
        with:
          cache-to: type=gha,mode=max,scope=test
"""


def test_one_rules_safe_and_unsafe_findings_are_counted_and_fixed_apart(tmp_path, capsys):
    """LW608 twice: a job that pushes its image (safe to set up Buildx) and one that does not
    (unsafe: the image would stay in the builder). `[*]`, the summary and `fix` agree."""
    import re

    from layerwise.cli import main
    from layerwise.fixes import fix_project

    (tmp_path / "requirements.txt").write_text("flask==3.0.3\n")
    (tmp_path / "Dockerfile").write_text("FROM python:3.12-slim\nCOPY requirements.txt .\n"
                                         "RUN pip install --no-cache-dir -r requirements.txt\n")  # fmt: skip
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github" / "workflows" / "ci.yml").write_text(WORKFLOW)
    for unsafe, count in ((False, 1), (True, 2)):
        with pytest.raises(SystemExit):
            main(["check", str(tmp_path), "--no-color", "--select", "LW608"] + ["--unsafe-fixes"] * unsafe)
        out = capsys.readouterr().out
        assert len(re.findall(r"LW608 \[\*\]", out)) == count and f"{count} can be fixed with" in out, out
        result = fix_project(tmp_path, tmp_path / "Dockerfile", select={"LW608"}, unsafe_fixes=unsafe)
        assert [a.safety for a in result.applied] == ["safe", "unsafe"][:count]
        ((_, fixed),) = result.others.values()
        assert fixed.count("- uses: docker/setup-buildx-action@v3\n") == count
