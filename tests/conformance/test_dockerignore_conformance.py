"""moby/patternmatcher's own expectations (copied into tests/data/conformance/dockerignore/cases.json)
run against layerwise's port: one test per entry."""

from __future__ import annotations

import json

import pytest

from layerwise.context.ignore import IgnoreFile, read_patterns
from layerwise.errors import LayerwiseError
from tests.shared import shared_path

CASES_FILE = shared_path("conformance", "dockerignore", "cases.json")

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
