"""Hypothesis profiles for the fuzz/property tests.

Fast by default (a few hundred examples per property, no example database writes that other
engineers would see); ``LAYERWISE_FUZZ=long`` switches to long runs (``LAYERWISE_FUZZ_EXAMPLES``
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

settings.register_profile("layerwise-fuzz-fast", max_examples=300, **_COMMON)
settings.register_profile(
    "layerwise-fuzz-long",
    max_examples=int(os.environ.get("LAYERWISE_FUZZ_EXAMPLES", "20000")),
    phases=[Phase.explicit, Phase.generate, Phase.shrink, Phase.explain],
    **_COMMON,
)

PROFILE = "layerwise-fuzz-long" if os.environ.get("LAYERWISE_FUZZ") == "long" else "layerwise-fuzz-fast"
