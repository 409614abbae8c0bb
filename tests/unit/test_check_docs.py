"""docs/rules/*.md are generated from the rule modules and must be current."""

import importlib.util
from pathlib import Path

DOCS = Path(__file__).resolve().parents[2] / "docs" / "rules"


def test_rule_docs_are_current():
    spec = importlib.util.spec_from_file_location("generate_rule_docs", DOCS / "generate.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    for name, text in mod.pages().items():
        assert (DOCS / name).read_text(encoding="utf-8") == text, f"run python docs/rules/generate.py ({name})"
