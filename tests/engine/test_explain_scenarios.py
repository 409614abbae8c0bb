"""``explain`` against the real engine: every scenario in tests/engine/scenarios is built
before and after its change, and layerwise's prediction for every step must equal what the
engine reported (BuildKit's ``CACHED``; the legacy builder's ``Using cache``)."""

from __future__ import annotations

import pytest

from layerwise.engine.crosscheck import pair_steps
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
        if scenario.data.get("hedged"):
            # explain said so: each differing step "rebuilds unless the RUN writes the same bytes"
            pairs = pair_steps(outcome.predicted.steps, outcome.after_steps, builder)
            assert [p.describe() for p in pairs if not p.agrees and not p.hedge_held] == [], outcome.after_log
        return
    assert predicted == actual, (
        f"{scenario.data.get('description')}\n"
        f"predicted {predicted}\nengine    {actual}\n--- engine log ---\n{outcome.after_log}"
    )
    assert predicted, "the scenario compared no step"
