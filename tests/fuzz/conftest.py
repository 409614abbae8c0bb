"""Hypothesis profiles for the fuzz/property tests.

Fast by default (300 examples per property under ``CI=true``, 100 otherwise; no example
database writes that other engineers would see); ``LAYERWISE_FUZZ=long`` switches to long runs (``LAYERWISE_FUZZ_EXAMPLES``
examples per property, default 20,000). The 1,000,000-input run is ``bench/fuzz_long.py``.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, Phase, settings

_COMMON = {
    "deadline": None,
    "database": None,
    "derandomize": os.environ.get("CI", "").lower() == "true",  # the same examples on every CI run
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
}

# 300 examples per property in CI (the same ones every run); 100 in the developers' inner loop,
# where each run draws new ones (#17: the inner loop's time)
_IN_CI = os.environ.get("CI", "").lower() == "true"
settings.register_profile("layerwise-fuzz-fast", max_examples=300 if _IN_CI else 100, **_COMMON)
settings.register_profile(
    "layerwise-fuzz-long",
    max_examples=int(os.environ.get("LAYERWISE_FUZZ_EXAMPLES", "20000")),
    phases=[Phase.explicit, Phase.generate, Phase.shrink, Phase.explain],
    **_COMMON,
)

PROFILE = "layerwise-fuzz-long" if os.environ.get("LAYERWISE_FUZZ") == "long" else "layerwise-fuzz-fast"
