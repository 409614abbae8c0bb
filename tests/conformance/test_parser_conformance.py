"""BuildKit's own parser test files: every positive case dumps exactly as BuildKit's
``Node.Dump()``, every negative case is rejected with a located error."""

from __future__ import annotations

import pytest

from layerwise.parse import ParseError, parse_file
from tests.shared import shared_path

BASE = shared_path("conformance", "buildkit-parser")


def _cases(folder: str) -> list[str]:
    root = BASE / folder
    return sorted(p.name for p in root.iterdir()) if root.is_dir() else []


POSITIVE = _cases("testfiles")
NEGATIVE = _cases("testfiles-negative")


def test_case_counts():
    assert len(POSITIVE) == 33
    assert len(NEGATIVE) == 4


@pytest.mark.parametrize("case", POSITIVE)
def test_positive(case):
    folder = BASE / "testfiles" / case
    df = parse_file(folder / "Dockerfile")
    expected = (folder / "result").read_text(encoding="utf-8")
    assert df.dump() == expected


@pytest.mark.parametrize("case", NEGATIVE)
def test_negative(case):
    path = BASE / "testfiles-negative" / case / "Dockerfile"
    with pytest.raises(ParseError) as info:
        parse_file(path)
    err = info.value
    assert err.location is not None and err.location.line is not None
    assert str(err).startswith(f"{path}:")
