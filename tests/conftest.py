"""Suite-wide test settings.

Hypothesis: random examples on developers' machines (to keep finding new cases), but the same
examples on every CI run (``CI=true``): a submission must not pass or fail by chance.

Bytecode: with ``PYTHONDONTWRITEBYTECODE`` set (as on the shared development machine),
every run compiled all of ``src/`` and rewrote the asserts of all ~100 test modules again, about
2 s of the inner loop's CPU, and the child processes of the CLI tests compiled the modules they
import each time too. The suite keeps its bytecode instead in one folder outside the source
tree (``sys.pycache_prefix``: nothing is written next to the sources, which is what the setting
is there for), and its child processes read it from there (``PYTHONPYCACHEPREFIX``). An
explicit ``PYTHONPYCACHEPREFIX`` is kept as it is.

Caches: the suite's snapshots keep their stat caches in a temporary folder of the session
(``XDG_CACHE_HOME``), never in the user's ``~/.cache/layerwise``.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile

from hypothesis import settings

IN_CI = os.environ.get("CI", "").lower() == "true"

settings.register_profile("layerwise", deadline=None, database=None, derandomize=IN_CI)
settings.load_profile("layerwise")

if sys.dont_write_bytecode and not sys.pycache_prefix:
    _PYCACHE = os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "layerwise-test-pycache"
    )
    sys.pycache_prefix = _PYCACHE
    sys.dont_write_bytecode = False
    os.environ["PYTHONPYCACHEPREFIX"] = _PYCACHE

_CACHE_HOME = tempfile.mkdtemp(prefix="layerwise-test-cache-")
os.environ["XDG_CACHE_HOME"] = _CACHE_HOME
atexit.register(shutil.rmtree, _CACHE_HOME, ignore_errors=True)


def pytest_sessionstart(session) -> None:
    """A C accelerator older than its ``_fastscan.c`` (main moved after the build) is not used,
    and its ~270 tests skip: a suite that passes so has not tested the C. Stop and say how to
    rebuild, unless the Python twins alone are meant (``LAYERWISE_PURE_PYTHON``)."""
    import pytest

    from layerwise.context import native

    if os.environ.get("LAYERWISE_PURE_PYTHON"):
        return
    try:
        from layerwise.context import _fastscan
    except ImportError:
        return  # not built (no compiler): the twins run, and the C tests say why they skip
    if native.stale(_fastscan.__file__):
        pytest.exit("the C accelerator is older than src/layerwise/context/_fastscan.c: rebuild it "
                    "(bash -c 'source scripts/_venv.sh && ensure_venv test'), or set LAYERWISE_PURE_PYTHON=1 "
                    "to test the Python twins alone", returncode=3)  # fmt: skip
