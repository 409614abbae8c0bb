"""Suite-wide test settings.

Hypothesis: random examples on developers' machines (to keep finding new cases), but the same
examples on every CI run (``CI=true``): a submission must not pass or fail by chance.

Caches: the suite's snapshots keep their stat caches in a temporary folder of the session
(``XDG_CACHE_HOME``), never in the user's ``~/.cache/layerwise``.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

from hypothesis import settings

IN_CI = os.environ.get("CI", "").lower() == "true"

settings.register_profile("layerwise", deadline=None, database=None, derandomize=IN_CI)
settings.load_profile("layerwise")

_CACHE_HOME = tempfile.mkdtemp(prefix="layerwise-test-cache-")
os.environ["XDG_CACHE_HOME"] = _CACHE_HOME
atexit.register(shutil.rmtree, _CACHE_HOME, ignore_errors=True)
