"""Prints a greeting that names its dependency."""
