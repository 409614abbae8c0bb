"""The pipeline's dependency direction, read from the source's import statements.

parse → resolve → context → analyses → fixes → report → commands (pin, bench) → api/server/cli:
a package imports only packages of lower layers (and itself). The leaves (``shell``, the
lexer BuildKit keeps in ``frontend/dockerfile/shell``; ``errors``; ``signals``; ``escape``,
what untrusted text may print; the ``engine`` harness) import nothing else of layerwise. Every ``import`` counts, also those
inside functions (the lazy ones that keep start-up cheap), since they run as soon as the
function does.
"""

from __future__ import annotations

import ast
import functools
from collections import deque
from pathlib import Path

import pytest

import layerwise

SRC = Path(layerwise.__file__).parent

# Lower number = lower layer. A top-level module (``layerwise/api.py``) is its own package.
LAYERS: dict[str, int] = {
    "records": 0,  # the base of the hand-written records: any module may use it
    "shell": 0,
    "errors": 0,
    "signals": 0,
    "engine": 0,
    "escape": 0,  # what untrusted text may print: every layer that writes text uses it
    "safefs": 1,
    "config": 2,
    "parse": 3,
    "resolve": 4,
    "context": 5,
    "ci": 5,
    "analyses": 6,
    "fixes": 7,
    "report": 8,
    "pin": 9,
    "bench": 9,
    "examples": 9,
    "api": 10,
    "server": 11,
    "cli": 12,
    "__main__": 13,
    "": 14,  # layerwise/__init__.py, the public façade
}
LEAVES = ("records", "shell", "errors", "signals", "engine", "escape")

# Imports against the direction that exist today, each with why; (importer, imported) module
# names. A new one fails the test; so does an entry here once its import is gone (delete it).
KNOWN_EXCEPTIONS: dict[tuple[str, str], str] = {
    # Findings carry their fixes; LW101's is the layout rewrite, which lives with the fix loop.
    ("layerwise.analyses.rules.lw101_copy_before_install", "layerwise.fixes.layout"): "layout fix",
}


def _module_name(path: Path) -> tuple[str, bool]:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    is_package = parts[-1] == "__init__"
    if is_package:
        parts.pop()
    return ".".join(parts), is_package


def _statements(tree: ast.AST):
    """Every statement of ``tree``, in ``ast.walk``'s order, without visiting the expressions:
    an import is a statement, and statements sit only in these lists (also in functions,
    classes, handlers and match cases), so this finds every import ``ast.walk`` finds, in a
    sixth of the time."""
    todo = deque([tree])
    while todo:
        node = todo.popleft()
        yield node
        for field in ("body", "handlers", "orelse", "finalbody", "cases"):
            children = getattr(node, field, None)
            if isinstance(children, list):
                todo.extend(children)


def _imports(path: Path) -> list[tuple[int, str]]:
    """``(line, module)`` for every layerwise module ``path`` imports."""
    name, is_package = _module_name(path)
    found = []
    for node in _statements(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if is_package else name.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            if module == "layerwise":  # from layerwise import api, __version__
                found += [(node.lineno, f"layerwise.{alias.name}") for alias in node.names]
            else:
                found.append((node.lineno, module))
    return [(line, m) for line, m in found if m == "layerwise" or m.startswith("layerwise.")]


def _package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _violations() -> tuple[list[str], set[tuple[str, str]]]:
    return _violations_below(SRC)


@functools.cache  # two tests read the same tree: scan it once
def _violations_below(src: Path) -> tuple[list[str], set[tuple[str, str]]]:
    bad: list[str] = []
    excused: set[tuple[str, str]] = set()
    for path in sorted(src.rglob("*.py")):
        importer, _ = _module_name(path)
        own = _package(importer)
        for line, imported in _imports(path):
            if imported == "layerwise.__version__":
                continue  # metadata, not a layer
            other = _package(imported)
            if other == own:
                continue
            if other == "records":
                continue
            if own in LEAVES or LAYERS[other] >= LAYERS[own]:
                if (importer, imported) in KNOWN_EXCEPTIONS:
                    excused.add((importer, imported))
                    continue
                where = path.relative_to(SRC.parent)
                bad.append(f"{where}:{line}: {own or 'layerwise'} imports {imported}")
    return bad, excused


def test_every_package_has_a_layer():
    packages = {_package(_module_name(p)[0]) for p in SRC.rglob("*.py")}
    assert packages - set(LAYERS) == set()


def test_imports_follow_the_pipeline():
    bad, _ = _violations()
    assert bad == []


def test_known_exceptions_still_exist():
    _, excused = _violations()
    assert set(KNOWN_EXCEPTIONS) - excused == set()


def test_the_shell_lexer_is_a_leaf():
    files = sorted((SRC / "shell").glob("*.py"))
    assert files
    for path in files:
        others = [m for _, m in _imports(path) if _package(m) != "shell"]
        assert others == [], path


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from layerwise.resolve.stages import x\n", ["layerwise.resolve.stages"]),
        ("def f():\n    import layerwise.fixes.edits\n", ["layerwise.fixes.edits"]),
        ("from layerwise import api, __version__\n", ["layerwise.api", "layerwise.__version__"]),
        ("from ..resolve import stages\n", ["layerwise.resolve"]),
        ("from . import nodes\n", ["layerwise.parse"]),
        ("import json\nfrom collections import abc\n", []),
    ],
)
def test_imports_are_read_from_the_source(tmp_path, monkeypatch, source, expected):
    # the scanner itself, on a module placed at layerwise/parse/probe.py
    fake_src = tmp_path / "layerwise"
    (fake_src / "parse").mkdir(parents=True)
    probe = fake_src / "parse" / "probe.py"
    probe.write_text(source)
    monkeypatch.setattr(f"{__name__}.SRC", fake_src)
    assert [m for _, m in _imports(probe)] == expected


def test_a_backward_import_is_reported(tmp_path, monkeypatch):
    fake_src = tmp_path / "layerwise"
    for package, text in [
        ("shell", "from layerwise.parse import nodes\n"),
        ("parse", "from layerwise.resolve import stages\nfrom layerwise.shell import lex\n"),
        ("resolve", "from layerwise.parse import nodes\n"),
    ]:
        (fake_src / package).mkdir(parents=True)
        (fake_src / package / "__init__.py").write_text(text)
    monkeypatch.setattr(f"{__name__}.SRC", fake_src)
    bad, _ = _violations()
    assert bad == [
        "layerwise/parse/__init__.py:1: parse imports layerwise.resolve",
        "layerwise/shell/__init__.py:1: shell imports layerwise.parse",
    ]
