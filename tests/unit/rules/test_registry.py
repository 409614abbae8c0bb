"""The rule table (issue #18: rule metadata is one declared object) and its lazy loading."""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import re
import subprocess
import sys

import pytest

import layerwise.analyses.rules as rules_pkg
from layerwise.analyses.rules import RULES, all_rules, get_rule
from layerwise.analyses.rules.registry import FIX_SAFETY, SEVERITIES

MODULES = sorted(m.name for m in pkgutil.iter_modules(rules_pkg.__path__) if m.name.startswith("lw"))
TABLE_FIELDS = ("NAME", "SUMMARY", "SEVERITY", "FIX", "NEEDS_CONTEXT")


def test_every_rule_module_has_one_row_and_every_row_a_module():
    assert sorted(r.module for r in RULES) == MODULES


def test_codes_in_order_unique_and_named_after_their_module():
    codes = [r.code for r in RULES]
    assert codes == sorted(set(codes))
    assert list(all_rules()) == codes
    for r in RULES:
        assert re.fullmatch(r"LW\d{3}", r.code)
        assert r.module.startswith(r.code.lower() + "_"), r.module
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", r.name), r.name
        assert r.severity in SEVERITIES and r.fix in FIX_SAFETY and isinstance(r.needs_context, bool)
        assert r.summary and "\n" not in r.summary, r.code
    assert len({r.name for r in RULES}) == len(RULES)


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_module_reports_its_rows_code_and_declares_nothing_else_of_the_table(rule):
    mod = importlib.import_module(f"layerwise.analyses.rules.{rule.module}")
    assert rule.code == mod.CODE
    assert not [name for name in TABLE_FIELDS if hasattr(mod, name)], "metadata belongs in registry.py"
    assert rule.check is mod.check and rule.doc == mod.__doc__.strip() and rule.doc.startswith("## What it does")


def test_get_rule_ignores_case_and_knows_no_other_code():
    assert get_rule("lw101") is get_rule("LW101") is all_rules()["LW101"]
    assert get_rule("LW999") is None


PROBE = """\
import json, sys
from layerwise.cli import main
try:
    main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
print(json.dumps({"code": code, "rules": sorted(m.rsplit(".", 1)[1] for m in sys.modules
                                                 if m.startswith("layerwise.analyses.rules.lw")),
                  "ci_model": "layerwise.ci.model" in sys.modules}))
"""


def _probe(tmp_path, *args: str) -> dict:
    (tmp_path / "Dockerfile").write_text("FROM python:3.12-slim\nADD . /app\nRUN pip install -r /app/r.txt\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    proc = subprocess.run([sys.executable, "-c", PROBE, "check", "--format", "json", "--fail-level", "info", *args],
                          check=False, capture_output=True, text=True, timeout=60, env=env, cwd=tmp_path)  # fmt: skip
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _loaded_rules(tmp_path, *args: str) -> tuple[int, list[str]]:
    out = _probe(tmp_path, *args, "Dockerfile")
    return out["code"], out["rules"]


def test_only_the_selected_rules_are_imported(tmp_path):
    code, loaded = _loaded_rules(tmp_path, "--no-context", "--select", "LW5")
    assert code == 1  # LW502 reported the ADD: the selected rules did run
    assert loaded == [r.module for r in RULES if r.code.startswith("LW5")]


def test_without_a_context_the_rules_that_need_one_are_not_imported(tmp_path):
    code, loaded = _loaded_rules(tmp_path, "--no-context")
    assert code == 1
    assert loaded == [r.module for r in RULES if not r.needs_context]


def test_without_ci_files_the_ci_rules_are_neither_imported_nor_run(tmp_path):
    (tmp_path / ".git").mkdir()  # the repository whose CI files count
    out = _probe(tmp_path, "Dockerfile")
    assert out["code"] == 1 and not out["ci_model"]
    assert out["rules"] == [r.module for r in RULES if not r.needs_ci]
    (tmp_path / ".gitlab-ci.yml").write_text("build:\n  script:\n    - docker build .\n")
    out = _probe(tmp_path, "Dockerfile")
    assert out["ci_model"] and out["rules"] == [r.module for r in RULES]
    assert [r.code for r in RULES if r.needs_ci] == [r.code for r in RULES if r.code.startswith("LW6")]
