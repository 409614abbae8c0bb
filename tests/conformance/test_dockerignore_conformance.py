"""moby/patternmatcher's own expectations (copied into shared/conformance/dockerignore/cases.json)
run against layerwise's port: one test per entry."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from layerwise.context.ignore import IgnoreFile, read_patterns
from layerwise.errors import LayerwiseError


def _shared_dir() -> Path | None:
    env = os.environ.get("LAYERWISE_SHARED")
    base = Path(env) if env else Path(__file__).resolve().parents[2].parent / "shared"
    data = base / "conformance" / "dockerignore" / "cases.json"
    return data if data.is_file() else None


CASES_FILE = _shared_dir()
if CASES_FILE is None:
    pytest.skip("shared/conformance/dockerignore/cases.json not found", allow_module_level=True)

DATA = json.loads(CASES_FILE.read_text(encoding="utf-8"))


def _id(case: dict) -> str:
    return f"{case['patterns']}-{case['path']}"


@pytest.mark.parametrize("case", DATA["cases"] + DATA["unix_only"], ids=_id)
def test_matches_or_parent_matches(case: dict) -> None:
    ignore = IgnoreFile.from_patterns(case["patterns"])
    assert ignore.matches_or_parent_matches(case["path"]) is case["excluded"]


@pytest.mark.parametrize("case", DATA["errors"], ids=lambda c: repr(c["patterns"]))
def test_bad_patterns_are_rejected(case: dict) -> None:
    with pytest.raises(LayerwiseError):
        IgnoreFile.from_patterns(case["patterns"])


def test_ignorefile_read_all() -> None:
    spec = DATA["ignorefile_read"]
    got = [p.text for p in read_patterns(spec["content"])]
    assert got == spec["expected_patterns"]


def test_case_count() -> None:
    # guards against the data file silently shrinking
    assert len(DATA["cases"]) + len(DATA["unix_only"]) + len(DATA["errors"]) >= 83
