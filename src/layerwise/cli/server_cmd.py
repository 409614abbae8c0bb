"""``layerwise server``: the language server, for editors."""

from __future__ import annotations

from layerwise.cli.args import command


@command(
    help="""Run the layerwise language server (LSP over stdin/stdout) for editors.

Diagnostics are `layerwise check`'s findings (same rules, [tool.layerwise], inline ignores),
quick fixes are `layerwise fix`'s edits (plus "fix all" and "ignore this finding"), and code
lenses say what the next build does with each instruction compared with the last commit
(`layerwise explain`). Start it from the editor's LSP client, not by hand.

\b
Neovim:   vim.lsp.start({ name = "layerwise", cmd = { "layerwise", "server" } })
Helix:    [language-server.layerwise] command = "layerwise", args = ["server"]
""",
)
def server() -> int:
    try:
        from layerwise.server import main
    except ImportError as exc:  # pragma: no cover - pygls is a dependency; a broken install says so
        from layerwise.errors import LayerwiseError

        raise LayerwiseError(f"the language server needs pygls: {exc}") from None
    return main()
