"""The names that are junk in whatever folder of a Python project they are in: an ignore
pattern for one of them that matches only at the context root (``__pycache__``, ``*.pyc``)
is a mistake, which both the LW302 rule and the ``context`` report point out. Another name
anchored at the root (``tests``, ``/static/``, ``./data``, ``*``) may mean just the root:
excluding it in every folder could drop the application's own files, so neither advises it.
"""

from __future__ import annotations

#: names Python projects have in sub-folders: a root-only pattern for them is a bug waiting
#: for the first sub-folder
DEEP_NAMES = ("*.pyc", "*.pyo", "*.pyd", "*.py[co]", "*.py[cod]", "*$py.class", "__pycache__",
              "*.egg-info", ".ipynb_checkpoints", ".DS_Store", "node_modules", "*.swp", "*~",
              "*.log")  # fmt: skip
#: caches the tools write where they are run (the project root, as a rule): a root-only
#: pattern for them is wrong only when one is deeper
ROOT_CACHES = (".pytest_cache", ".mypy_cache", ".ruff_cache", ".hypothesis", ".coverage", ".tox", ".nox")
#: every name whose root-only pattern is worth a word
JUNK_ANYWHERE = frozenset(DEEP_NAMES + ROOT_CACHES + (".venv", ".eggs", "htmlcov", ".coverage.*", "*.egg-info"))
