"""A ``--mount`` value without quotes or line ends is split on commas without the csv module
(#17: its import on every check with a mount); the fields must be the CSV reader's."""

from __future__ import annotations

import csv

from hypothesis import example, given
from hypothesis import strategies as st

from layerwise.parse import instructions
from tests.fuzz.strategies import fuzz_settings

# commas, CSV's special characters (quote, CR, LF, NUL), spaces and ordinary mount text
ALPHABET = st.sampled_from([",", '"', "\r", "\n", "\0", " ", "\t", "=", "a", "type", "cache", "/x", "é", "'", "\\"])


def _csv_fields(value: str) -> list[str] | str:
    if not value:
        return []
    try:
        return next(csv.reader([value], skipinitialspace=False))
    except csv.Error:
        return "error"


def _ours(value: str) -> list[str] | str:
    try:
        return instructions._mount_fields(value)
    except ValueError:
        return "error"


@fuzz_settings()
@given(st.lists(ALPHABET, max_size=20).map("".join))
@example("type=cache,target=/root/.cache,")
@example(",,")
@example('type=bind,"source=a,b"')
def test_mount_fields_are_the_csv_readers(value: str) -> None:
    assert _ours(value) == _csv_fields(value)


@fuzz_settings()
@given(st.lists(ALPHABET.filter(lambda c: c not in '"\r\n\0'), max_size=20).map("".join))
def test_plain_values_are_split_as_csv_reads_them(value: str) -> None:
    assert _ours(value) == _csv_fields(value)
