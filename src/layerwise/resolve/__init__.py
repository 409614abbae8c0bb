"""Resolve layer: stages, ARG/ENV scopes and variable expansion as BuildKit does them."""
