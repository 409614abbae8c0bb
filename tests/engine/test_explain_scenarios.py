"""``explain`` against the real engine: every scenario in tests/engine/scenarios is built
before and after its change, and layerwise's prediction for every step must equal what the
engine reported (BuildKit's ``CACHED``; the legacy builder's ``Using cache``)."""

from __future__ import annotations

import pytest

from tests.engine.scenarios import all_scenarios, compare, run_scenario

pytestmark = pytest.mark.engine

CASES = [(s, b) for s in all_scenarios() for b in s.builders]


def test_there_are_at_least_40_scenarios():
    assert len(all_scenarios()) >= 40


@pytest.mark.parametrize(("scenario", "builder"), CASES, ids=[f"{s.name}-{b}" for s, b in CASES])
def test_scenario(engine, tmp_path, scenario, builder):
    known = scenario.known(builder)
    outcome = run_scenario(engine, scenario, builder, tmp_path)
    predicted, actual = compare(outcome, builder)
    if known:
        assert predicted != actual, f"documented disagreement no longer happens: {known}"
        return
    assert predicted == actual, (
        f"{scenario.data.get('description')}\n"
        f"predicted {predicted}\nengine    {actual}\n--- engine log ---\n{outcome.after_log}"
    )
    assert predicted, "the scenario compared no step"
