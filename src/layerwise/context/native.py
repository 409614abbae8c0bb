"""The optional C accelerator of the snapshot walk and the context report (``_fastscan``),
when it may be used.

It may not when it was not built (no compiler: the pure-Python twins give the same results,
slower), when ``LAYERWISE_PURE_PYTHON`` is set, or when it is stale: in a source checkout (an
editable install) a ``_fastscan.c`` newer than the built module means the C changed after the
build (a pull, a branch switch), and its functions may take other arguments, or mean other
things by them, than the Python that calls them expects. The twins run then, until
``pip install -e .`` builds it again. An installed wheel ships no ``.c``: nothing to compare.
"""

from __future__ import annotations

import os

_UNSET = object()
_module: object = _UNSET


def fastscan():
    """The ``_fastscan`` module, or None (see the module's doc); decided once per process."""
    global _module
    if _module is _UNSET:
        _module = _load()
    return _module


def function(name: str):
    """A function of the accelerator, or None when it may not be used or has no such name."""
    module = fastscan()
    return None if module is None else getattr(module, name, None)


def _load():
    if os.environ.get("LAYERWISE_PURE_PYTHON"):
        return None
    try:
        from layerwise.context import _fastscan
    except ImportError:
        return None
    return None if stale(_fastscan.__file__) else _fastscan


def stale(built: str) -> bool:
    """Whether the C source beside the built module ``built`` is newer than it."""
    source = os.path.join(os.path.dirname(built), "_fastscan.c")
    try:
        return os.stat(source).st_mtime > os.stat(built).st_mtime
    except OSError:  # no source (a wheel) or no built file to compare with
        return False
