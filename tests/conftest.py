"""Suite-wide test settings.

Hypothesis: random examples on developers' machines (to keep finding new cases), but the same
examples on every CI run (``CI=true``): a submission must not pass or fail by chance.
"""

from __future__ import annotations

import os

from hypothesis import settings

IN_CI = os.environ.get("CI", "").lower() == "true"

settings.register_profile("layerwise", deadline=None, database=None, derandomize=IN_CI)
settings.load_profile("layerwise")
