"""Parse layer: Dockerfile text -> syntax tree with exact spans (a port of BuildKit's parser)."""

from layerwise.parse.nodes import Directive, Dockerfile, Heredoc, Node, Span, go_quote
from layerwise.parse.parser import ParseError, parse, parse_bytes, parse_file

__all__ = [
    "Directive",
    "Dockerfile",
    "Heredoc",
    "Node",
    "ParseError",
    "Span",
    "go_quote",
    "parse",
    "parse_bytes",
    "parse_file",
]
