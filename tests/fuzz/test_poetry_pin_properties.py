"""LW201 reads a Poetry pin to one release (``==1.1.15``) without packaging (#17: importing it
cost more than the corpus's Poetry checks); its answer must be packaging's for every such pin."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from layerwise.analyses.rules import lw201_cache_in_layer as lw201
from tests.fuzz.strategies import fuzz_settings

# release numbers near the 1.2.0 boundary (and its zero-padded spellings), leading zeros, big ones
NUMBERS = st.one_of(st.integers(0, 3), st.sampled_from(["00", "01", "02", "10", "99", "123456789012345678901234"]))
RELEASES = st.lists(NUMBERS.map(str), min_size=1, max_size=5).map(".".join)


@fuzz_settings()
@given(RELEASES)
@example("1.2")
@example("1.2.0.0")
@example("1.1.15")
@example("01.02")
@example("1.19")
def test_a_release_pin_is_read_as_packaging_reads_it(release: str) -> None:
    spec = "==" + release
    assert lw201._admits_no_later(spec) == lw201._specifier_admits_no_later(spec)


@fuzz_settings()
@given(st.text(alphabet=st.sampled_from("=<>~!0129.* ,v"), max_size=12))
def test_other_specifiers_are_read_with_packaging(spec: str) -> None:
    assert lw201._admits_no_later(spec) == lw201._specifier_admits_no_later(spec)


def test_the_boundary() -> None:
    assert lw201._admits_no_later("==1.1.15")
    assert not lw201._admits_no_later("==1.2")
    assert not lw201._admits_no_later("==2.1.3")
    assert lw201._admits_no_later("<1.2")
    assert not lw201._admits_no_later(">=1.1")
