"""``layerwise check`` on the real Dockerfiles of tests/data/corpus (Dockerfile only, no build
context, as the corpus has only the files). The tables name files by number; a file the corpus in
use does not hold (the in-repo copy leaves out the four without a license) is not checked.

* Recall: every finding an ``EXPECT:`` note of INDEX.tsv asks for is reported (table
  ``EXPECTED``: the note's lines mapped to rule codes), plus the findings we read out of the
  other notes (``ALSO_EXPECTED``).
* Precision on the layout rule: no LW101 on the files in category ``friendly``, nor on the
  other files whose notes describe a cache-friendly layout (``NO_LW101``).
* No crash: every file is checked or rejected with a located error (the two invalid ones).
"""

from __future__ import annotations

import csv

import pytest

from layerwise.analyses.check import check_dockerfile
from layerwise.errors import LayerwiseError
from tests.shared import DATA, shared_path

CORPUS = shared_path("corpus")

# file number -> {(code, line)} from the EXPECT: notes (line numbers as the notes give them)
EXPECTED: dict[str, set[tuple[str, int]]] = {
    "001": {("LW101", 27)},  # COPY . ./ (27) before pip install (30)
    "002": {("LW101", 22)},  # COPY . ./ (22) before pip install (25)
    "003": {("LW101", 29), ("LW502", 29)},  # ADD . /bookstore/ before pip install (32); ADD for a local dir
    "004": {("LW101", 22), ("LW401", 25)},  # COPY . . before `pip install Flask gunicorn` (unpinned, 25)
    "005": {("LW101", 2)},  # COPY . . (2) before pip install (3)
    "006": {("LW101", 3), ("LW107", 11), ("LW502", 3)},  # ADD . /moto/ before pip3 install (7-8); apk add (11) after the copy
    "007": {("LW101", 7)},  # COPY . . before pip install .[ssh] (10-13)
    "008": {("LW101", 15)},  # COPY . before pip install -U -e . (19-26)
    "009": {("LW101", 9), ("LW107", 11), ("LW104", 11)},  # COPY . /app before apt (11) and pip (12); apt lists kept
    "010": {("LW101", 22)},  # COPY . /app before pip install /app/packages/... (23-25)
    "011": {("LW101", 8), ("LW502", 8)},  # ADD . / before pip3 install (9) and setup.py develop (10)
    "012": {("LW101", 26), ("LW502", 26)},  # ADD . /app before python3 -m pip install (37)
    "013": {("LW101", 3)},  # COPY . /app/ before pip3 install -r /app/requirements.txt (5)
    "014": {("LW101", 5), ("LW502", 5)},  # ADD . . before pip install (6)
    "015": {("LW101", 18)},  # COPY --chown=nonroot:nonroot . . before pip install (27)
}
# read out of the other notes (no EXPECT: prefix, same kind of statement)
ALSO_EXPECTED: dict[str, set[tuple[str, int]]] = {
    "016": {("LW101", 13)},  # builder: COPY . . before pip install -e . (15)
    "017": {("LW101", 4), ("LW107", 8)},  # COPY . /src/ before apt (8) and pip (11-19)
    "018": {("LW101", 13), ("LW502", 13)},  # ADD flask-app before npm/pip installs
    "019": {("LW101", 3)},  # COPY . / before pipenv install
    "020": {("LW101", 4)},  # COPY app.py requirements.txt ./ (source and requirements together)
    "021": {("LW101", 8)},  # COPY app ./app before the requirements install
    "037": {("LW101", 19)},  # COPY . . before poetry install (25)
    "041": {("LW101", 24), ("LW402", 27)},  # COPY . . before `uv sync` (no --locked)
    "042": {("LW101", 23), ("LW105", 20), ("LW402", 30)},  # uv from ghcr.io/astral-sh/uv:latest
    "055": {("LW101", 22)},  # builder: COPY . before pip wheel (26-27)
    "060": {("LW101", 23)},  # COPY . /build before uv build && pip install dist/*.whl
    "068": {("LW101", 22)},  # COPY . /template before the pip install (31)
}
# cache-friendly layouts by their notes (besides category friendly)
NO_LW101 = {"035", "036", "038", "039", "040", "043", "044", "045", "046", "047", "049", "050", "051",
            "052", "053", "054", "056", "057", "058", "061", "063", "064", "065", "066", "067", "071",
            "073", "074", "075"}  # fmt: skip
REJECTED = {"069", "076"}  # not valid Dockerfiles (BuildKit rejects them too)
# the files without a license, which tests/data/corpus does not hold (LAYERWISE_SHARED may)
ABSENT_HERE = {"018", "019", "075", "076"}


def _index() -> list[dict[str, str]]:
    with open(CORPUS / "INDEX.tsv", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


_CACHE: dict[str, object] = {}


def _check_all():
    if not _CACHE:
        for row in _index():
            num = row["file"].split("/")[-1][:3]
            try:
                _CACHE[num] = check_dockerfile(CORPUS / row["file"])
            except LayerwiseError as exc:
                _CACHE[num] = exc
    return _CACHE


def _present() -> set[str]:
    return {row["file"].split("/")[-1][:3] for row in _index()}


def test_every_expect_note_is_in_the_table():
    notes = {row["file"].split("/")[-1][:3] for row in _index() if "EXPECT:" in row["note"]}
    assert notes == set(EXPECTED) & _present()


def test_the_tables_name_only_files_the_corpus_holds():
    every = set(EXPECTED) | set(ALSO_EXPECTED) | NO_LW101 | REJECTED
    assert every - ABSENT_HERE <= _present()
    if CORPUS == DATA / "corpus":  # the in-repo copy: exactly the unlicensed files are left out
        assert not ABSENT_HERE & _present()
        assert len(_present()) == 76 - len(ABSENT_HERE)


@pytest.mark.parametrize("num", sorted((set(EXPECTED) | set(ALSO_EXPECTED)) & _present()))
def test_recall(num):
    result = _check_all()[num]
    assert not isinstance(result, Exception), result
    got = {(f.code, f.line) for f in result.findings}
    want = EXPECTED.get(num, set()) | ALSO_EXPECTED.get(num, set())
    assert want <= got, sorted(want - got)


def test_no_lw101_on_friendly_files():
    friendly = {row["file"].split("/")[-1][:3] for row in _index() if row["category"] == "friendly"}
    assert len(friendly) == 13
    bad = []
    for num in sorted((friendly | NO_LW101) & _present()):
        result = _check_all()[num]
        if isinstance(result, Exception):
            continue
        bad += [(num, f.line, f.message) for f in result.findings if f.code == "LW101"]
    assert not bad


def test_no_crash_and_no_rule_errors():
    for num, result in _check_all().items():
        if num in REJECTED:
            assert isinstance(result, LayerwiseError) and result.location is not None and result.location.line
            continue
        assert not isinstance(result, Exception), (num, result)
        assert not result.errors, (num, result.errors)
