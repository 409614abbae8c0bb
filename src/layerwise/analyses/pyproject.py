"""The shape of a ``pyproject.toml``: the tables and arrays layerwise reads from it must be what
PEP 621 / PEP 518 say they are. ``project = 5``, ``tool = "x"`` or ``dependencies = 3`` is
not a project pip could build: each such key is a located error the analyses report (as
a warning: the Dockerfile is still checked), and is left out of what they read, instead of
an internal error deep in a rule or a fix."""

from __future__ import annotations

import re

from layerwise.errors import LayerwiseError, Location

# dotted key -> (expected type(s), what to say)
_SHAPES: list[tuple[str, tuple[type, ...], str]] = [
    ("project", (dict,), "a table"),
    ("tool", (dict,), "a table"),
    ("build-system", (dict,), "a table"),
    ("build-system.requires", (list,), "an array of strings"),
    ("project.name", (str,), "a string"),
    ("project.version", (str,), "a string"),
    ("project.dependencies", (list,), "an array of strings"),
    ("project.optional-dependencies", (dict,), "a table of arrays of strings"),
    ("project.dynamic", (list,), "an array of strings"),
    ("project.readme", (str, dict), "a string or a table"),
    ("project.license", (str, dict), "a string or a table"),
    ("project.license-files", (list,), "an array of strings"),
    ("project.requires-python", (str,), "a string"),
    ("tool.poetry", (dict,), "a table"),
    ("tool.uv", (dict,), "a table"),
    ("tool.pdm", (dict,), "a table"),
]
_STRING_ARRAYS = {"build-system.requires", "project.dependencies", "project.dynamic", "project.license-files"}


def clean_pyproject(data: dict, text: str, path: str) -> tuple[dict, list[LayerwiseError]]:
    """``data`` without the keys of the wrong type (a shallow copy where something is removed)
    and one located error for each of them."""
    errors: list[LayerwiseError] = []
    out = dict(data)
    for dotted, types, what in _SHAPES:
        *parents, key = dotted.split(".")
        table = out
        for p in parents:
            nxt = table.get(p)
            if not isinstance(nxt, dict):
                table = None
                break
            table = nxt
        if table is None or key not in table:
            continue
        value = table[key]
        bad = not isinstance(value, types)
        if not bad and dotted in _STRING_ARRAYS:
            bad = not all(isinstance(v, str) for v in value)
        if not bad and dotted == "project.optional-dependencies":
            bad = not all(isinstance(v, list) and all(isinstance(s, str) for s in v) for v in value.values())
        if bad:
            errors.append(LayerwiseError(f"{dotted} must be {what} (PEP 621/518): ignored",
                                         Location(path, _line_of(text, parents, key))))  # fmt: skip
            _drop(out, parents, key)
    errors.sort(key=lambda e: e.location.line or 0)  # type: ignore[union-attr]
    return out, errors


def _drop(data: dict, parents: list[str], key: str) -> None:
    """Remove ``parents.key``, copying the tables on the way (``data``'s own are not changed)."""
    table = data
    for p in parents:
        table[p] = dict(table[p])
        table = table[p]
    del table[key]


def _line_of(text: str, parents: list[str], key: str) -> int:
    """The line that sets the key (``key =``, ``[parents.key]`` or a dotted ``parents.key =``)."""
    k = re.escape(key)
    full = re.escape(".".join([*parents, key]))
    for pattern in (rf"^\s*\[\s*{full}\s*\]", rf"^\s*{full}\s*=", rf"^\s*{k}\s*=", rf"^\s*\[\s*{k}\s*\]"):
        m = re.search(pattern, text, re.M)
        if m:
            return text.count("\n", 0, m.start()) + 1
    return 1
