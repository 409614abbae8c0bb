"""Shell layer: BuildKit's word lexer (variable expansion, word splitting) and Go quoting.

A leaf package, like BuildKit's ``frontend/dockerfile/shell``: it imports nothing else of
layerwise, and ``parse`` (heredoc words) and ``resolve`` (ARG/ENV expansion) both use it.
The lexer module is loaded on first use, so importing :func:`go_quote` stays cheap.
"""

from __future__ import annotations

from layerwise.shell.quote import go_quote

TYPE_CHECKING = False  # (typing.TYPE_CHECKING without importing typing at start-up)
if TYPE_CHECKING:
    from typing import Any

    from layerwise.shell.lex import ShellExpansionError, ShellLexer

__all__ = ["ShellExpansionError", "ShellLexer", "go_quote"]


def __getattr__(name: str) -> Any:
    if name in ("ShellExpansionError", "ShellLexer"):
        from layerwise.shell import lex

        # kept as a module attribute: later imports of the name (resolve imports it for each
        # word it expands) find it without calling this function again
        value = globals()[name] = getattr(lex, name)
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
