"""layerwise: get Docker's layer cache right for Python applications.

The library calls (``layerwise.check_project``, ``layerwise.check_text``,
``layerwise.explain_project``, ``layerwise.rules_for``) live in :mod:`layerwise.api`; they are
imported on first use, so that ``import layerwise`` (and the CLI's start) stays cheap.
"""

__version__ = "0.1.0"

_API = ("check_project", "check_text", "explain_project", "rules_for")
__all__ = ["__version__", *_API]


def __getattr__(name: str):
    if name in _API:
        from layerwise import api

        return getattr(api, name)
    raise AttributeError(f"module 'layerwise' has no attribute {name!r}")
